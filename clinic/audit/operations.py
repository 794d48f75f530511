"""Writing audit entries and reading them back; nothing here or anywhere else changes one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, select, tuple_

from clinic.clients.operations import search_clients_query
from clinic.extensions import db
from clinic.models import AuditAction, AuditEntry, Client, User

# Request headers hold whatever a client sent; PostgreSQL refuses NUL in text columns.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def record_event(
    action: AuditAction,
    *,
    clinic_id: int,
    user_id: int | None,
    client_id: int | None = None,
    record_type: str = "",
    record_id: int | None = None,
    summary: str = "",
    remote_addr: str = "",
) -> AuditEntry:
    """Add one entry to the audit trail (flushed with the caller's transaction)."""
    entry = AuditEntry(
        clinic_id=clinic_id,
        user_id=user_id,
        client_id=client_id,
        action=action,
        record_type=record_type[:40],
        record_id=record_id,
        summary=_CONTROL_CHARACTERS.sub("", summary)[:200],
        remote_addr=_CONTROL_CHARACTERS.sub("", remote_addr)[:64],
    )
    db.session.add(entry)
    return entry


def record_account_event(
    action: AuditAction, user: User, summary: str = "", *, remote_addr: str = ""
) -> AuditEntry:
    """Add an entry about something an account did to itself (sign-in, password, two-step)."""
    return record_event(
        action,
        clinic_id=user.clinic_id,
        user_id=user.id,
        record_type="user",
        record_id=user.id,
        summary=summary,
        remote_addr=remote_addr,
    )


# --- Reading the trail (the owner's pages) -------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the owner narrowed the trail to; None or "" means no limit. Dates are UTC days."""

    client_id: int | None = None
    client_search: str = ""
    user_id: int | None = None
    action: AuditAction | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class AuditRow:
    """One entry with the names of who did it and of the client, ready to show or export."""

    id: int
    at: datetime
    action: AuditAction
    user_name: str
    user_email: str
    client_id: int | None
    client_name: str
    record_type: str
    record_id: int | None
    summary: str
    remote_addr: str


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filtered_entries(clinic_id: int, filters: AuditFilters) -> Select[AuditEntry]:
    """Return a SELECT of one clinic's entries matching the filters, newest first."""
    statement = select(AuditEntry).where(AuditEntry.clinic_id == clinic_id)
    if filters.client_id is not None:
        statement = statement.where(AuditEntry.client_id == filters.client_id)
    if filters.client_search.strip():
        matching = (
            search_clients_query(filters.client_search, include_archived=True)
            .where(Client.clinic_id == clinic_id)
            .with_only_columns(Client.id)
            .order_by(None)
        )
        statement = statement.where(AuditEntry.client_id.in_(matching))
    if filters.user_id is not None:
        statement = statement.where(AuditEntry.user_id == filters.user_id)
    if filters.action is not None:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.date_from is not None:
        statement = statement.where(AuditEntry.at >= _start_of(filters.date_from))
    if filters.date_to is not None and filters.date_to < date.max:
        statement = statement.where(AuditEntry.at < _start_of(filters.date_to + timedelta(days=1)))
    return statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def list_entries(clinic_id: int, filters: AuditFilters, *, page: int, per_page: int) -> Pagination:
    """Return one page of a clinic's entries matching the filters, newest first."""
    return db.paginate(
        filtered_entries(clinic_id, filters),
        page=max(page, 1),
        per_page=per_page,
        error_out=False,
        count=True,
    )


def entries_after(
    statement: Select[AuditEntry], after: tuple[datetime, int] | None, *, limit: int
) -> list[AuditRow]:
    """Return the next entries of a filtered_entries SELECT after (at, id) of the last read."""
    if after is not None:
        statement = statement.where(tuple_(AuditEntry.at, AuditEntry.id) < tuple_(*after))
    return describe_entries(db.session.scalars(statement.limit(limit)).all())


def describe_entries(entries: Sequence[AuditEntry]) -> list[AuditRow]:
    """Return the entries with the names of their accounts and clients."""
    user_ids = {entry.user_id for entry in entries if entry.user_id is not None}
    client_ids = {entry.client_id for entry in entries if entry.client_id is not None}
    users = (
        {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    clients = (
        {
            client.id: client
            for client in db.session.scalars(select(Client).where(Client.id.in_(client_ids)))
        }
        if client_ids
        else {}
    )
    rows = []
    for entry in entries:
        user = users.get(entry.user_id) if entry.user_id is not None else None
        client = clients.get(entry.client_id) if entry.client_id is not None else None
        rows.append(
            AuditRow(
                id=entry.id,
                at=entry.at,
                action=entry.action,
                user_name=user.full_name if user else "",
                user_email=user.email if user else "",
                client_id=entry.client_id,
                client_name=client.full_name if client else "",
                record_type=entry.record_type,
                record_id=entry.record_id,
                summary=entry.summary,
                remote_addr=entry.remote_addr,
            )
        )
    return rows


def list_clinic_accounts(clinic_id: int) -> list[User]:
    """Return every account of a clinic, deactivated ones too, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.clinic_id == clinic_id)
            .order_by(User.active.desc(), User.full_name, User.id)
        )
    )


def find_clinic_client(clinic_id: int, client_id: int) -> Client | None:
    """Return a client of this clinic, or None for any other id."""
    return db.session.scalars(
        select(Client).where(Client.clinic_id == clinic_id, Client.id == client_id)
    ).one_or_none()
