"""The audit trail: who viewed, created, changed, signed, printed or exported what, and when.

Rows are only ever inserted. The ORM refuses to update or delete them (also through bulk
UPDATE/DELETE statements), and database triggers refuse it underneath (see the migration).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, Delete, ForeignKey, Index, String, Update, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from clinic.clock import utcnow
from clinic.database import UTCDateTime, enum_type
from clinic.extensions import Base


class AuditAction(enum.StrEnum):
    """What somebody did to a record, or to their account."""

    VIEW = "view"
    CREATE = "create"
    CHANGE = "change"
    SIGN = "sign"
    PRINT = "print"
    EXPORT = "export"
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    SECURITY = "security"
    # A signed-in account was refused a page (403) or a record of another clinic (404).
    ACCESS_REFUSED = "access_refused"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    AuditAction.VIEW: "Viewed",
    AuditAction.CREATE: "Created",
    AuditAction.CHANGE: "Changed",
    AuditAction.SIGN: "Signed",
    AuditAction.PRINT: "Printed",
    AuditAction.EXPORT: "Exported",
    AuditAction.SIGN_IN: "Signed in",
    AuditAction.SIGN_IN_FAILED: "Failed sign-in",
    AuditAction.SIGN_OUT: "Signed out",
    AuditAction.SECURITY: "Account security",
    AuditAction.ACCESS_REFUSED: "Access refused",
}


class AuditEntry(Base):
    """One audited event: when, who, from which address, which client and what was done."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_clinic_id_at", "clinic_id", "at"),
        Index("ix_audit_entries_clinic_id_client_id_at", "clinic_id", "client_id", "at"),
        Index("ix_audit_entries_clinic_id_user_id_at", "clinic_id", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The account that acted (for a failed sign-in: the account that was tried).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction))
    # The kind of record ("visit", "screening", "handout"...) and its id, when there is one.
    record_type: Mapped[str] = mapped_column(String(40), default="")
    record_id: Mapped[int | None] = mapped_column(default=None)
    # A short plain description for people reading the trail, e.g. "Visit note PDF".
    summary: Mapped[str] = mapped_column(String(200), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")


class AuditChangeError(RuntimeError):
    """Raised when code tries to change or delete an audit entry."""


def _refuse_change(mapper: Any, connection: Any, target: Any) -> None:
    raise AuditChangeError("Audit entries are never changed or deleted")


event.listen(AuditEntry, "before_update", _refuse_change)
event.listen(AuditEntry, "before_delete", _refuse_change)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    statement = state.statement
    # The statement's table may be an annotated copy of the Table, so compare by name.
    if (
        isinstance(statement, Update | Delete)
        and getattr(statement.table, "name", None) == AuditEntry.__tablename__
    ):
        raise AuditChangeError("Audit entries are never changed or deleted")


# The same refusal inside the database, for tables made by create_all (tests); the migration
# creates identical triggers.
AUDIT_TRIGGERS_SQLITE = [
    f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'audit entries are never changed or deleted'); END"
    for verb in ("UPDATE", "DELETE")
]
AUDIT_TRIGGERS_POSTGRESQL = [
    "CREATE FUNCTION audit_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit entries are never changed or deleted'; END $$",
    "CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse_change()",
    # Row triggers do not fire for TRUNCATE; a statement trigger refuses it too.
    "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_refuse_change()",
]
for _dialect, _statements in (
    ("sqlite", AUDIT_TRIGGERS_SQLITE),
    ("postgresql", AUDIT_TRIGGERS_POSTGRESQL),
):
    for _sql in _statements:
        _ddl = DDL(_sql)  # type: ignore[no-untyped-call]
        event.listen(AuditEntry.__table__, "after_create", _ddl.execute_if(dialect=_dialect))
