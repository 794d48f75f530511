"""Running counts the home page and the client list show, kept by the database itself.

Counting a clinic's clients or this month's visits reads one index entry per row: about
3 ms for 10,000 clients and ten times that for 100,000, on every home page and client list.
These tables hold the counts instead, and triggers on `clients` and `visits` keep them in
step inside the transaction that changes a row, whatever path changes it (an operation, a
retention purge, the seed script, a migration). Reading a count is then one row by key.

- `clinic_tallies`: one row per clinic: active and archived clients, the active clients by
  stored screening tier (none: not screened), and a number that moves whenever the set of
  archived clients may have changed.
- `visit_month_tallies`: one row per clinic and calendar month (its first day): the visits
  not discarded. Visits are never dated in the future (the visit form refuses it), so this
  month's row counts the visits from its first day to today.

Nothing in the app writes these tables. `tests/test_tallies.py` checks that they equal a
real count after every kind of change, on both databases; the migration that made them
filled them from the existing rows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import DDL, ForeignKey, event
from sqlalchemy.orm import Mapped, mapped_column

from clinic.extensions import Base

# The tier columns, by the stored value of Client.screening_tier (None: not screened).
TIER_COLUMNS = {
    "refer": "refer_clients",
    "avoid_local": "avoid_local_clients",
    "modify": "modify_clients",
    "clear": "clear_clients",
    None: "unscreened_clients",
}


class ClinicTally(Base):
    """How many clients a clinic has, active and archived, and active ones by tier."""

    __tablename__ = "clinic_tallies"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    active_clients: Mapped[int] = mapped_column(default=0, server_default="0")
    archived_clients: Mapped[int] = mapped_column(default=0, server_default="0")
    refer_clients: Mapped[int] = mapped_column(default=0, server_default="0")
    avoid_local_clients: Mapped[int] = mapped_column(default=0, server_default="0")
    modify_clients: Mapped[int] = mapped_column(default=0, server_default="0")
    clear_clients: Mapped[int] = mapped_column(default=0, server_default="0")
    unscreened_clients: Mapped[int] = mapped_column(default=0, server_default="0")
    # Goes up whenever a client is archived, brought back, or added or removed archived: what
    # is kept about the archived clients is read again when it has moved.
    archive_changes: Mapped[int] = mapped_column(default=0, server_default="0")


class VisitMonthTally(Base):
    """How many visits (not discarded) a clinic has in one calendar month."""

    __tablename__ = "visit_month_tallies"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    # The first day of the month.
    month: Mapped[date] = mapped_column(primary_key=True)
    visits: Mapped[int] = mapped_column(default=0, server_default="0")


def _client_changes(row: str, sign: str, *, sqlite: bool) -> str:
    """SET clauses adding (sign "+") or taking away ("-") one client row's counts."""

    def flag(condition: str) -> str:
        return f"({condition})" if sqlite else f"({condition})::int"

    active = f"{row}.archived_at IS NULL"
    archived = flag(f"{row}.archived_at IS NOT NULL")
    clauses = [
        f"active_clients = active_clients {sign} {flag(active)}",
        f"archived_clients = archived_clients {sign} {archived}",
        # Always up: a new number whenever the set of archived clients may have changed.
        f"archive_changes = archive_changes + {archived}",
    ]
    for tier, column in TIER_COLUMNS.items():
        if tier is None:
            matches = f"{row}.screening_tier IS NULL"
        elif sqlite:
            matches = f"{row}.screening_tier IS '{tier}'"
        else:
            matches = f"{row}.screening_tier IS NOT DISTINCT FROM '{tier}'"
        clauses.append(f"{column} = {column} {sign} {flag(f'{active} AND {matches}')}")
    return ", ".join(clauses)


def tally_triggers(dialect: str) -> list[str]:
    """Return the statements that create the triggers keeping the tallies, for a dialect."""
    if dialect == "sqlite":
        return _sqlite_triggers()
    if dialect == "postgresql":
        return _postgresql_triggers()
    raise ValueError(f"no tally triggers for {dialect}")


def _sqlite_triggers() -> list[str]:
    def clients(row: str, sign: str) -> str:
        ensure = f"INSERT OR IGNORE INTO clinic_tallies (clinic_id) VALUES ({row}.clinic_id);"  # noqa: S608  # nosec B608
        change = (
            f"UPDATE clinic_tallies SET {_client_changes(row, sign, sqlite=True)} "  # noqa: S608  # nosec B608
            f"WHERE clinic_id = {row}.clinic_id;"
        )
        return f"{ensure} {change}" if sign == "+" else change

    def visits(row: str, sign: str) -> str:
        month = f"date({row}.visit_on, 'start of month')"
        ensure = (
            "INSERT OR IGNORE INTO visit_month_tallies (clinic_id, month) "  # noqa: S608  # nosec B608
            f"VALUES ({row}.clinic_id, {month});"
        )
        change = (
            f"UPDATE visit_month_tallies SET visits = visits {sign} "  # noqa: S608  # nosec B608
            f"({row}.discarded_at IS NULL) "
            f"WHERE clinic_id = {row}.clinic_id AND month = {month};"
        )
        return f"{ensure} {change}" if sign == "+" else change

    client_columns = "clinic_id, archived_at, screening_tier"
    visit_columns = "clinic_id, visit_on, discarded_at"
    return [
        "CREATE TRIGGER clients_tally_insert AFTER INSERT ON clients "
        f"BEGIN {clients('NEW', '+')} END",
        "CREATE TRIGGER clients_tally_delete AFTER DELETE ON clients "
        f"BEGIN {clients('OLD', '-')} END",
        f"CREATE TRIGGER clients_tally_update AFTER UPDATE OF {client_columns} ON clients "
        f"BEGIN {clients('OLD', '-')} {clients('NEW', '+')} END",
        f"CREATE TRIGGER visits_tally_insert AFTER INSERT ON visits BEGIN {visits('NEW', '+')} END",
        f"CREATE TRIGGER visits_tally_delete AFTER DELETE ON visits BEGIN {visits('OLD', '-')} END",
        f"CREATE TRIGGER visits_tally_update AFTER UPDATE OF {visit_columns} ON visits "
        f"BEGIN {visits('OLD', '-')} {visits('NEW', '+')} END",
    ]


def _postgresql_triggers() -> list[str]:
    def clients(row: str, sign: str) -> str:
        ensure = (
            f"INSERT INTO clinic_tallies (clinic_id) VALUES ({row}.clinic_id) "  # noqa: S608  # nosec B608
            "ON CONFLICT (clinic_id) DO NOTHING;"
        )
        change = (
            f"UPDATE clinic_tallies SET {_client_changes(row, sign, sqlite=False)} "  # noqa: S608  # nosec B608
            f"WHERE clinic_id = {row}.clinic_id;"
        )
        return f"{ensure} {change}" if sign == "+" else change

    client_function = (
        "CREATE FUNCTION clients_keep_tally() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {clients('OLD', '-')} END IF; "
        f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {clients('NEW', '+')} END IF; "
        "RETURN NULL; END $$"
    )
    # One UPDATE for both months of a changed visit: rows are locked in index order, so two
    # visits moved between the same months in opposite directions cannot deadlock.
    visit_function = (
        "CREATE FUNCTION visits_keep_tally() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE old_month date; new_month date; BEGIN "
        "IF TG_OP IN ('INSERT', 'UPDATE') THEN "
        "new_month := date_trunc('month', NEW.visit_on)::date; "
        "INSERT INTO visit_month_tallies (clinic_id, month, visits) "
        "VALUES (NEW.clinic_id, new_month, 0) ON CONFLICT (clinic_id, month) DO NOTHING; "
        "END IF; "
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
        "old_month := date_trunc('month', OLD.visit_on)::date; END IF; "
        "UPDATE visit_month_tallies SET visits = visits "
        "- CASE WHEN TG_OP <> 'INSERT' AND clinic_id = OLD.clinic_id AND month = old_month "
        "AND OLD.discarded_at IS NULL THEN 1 ELSE 0 END "
        "+ CASE WHEN TG_OP <> 'DELETE' AND clinic_id = NEW.clinic_id AND month = new_month "
        "AND NEW.discarded_at IS NULL THEN 1 ELSE 0 END "
        "WHERE (TG_OP <> 'INSERT' AND clinic_id = OLD.clinic_id AND month = old_month) "
        "OR (TG_OP <> 'DELETE' AND clinic_id = NEW.clinic_id AND month = new_month); "
        "RETURN NULL; END $$"
    )
    return [
        client_function,
        "CREATE TRIGGER clients_tally AFTER INSERT OR DELETE "
        "OR UPDATE OF clinic_id, archived_at, screening_tier ON clients "
        "FOR EACH ROW EXECUTE FUNCTION clients_keep_tally()",
        visit_function,
        "CREATE TRIGGER visits_tally AFTER INSERT OR DELETE "
        "OR UPDATE OF clinic_id, visit_on, discarded_at ON visits "
        "FOR EACH ROW EXECUTE FUNCTION visits_keep_tally()",
    ]


# For tables made by create_all (tests): once every table exists, as the triggers name
# clients and visits. The migration that made the tallies creates the same triggers.
for _dialect in ("sqlite", "postgresql"):
    for _sql in tally_triggers(_dialect):
        _ddl = DDL(_sql.replace("%", "%%"))  # type: ignore[no-untyped-call]
        event.listen(Base.metadata, "after_create", _ddl.execute_if(dialect=_dialect))
