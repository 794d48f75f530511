"""Writing audit entries; nothing here or anywhere else changes or deletes one."""

from __future__ import annotations

import re

from clinic.extensions import db
from clinic.models import AuditAction, AuditEntry

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
