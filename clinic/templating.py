"""Filters and values every template can use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, url_for


def format_date(value: date | datetime | None) -> str:
    """Format a date the same way everywhere, with the month spelled out."""
    if value is None:
        return ""
    return _format_day(value.date() if isinstance(value, datetime) else value)


@lru_cache(maxsize=4096)
def _format_day(value: date) -> str:
    # Tables list the same days again and again; strftime is the slow part.
    return f"{value.day} {value.strftime('%b %Y')}"


def format_datetime(value: datetime | None) -> str:
    """Format a moment in UTC with its date and time."""
    if value is None:
        return ""
    return f"{format_date(value)}, {value.strftime('%H:%M')} UTC"


def label_of(value: Any) -> str:
    """Return an enum member's human label, or the value itself."""
    return str(getattr(value, "label", value if value is not None else ""))


# A number no record has, put where the id goes in a URL built once.
_ID_PLACEHOLDER = 987654321987


def url_for_each(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """Return a function giving url_for(endpoint, **values, key=id) for many ids quickly.

    A table that links every row (a client's 100 visits on the progress page) otherwise spends
    much of its time in url_for: the URL is built once with a placeholder and each id put in
    its place. Should the placeholder appear twice, every URL is built by url_for itself.
    """
    arguments: dict[str, Any] = {**values, key: _ID_PLACEHOLDER}
    built = url_for(endpoint, **arguments)
    head, found, tail = built.partition(str(_ID_PLACEHOLDER))
    if not found or str(_ID_PLACEHOLDER) in tail:
        return lambda ident: url_for(endpoint, **{**arguments, key: ident})
    return lambda ident: f"{head}{int(ident)}{tail}"


def register_template_helpers(app: Flask) -> None:
    """Install the filters used by the templates."""
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(label_of, "label")
    from clinic.forms import field_errors

    app.add_template_filter(field_errors, "field_errors")
    from clinic.screening.display import register_display_filters

    register_display_filters(app)
