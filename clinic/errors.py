"""Error pages: plain words, no stack traces, and a rollback before a 500."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from clinic.extensions import db

MESSAGES = {
    400: ("The request could not be read", "Something in what was sent did not make sense."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing here, or it belongs to another clinic."),
    405: ("Not allowed", "This page cannot be used that way."),
    409: ("Changed by someone else", "This record changed while you were working on it."),
    413: ("Too large", "What you sent is larger than the app accepts."),
    429: ("Too many attempts", "Please wait a few minutes and try again."),
    500: ("Something went wrong", "Nothing was saved. Please try again."),
}


def render_error(status: int, detail: str | None = None) -> tuple[str, int]:
    """Render the error page for a status code."""
    title, message = MESSAGES.get(status, MESSAGES[400])
    return (
        render_template("errors/error.html", status=status, title=title, message=detail or message),
        status,
    )


def register_error_handlers(app: Flask) -> None:
    """Answer every HTTP error with a calm page in the app's layout."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        db.session.rollback()
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
        # A view that aborts with its own description has something specific to say.
        custom = error.description if error.description != type(error).description else None
        return render_error(error.code, custom)

    @app.errorhandler(500)
    def internal_error(error: Exception) -> tuple[str, int]:
        # Whatever the request had half-done must not leak into the next one.
        db.session.rollback()
        return render_error(500)
