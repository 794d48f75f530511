"""The clinic's details and logo, and the owner's report of records past the retention period."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, func, select

from clinic.audit.trail import Actor, record_event
from clinic.domain.errors import Conflict
from clinic.extensions import db
from clinic.homecare import operations as homecare_ops
from clinic.models import AuditAction, Client, Clinic, Visit
from clinic.spreadsheet import spreadsheet_safe
from clinic.transaction import operation


@dataclass(frozen=True)
class ClinicSettings:
    """The clinic's details and settings, as the owner typed them."""

    name: str
    address: str
    phone: str
    screening_valid_days: int
    retention_years: int
    require_two_factor: bool
    paper_size: str


def _record_clinic_change(actor: Actor, clinic: Clinic, action: AuditAction, summary: str) -> None:
    record_event(actor, action, record_type="clinic", record_id=int(clinic.id), summary=summary)
    db.session.flush()


@operation
def update_clinic_settings(
    actor: Actor, settings: ClinicSettings, expected_version: int | None
) -> Clinic:
    """Save the actor's clinic's details; Conflict if they changed since the form was loaded."""
    clinic = db.session.get_one(Clinic, actor.clinic_id)
    if expected_version != clinic.version:
        raise Conflict(
            "Someone else changed these details while you were editing, so nothing was "
            f"saved. The saved details are: {clinic.name}; {clinic.address or 'no address'}; "
            f"{clinic.phone or 'no phone'}. Save again to replace them with yours.",
            record=clinic,
        )
    clinic.name = settings.name
    clinic.address = settings.address
    clinic.phone = settings.phone
    clinic.screening_valid_days = settings.screening_valid_days
    clinic.retention_years = settings.retention_years
    summary = "Changed the clinic's details and settings"
    if settings.require_two_factor != clinic.require_two_factor:
        summary += (
            "; therapists must now use two-step sign-in"
            if settings.require_two_factor
            else "; therapists may now sign in without two-step sign-in"
        )
    clinic.require_two_factor = settings.require_two_factor
    homecare_ops.set_paper_size(clinic, settings.paper_size or clinic.paper_size)
    _record_clinic_change(actor, clinic, AuditAction.SECURITY, summary)
    return clinic


@operation
def upload_logo(actor: Actor, data: bytes) -> None:
    """Check an uploaded image and make it the logo on the actor's clinic's handouts."""
    clinic = db.session.get_one(Clinic, actor.clinic_id)
    homecare_ops.set_clinic_logo(clinic, data)
    _record_clinic_change(actor, clinic, AuditAction.CHANGE, "Uploaded the logo for handouts")


@operation
def remove_logo(actor: Actor) -> None:
    """Stop printing a logo on the actor's clinic's handouts (issued ones keep theirs)."""
    clinic = db.session.get_one(Clinic, actor.clinic_id)
    homecare_ops.remove_clinic_logo(clinic)
    _record_clinic_change(actor, clinic, AuditAction.CHANGE, "Removed the logo for handouts")


def add_years(day: date, years: int) -> date:
    """Return the same day `years` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def retention_cutoff(today: date, years: int) -> date:
    """Return the earliest date still inside the retention period on `today`.

    A record counted from a day D is past the period when its period ended before today,
    that is when add_years(D, years) < today; exactly on the last day it is not yet past.
    """
    cutoff = add_years(today, -years)
    # 29 February has no exact anniversary; step to the first day whose period still runs.
    while add_years(cutoff, years) < today:
        cutoff += timedelta(days=1)
    while add_years(cutoff - timedelta(days=1), years) >= today:
        cutoff -= timedelta(days=1)
    return cutoff


@dataclass(frozen=True)
class RetentionRow:
    """One client past the retention period, with the dates the period was counted from."""

    client_id: int
    first_name: str
    last_name: str
    last_visit_on: date | None
    counted_from: date
    period_ended_on: date
    archived: bool

    @property
    def sort_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


@dataclass(frozen=True)
class RetentionReport:
    """One page of the retention report and what it was worked out from."""

    rows: list[RetentionRow]
    total: int
    page: int
    pages: int
    retention_years: int
    today: date
    cutoff: date


def _retention_statement(clinic_id: int, cutoff: date) -> tuple[Select[Any], ColumnElement[Any]]:
    last_visits = (
        select(Visit.client_id, func.max(Visit.visit_on).label("last_visit_on"))
        .where(Visit.clinic_id == clinic_id, Visit.discarded_at.is_(None))
        .group_by(Visit.client_id)
        .subquery()
    )
    # A client never seen is counted from the day their record was created (UTC).
    counted_from = func.coalesce(
        last_visits.c.last_visit_on, func.date(Client.created_at, type_=Date), type_=Date
    )
    statement = (
        select(
            Client.id,
            Client.first_name,
            Client.last_name,
            Client.archived_at,
            last_visits.c.last_visit_on,
            counted_from.label("counted_from"),
        )
        .outerjoin(last_visits, last_visits.c.client_id == Client.id)
        .where(Client.clinic_id == clinic_id, counted_from < cutoff)
    )
    return statement, counted_from


def _rows(statement: Select[Any], years: int) -> list[RetentionRow]:
    return [
        RetentionRow(
            client_id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            last_visit_on=row.last_visit_on,
            counted_from=row.counted_from,
            period_ended_on=add_years(row.counted_from, years),
            archived=row.archived_at is not None,
        )
        for row in db.session.execute(statement)
    ]


def _ordered(statement: Select[Any], counted_from: ColumnElement[Any]) -> Select[Any]:
    return statement.order_by(
        counted_from, func.lower(Client.last_name), func.lower(Client.first_name), Client.id
    )


def list_past_retention(
    clinic_id: int, retention_years: int, today: date, *, page: int, per_page: int
) -> RetentionReport:
    """Return one page of the clinic's clients past the retention period, oldest first."""
    cutoff = retention_cutoff(today, retention_years)
    statement, counted_from = _retention_statement(clinic_id, cutoff)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(math.ceil(total / per_page), 1)
    page = min(max(page, 1), pages)
    paged = _ordered(statement, counted_from).limit(per_page).offset((page - 1) * per_page)
    return RetentionReport(
        rows=_rows(paged, retention_years),
        total=total,
        page=page,
        pages=pages,
        retention_years=retention_years,
        today=today,
        cutoff=cutoff,
    )


def export_past_retention_csv(clinic_id: int, retention_years: int, today: date) -> str:
    """Return every client past the retention period as CSV, oldest first, with ISO dates."""
    statement, counted_from = _retention_statement(
        clinic_id, retention_cutoff(today, retention_years)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "client_id",
            "last_name",
            "first_name",
            "last_visit",
            "counted_from",
            "period_ended",
            "archived",
        ]
    )
    for row in _rows(_ordered(statement, counted_from), retention_years):
        writer.writerow(
            [
                row.client_id,
                spreadsheet_safe(row.last_name),
                spreadsheet_safe(row.first_name),
                row.last_visit_on.isoformat() if row.last_visit_on else "",
                row.counted_from.isoformat(),
                row.period_ended_on.isoformat(),
                "yes" if row.archived else "no",
            ]
        )
    return buffer.getvalue()
