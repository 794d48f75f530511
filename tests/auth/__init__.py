"""Tests for setup, signing in and out, sessions and passwords; helpers to read pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import func, select

from clinic.extensions import db
from clinic.models import LoginSession, User
from tests import factories

SESSION_COOKIE = "clinic_session"


def page(response: Any) -> str:
    """Return a response's body as text."""
    return str(response.get_data(as_text=True))


def location(response: Any) -> str:
    """Return the path (and query) a redirect points at."""
    assert response.status_code in (301, 302, 303), response.status_code
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def field_errors(html: str, field_id: str) -> list[str]:
    """Return the messages shown beside one field."""
    pattern = rf'<p class="field__error" id="{re.escape(field_id)}-error">(.*?)</p>'
    return [unescape(message) for message in re.findall(pattern, html, re.S)]


def all_field_errors(html: str) -> list[str]:
    """Return every message shown beside any field."""
    return [unescape(m) for m in re.findall(r'<p class="field__error"[^>]*>(.*?)</p>', html, re.S)]


def form_errors(html: str) -> list[str]:
    """Return the messages at the top of the form."""
    block = re.search(r'<div class="form-errors" role="alert"[^>]*>(.*?)</div>', html, re.S)
    if block is None:
        return []
    items = re.findall(r"<(?:p|li)>(.*?)</(?:p|li)>", block.group(1), re.S)
    return [unescape(re.sub(r"<[^>]+>", "", m)) for m in items]


def flashes(html: str) -> list[str]:
    """Return the flashed messages on a page."""
    return [unescape(m) for m in re.findall(r'<p class="flash flash--\w+"[^>]*>(.*?)</p>', html)]


def input_value(html: str, name: str) -> str | None:
    """Return the value an <input> carries, or None when it has none (or is missing)."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else None


def textarea_value(html: str, name: str) -> str | None:
    """Return the text inside a <textarea>."""
    match = re.search(
        rf'<textarea[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</textarea>', html, re.S
    )
    return unescape(match.group(1)).removeprefix("\r\n").removeprefix("\n") if match else None


def one_time_password(html: str) -> str:
    """Return the one-time password shown on the page."""
    match = re.search(r'data-testid="one-time-password">([^<]+)</p>', html)
    assert match, "no one-time password on the page"
    return match.group(1).strip()


def sign_in_form(client: Any, email: str, password: str = factories.PASSWORD, **kw: Any) -> Any:
    """Post the sign-in form."""
    return client.post("/login", data={"email": email, "password": password}, **kw)


def session_cookie(client: Any) -> str:
    """Return the value of the client's session cookie."""
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None, "the client has no session cookie"
    return str(cookie.value)


def put_session_cookie(client: Any, value: str) -> None:
    """Give a client a session cookie, as if copied from another browser."""
    client.set_cookie(SESSION_COOKIE, value)


def count_rows(app: Flask, model: Any, *where: Any) -> int:
    """Count a table's rows matching some conditions."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def load_user(app: Flask, user_id: int) -> User:
    """Return an account, detached, with its columns loaded."""
    with app.app_context():
        user = db.session.get_one(User, user_id)
        db.session.expunge(user)
        return user


def open_sessions(app: Flask, user_id: int) -> int:
    """Count an account's sign-ins that have not ended."""
    return count_rows(
        app, LoginSession, LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)
    )


# A fixed moment in the middle of a 30-second step, so that "now" never straddles two.
START = 1_800_000_015.0
STEP = 30


@dataclass
class Clock:
    """The time the two_factor module reads; tests move it instead of sleeping."""

    now: float = START

    def advance(self, seconds: float) -> None:
        self.now += seconds
