"""Clinic-scoped loading: the only way views fetch rows, so one clinic never sees another's."""

from __future__ import annotations

from collections.abc import Hashable
from functools import cache
from typing import Any, TypeVar, cast

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, bindparam, select

from clinic.extensions import db
from clinic.models import Role, User

ModelT = TypeVar("ModelT")


def current_clinic_id() -> int:
    """Return the signed-in user's clinic id."""
    return int(current_user.clinic_id)


def scoped(model: type[ModelT]) -> Select[ModelT]:
    """Return a SELECT of a clinic-owned model limited to the signed-in user's clinic."""
    clinic_column: Any = model.clinic_id  # type: ignore[attr-defined]
    return select(model).where(clinic_column == current_clinic_id())


@cache
def _by_id_in_clinic(model: Any) -> Select[Any]:
    # Built once per model with its values as parameters: SQLAlchemy then works out the
    # statement's cache key once, not on every page that opens a record.
    clinic_column: Any = model.clinic_id
    id_column: Any = model.id
    return select(model).where(
        clinic_column == bindparam("clinic_id"), id_column == bindparam("row_id")
    )


def get_scoped_or_404(model: type[ModelT], row_id: int) -> ModelT:
    """Return a row of the signed-in user's clinic, or answer 404 for any other."""
    row: ModelT | None = db.session.scalars(
        _by_id_in_clinic(cast(Hashable, model)),
        {"clinic_id": current_clinic_id(), "row_id": row_id},
    ).one_or_none()
    if row is None:
        abort(404)
    return row


def require_owner() -> None:
    """Answer 403 unless the signed-in user owns the clinic."""
    if current_user.role is not Role.OWNER:
        abort(403)


def get_user_or_404(user_id: int) -> User:
    """Return an account of the signed-in user's clinic, or answer 404."""
    return get_scoped_or_404(User, user_id)
