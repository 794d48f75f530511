"""Tests of the audit trail: recording, the owner's pages, and that entries never change."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import AuditAction, AuditEntry


@dataclass(frozen=True)
class Entry:
    """An audit entry as plain values, readable after the app context is gone."""

    clinic_id: int
    user_id: int | None
    client_id: int | None
    action: AuditAction
    record_type: str
    record_id: int | None
    summary: str
    remote_addr: str


def entries(app: Flask) -> list[Entry]:
    """Return every audit entry, oldest first."""
    with app.app_context():
        return [
            Entry(
                row.clinic_id,
                row.user_id,
                row.client_id,
                row.action,
                row.record_type,
                row.record_id,
                row.summary,
                row.remote_addr,
            )
            for row in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def new_entries(app: Flask, before: list[Entry]) -> list[Entry]:
    """Return the entries written since `before` was read."""
    return entries(app)[len(before) :]
