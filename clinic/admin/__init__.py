"""The owner's pages: clinic details and the clinic's accounts."""

from __future__ import annotations

from flask import Blueprint

from clinic.access import require_owner

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_owner)
