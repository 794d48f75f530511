"""The owner's audit trail: browse and filter the entries, and export them as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import Response, render_template, request, stream_with_context
from sqlalchemy import Select
from wtforms.fields.choices import SelectChoice

from clinic import clock
from clinic.access import current_clinic_id
from clinic.audit import bp
from clinic.audit import operations as ops
from clinic.audit.declared import EXPORT, VIEW, audited
from clinic.audit.forms import AuditFilterForm
from clinic.auth.operations import list_accounts
from clinic.models import AuditAction, AuditEntry, Client
from clinic.query_args import page_arg
from clinic.spreadsheet import spreadsheet_safe

PER_PAGE = 50
EXPORT_BATCH = 1000
FILTER_NAMES = ("client", "q", "user", "action", "date_from", "date_to")
CSV_HEADER = (
    "when_utc",
    "user",
    "user_email",
    "action",
    "action_label",
    "client_id",
    "client",
    "record_type",
    "record_id",
    "summary",
    "address",
)


@dataclass(frozen=True)
class ReadFilters:
    """The filter form, the filters it gave, the client filtered by, and what was ignored."""

    form: AuditFilterForm
    filters: ops.AuditFilters
    client: Client | None
    notices: list[str]
    args: dict[str, str]


def _read_filters() -> ReadFilters:
    clinic_id = current_clinic_id()
    form = AuditFilterForm(request.args)
    form.user.choices = [SelectChoice("", "Anyone")] + [
        SelectChoice(str(user.id), user.full_name + ("" if user.active else " (deactivated)"))
        for user in list_accounts(clinic_id)
    ]
    form.validate()
    notices: list[str] = []
    client = None
    if form.client.errors:
        notices.append("The client in the link was not understood, so every client is shown.")
    elif form.client.data is not None:
        client = ops.find_clinic_client(clinic_id, form.client.data)
        if client is None:
            notices.append("That client is not one of this clinic's, so every client is shown.")
    filters = ops.AuditFilters(
        client_id=client.id if client else None,
        client_search="" if form.q.errors else (form.q.data or ""),
        user_id=int(form.user.data) if form.user.data and not form.user.errors else None,
        action=AuditAction(form.action.data)
        if form.action.data and not form.action.errors
        else None,
        date_from=None if form.date_from.errors else form.date_from.data,
        date_to=None if form.date_to.errors else form.date_to.data,
    )
    # Links (pages, export) carry the filters that were understood, nothing else.
    args = {
        name: str(value)
        for name, value in (
            ("client", filters.client_id),
            ("q", filters.client_search),
            ("user", filters.user_id),
            ("action", filters.action.value if filters.action else None),
            ("date_from", filters.date_from.isoformat() if filters.date_from else None),
            ("date_to", filters.date_to.isoformat() if filters.date_to else None),
        )
        if value
    }
    return ReadFilters(form, filters, client, notices, args)


def _filter_details() -> str:
    # What the owner looked for, as the link said it.
    return ", ".join(
        f"{name} {request.args[name][:40]}" for name in FILTER_NAMES if request.args.get(name)
    )


@bp.get("/")
@audited(VIEW, "audit_trail", "Audit trail", details=_filter_details)
def index() -> str:
    """List the clinic's audit entries, newest first, with filters."""
    read = _read_filters()
    pagination = ops.list_entries(
        current_clinic_id(), read.filters, page=page_arg(), per_page=PER_PAGE
    )
    return render_template(
        "audit/index.html",
        form=read.form,
        client=read.client,
        notices=read.notices,
        args=read.args,
        every_client_args={k: v for k, v in read.args.items() if k != "client"},
        filtered=bool(read.args),
        pagination=pagination,
        rows=ops.describe_entries(pagination.items),
    )


@bp.get("/export.csv")
@audited(EXPORT, "audit_trail", "Audit trail (CSV)", details=_filter_details)
def export_csv() -> Response:
    """Download the filtered entries as CSV, newest first, streamed in batches.

    The export's entry is committed before the first line is sent: if it cannot be, the
    commit point answers with an error page instead of the file.
    """
    read = _read_filters()
    clinic_id = current_clinic_id()
    filename = f"audit-trail-{clock.today().isoformat()}.csv"
    return Response(
        # Built now, while the signed-in user is at hand: the lines are written after the
        # request's own work is committed.
        stream_with_context(_csv_lines(ops.filtered_entries(clinic_id, read.filters))),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _csv_lines(statement: Select[AuditEntry]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    after: tuple[datetime, int] | None = None
    while True:
        # Each batch ends its own read: on SQLite every transaction holds the write lock,
        # and a long export must not keep the therapists' saves waiting.
        rows = ops.read_entries_after(statement, after, limit=EXPORT_BATCH)
        for row in rows:
            writer.writerow(
                (
                    row.at.isoformat(),
                    spreadsheet_safe(row.user_name),
                    spreadsheet_safe(row.user_email),
                    row.action.value,
                    row.action.label,
                    row.client_id or "",
                    spreadsheet_safe(row.client_name),
                    spreadsheet_safe(row.record_type),
                    row.record_id or "",
                    spreadsheet_safe(row.summary),
                    spreadsheet_safe(row.remote_addr),
                )
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < EXPORT_BATCH:
            return
        after = (rows[-1].at, rows[-1].id)
