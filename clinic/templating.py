"""Filters and values every template can use."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import Flask


def format_date(value: date | datetime | None) -> str:
    """Format a date the same way everywhere, with the month spelled out."""
    if value is None:
        return ""
    if type(value) is date:
        return _format_day(value)
    return f"{value.day} {value.strftime('%b %Y')}"


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


def register_template_helpers(app: Flask) -> None:
    """Install the filters used by the templates."""
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(label_of, "label")
    from clinic.forms import field_errors

    app.add_template_filter(field_errors, "field_errors")
    from clinic.screening.display import register_display_filters

    register_display_filters(app)
