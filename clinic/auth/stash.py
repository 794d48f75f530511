"""Keeping a form that was posted after its author's sign-in ended, and giving it back."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from werkzeug.datastructures import MultiDict

from clinic.clock import utcnow
from clinic.extensions import db
from clinic.models import FormStash, User

KEEP_FOR = timedelta(hours=24)
MAX_FIELDS = 2000


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def stash_form(user: User, path: str, form: MultiDict[str, str]) -> str:
    """Keep a posted form for its author and return the token that gives it back."""
    db.session.execute(delete(FormStash).where(FormStash.created_at < utcnow() - KEEP_FOR))
    token = secrets.token_urlsafe(24)
    pairs = [[key, value] for key, value in form.items(multi=True) if key != "csrf_token"][
        :MAX_FIELDS
    ]
    db.session.add(
        FormStash(
            token_hash=_hash(token),
            clinic_id=user.clinic_id,
            user_id=user.id,
            path=path[:500],
            form_data=pairs,
        )
    )
    db.session.flush()
    return token


def take_stashed_form(token: str | None, user: User, path: str) -> MultiDict[str, str] | None:
    """Return and forget a kept form, only for the same user and page, within a day."""
    if not token:
        return None
    stash = db.session.scalars(
        select(FormStash).where(FormStash.token_hash == _hash(token))
    ).first()
    if stash is None or stash.user_id != user.id or stash.path != path:
        return None
    fresh = utcnow() - stash.created_at <= KEEP_FOR
    db.session.delete(stash)
    db.session.flush()
    if not fresh:
        return None
    return MultiDict([(str(key), str(value)) for key, value in stash.form_data])


def restore_posted_form() -> MultiDict[str, str] | None:
    """Give back the form this user posted to this page before being signed out, if any."""
    from flask import flash, request
    from flask_login import current_user

    # Taking it forgets it; the request's commit point makes that stick.
    restored = take_stashed_form(request.args.get("restore"), current_user, request.path)
    if restored is not None:
        flash(
            "What you typed before you were signed out is back in the form. Check it, then save.",
            "info",
        )
    return restored
