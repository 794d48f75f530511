"""Audit entries are only ever added: the ORM, bulk statements, the database and the code say so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import delete, select, text, update

from clinic.audit.trail import Actor, record_event
from clinic.extensions import db
from clinic.models import AuditAction, AuditChangeError, AuditEntry, User

CLINIC_DIR = Path(__file__).resolve().parents[2] / "clinic"
# The one module allowed to name these operations: it defines the refusals.
ALLOWED = CLINIC_DIR / "models" / "audit.py"
FORBIDDEN = [
    re.compile(r"\b(update|delete)\(\s*AuditEntry\b"),
    re.compile(r"query\(\s*AuditEntry\s*\)[\s\S]{0,200}?\.(update|delete)\("),
    re.compile(r"\b(UPDATE|DELETE\s+FROM)\s+\"?audit_entries\b", re.IGNORECASE),
    re.compile(r"\bTRUNCATE\b[^\n]*audit_entries", re.IGNORECASE),
    re.compile(r"session\.delete\(\s*[^)]*(audit|entry|entries)", re.IGNORECASE),
    re.compile(r"(DROP|DISABLE)\s+TRIGGER[^\n]*audit_entries", re.IGNORECASE),
]


@pytest.fixture
def entry_id(app, clinic_world) -> int:
    with app.app_context():
        owner = db.session.get_one(User, clinic_world.a.owner_id)
        entry = record_event(
            Actor.of(owner),
            AuditAction.VIEW,
            record_type="client",
            client_id=clinic_world.a.client_id,
            summary="Client page",
        )
        db.session.flush()
        db.session.commit()
        return entry.id


def summary_of(app, entry_id: int) -> str:
    with app.app_context():
        return db.session.get_one(AuditEntry, entry_id).summary


def test_changing_an_entry_through_the_orm_is_refused(app, entry_id):
    with app.app_context():
        entry = db.session.get_one(AuditEntry, entry_id)
        entry.summary = "Nothing to see"
        with pytest.raises(AuditChangeError):
            db.session.commit()
        db.session.rollback()
    assert summary_of(app, entry_id) == "Client page"


def test_deleting_an_entry_through_the_orm_is_refused(app, entry_id):
    with app.app_context():
        db.session.delete(db.session.get_one(AuditEntry, entry_id))
        with pytest.raises(AuditChangeError):
            db.session.commit()
        db.session.rollback()
    assert summary_of(app, entry_id) == "Client page"


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEntry).values(summary="Nothing to see"),
        update(AuditEntry).where(AuditEntry.id > 0).values(remote_addr=""),
        delete(AuditEntry),
        delete(AuditEntry).where(AuditEntry.action == AuditAction.VIEW),
    ],
    ids=["update", "update-where", "delete", "delete-where"],
)
def test_bulk_statements_through_the_session_are_refused(app, entry_id, statement):
    with app.app_context():
        count = db.session.scalar(select(sa.func.count()).select_from(AuditEntry))
        with pytest.raises(AuditChangeError):
            db.session.execute(statement)
        db.session.rollback()
        assert db.session.scalar(select(sa.func.count()).select_from(AuditEntry)) == count
    assert summary_of(app, entry_id) == "Client page"


def test_the_legacy_query_delete_is_refused(app, entry_id):
    with app.app_context():
        with pytest.raises(AuditChangeError):
            db.session.query(AuditEntry).delete()
        db.session.rollback()
    assert summary_of(app, entry_id) == "Client page"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_entries SET summary = 'Nothing to see'",
        "DELETE FROM audit_entries",
    ],
)
def test_the_database_refuses_raw_sql(app, entry_id, sql, backend):
    with app.app_context():
        # Below the ORM: only the database's triggers stand in the way.
        with pytest.raises(sa.exc.DBAPIError, match="never changed or deleted"):
            db.session.connection().exec_driver_sql(sql)
        db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="never changed or deleted"):
            db.session.execute(text(sql))
        db.session.rollback()
    assert summary_of(app, entry_id) == "Client page"


def _every_table() -> str:
    return ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)


# SQLite has no TRUNCATE statement at all (its "DELETE FROM" is refused above); the
# PostgreSQL run of the suite (CI) executes these.
@pytest.mark.skipif(
    "config.getoption('--backend') != 'postgresql'",
    reason="TRUNCATE exists only on PostgreSQL; SQLite has no such statement",
)
@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE audit_entries",
        "TRUNCATE TABLE ONLY audit_entries RESTART IDENTITY",
        "TRUNCATE audit_entries CASCADE",
        "TRUNCATE clinics CASCADE",
        "EVERY TABLE",
    ],
    ids=["alone", "only-restart-identity", "cascade", "through-a-cascade", "with-other-tables"],
)
def test_postgresql_refuses_truncating_the_audit_trail(app, entry_id, sql):
    """A statement trigger refuses TRUNCATE, which row triggers never see (finding 10)."""
    if sql == "EVERY TABLE":
        sql = f"TRUNCATE {_every_table()} RESTART IDENTITY CASCADE"
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="never changed or deleted"):
            db.session.connection().exec_driver_sql(sql)
        db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="never changed or deleted"):
            db.session.execute(text(sql))
        db.session.rollback()
    assert summary_of(app, entry_id) == "Client page"


def test_adding_entries_still_works(app, entry_id, clinic_world):
    """The refusals above are not a table that refuses everything."""
    with app.app_context():
        count = db.session.scalar(select(sa.func.count()).select_from(AuditEntry))
        record_event(
            Actor(clinic_id=clinic_world.a.clinic_id, user=None),
            AuditAction.EXPORT,
            record_type="client_list",
        )
        db.session.commit()
        assert db.session.scalar(select(sa.func.count()).select_from(AuditEntry)) == count + 1


def offending_lines(source: str) -> list[str]:
    return [match.group(0) for pattern in FORBIDDEN for match in pattern.finditer(source)]


def test_no_code_in_the_app_changes_or_deletes_audit_entries():
    files = sorted(CLINIC_DIR.rglob("*.py"))
    assert len(files) > 20, "the scan found too few files to be looking in the right place"
    found = {
        str(path.relative_to(CLINIC_DIR)): hits
        for path in files
        if path != ALLOWED and (hits := offending_lines(path.read_text(encoding="utf-8")))
    }
    assert not found, f"code that changes or deletes audit entries: {found}"


@pytest.mark.parametrize(
    "source",
    [
        "db.session.execute(update(AuditEntry).values(summary=''))",
        "db.session.execute(delete( AuditEntry ))",
        "db.session.query(AuditEntry).filter_by(id=1).delete()",
        'connection.exec_driver_sql("DELETE FROM audit_entries")',
        "text('update audit_entries set summary = 1')",
        "db.session.delete(entry)",
        "TRUNCATE TABLE audit_entries",
    ],
)
def test_the_scan_would_catch_a_change(source):
    """The scan above is not a test that cannot fail."""
    assert offending_lines(source)


def test_the_scan_leaves_ordinary_code_alone():
    assert not offending_lines(
        "record_event(AuditAction.VIEW, clinic_id=1, user_id=2)\n"
        "db.session.execute(update(Visit).values(version=2))\n"
        "select(AuditEntry).where(AuditEntry.clinic_id == 1)\n"
    )
