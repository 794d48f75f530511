"""Signing in and out, first-run setup, and the guard in front of every page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.clock import utcnow
from clinic.extensions import login_manager

bp = Blueprint("auth", __name__)

ViewT = TypeVar("ViewT", bound=Callable[..., Any])
SETUP_DONE_KEY = "clinic.setup_done"
# The pages someone can still use while they must set up two-step sign-in before anything else
# (their clinic requires it, or an owner's time to postpone it is over).
TWO_STEP_SETUP_ENDPOINTS = frozenset(
    {
        "auth.two_step",
        "auth.two_step_start",
        "auth.two_step_confirm",
        # "Confirm it is you" (clinic/auth/reauth.py), asked before set-up starts.
        "auth.confirm_identity",
        "auth.change_password",
        "auth.logout",
    }
)
# The prefix browsers honour only for a Secure cookie with Path=/ and no Domain: no other
# site, subdomain or plain-HTTP page can plant or overwrite the session cookie.
HOST_COOKIE_PREFIX = "__Host-"


def public(view: ViewT) -> ViewT:
    """Mark a view as open to visitors who are not signed in."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def _over_https() -> bool:
    return has_request_context() and request.is_secure


class ClinicSessionInterface(SecureCookieSessionInterface):
    """Over HTTPS, a Secure "__Host-" session cookie for this host only, on every path."""

    def get_cookie_name(self, app: Flask) -> str:
        name = str(app.config["SESSION_COOKIE_NAME"])
        return HOST_COOKIE_PREFIX + name if _over_https() else name

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or _over_https()

    def get_cookie_domain(self, app: Flask) -> str | None:
        return None if _over_https() else super().get_cookie_domain(app)

    def get_cookie_path(self, app: Flask) -> str:
        return "/" if _over_https() else super().get_cookie_path(app)


def _setup_done(app: Flask) -> bool:
    # Once an account exists it never goes away (accounts are only deactivated), so one
    # positive answer per process is enough.
    if app.extensions.get(SETUP_DONE_KEY):
        return True
    from clinic.auth.operations import has_any_account

    done = has_any_account()
    if done:
        app.extensions[SETUP_DONE_KEY] = True
    return done


def _load_user(user_id: str) -> Any:
    from clinic.auth.operations import end_login_session, find_login_session, is_idle

    token = session.get("sid")
    if not isinstance(token, str):
        return None
    login_session = find_login_session(token)
    if login_session is None or str(login_session.user_id) != user_id:
        return None
    if not login_session.user.active:
        return None
    lifetime = timedelta(hours=float(current_app.config["SESSION_ABSOLUTE_HOURS"]))
    if utcnow() - login_session.created_at > lifetime:
        # However busy, a sign-in ends this long after it began: a stolen cookie does not
        # open the records for ever. Kept by the commit point, like the idle end below.
        end_login_session(login_session, "expired")
        g.signed_out_expired = True
        g.idle_user = login_session.user
        return None
    timeout = timedelta(minutes=int(current_app.config["IDLE_TIMEOUT_MINUTES"]))
    if is_idle(login_session, timeout):
        # Kept by the commit point, which commits the guard's redirect to the sign-in page.
        end_login_session(login_session, "idle")
        g.signed_out_idle = True
        g.idle_user = login_session.user
        return None
    g.login_session = login_session
    return login_session.user


def _touch_after_answer(response: Response) -> Response:
    # Noted once the page is answered, not while loading the user: a page that ends its
    # read transaction before slow work (a PDF) must not have written anything by then.
    login_session = g.get("login_session")
    if login_session is not None and response.status_code < 500:
        from clinic.auth.operations import touch_login_session

        touch_login_session(login_session)
    return response


def _unauthorized() -> Response:
    next_url = request.full_path if request.method == "GET" else None
    if g.get("signed_out_idle") or g.get("signed_out_expired"):
        if g.get("signed_out_expired"):
            hours = _hours(current_app.config["SESSION_ABSOLUTE_HOURS"])
            message = f"You were signed out: sign-ins last at most {hours}. Sign in again."
        else:
            minutes = current_app.config["IDLE_TIMEOUT_MINUTES"]
            message = f"You were signed out after {minutes} minutes without activity."
        stashed = _stash_posted_form()
        if stashed is not None:
            message += " What you typed is kept: sign in to carry on where you were."
            next_url = f"{request.path}?restore={stashed}"
        flash(message, "info")
    elif request.endpoint not in (None, "home"):
        flash("Please sign in to continue.", "info")
    return redirect(url_for("auth.login", next=next_url))


def _hours(value: object) -> str:
    hours = float(str(value))
    shown = f"{hours:g}"
    return f"{shown} hour" if hours == 1 else f"{shown} hours"


def _stash_posted_form() -> str | None:
    # Only a form posted to a page that can show it again is worth keeping, and only for
    # the person whose sign-in just ran out.
    if request.method != "POST" or not request.form or g.get("idle_user") is None:
        return None
    if request.endpoint in (None, "auth.logout", "auth.login", "auth.setup"):
        return None
    from clinic.auth.stash import stash_form

    # Kept by the commit point with the redirect to the sign-in page.
    return stash_form(g.idle_user, request.path, request.form)


def _guard() -> Response | None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    endpoint = request.endpoint
    if endpoint == "static":
        return None
    if not _setup_done(app):
        if endpoint != "auth.setup":
            return redirect(url_for("auth.setup"))
        return None
    if endpoint == "auth.setup":
        abort(404)
    view = app.view_functions.get(endpoint) if endpoint else None
    if view is not None and getattr(view, "is_public", False):
        return None
    if not current_user.is_authenticated:
        return _unauthorized()
    if current_user.must_change_password and endpoint not in (
        "auth.change_password",
        "auth.logout",
    ):
        flash("Choose your own password before you carry on.", "info")
        return redirect(url_for("auth.change_password"))
    if endpoint not in TWO_STEP_SETUP_ENDPOINTS and must_set_up_two_step_now(current_user):
        if current_user.is_owner:
            flash(
                "As the clinic's owner you must use two-step sign-in, and the time to put it "
                "off is over. Set it up to carry on: it takes a minute and an authenticator "
                "app on your phone.",
                "info",
            )
        else:
            flash(
                "Your clinic asks everyone to use two-step sign-in. Set it up to carry on: "
                "it takes a minute and an authenticator app on your phone.",
                "info",
            )
        return redirect(url_for("auth.two_step"))
    return None


def must_set_up_two_step_now(user: Any) -> bool:
    """Return whether an account may open nothing but the set-up of two-step sign-in.

    Owners must use it once their time to postpone it (two_step_due_at) is over, whatever
    the clinic's setting; everyone else as soon as their clinic requires it.
    """
    if user.has_two_factor:
        return False
    if user.is_owner:
        due: datetime | None = user.two_step_due_at
        return due is None or utcnow() >= due
    return bool(user.clinic.require_two_factor)


def two_step_days_left(user: Any) -> int | None:
    """Return the whole days an owner has left to set up two-step sign-in (None: no banner)."""
    if not user.is_authenticated or not user.is_owner or user.has_two_factor:
        return None
    due: datetime | None = user.two_step_due_at
    if due is None or utcnow() >= due:
        return None
    return (due - utcnow()).days


def _template_helpers() -> dict[str, Any]:
    return {"two_step_days_left": two_step_days_left}


def register_security(app: Flask) -> None:
    """Require sign-in on every page but the public ones, and end idle sign-ins."""
    app.session_interface = ClinicSessionInterface()
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.session_protection = None  # our server-side sign-in records do this job
    app.before_request(_guard)
    app.context_processor(_template_helpers)
    # Registered after the commit point, so it runs before it and the touch is committed.
    app.after_request(_touch_after_answer)
