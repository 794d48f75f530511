"""Screening: taking it, confirming it, clearances and one-visit overrides."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("screening", __name__, url_prefix="/clients/<int:client_id>/screening")
