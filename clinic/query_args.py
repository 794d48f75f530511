"""Numbers read from a request (query string, hidden fields), and pages of lists: never a 500.

A page number typed into a link can be anything: empty, "abc", "-3", "1e9" or
"99999999999999999999". Such a number is clamped into range here, before it reaches an OFFSET
that would overflow inside the database driver.
"""

from __future__ import annotations

import re
from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from clinic.extensions import db

# Past this a page number means nothing; capping it keeps the OFFSET a small number.
MAX_PAGE = 100_000
_INTEGER = re.compile(r"\s*([+-]?)0*(\d+)\s*", re.ASCII)
# More digits than this is beyond any range the app reads, without converting it.
_MAX_DIGITS = 18


def whole_number(text: object, *, minimum: int, maximum: int) -> int | None:
    """Return typed text as a whole number clamped to [minimum, maximum]; None if not one."""
    match = _INTEGER.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    sign, digits = match.groups()
    if len(digits) > _MAX_DIGITS:
        return minimum if sign == "-" else maximum
    return min(max(int(sign + digits), minimum), maximum)


def int_arg(name: str, *, default: int, minimum: int, maximum: int) -> int:
    """Return the query string's whole number `name`, clamped to [minimum, maximum].

    Missing or not a whole number gives the default; a number out of range gives the nearest
    end of the range.
    """
    number = whole_number(request.args.get(name), minimum=minimum, maximum=maximum)
    return default if number is None else number


def page_arg(name: str = "page") -> int:
    """Return the page number a list was asked for: 1 unless a page in 1..MAX_PAGE."""
    return int_arg(name, default=1, minimum=1, maximum=MAX_PAGE)


def version_of(text: object) -> int | None:
    """Return the record version a form carried, or None when it is not one (a conflict)."""
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{1,10}", text):
        return None
    return int(text)


def paginate(
    statement: Select[Any], *, page: int, per_page: int, total: int | None = None
) -> Pagination:
    """Return one page of a SELECT's rows; a page past the last one gives the last one.

    `total`, when the caller knows how many rows the SELECT gives (a kept count), saves the
    COUNT query, whose cost grows with the rows counted.
    """
    page = min(max(page, 1), MAX_PAGE)
    if total is not None:
        last = max((total + per_page - 1) // per_page, 1)
        pagination = db.paginate(
            statement, page=min(page, last), per_page=per_page, error_out=False, count=False
        )
        pagination.total = total
        return pagination
    pagination = db.paginate(statement, page=page, per_page=per_page, error_out=False, count=True)
    if page > 1 and page > pagination.pages:
        pagination = db.paginate(
            statement, page=max(pagination.pages, 1), per_page=per_page, error_out=False
        )
    return pagination
