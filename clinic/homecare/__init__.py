"""Home-care plans: the clinic's item library, the plan builder and issued handouts."""

from __future__ import annotations

from flask import Blueprint

from clinic.access import require_owner

#: Plans and handouts, on the client's record: every signed-in user.
bp = Blueprint("homecare", __name__)
#: The clinic's own items: the owner only, like the admin pages.
library_bp = Blueprint("homecare_library", __name__, url_prefix="/homecare/library")
library_bp.before_request(require_owner)
