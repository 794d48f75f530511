"""Error pages: plain words, no stack traces, a rollback before a 500, busy records a 503."""

from __future__ import annotations

import logging
import sqlite3
import traceback

from flask import Flask, current_app, g, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from limits import parse as parse_limit
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from clinic.extensions import limiter, login_manager
from clinic.models import AuditAction
from clinic.transaction import keep_after_request, roll_back_failed_request

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("The request could not be read", "Something in what was sent did not make sense."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing here, or it belongs to another clinic."),
    405: ("Not allowed", "This page cannot be used that way."),
    409: ("Changed by someone else", "This record changed while you were working on it."),
    413: ("Too large", "What you sent is larger than the app accepts."),
    429: ("Too many attempts", "Please wait a few minutes and try again."),
    500: ("Something went wrong", "Nothing was saved. Please try again."),
    503: ("The records are busy", "Nothing was saved. Please try again in a moment."),
}


def render_error(status: int, detail: str | None = None) -> tuple[str, int]:
    """Render the error page for a status code."""
    title, message = MESSAGES.get(status, MESSAGES[400])
    return (
        render_template("errors/error.html", status=status, title=title, message=detail or message),
        status,
    )


# SQLite's SQLITE_BUSY ("database is locked") and SQLITE_LOCKED (a table locked by another
# statement on the same connection); extended codes keep the primary code in the low byte.
SQLITE_BUSY_CODES = frozenset({5, 6})
# PostgreSQL's "try the transaction again" errors: they end a transaction but not a fault.
POSTGRES_BUSY_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
)
BUSY_RETRY_AFTER_SECONDS = 5


def is_busy_error(error: BaseException) -> bool:
    """Return whether a database error means "busy, try again" rather than a fault."""
    original = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(original, POSTGRES_BUSY_ERRORS):
        return True
    if isinstance(original, sqlite3.OperationalError):
        code = getattr(original, "sqlite_errorcode", None)
        if isinstance(code, int):
            return code & 0xFF in SQLITE_BUSY_CODES
        message = str(original).lower()
        return "locked" in message or "busy" in message
    return False


def render_busy() -> tuple[str, int, dict[str, str]]:
    """Render the "records are busy" page, with a button that sends a posted form again."""
    # The page must not read the database: it is still busy, and the rollback expired the
    # signed-in account's row. It shows as to a visitor; the sign-in itself is untouched.
    g._login_user = login_manager.anonymous_user()
    action = request.full_path if request.query_string else request.path
    fields = list(request.form.items(multi=True)) if request.method == "POST" else []
    # A password is never written into a page; such a form is opened again and typed again.
    asks_password = any("password" in name for name, _ in fields)
    return (
        render_template(
            "errors/busy.html",
            action=action,
            resend=request.method == "POST" and not asks_password,
            asks_password=asks_password,
            fields=fields,
            had_files=bool(request.files),
        ),
        503,
        {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
    )


def render_commit_failure(error: Exception) -> Response:
    """Answer a request whose changes could not be committed: nothing of it was kept."""
    if is_busy_error(error):
        body, status, headers = render_busy()
        return Response(body, status=status, headers=headers, mimetype="text/html")
    body, status = render_error(500)
    return Response(body, status=status, mimetype="text/html")


# Refusals the audit trail keeps, for a signed-in account: 403 always, 404 on a record's address.
REFUSAL_STATUSES = frozenset({403, 404})


def _audit_refusal(status: int) -> None:
    """Keep an "access refused" audit entry for a signed-in account refused a page or record.

    A 404 counts only on an address with a record's id in it (someone trying ids, perhaps of
    another clinic); a mistyped address does not. Entries are limited per account
    (ACCESS_REFUSED_AUDIT_LIMIT, in the rate limiter's storage); beyond the limit one line in
    the app's log per period says refusals were left out. The request itself was rolled back,
    so the entry is saved after it, in its own transaction (keep_after_request).
    """
    if not current_user.is_authenticated:
        return
    ids = [value for value in (request.view_args or {}).values() if isinstance(value, int)]
    if status == 404 and not ids:
        return
    user_id, clinic_id = int(current_user.id), int(current_user.clinic_id)
    limit = parse_limit(current_app.config["ACCESS_REFUSED_AUDIT_LIMIT"])
    try:
        within_limit = limiter.limiter.hit(limit, "access-refused-audit", str(user_id))
    except Exception:
        # The limiter's storage (Redis, when several processes share it) is unreachable:
        # recording the refusal matters more than counting it, and the page must not fail.
        log.warning("Access refusal counted without the rate limiter's storage")
        within_limit = True
    if not within_limit:
        # One line per period, not one per refusal: the log must not flood either.
        once = type(limit)(1, limit.multiples)
        if limiter.limiter.hit(once, "access-refused-audit-log", str(user_id)):
            log.warning(
                "Access refusals of account %s over ACCESS_REFUSED_AUDIT_LIMIT (%s): "
                "further ones in this period are not in the audit trail",
                user_id,
                limit,
            )
        return
    title = MESSAGES[status][0]
    summary = f"{status} {title}: {request.path}"
    remote_addr = request.remote_addr or ""

    def record() -> None:
        from clinic.audit.trail import Actor, record_event

        record_event(
            Actor(clinic_id=clinic_id, user=None, remote_addr=remote_addr),
            AuditAction.ACCESS_REFUSED,
            record_type="request",
            summary=summary,
            user_id=user_id,
        )

    keep_after_request(record)


def redacted_traceback(error: BaseException) -> str:
    """Return an error's traceback for the log with every exception message left out.

    The frames name our code only; a message may quote what a client typed (a database error
    repeats the values of the row it refused, with names, phone numbers or notes), so the log
    keeps each exception's type and where it was raised, never its text.
    """
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for number, each in enumerate(reversed(chain)):
        if number:
            parts.append("\nwhich led to:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(each.__traceback__))
        kind = type(each)
        parts.append(f"{kind.__module__}.{kind.__qualname__} (message not logged)\n")
    return "".join(parts)


def register_error_handlers(app: Flask) -> None:
    """Answer every HTTP error with a calm page in the app's layout."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        roll_back_failed_request()
        return render_error(
            400,
            "The form had expired or came from somewhere else, so nothing was saved. "
            "Go back, reload the page and submit it again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        if error.code == 429:
            # A page that checks a password or a code shows its form again with the reason.
            from clinic.auth.views import render_throttled

            throttled = render_throttled(request.endpoint)
            if throttled is not None:
                return throttled
        if error.code in REFUSAL_STATUSES:
            _audit_refusal(error.code)
        # A view that aborts with its own description has something specific to say.
        custom = error.description if error.description != type(error).description else None
        return render_error(error.code, custom)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> tuple[str, int, dict[str, str]]:
        if not is_busy_error(error):
            # Any other database failure is a fault: the 500 handler below answers it.
            raise error
        roll_back_failed_request()
        return render_busy()

    def raw_busy_error(error: Exception) -> tuple[str, int, dict[str, str]]:
        roll_back_failed_request()
        return render_busy()

    for busy_error in POSTGRES_BUSY_ERRORS:
        app.register_error_handler(busy_error, raw_busy_error)

    @app.errorhandler(500)
    def internal_error(error: Exception) -> tuple[str, int]:
        # Whatever the request had half-done must not leak into the next one.
        roll_back_failed_request()
        return render_error(500)
