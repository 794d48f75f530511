"""Page views declare on the route what record they show; the entry is written for each showing.

    @bp.get("/clients/<int:client_id>/visits/<int:visit_id>")
    @audited(VIEW, "visit", "Visit note", record="visit_id")
    def detail(client_id: int, visit_id: int) -> str: ...

The entry is written once the view has answered with a page or file that shows the record: a
success, a failed form shown again with what was typed, a 409 conflict page, HEAD. A redirect
shows nothing (a change's own entry is written by its operation), and an abort (404 for another
clinic's id) or error writes nothing. Routes that show no client's record say why with
@not_audited(reason). tests/audit/test_declared.py fails for a route that declares neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Flask, make_response, request
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.audit.trail import Actor, record_shown
from clinic.models import AuditAction

P = ParamSpec("P")
R = TypeVar("R")

VIEW, PRINT, EXPORT = AuditAction.VIEW, AuditAction.PRINT, AuditAction.EXPORT
# A page that shows the record: a success, or a form or conflict page shown again.
SHOWING_STATUSES = frozenset({200, 400, 409, 422})
DECLARATION = "audit_declaration"


@dataclass(frozen=True)
class Shows:
    """What a route shows: the action, the kind of record and where its id is in the URL."""

    action: AuditAction
    record_type: str
    summary: str
    record: str | None = None
    details: Callable[[], str] | None = None


@dataclass(frozen=True)
class NotAudited:
    """A route that shows no client's record, and why."""

    reason: str


def audited(
    action: AuditAction,
    record_type: str,
    summary: str,
    *,
    record: str | None = None,
    details: Callable[[], str] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, Response]]:
    """Record every answer of this route that shows the record (see the module's docstring)."""
    shows = Shows(action, record_type, summary, record, details)

    def decorate(view: Callable[P, R]) -> Callable[P, Response]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
            response = make_response(view(*args, **kwargs))
            if response.status_code in SHOWING_STATUSES and current_user.is_authenticated:
                _record_showing(shows, kwargs)
            return response

        setattr(wrapper, DECLARATION, shows)
        return wrapper

    return decorate


def not_audited(reason: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare that a route shows no client's record, with the reason."""
    if not reason.strip():
        raise ValueError("say why the route is not audited")

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        setattr(view, DECLARATION, NotAudited(reason))
        return view

    return decorate


def current_actor() -> Actor:
    """Return the signed-in account as the actor, from this request's network address."""
    return Actor.of(current_user._get_current_object(), request.remote_addr or "")


def _record_showing(shows: Shows, arguments: dict[str, Any]) -> None:
    summary = shows.summary
    if request.method == "POST":
        summary = f"{summary} (shown again, not saved)"
    if shows.details is not None and (details := shows.details()):
        summary = f"{summary}: {details}"
    record_id = arguments.get(shows.record) if shows.record else None
    client_id = arguments.get("client_id")
    record_shown(
        current_actor(),
        shows.action,
        record_type=shows.record_type,
        record_id=record_id if isinstance(record_id, int) else None,
        client_id=client_id if isinstance(client_id, int) else None,
        summary=summary,
    )


def declaration_of(app: Flask, endpoint: str) -> Shows | NotAudited | None:
    """Return what a route declares about the audit trail, or None when it declares nothing."""
    view = app.view_functions.get(endpoint)
    found = getattr(view, DECLARATION, None)
    return found if isinstance(found, Shows | NotAudited) else None
