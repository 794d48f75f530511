"""Confirming it is you again before sensitive changes, and checks of credentials while signed in.

A sign-in with the password, or a "Confirm it is you" (the password, or a current code from
the authenticator app for accounts with two-step sign-in), opens sensitive changes for
REAUTH_MINUTES: setting up two-step sign-in, the owner's resets of another account, adding an
account. The moment is kept in the signed session cookie, bound to this browser's sign-in
(session["sid"]), so it neither outlives the sign-in nor moves to another one.

Every wrong password or code typed while signed in is recorded as a security event whose
summary starts with "Wrong", kept although the request is refused (no savepoint around it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic import clock
from clinic.audit.trail import Actor
from clinic.auth import ViewT, two_factor
from clinic.auth.operations import is_credential_refusal, record_failed_check, verify_password
from clinic.auth.stash import stash_form
from clinic.domain.errors import RuleViolations

SESSION_KEY = "confirmed"
CONFIRM_ENDPOINT = "auth.confirm_identity"


def _sign_in_tag() -> str | None:
    token = session.get("sid")
    if not isinstance(token, str):
        return None
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()[:32]


def mark_confirmed() -> None:
    """Note in the session cookie that the person proved who they are just now."""
    tag = _sign_in_tag()
    if tag is not None:
        session[SESSION_KEY] = {"sid": tag, "at": int(clock.utcnow().timestamp())}


def _window() -> timedelta:
    return timedelta(minutes=int(current_app.config["REAUTH_MINUTES"]))


def recently_confirmed() -> bool:
    """Return whether this sign-in proved who it is within the last REAUTH_MINUTES."""
    marker = session.get(SESSION_KEY)
    if not isinstance(marker, dict):
        return False
    tag, at = marker.get("sid"), marker.get("at")
    if tag is None or tag != _sign_in_tag() or not isinstance(at, int):
        return False
    age = clock.utcnow().timestamp() - at
    return 0 <= age <= _window().total_seconds()


def _confirm_url(next_url: str) -> str:
    return url_for(CONFIRM_ENDPOINT, next=next_url)


def ask_to_confirm(back: str | None = None, *, keep_form: bool = False) -> Response:
    """Send the browser to "Confirm it is you", then back to where it was going.

    A GET comes back to the same page. A POST changed nothing: with keep_form what was typed
    is kept (like after an idle sign-out) and comes back in the form; otherwise the browser
    comes back to `back` (an endpoint), to press the button again.
    """
    if request.method == "GET":
        return redirect(_confirm_url(request.full_path if request.query_string else request.path))
    if keep_form and request.form:
        token = stash_form(current_user._get_current_object(), request.path, request.form)
        flash(
            "For your security, confirm it is you first. Nothing was saved yet; "
            "what you typed comes back in the form.",
            "info",
        )
        return redirect(_confirm_url(f"{request.path}?restore={token}"))
    flash(
        "For your security, confirm it is you first. Nothing was changed yet: "
        "do it again once you have confirmed.",
        "info",
    )
    return redirect(_confirm_url(url_for(back) if back else request.path))


def requires_recent_sign_in(
    back: str | None = None, *, keep_form: bool = False
) -> Callable[[ViewT], ViewT]:
    """Ask for the password (or a code) again unless this sign-in proved itself lately."""

    def decorate(view: ViewT) -> ViewT:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not recently_confirmed():
                return ask_to_confirm(back, keep_form=keep_form)
            return view(*args, **kwargs)

        wrapper.requires_recent_sign_in = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


# ---------------------------------------------------------------------------------------------
# Checks of a password or code while signed in: each wrong one is recorded and kept.


def confirm_identity(actor: Actor, proof: str) -> None:
    """Accept the actor's password, or (with two-step sign-in) the code their app shows now."""
    user = actor.required_user
    if user.has_two_factor and two_factor.looks_like_totp_code(proof):
        # Spent like a sign-in code: the same code does not work twice.
        refusal = two_factor._spend_totp(user, proof)
        if refusal is None:
            return
        message = refusal.message
    elif verify_password(user.password_hash, proof):
        return
    elif user.has_two_factor:
        message = "This is neither your password nor the code your app shows now."
    else:
        message = "This is not your password."
    record_failed_check(actor, 'Wrong password or code on "Confirm it is you"')
    raise RuleViolations.one("proof", message)


def regenerate_recovery_codes(actor: Actor, proof: str) -> list[str]:
    """Make new recovery codes (two_factor.regenerate_recovery_codes), recording a wrong proof."""
    try:
        return two_factor.regenerate_recovery_codes(actor, proof)
    except RuleViolations as violations:
        if is_credential_refusal(violations):
            record_failed_check(actor, "Wrong password or code for new recovery codes")
        raise


def disable_two_factor(actor: Actor, *, password: str, code: str) -> None:
    """Turn two-step sign-in off (two_factor.disable_two_factor), recording a wrong password
    or code."""
    try:
        two_factor.disable_two_factor(actor, password=password, code=code)
    except RuleViolations as violations:
        if is_credential_refusal(violations):
            record_failed_check(actor, "Wrong password or code to turn off two-step sign-in")
        raise
