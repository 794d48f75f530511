"""Creating, changing, archiving and finding clients."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.exc import StaleDataError

from clinic import clock
from clinic.access import current_clinic_id, get_scoped_or_404, scoped
from clinic.audit.trail import Actor, record_event
from clinic.clock import utcnow
from clinic.domain.client_search import SearchWord, fts5_query, read_search_words
from clinic.domain.errors import Conflict
from clinic.domain.intake import AffectedKnee, KneeDiagnosis, KneePainCause, phone_digits
from clinic.domain.screening import Tier
from clinic.domain.screening_status import DEFAULT_VALID_DAYS
from clinic.extensions import db
from clinic.models import AuditAction, Client, Visit
from clinic.models.client import client_search_table
from clinic.query_args import paginate
from clinic.tallies import active_clients_with_tier, client_tally
from clinic.transaction import operation


@dataclass(frozen=True)
class Intake:
    """The intake details of a client, as typed or as saved."""

    first_name: str
    last_name: str
    date_of_birth: date
    gender: str
    phone: str
    email: str
    address: str
    emergency_contact_name: str
    emergency_contact_phone: str
    referring_clinician: str
    affected_knee: AffectedKnee
    main_complaint: str
    onset_date: date | None
    cause: KneePainCause
    diagnosis: KneeDiagnosis
    diagnosis_detail: str
    medications: str
    allergies: str
    allergic_to_oils_or_nuts: bool
    goals: str
    consent_to_treatment: bool
    consent_date: date | None
    consent_name: str
    consent_to_keep_records: bool


INTAKE_FIELDS = tuple(field.name for field in dataclasses.fields(Intake))


@dataclass(frozen=True)
class FieldDifference:
    """One field where the saved record and the typed form disagree."""

    name: str
    saved: Any
    typed: Any


def get_client_or_404(client_id: int) -> Client:
    """Return a client of the signed-in user's clinic, or answer 404."""
    return get_scoped_or_404(Client, client_id)


def intake_of(client: Client) -> Intake:
    """Return a client's saved intake details."""
    return Intake(**{name: getattr(client, name) for name in INTAKE_FIELDS})


def compare_intakes(saved: Intake, typed: Intake) -> list[FieldDifference]:
    """Return the fields where a typed intake differs from the saved one."""
    return [
        FieldDifference(name, getattr(saved, name), getattr(typed, name))
        for name in INTAKE_FIELDS
        if getattr(saved, name) != getattr(typed, name)
    ]


def _apply_intake(client: Client, intake: Intake) -> None:
    for name in INTAKE_FIELDS:
        setattr(client, name, getattr(intake, name))
    client.phone_digits = phone_digits(intake.phone)


def _record(actor: Actor, action: AuditAction, client: Client, summary: str) -> None:
    record_event(
        actor,
        action,
        record_type="client",
        record_id=client.id,
        client_id=client.id,
        summary=summary,
    )


@operation
def create_client(actor: Actor, intake: Intake) -> Client:
    """Add a client to the actor's clinic from their intake."""
    client = Client(
        clinic_id=actor.clinic_id, created_by_id=actor.user_id, updated_by_id=actor.user_id
    )
    _apply_intake(client, intake)
    db.session.add(client)
    db.session.flush()
    # The entry names the new client, so it is written once the id exists.
    _record(actor, AuditAction.CREATE, client, "Took a new client's intake")
    db.session.flush()
    return client


_EDIT_CONFLICT = "Someone else saved this record while you were editing."


def _check_version(client: Client, expected_version: int | None, message: str) -> None:
    if expected_version != client.version:
        raise Conflict(message, record=client)


@operation
def update_client(
    actor: Actor, client: Client, intake: Intake, expected_version: int | None
) -> Client:
    """Save a changed intake; Conflict if the record changed since the form was loaded."""
    _check_version(client, expected_version, _EDIT_CONFLICT)
    try:
        _save_intake(actor, client, intake)
    except StaleDataError:
        # Someone saved between our read and our write: show their version.
        db.session.refresh(client)
        raise Conflict(_EDIT_CONFLICT, record=client) from None
    return client


@operation
def _save_intake(actor: Actor, client: Client, intake: Intake) -> None:
    _apply_intake(client, intake)
    client.updated_by_id = actor.user_id
    _record(actor, AuditAction.CHANGE, client, "Changed the intake")
    db.session.flush()


_ARCHIVE_CONFLICT = (
    "This client's record changed since you opened the page, so nothing was done. "
    "Look at it again, then try once more."
)


@operation
def archive_client(actor: Actor, client: Client, expected_version: int | None) -> None:
    """Hide a client from the list without deleting anything."""
    _check_version(client, expected_version, _ARCHIVE_CONFLICT)
    if client.archived_at is None:
        client.archived_at = utcnow()
        client.updated_by_id = actor.user_id
        _record(actor, AuditAction.CHANGE, client, "Archived the client")
        db.session.flush()


@operation
def unarchive_client(actor: Actor, client: Client, expected_version: int | None) -> None:
    """Bring an archived client back to the list."""
    _check_version(client, expected_version, _ARCHIVE_CONFLICT)
    if client.archived_at is not None:
        client.archived_at = None
        client.updated_by_id = actor.user_id
        _record(actor, AuditAction.CHANGE, client, "Brought the client back from the archive")
        db.session.flush()


def _contains(column: InstrumentedAttribute[str], text: str) -> ColumnElement[bool]:
    # One bound pattern rather than '%' || text || '%', so PostgreSQL plans the trigram index
    # for its value; "/" escapes the characters LIKE would read as wildcards.
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return column.like(f"%{escaped}%", escape="/")


def _word_condition(word: SearchWord) -> ColumnElement[bool]:
    # The exact test on both databases; on PostgreSQL the trigram index serves it directly.
    condition = _contains(Client.search_text, word.needle)
    if word.phone_digits:
        # The digits are in the search text too: that part is for the index.
        phone = and_(
            _contains(Client.search_text, word.phone_digits),
            _contains(Client.phone_digits, word.phone_digits),
        )
        condition = or_(condition, phone)
    return condition


def _clients_matching(words: list[SearchWord]) -> Select[Client]:
    if not words:
        return scoped(Client)
    conditions = and_(*(_word_condition(word) for word in words))
    if db.session.get_bind().dialect.name != "sqlite":
        return scoped(Client).where(conditions)
    # SQLite cannot index LIKE '%...%': the FTS5 table finds the candidate rows, the conditions
    # then decide. Without statistics SQLite would rather read every client of the clinic
    # through the clinic index and ask FTS5 about each one; "+ 0" keeps it from that index,
    # so the plan starts from the matches (the clinic condition is scoped()'s, written out).
    index = client_search_table
    return (
        select(Client)
        .join(index, index.c.rowid == Client.id)
        .where(
            index.c.search_text.match(fts5_query(words)),
            Client.clinic_id + 0 == current_clinic_id(),
            conditions,
        )
    )


class ScreeningFilter(enum.StrEnum):
    """What the client list can be narrowed to by screening."""

    REFER = "refer"
    AVOID_LOCAL = "avoid_local"
    MODIFY = "modify"
    CLEAR = "clear"
    OUT_OF_DATE = "out_of_date"
    NONE = "none"

    @property
    def label(self) -> str:
        return {
            "refer": "Do not treat: refer",
            "avoid_local": "Avoid an area",
            "modify": "Modify",
            "clear": "Clear",
            "out_of_date": "Screening out of date",
            "none": "Not screened",
        }[self.value]


def _screening_condition(
    wanted: ScreeningFilter, today: date, valid_days: int
) -> ColumnElement[bool]:
    oldest_current = today - timedelta(days=valid_days)
    if wanted is ScreeningFilter.NONE:
        return Client.screening_tier.is_(None)
    if wanted is ScreeningFilter.OUT_OF_DATE:
        return Client.screened_on < oldest_current
    # A tier filter shows the last known tier even when out of date: a refer stays visible.
    return Client.screening_tier == Tier(wanted.value)


def search_clients_query(
    query: str,
    *,
    include_archived: bool,
    screening: ScreeningFilter | None = None,
    today: date | None = None,
    valid_days: int = DEFAULT_VALID_DAYS,
) -> Select[Client]:
    """Return the clinic's clients matching every word of a search, sorted by last name.

    A word of three or more characters is found anywhere in a first name, last name or email,
    or (with three or more digits) in the phone number's digits; a shorter word where a word
    of the names or the email starts. Both through an index (clinic.domain.client_search).
    """
    words = read_search_words(query)
    statement = _clients_matching(words)
    if screening is not None:
        statement = statement.where(
            _screening_condition(screening, today or clock.today(), valid_days)
        )
    if not include_archived:
        statement = statement.where(Client.archived_at.is_(None))
    if not words:
        return statement.order_by(*_SORT_KEYS)
    if db.session.get_bind().dialect.name == "sqlite":
        # Every match is sorted (a few letters can match a thousand clients of a large
        # practice): NOCASE compares as lower() does (SQLite's lower() folds ASCII only),
        # without a function call for each name of each match.
        return statement.order_by(
            Client.last_name.collate("NOCASE"), Client.first_name.collate("NOCASE"), Client.id
        )
    # PostgreSQL would rather walk the name index in order, testing each client against the
    # words, to stop after a page: for a rare word, that reads the whole clinic. With the sort
    # key not the index's own ("|| ''" changes no value), the trigram index finds the matches
    # and only those are sorted.
    return statement.order_by(
        func.lower(Client.last_name).concat(""), func.lower(Client.first_name), Client.id
    )


# The list's order: by last name, then first name, case aside; the id keeps namesakes in turn.
_SORT_KEYS = (func.lower(Client.last_name), func.lower(Client.first_name), Client.id)


@dataclass(frozen=True)
class ClientSearch:
    """One page of a client search, and whether more matched than the page count covers."""

    pagination: Pagination
    more_than_total: bool = False


# How many matches of a search are counted; beyond it the list says "more than" and pages
# through that many.
SEARCH_COUNT_LIMIT = 500


def search_clients(
    query: str,
    *,
    include_archived: bool,
    page: int,
    per_page: int,
    screening: ScreeningFilter | None = None,
    valid_days: int = DEFAULT_VALID_DAYS,
    only_ids: set[int] | None = None,
) -> ClientSearch:
    """Return one page of the clinic's clients matching a search."""
    statement = search_clients_query(
        query, include_archived=include_archived, screening=screening, valid_days=valid_days
    )
    if only_ids is not None:
        statement = statement.where(Client.id.in_(sorted(only_ids)))
        return ClientSearch(paginate(statement, page=page, per_page=per_page))
    if not read_search_words(query):
        total = _kept_count(screening, include_archived=include_archived)
        return ClientSearch(paginate(statement, page=page, per_page=per_page, total=total))
    # A few letters can match thousands of clients in a large practice: the list pages through
    # the first SEARCH_COUNT_LIMIT and says "more than" beyond them.
    last_page = -(-SEARCH_COUNT_LIMIT // per_page)
    matching = statement.with_only_columns(Client.id)
    found = _SearchPage(
        page=min(max(page, 1), last_page), per_page=per_page, error_out=False, count=False,
        matching=matching,
    )  # fmt: skip
    if not found.items and found.page > 1:
        # Past the last page (a link kept from a longer list): the last page instead.
        page = max(-(-min(found.matches, SEARCH_COUNT_LIMIT) // per_page), 1)
        found = _SearchPage(
            page=page, per_page=per_page, error_out=False, count=False, matching=matching
        )
    found.total = min(found.matches, SEARCH_COUNT_LIMIT)
    return ClientSearch(found, more_than_total=found.matches > SEARCH_COUNT_LIMIT)


class _SearchPage(Pagination):
    """One page of a search's clients, and how many matched (up to SEARCH_COUNT_LIMIT + 1).

    The page's ids come from sorting the matches by name (an id and two names for each of
    the perhaps thousands of matches, not the whole row), then the page's clients by id. A
    page that is not full is the last one and says how many matched; only a full page, or
    one past the end, counts the matches, and stops counting past the limit.
    """

    matches: int = 0

    def _query_items(self) -> list[Any]:
        matching: Select[Any] = self._query_args["matching"]
        offset = (self.page - 1) * self.per_page
        page = matching.limit(self.per_page).offset(offset).subquery()
        clients = db.session.scalars(
            select(Client)
            .join(page, page.c.id == Client.id)
            # "+ 0": the page's rows by id, not the clinic's every client through its index.
            .where(Client.clinic_id + 0 == current_clinic_id())
            .order_by(*_SORT_KEYS)
        ).all()
        if 0 < len(clients) < self.per_page:
            self.matches = offset + len(clients)
        elif clients or self.page > 1:
            capped = matching.order_by(None).limit(SEARCH_COUNT_LIMIT + 1).subquery()
            self.matches = db.session.scalar(select(func.count()).select_from(capped)) or 0
        return list(clients)

    def _query_count(self) -> int:
        return self.matches


def _kept_count(screening: ScreeningFilter | None, *, include_archived: bool) -> int | None:
    """Return how many clients the list shows from the kept counts, when they hold it."""
    tally = client_tally(current_clinic_id())
    if screening is None:
        return tally.active_clients + (tally.archived_clients if include_archived else 0)
    if include_archived or screening is ScreeningFilter.OUT_OF_DATE:
        return None  # the counts are of active clients by tier: COUNT instead
    tier = None if screening is ScreeningFilter.NONE else Tier(screening.value)
    return active_clients_with_tier(tally, tier)


def last_visit_dates(client_ids: Sequence[int]) -> dict[int, date]:
    """Return the date of each client's latest visit, for one page of the list."""
    if not client_ids:
        return {}
    rows = db.session.execute(
        select(Visit.client_id, func.max(Visit.visit_on))
        .where(
            # "+ 0" keeps SQLite (which has no statistics) from reading every visit of the
            # clinic through the clinic index instead of these clients' visits.
            Visit.clinic_id + 0 == current_clinic_id(),
            Visit.client_id.in_(client_ids),
            Visit.discarded_at.is_(None),
        )
        .group_by(Visit.client_id)
    ).all()
    return {int(client_id): visit_on for client_id, visit_on in rows}


def count_archived_clients() -> int:
    """Return how many of the clinic's clients are archived."""
    return client_tally(current_clinic_id()).archived_clients
