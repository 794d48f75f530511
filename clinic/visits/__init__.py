"""Visits: the structured note of each treatment, signed and then locked."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("visits", __name__)
