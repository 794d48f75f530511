"""The audit trail: recording who did what to which record, and the owner's view of it."""

from __future__ import annotations

from flask import Blueprint

from clinic.access import require_owner

bp = Blueprint("audit", __name__, url_prefix="/audit")
bp.before_request(require_owner)
