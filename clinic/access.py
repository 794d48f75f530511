"""Clinic-scoped loading: the only way views fetch rows, so one clinic never sees another's."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

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


def get_scoped_or_404(model: type[ModelT], row_id: int) -> ModelT:
    """Return a row of the signed-in user's clinic, or answer 404 for any other."""
    id_column: Any = model.id  # type: ignore[attr-defined]
    row = db.session.scalars(scoped(model).where(id_column == row_id)).one_or_none()
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
