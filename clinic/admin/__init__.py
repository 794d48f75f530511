"""The owner's pages: clinic details and the clinic's accounts."""

from __future__ import annotations

from flask import Blueprint

from clinic.access import require_owner

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_owner)

# Importing the report's module attaches its routes to the blueprint.
from clinic.admin import retention as _retention  # noqa: E402, F401
