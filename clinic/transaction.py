"""The one commit point of a request: commit what it did on success, roll back on any failure.

Operations change rows, record their audit entries and flush; nothing else commits. A request
whose view (or an earlier hook) raised anything, an HTTP abort included, is rolled back whole,
and so is one answered with a 5xx page. Every other answer commits, so a page that shows a
record (a re-shown form, a conflict page) keeps the audit entry that says it was shown;
whatever a refused operation had changed was already undone by its savepoint (operation()).
What must be kept even when the request is not (the audit entry of a refused request) is
handed to keep_after_request(), which the commit point saves in a transaction of its own.

Slow work that only reads (laying out a PDF) must not hold SQLite's write lock: such a view
calls release_read() once it has loaded what it needs; it refuses when anything was written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from clinic.extensions import db

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class TransactionalFlask(Flask):
    """Flask that rolls the request's transaction back the moment anything is raised.

    Every exception of a request passes through these two methods (an abort() in a view or a
    hook included), so the commit point can tell a failed request from a page that answers
    with an error status on purpose (a form shown again, a conflict page).
    """

    def handle_user_exception(self, e: Exception) -> Any:
        _fail_request()
        return super().handle_user_exception(e)

    def handle_exception(self, e: Exception) -> Any:
        _fail_request()
        return super().handle_exception(e)

    def log_exception(self, exc_info: Any) -> None:
        """Log an unexpected error (a 500) by path and traceback, without its message."""
        from clinic.errors import redacted_traceback

        self.logger.error(
            "Exception on %s [%s]\n%s",
            request.path,
            request.method,
            redacted_traceback(exc_info[1]),
        )


def register_commit_point(app: Flask) -> None:
    """Commit each successful request once, after its view; call first among after_request."""
    if not isinstance(app, TransactionalFlask):
        raise TypeError("the app must be a TransactionalFlask, so failures roll back")
    # Flask runs after_request functions in the reverse order of registration: registered
    # first, this runs last, after every other hook has had its say.
    app.after_request(_commit_or_roll_back)
    if not event.contains(Session, "after_flush", _note_write):
        event.listen(Session, "after_flush", _note_write)


def _fail_request() -> None:
    if has_request_context():
        g._request_failed = True
    db.session.rollback()


def roll_back_failed_request() -> None:
    """Undo whatever a failed request had done (error handlers call this before a page)."""
    _fail_request()


def keep_after_request(record: Callable[[], None]) -> None:
    """Have the commit point run record() once the request's own transaction has ended.

    For audit entries that must outlive the request they describe: a refused request (an
    abort(403) or abort(404)) is rolled back whole, yet the trail keeps that it was refused.
    The commit point first commits or rolls back the request, then runs each record() in a
    fresh transaction of its own and commits it; a failure there is logged, never shown.
    """
    g.setdefault("_kept_after_request", []).append(record)


def _run_kept_records() -> None:
    from clinic.errors import redacted_traceback

    for record in g.pop("_kept_after_request", []):
        try:
            record()
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            log.error("An entry kept after a request was not saved\n%s", redacted_traceback(error))


def _commit_or_roll_back(response: Response) -> Response:
    try:
        return _end_request_transaction(response)
    finally:
        _run_kept_records()


def _end_request_transaction(response: Response) -> Response:
    if g.get("_request_failed") or response.status_code >= 500:
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        g._request_failed = True
        from clinic.errors import redacted_traceback, render_commit_failure

        log.error("The request's changes could not be committed\n%s", redacted_traceback(error))

        failure = render_commit_failure(error)
        # Keep the security headers the other hooks set; drop what described the lost body.
        for name, value in response.headers.items():
            if name.lower() not in _BODY_HEADERS and name not in failure.headers:
                failure.headers[name] = value
        failure.headers["Cache-Control"] = "no-store"
        return failure
    return response


_BODY_HEADERS = frozenset(
    {"content-type", "content-length", "content-disposition", "etag", "last-modified"}
)


def _note_write(session: Session, flush_context: Any) -> None:
    if has_request_context() and (session.new or session.dirty or session.deleted):
        g._request_wrote = True


def release_read() -> None:
    """End the request's read-only transaction before slow work, so no lock is held during it.

    Refuses (RuntimeError) when the request has written anything: that would be a commit or a
    rollback in the middle of a request, which only the commit point may do.
    """
    session = db.session
    if session.new or session.dirty or session.deleted or g.get("_request_wrote"):
        raise RuntimeError("release_read() after a write: do the slow work before writing")
    # Nothing to keep: ending the transaction releases SQLite's lock and PostgreSQL's snapshot.
    session.rollback()


@contextmanager
def _savepoint() -> Iterator[None]:
    with db.session.begin_nested():
        yield


def operation(function: Callable[P, R]) -> Callable[P, R]:
    """Run an operation all or nothing: a refusal or error undoes just what it had changed.

    The request's transaction goes on (a refused form is shown again, with the audit entry
    that it was shown); only the commit point commits.
    """

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _savepoint():
            return function(*args, **kwargs)

    return wrapper
