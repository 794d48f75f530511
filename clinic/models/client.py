"""A client of the clinic and their intake record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import DDL, ForeignKey, Index, String, Text, column, event, func, table, text
from sqlalchemy.orm import Mapped, mapped_column

from clinic.database import UTCDateTime, enum_type
from clinic.domain.client_search import client_search_text
from clinic.domain.intake import AffectedKnee, KneeDiagnosis, KneePainCause, calculate_age
from clinic.domain.screening import Tier
from clinic.extensions import Base
from clinic.models.mixins import TimestampMixin


class Client(TimestampMixin, Base):
    """A person treated by the clinic, with what they told us at intake."""

    __tablename__ = "clients"
    __table_args__ = (
        Index("ix_clients_clinic_id_name", "clinic_id", "last_name", "first_name"),
        # Covers the home page's counts of active clients and of flagged tiers.
        Index(
            "ix_clients_clinic_id_archived_at_screening_tier",
            "clinic_id",
            "archived_at",
            "screening_tier",
        ),
        # The client list's order: a page is read in order, not sorted from every client.
        Index(
            "ix_clients_clinic_id_sort_name",
            "clinic_id",
            func.lower(text("last_name")),
            func.lower(text("first_name")),
            "id",
        ),
        # Clients whose clearance runs out, looked for on every client list.
        Index("ix_clients_clinic_id_screening_recheck_on", "clinic_id", "screening_recheck_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date]
    gender: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(40))
    # Digits of the phone number only, so "555 0100" finds "(555) 010-0".
    phone_digits: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    # Derived from the names, email and phone digits on every write (the events below), and
    # indexed for search: see clinic.domain.client_search and CLIENT_SEARCH_* below.
    search_text: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(300), default="")
    emergency_contact_name: Mapped[str] = mapped_column(String(120))
    emergency_contact_phone: Mapped[str] = mapped_column(String(40))
    referring_clinician: Mapped[str] = mapped_column(String(200), default="")

    affected_knee: Mapped[AffectedKnee] = mapped_column(enum_type(AffectedKnee))
    main_complaint: Mapped[str] = mapped_column(Text)
    onset_date: Mapped[date | None]
    cause: Mapped[KneePainCause] = mapped_column(enum_type(KneePainCause))
    diagnosis: Mapped[KneeDiagnosis] = mapped_column(enum_type(KneeDiagnosis))
    diagnosis_detail: Mapped[str] = mapped_column(String(200), default="")
    medications: Mapped[str] = mapped_column(Text, default="")
    allergies: Mapped[str] = mapped_column(Text, default="")
    # Massage oils and lotions often contain nut oils; the warning must not depend on free text.
    allergic_to_oils_or_nuts: Mapped[bool] = mapped_column(default=False)
    goals: Mapped[str] = mapped_column(Text, default="")

    consent_to_treatment: Mapped[bool] = mapped_column(default=False)
    consent_date: Mapped[date | None]
    consent_name: Mapped[str] = mapped_column(String(200), default="")
    consent_to_keep_records: Mapped[bool] = mapped_column(default=False)

    # Denormalised from the latest screening and its clearances so the list can filter by
    # tier in SQL; clinic.screening.operations keeps them in step.
    screening_tier: Mapped[Tier | None] = mapped_column(enum_type(Tier), default=None)
    screened_on: Mapped[date | None] = mapped_column(default=None)
    screening_recheck_on: Mapped[date | None] = mapped_column(default=None)

    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def sort_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    @property
    def has_allergy_warning(self) -> bool:
        return self.allergic_to_oils_or_nuts or bool(self.allergies.strip())

    def age_on(self, on: date) -> int:
        """Return the client's age in whole years on a given day."""
        return calculate_age(self.date_of_birth, on)


@event.listens_for(Client, "before_insert")
@event.listens_for(Client, "before_update")
def _keep_search_text(mapper: Any, connection: Any, target: Client) -> None:
    # Defaults are not applied yet when a row is first inserted, hence the `or ""`.
    target.search_text = client_search_text(
        target.first_name or "",
        target.last_name or "",
        target.email or "",
        target.phone_digits or "",
    )


# The search index on each database. The migration that added search_text creates the same
# objects; these events create them for tables made by create_all (tests, benchmarks).
#
# SQLite: an FTS5 table holding no copy of the text (content='clients'), indexed by trigrams
# of the search text, kept in step by triggers. The text is lower case already, so the index
# is case-sensitive: a phrase then matches exactly the rows whose text contains it.
CLIENT_SEARCH_TABLE = "clients_search"
CLIENT_SEARCH_SQLITE = [
    "CREATE VIRTUAL TABLE clients_search USING fts5(search_text, content='clients', "
    "content_rowid='id', tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER clients_search_after_insert AFTER INSERT ON clients BEGIN "
    "INSERT INTO clients_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER clients_search_after_update AFTER UPDATE OF id, search_text ON clients BEGIN "
    "INSERT INTO clients_search(clients_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO clients_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER clients_search_after_delete AFTER DELETE ON clients BEGIN "
    "INSERT INTO clients_search(clients_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
]
# PostgreSQL: a GIN index of the search text's trigrams, which LIKE '%...%' uses.
CLIENT_SEARCH_POSTGRESQL_INDEX = "ix_clients_search_text_trgm"
CLIENT_SEARCH_POSTGRESQL = [
    "CREATE INDEX ix_clients_search_text_trgm ON clients USING gin (search_text gin_trgm_ops)",
]

# Only the columns the search reads: the FTS5 table's rows are the clients' ids.
client_search_table = table(CLIENT_SEARCH_TABLE, column("rowid"), column("search_text"))


def is_client_search_index(name: str | None) -> bool:
    """Tell whether a table or index is part of the search index, made outside the models.

    Alembic's comparison of the models with a database leaves these out (FTS5 adds tables of
    its own beside clients_search).
    """
    return bool(name) and (
        str(name).startswith(CLIENT_SEARCH_TABLE) or name == CLIENT_SEARCH_POSTGRESQL_INDEX
    )


def _listen(when: str, sql: str, dialect: str) -> None:
    ddl = DDL(sql)  # type: ignore[no-untyped-call]
    event.listen(Client.__table__, when, ddl.execute_if(dialect=dialect))


_listen("before_create", "CREATE EXTENSION IF NOT EXISTS pg_trgm", "postgresql")
for _sql in CLIENT_SEARCH_POSTGRESQL:
    _listen("after_create", _sql, "postgresql")
for _sql in CLIENT_SEARCH_SQLITE:
    _listen("after_create", _sql, "sqlite")
# Dropping clients drops its triggers, not the FTS5 table that reads from it.
_listen("after_drop", "DROP TABLE IF EXISTS clients_search", "sqlite")
