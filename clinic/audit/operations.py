"""Reading the audit trail back for the owner: filters, pages and the CSV export's batches.

Entries are written by clinic/audit/trail.py; nothing here or anywhere else changes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session, scoped_session

from clinic.clients.operations import search_clients_query
from clinic.extensions import db
from clinic.models import AuditAction, AuditEntry, Client, User
from clinic.query_args import paginate


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
    return paginate(filtered_entries(clinic_id, filters), page=page, per_page=per_page)


def read_entries_after(
    statement: Select[AuditEntry], after: tuple[datetime, int] | None, *, limit: int
) -> list[AuditRow]:
    """Return the next entries of a filtered_entries SELECT after (at, id) of the last read.

    Read in a short transaction of its own, ended before returning: a long export (streamed
    after the request has committed) holds no lock between its batches.
    """
    if after is not None:
        statement = statement.where(tuple_(AuditEntry.at, AuditEntry.id) < tuple_(*after))
    with Session(db.engine) as session:
        return describe_entries(session.scalars(statement.limit(limit)).all(), session)


def describe_entries(
    entries: Sequence[AuditEntry], session: Session | None = None
) -> list[AuditRow]:
    """Return the entries with the names of their accounts and clients."""
    reader: Session | scoped_session[Any] = db.session if session is None else session
    user_ids = {entry.user_id for entry in entries if entry.user_id is not None}
    client_ids = {entry.client_id for entry in entries if entry.client_id is not None}
    users = (
        {user.id: user for user in reader.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    clients = (
        {
            client.id: client
            for client in reader.scalars(select(Client).where(Client.id.in_(client_ids)))
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


def find_clinic_client(clinic_id: int, client_id: int) -> Client | None:
    """Return a client of this clinic, or None for any other id."""
    return db.session.scalars(
        select(Client).where(Client.clinic_id == clinic_id, Client.id == client_id)
    ).one_or_none()
