"""Progress: pain and knee function over time, the clinic overview and data export."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("progress", __name__)
