"""Error pages: plain words, no stack traces, a rollback before a 500, busy records a 503."""

from __future__ import annotations

import sqlite3

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from clinic.extensions import login_manager
from clinic.transaction import roll_back_failed_request

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
        if error.code == 429 and request.endpoint == "auth.login":
            from clinic.auth.views import render_login_throttled

            return render_login_throttled()
        if error.code == 429 and request.endpoint == "auth.login_code":
            from clinic.auth.views import render_code_throttled

            return render_code_throttled()
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
