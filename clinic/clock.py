"""The app's one clock: every "today" and "now" comes from here, so tests can set it."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def today() -> date:
    """Return today's date where the clinic is (the server's local date, for now)."""
    return date.today()


def local_now() -> datetime:
    """Return the local wall-clock time, naive, for defaults such as a visit's start time."""
    return datetime.now()


__all__ = ["local_now", "today", "utcnow"]
