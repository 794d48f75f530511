"""Recording the audit trail for every request, from one table that names every endpoint.

Views do not write their own entries: one `after_request` hook looks the endpoint up in
AUDITED and writes the entry once the view has answered with success. A route that is in
neither AUDITED nor NOT_AUDITED fails tests/audit/test_table.py, so no new page escapes.
Sign-in, sign-out and password events happen in the sign-in views, which call the
record_* helpers at the end of this module.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, render_template, request, session, template_rendered
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from clinic.audit.operations import record_account_event as _record_account_event
from clinic.audit.operations import record_event
from clinic.auth.operations import normalise_email
from clinic.extensions import db
from clinic.models import AuditAction, User

log = logging.getLogger(__name__)

GET = "GET"
POST = "POST"


@dataclass(frozen=True)
class Audited:
    """How one endpoint and method is recorded.

    A GET is recorded when it answers 200. A POST is recorded when it succeeded: when it
    showed the page `shown` (for pages that answer a success with a page, not a redirect),
    or else when it redirected without flashing an error. `created` says where the id of a
    new record is found: "client_id" (an argument of the redirect's target), "#handout-"
    (the redirect's anchor after that prefix) or "page:user" (the object the shown page got
    under that name). A POST with `created` whose id cannot be found counts as failed.
    """

    action: AuditAction
    record_type: str
    summary: str
    record_arg: str | None = None
    created: str | None = None
    shown: str | None = None
    details: Callable[[], str] | None = None


def _search_details() -> str:
    # What a list showed: the search text and filters, so "who looked for whom" is answered.
    parts = []
    if request.args.get("q"):
        parts.append(f"search “{request.args['q'][:80]}”")
    for name in ("screening", "progress"):
        if request.args.get(name):
            parts.append(f"{name} {request.args[name][:20]}")
    if request.args.get("archived") == "1":
        parts.append("archived included")
    return ", ".join(parts)


def _audit_filter_details() -> str:
    names = ("client", "q", "user", "action", "date_from", "date_to")
    return ", ".join(
        f"{name} {request.args[name][:40]}" for name in names if request.args.get(name)
    )


VIEW, CREATE, CHANGE, SIGN = (
    AuditAction.VIEW,
    AuditAction.CREATE,
    AuditAction.CHANGE,
    AuditAction.SIGN,
)
PRINT, EXPORT, SECURITY = AuditAction.PRINT, AuditAction.EXPORT, AuditAction.SECURITY
SHOWN_ONCE_PAGE = "admin/one_time_password.html"

# Every endpoint and method that shows or changes a client's record, an account or the
# clinic. The client is taken from the URL's client_id; the record from record_arg.
AUDITED: dict[tuple[str, str], Audited] = {
    # Clients
    ("clients.index", GET): Audited(VIEW, "client_list", "Client list", details=_search_details),
    ("clients.new", POST): Audited(
        CREATE, "client", "Took a new client's intake", created="client_id"
    ),
    ("clients.detail", GET): Audited(VIEW, "client", "Client page", record_arg="client_id"),
    ("clients.edit", GET): Audited(VIEW, "client", "Intake form", record_arg="client_id"),
    ("clients.edit", POST): Audited(CHANGE, "client", "Changed the intake", record_arg="client_id"),
    ("clients.archive", POST): Audited(
        CHANGE, "client", "Archived the client", record_arg="client_id"
    ),
    ("clients.unarchive", POST): Audited(
        CHANGE, "client", "Brought the client back from the archive", record_arg="client_id"
    ),
    # Screening
    ("screening.new", GET): Audited(VIEW, "screening", "New screening form"),
    ("screening.new", POST): Audited(SIGN, "screening", "Took and signed a screening"),
    ("screening.detail", GET): Audited(VIEW, "screening", "Screening", record_arg="screening_id"),
    ("screening.history", GET): Audited(VIEW, "screening", "Screening history"),
    ("screening.confirm", POST): Audited(
        CREATE,
        "screening_confirmation",
        "Confirmed no changes since the screening, clot signs asked",
    ),
    ("screening.clearance", GET): Audited(
        VIEW, "screening", "Medical clearance form", record_arg="screening_id"
    ),
    ("screening.clearance", POST): Audited(
        CREATE, "screening", "Recorded a medical clearance", record_arg="screening_id"
    ),
    ("screening.override", GET): Audited(
        VIEW, "screening", "Override form", record_arg="screening_id"
    ),
    ("screening.override", POST): Audited(
        CREATE, "screening", "Recorded an override for today's visit", record_arg="screening_id"
    ),
    # Visits
    ("visits.new", GET): Audited(VIEW, "visit", "New visit form"),
    ("visits.new", POST): Audited(CREATE, "visit", "Started a visit note", created="visit_id"),
    ("visits.detail", GET): Audited(VIEW, "visit", "Visit note", record_arg="visit_id"),
    ("visits.edit", GET): Audited(VIEW, "visit", "Draft visit note form", record_arg="visit_id"),
    ("visits.edit", POST): Audited(
        CHANGE, "visit", "Saved the draft visit note", record_arg="visit_id"
    ),
    ("visits.sign", POST): Audited(SIGN, "visit", "Signed the visit note", record_arg="visit_id"),
    ("visits.discard", POST): Audited(
        CHANGE, "visit", "Discarded the draft visit note", record_arg="visit_id"
    ),
    ("visits.add_addendum", POST): Audited(
        CREATE, "visit", "Added an addendum to the signed note", record_arg="visit_id"
    ),
    ("visits.follow_up", POST): Audited(
        CREATE, "visit", "Recorded the follow-up of a flagged visit", record_arg="visit_id"
    ),
    ("visits.note_pdf", GET): Audited(PRINT, "visit", "Visit note PDF", record_arg="visit_id"),
    ("visits.unsigned", GET): Audited(VIEW, "visit_list", "Unsigned notes list"),
    ("visits.this_month", GET): Audited(VIEW, "visit_list", "This month's visits list"),
    # Progress
    ("progress.detail", GET): Audited(VIEW, "progress", "Progress charts and tables"),
    ("progress.export_csv", GET): Audited(EXPORT, "progress", "Progress data (CSV)"),
    ("progress.pain_log", GET): Audited(VIEW, "pain_log", "Home pain log form"),
    ("progress.pain_log", POST): Audited(CREATE, "pain_log", "Added a home pain log score"),
    ("progress.new_koos_jr", GET): Audited(VIEW, "assessment", "KOOS JR form"),
    ("progress.new_koos_jr", POST): Audited(
        CREATE, "assessment", "Recorded a KOOS JR questionnaire"
    ),
    ("progress.new_lefs", GET): Audited(VIEW, "assessment", "LEFS form"),
    ("progress.new_lefs", POST): Audited(CREATE, "assessment", "Recorded a LEFS questionnaire"),
    # Home care
    ("homecare.new", GET): Audited(VIEW, "plan", "Home-care plan builder"),
    ("homecare.new", POST): Audited(CREATE, "plan", "Saved a home-care plan", created="plan_id"),
    ("homecare.detail", GET): Audited(VIEW, "plan", "Home-care plan", record_arg="plan_id"),
    ("homecare.preview", GET): Audited(PRINT, "plan", "Handout preview PDF", record_arg="plan_id"),
    ("homecare.issue", POST): Audited(
        CREATE, "handout", "Issued a home-care handout", created="#handout-"
    ),
    ("homecare.handout", GET): Audited(
        PRINT, "handout", "Issued handout PDF", record_arg="handout_id"
    ),
    # The clinic's own library items (no client, but what handouts say)
    ("homecare_library.new_item", POST): Audited(
        CREATE, "library_item", "Added a library item", created="item_id"
    ),
    ("homecare_library.edit_item", POST): Audited(
        CHANGE, "library_item", "Edited a library item", record_arg="item_id"
    ),
    ("homecare_library.archive_item", POST): Audited(
        CHANGE, "library_item", "Retired a library item", record_arg="item_id"
    ),
    ("homecare_library.restore_item", POST): Audited(
        CHANGE, "library_item", "Offered a retired library item again", record_arg="item_id"
    ),
    # The clinic and its accounts
    ("admin.clinic_settings", POST): Audited(
        SECURITY, "clinic", "Changed the clinic's details and settings"
    ),
    ("admin.upload_logo", POST): Audited(CHANGE, "clinic", "Uploaded the logo for handouts"),
    ("admin.remove_logo", POST): Audited(CHANGE, "clinic", "Removed the logo for handouts"),
    ("admin.new_user", POST): Audited(
        SECURITY,
        "user",
        "Opened an account with a one-time password",
        created="page:user",
        shown=SHOWN_ONCE_PAGE,
    ),
    ("admin.reset_password", POST): Audited(
        SECURITY,
        "user",
        "Reset the password to a one-time password",
        record_arg="user_id",
        shown=SHOWN_ONCE_PAGE,
    ),
    ("admin.deactivate_user", POST): Audited(
        SECURITY, "user", "Deactivated the account", record_arg="user_id"
    ),
    ("admin.reactivate_user", POST): Audited(
        SECURITY, "user", "Reactivated the account", record_arg="user_id"
    ),
    ("admin.retention", GET): Audited(VIEW, "client_list", "Clients past the retention period"),
    ("admin.retention_csv", GET): Audited(
        EXPORT, "client_list", "Clients past the retention period (CSV)"
    ),
    # The audit trail itself
    ("audit.index", GET): Audited(
        VIEW, "audit_trail", "Audit trail", details=_audit_filter_details
    ),
    ("audit.export_csv", GET): Audited(
        EXPORT, "audit_trail", "Audit trail (CSV)", details=_audit_filter_details
    ),
}

_IN_VIEW = "recorded by the sign-in views (record_* below), not by the hook"
_TWO_STEP = "two-step sign-in events are recorded by clinic/auth/two_factor.py"

# Every other endpoint and method, with the reason it is not recorded here.
NOT_AUDITED: dict[tuple[str, str], str] = {
    ("static", GET): "the app's stylesheet, script and images",
    ("home", GET): "the overview shows counts only, no client's name or record",
    ("clients.new", GET): "an empty intake form",
    ("auth.setup", GET): "first run, before any clinic or account exists",
    ("auth.setup", POST): "first run: creates the clinic and its owner's account",
    ("auth.login", GET): "the sign-in form",
    ("auth.login", POST): _IN_VIEW,
    ("auth.logout", POST): _IN_VIEW,
    ("auth.change_password", GET): "the form to change your own password",
    ("auth.change_password", POST): _IN_VIEW,
    ("auth.login_code", GET): _TWO_STEP,
    ("auth.login_code", POST): _TWO_STEP,
    ("auth.two_step", GET): _TWO_STEP,
    ("auth.two_step_start", POST): _TWO_STEP,
    ("auth.two_step_confirm", GET): _TWO_STEP,
    ("auth.two_step_confirm", POST): _TWO_STEP,
    ("auth.two_step_recovery_codes", POST): _TWO_STEP,
    ("auth.two_step_disable", POST): _TWO_STEP,
    ("admin.reset_two_step", POST): _TWO_STEP,
    ("admin.clinic_settings", GET): "the clinic's own details, no client's record",
    ("admin.users", GET): "the list of the clinic's accounts, no client's record",
    ("admin.new_user", GET): "an empty form",
    ("homecare_library.index", GET): "the clinic's exercise library, no client's record",
    ("homecare_library.item", GET): "a library item, no client's record",
    ("homecare_library.new_item", GET): "an empty form",
    ("homecare_library.edit_item", GET): "a library item form, no client's record",
}

# A file that leaves the app unrecorded is the disclosure that matters most, and not getting
# it now harms nobody: these answers are refused when their entry cannot be written. Every
# other answer goes out anyway (the change is already saved, and a therapist in a session
# needs the record), and the failure is logged.
FAIL_CLOSED = frozenset({AuditAction.EXPORT, AuditAction.PRINT})
SUCCESS_REDIRECTS = frozenset({301, 302, 303})


def register_audit(app: Flask) -> None:
    """Record every audited request once its view has answered; call after register_security."""
    # Registered after the sign-in guard: when the guard (or any earlier hook) answers
    # instead of the view, this never runs, so a redirect to the sign-in page is not taken
    # for a successful POST.
    app.before_request(_note_view_reached)
    app.after_request(_record_request)
    template_rendered.connect(_note_template, app)


def _note_view_reached() -> None:
    if (request.endpoint or "", request.method) not in AUDITED:
        # Reading the session would mark every answer, static files too, as varying by cookie.
        return
    g.audit_view_reached = True
    # Flashes already waiting belong to earlier requests; only this request's count.
    g.audit_flashes_before = len(session.get("_flashes", []))


def _note_template(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
    g.audit_templates = {**g.get("audit_templates", {}), template.name: context}


def _record_request(response: Response) -> Response:
    rule = AUDITED.get((request.endpoint or "", request.method))
    if rule is None or not g.get("audit_view_reached"):
        return response
    try:
        if not current_user.is_authenticated:
            return response
        values = _entry_values(rule, response)
        if values is None:
            return response
        # The view committed what it keeps; whatever it left uncommitted would be rolled
        # back at the end of the request anyway, so it must not ride along with the entry.
        db.session.rollback()
        record_event(rule.action, **values)
        db.session.commit()
    except Exception:
        log.exception("Could not write the audit entry for %s %s", request.method, request.path)
        db.session.rollback()
        if rule.action in FAIL_CLOSED:
            return _refused(response)
    return response


def _entry_values(rule: Audited, response: Response) -> dict[str, Any] | None:
    """Return the entry's fields, or None when the request did not succeed."""
    view_args = request.view_args or {}
    record_id = _int_or_none(view_args.get(rule.record_arg)) if rule.record_arg else None
    if request.method == GET:
        if response.status_code != 200:
            return None
    elif not _post_succeeded(rule, response):
        return None
    client_id = _int_or_none(view_args.get("client_id"))
    if rule.created is not None:
        record_id = _created_id(rule.created, rule.shown, response)
        if record_id is None:
            return None
        if rule.created == "client_id":
            client_id = record_id
    summary = rule.summary
    if rule.details is not None and (details := rule.details()):
        summary = f"{summary}: {details}"
    user = current_user._get_current_object()
    return {
        "clinic_id": int(user.clinic_id),
        "user_id": int(user.id),
        "client_id": client_id,
        "record_type": rule.record_type,
        "record_id": record_id,
        "summary": summary,
        "remote_addr": request.remote_addr or "",
    }


def _post_succeeded(rule: Audited, response: Response) -> bool:
    if rule.shown is not None:
        return response.status_code == 200 and rule.shown in g.get("audit_templates", {})
    if response.status_code not in SUCCESS_REDIRECTS:
        return False
    # Several actions answer a refusal with a redirect and an error message.
    flashes = session.get("_flashes", [])[g.get("audit_flashes_before", 0) :]
    return not any(category == "error" for category, _message in flashes)


_ANCHOR_ID = re.compile(r"(\d+)")


def _created_id(created: str, shown: str | None, response: Response) -> int | None:
    if created.startswith("page:"):
        context = g.get("audit_templates", {}).get(shown or "", {})
        return _int_or_none(getattr(context.get(created.removeprefix("page:")), "id", None))
    location = urlsplit(response.location or "")
    if created.startswith("#"):
        prefix = created.removeprefix("#")
        if not location.fragment.startswith(prefix):
            return None
        match = _ANCHOR_ID.fullmatch(location.fragment.removeprefix(prefix))
        return int(match.group(1)) if match else None
    path = location.path.removeprefix(request.script_root)
    adapter = current_app.url_map.bind("localhost")
    try:
        _endpoint, arguments = adapter.match(path, method=GET)
    except HTTPException:
        return None
    return _int_or_none(arguments.get(created))


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _refused(response: Response) -> Response:
    """Answer 503 instead of a file whose download could not be recorded."""
    response.close()
    try:
        body = render_template(
            "errors/error.html",
            status=503,
            title="The file was not sent",
            message=(
                "The app could not note this download in the clinic's audit trail, so the "
                "file was held back. Nothing was changed. Please try again in a moment."
            ),
        )
    except Exception:
        log.exception("Could not render the page for a refused download")
        body = "The file was not sent. Please try again in a moment."
    return Response(
        body,
        status=503,
        mimetype="text/html",
        headers={"Retry-After": "5", "Cache-Control": "no-store"},
    )


# --- Events of the sign-in views ----------------------------------------------------------------


def record_account_event(action: AuditAction, user: User, summary: str = "") -> None:
    """Add an entry about an account (sign-in, sign-out, password), from this request's address."""
    _record_account_event(action, user, summary, remote_addr=request.remote_addr or "")


def record_failed_sign_in(email: str) -> None:
    """Add a failed sign-in entry when the email address names an account; else nothing."""
    user = db.session.scalars(select(User).where(User.email == normalise_email(email))).first()
    if user is None:
        # No account, no clinic to file it under; the rate limits still count the attempt.
        return
    reason = "Wrong password" if user.active else "Refused: the account is deactivated"
    record_account_event(AuditAction.SIGN_IN_FAILED, user, reason)
