"""Starting, editing, signing and discarding visits; addenda and follow-ups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, time, timedelta
from functools import cache
from typing import Any

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import BindParameter, Select, bindparam, func, select, union
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.exc import StaleDataError

from clinic.access import current_clinic_id, get_scoped_or_404, scoped
from clinic.audit.trail import Actor, record_event
from clinic.clock import utcnow
from clinic.domain.catalogue import Side, Target, Technique
from clinic.domain.errors import Conflict, Problem, RuleViolations, row_key
from clinic.domain.intake import AffectedKnee
from clinic.domain.visits import (
    AdverseResponse,
    EntryDetails,
    Swelling,
    VisitStatus,
    check_entries,
    check_entry,
    check_entry_count,
    check_total_minutes,
    entry_allowance,
    is_adverse,
    knee_pain_pairs,
    reasons_note_cannot_change,
    reasons_visit_cannot_start,
)
from clinic.extensions import db
from clinic.models import (
    Addendum,
    AuditAction,
    Client,
    Clinic,
    Role,
    TechniqueEntry,
    User,
    Visit,
    VisitFollowUp,
)
from clinic.query_args import paginate
from clinic.screening.operations import CurrentScreening, load_current_screening
from clinic.tallies import visits_in_month
from clinic.transaction import operation

LOCKED = "This note is signed and locked. Corrections go in an addendum."
CHANGED = (
    "The note changed since you opened it, so nothing was done. Read it again as it is now "
    "(shown here), then try again."
)


@dataclass(frozen=True)
class VisitDetails:
    """Everything on a visit note except its technique entries."""

    visit_on: date
    start_time: time
    length_minutes: int
    knees: AffectedKnee
    pain_before_left: int | None
    pain_after_left: int | None
    pain_before_right: int | None
    pain_after_right: int | None
    subjective: str
    swelling: Swelling | None
    flexion_left_degrees: int | None
    flexion_right_degrees: int | None
    palpation: str
    assessment: str
    plan: str
    next_visit_on: date | None
    adverse_response: AdverseResponse
    adverse_note: str


DETAIL_FIELDS = tuple(field.name for field in fields(VisitDetails))


def get_visit_or_404(client: Client, visit_id: int) -> Visit:
    """Return one of the client's visits in the signed-in user's clinic, or answer 404."""
    visit = get_scoped_or_404(Visit, visit_id)
    if visit.client_id != client.id or visit.discarded_at is not None:
        abort(404)
    return visit


def check_visit_can_start(
    client: Client, clinic: Clinic, today: date
) -> tuple[list[str], CurrentScreening]:
    """Return why a visit cannot start today (empty when it can) and the screening in force."""
    current = load_current_screening(client, clinic, today)
    return reasons_visit_cannot_start(current.status, current.result), current


def load_visit_day_screening(visit: Visit, clinic: Clinic) -> CurrentScreening:
    """Return the screening in force on the visit's own day, with that day's overrides."""
    return load_current_screening(visit.client, clinic, visit.visit_on)


def _check_gate(current: CurrentScreening, visit_on: date, today: date) -> None:
    reasons = reasons_note_cannot_change(
        current.status, current.result, visit_on=visit_on, today=today
    )
    if reasons:
        raise RuleViolations([Problem(None, reason) for reason in reasons])


def _overridden(current: CurrentScreening) -> set[str]:
    return {o.finding_code for o in current.overrides_today}


def _check_entries(
    current: CurrentScreening, length_minutes: int, entries: Sequence[EntryDetails]
) -> None:
    problems: list[Problem] = []
    if (too_many := check_entry_count(len(entries))) is not None:
        problems.append(too_many)
    if current.result is not None:
        problems += check_entries(current.result, entries, overridden=_overridden(current))
    if (total := check_total_minutes(entries, length_minutes)) is not None:
        problems.append(total)
    if problems:
        raise RuleViolations(problems)


def _apply(visit: Visit, details: VisitDetails, entries: Sequence[EntryDetails]) -> None:
    for name in DETAIL_FIELDS:
        setattr(visit, name, getattr(details, name))
    # Pain for a knee that was not treated would only confuse the record.
    if details.knees is AffectedKnee.LEFT:
        visit.pain_before_right = visit.pain_after_right = visit.flexion_right_degrees = None
    if details.knees is AffectedKnee.RIGHT:
        visit.pain_before_left = visit.pain_after_left = visit.flexion_left_degrees = None
    visit.adverse_flag = is_adverse(
        [(before, after) for _, before, after in visit.pain_pairs], details.adverse_response
    )
    visit.entries = [
        TechniqueEntry.from_details(entry, clinic_id=visit.clinic_id, position=position)
        for position, entry in enumerate(entries)
    ]
    visit.mark_changed()


def _check_version(visit: Visit, expected_version: int | None) -> None:
    if visit.is_signed:
        raise Conflict(LOCKED, visit)
    if expected_version != visit.version:
        raise Conflict(CHANGED, visit)


def _flush_visit(visit: Visit) -> None:
    """Write the visit; someone else's change committed since it was read is a conflict."""
    try:
        db.session.flush()
    except StaleDataError as error:
        raise Conflict(CHANGED, visit) from error


def _record(actor: Actor, action: AuditAction, visit: Visit, summary: str) -> None:
    record_event(
        actor,
        action,
        record_type="visit",
        record_id=visit.id,
        client_id=visit.client_id,
        summary=summary,
    )
    db.session.flush()


def find_visit_by_token(token: str) -> Visit | None:
    """Return the visit a "new visit" form already created, if it was saved before."""
    return db.session.scalars(scoped(Visit).where(Visit.creation_token == token)).first()


@operation
def start_visit(
    actor: Actor,
    client: Client,
    details: VisitDetails,
    entries: Sequence[EntryDetails],
    *,
    creation_token: str,
    today: date,
) -> Visit:
    """Create a draft visit after the screening gate and the entry checks."""
    therapist = actor.required_user
    current = load_current_screening(client, therapist.clinic, today)
    _check_gate(current, today, today)
    if details.visit_on != today:
        raise RuleViolations.one("visit_on", "A new visit is recorded on the day it happens.")
    _check_entries(current, details.length_minutes, entries)
    visit = Visit(
        clinic_id=client.clinic_id,
        client_id=client.id,
        therapist_id=therapist.id,
        screening_id=current.screening.id if current.screening else None,
        creation_token=creation_token,
    )
    _apply(visit, details, entries)
    db.session.add(visit)
    db.session.flush()
    _record(actor, AuditAction.CREATE, visit, "Started a visit note")
    return visit


@operation
def update_visit(
    actor: Actor,
    visit: Visit,
    details: VisitDetails,
    entries: Sequence[EntryDetails],
    *,
    expected_version: int | None,
    today: date,
) -> Visit:
    """Save changes to a draft, checked against the screening of the visit's own day.

    Refuses a signed note or a form loaded from an older version of it (Conflict).
    """
    _check_version(visit, expected_version)
    if details.visit_on != visit.visit_on:
        raise RuleViolations.one(
            "visit_on", "The date of a visit cannot change; discard the draft instead."
        )
    current = load_visit_day_screening(visit, actor.required_user.clinic)
    _check_gate(current, visit.visit_on, today)
    _check_entries(current, details.length_minutes, entries)
    _apply(visit, details, entries)
    _flush_visit(visit)
    _record(actor, AuditAction.CHANGE, visit, "Saved the draft visit note")
    return visit


def reasons_note_cannot_be_signed(
    visit: Visit, clinic: Clinic, today: date, current: CurrentScreening | None = None
) -> list[Problem]:
    """List what stops the draft being signed now, each saying what to do about it.

    The screening gate of the visit's own day holds for signing as for saving, and every
    entry is checked again against the screening and the overrides of that day.
    """
    problems = [
        Problem(None, f"Record the pain before and after for the {knee} knee before signing.")
        for knee, before, after in visit.pain_pairs
        if before is None or after is None
    ]
    if current is None:
        current = load_visit_day_screening(visit, clinic)
    gate = reasons_note_cannot_change(
        current.status, current.result, visit_on=visit.visit_on, today=today
    )
    problems += [Problem(None, reason) for reason in gate]
    entries = [entry.details() for entry in visit.entries]
    # Behind a closed gate every entry would be refused for the same reason: say it once.
    if current.result is not None and not gate:
        for index, entry in enumerate(entries):
            for problem in check_entry(current.result, entry, overridden=_overridden(current)):
                fix = (
                    "Edit the draft to change the entry or write the reason for it."
                    if problem.field == "override_reason"
                    else "Edit the draft to change the entry."
                )
                problems.append(
                    Problem(
                        row_key("entries", index, problem.field or "technique"),
                        f"Technique {index + 1} ({entry.label}): {problem.message} {fix}",
                    )
                )
    if (total := check_total_minutes(entries, visit.length_minutes)) is not None:
        problems.append(Problem(None, f"{total.message} Edit the draft first."))
    return problems


@dataclass(frozen=True)
class SigningCheck:
    """What signing a draft now would lock, and what stops it (nothing, when it can be)."""

    problems: Sequence[Problem]
    limits_in_force: dict[str, Any]


def check_signing(signer: User, visit: Visit, today: date) -> SigningCheck:
    """Check a draft as signing it now would, changing nothing: the page that asks "sign and
    lock?" shows the same refusals, and the same limits, as the signature then keeps."""
    current = load_visit_day_screening(visit, signer.clinic)
    problems: list[Problem] = []
    if signer.id != visit.therapist_id:
        problems.append(Problem(None, "Only the therapist who gave the treatment signs the note."))
    else:
        problems += reasons_note_cannot_be_signed(visit, signer.clinic, today, current)
    entries = [entry.details() for entry in visit.entries]
    return SigningCheck(problems, limits_in_force(current, entries))


@operation
def sign_visit(actor: Actor, visit: Visit, *, expected_version: int | None, today: date) -> None:
    """Sign a draft that still passes every check: from now on only addenda can follow."""
    _check_version(visit, expected_version)
    check = check_signing(actor.required_user, visit, today)
    if check.problems:
        raise RuleViolations(check.problems)
    visit.limits_in_force = check.limits_in_force
    visit.status = VisitStatus.SIGNED
    visit.signed_at = utcnow()
    _flush_visit(visit)
    _record(actor, AuditAction.SIGN, visit, "Signed the visit note")


def limits_in_force(current: CurrentScreening, entries: Sequence[EntryDetails]) -> dict[str, Any]:
    """Return the limits a note was signed under, as plain JSON-able text (DOMAIN.md 8.5).

    Kept on the visit at signing, so the signed note reads the same after the screening,
    its clearances or its overrides change.
    """
    result = current.result
    screening = current.screening
    findings = result.findings if result is not None else ()
    overrides = {o.finding_code: o.reason for o in current.overrides_today}
    entry_reasons = [
        (f"Technique {index + 1} ({entry.label})", entry.override_reason.strip())
        for index, entry in enumerate(entries)
        if entry.override_reason.strip()
    ]
    return {
        "version": 1,
        "screening_taken_on": screening.taken_on.isoformat() if screening is not None else None,
        "findings": [
            {
                "label": f.label,
                "tier": f.tier.label,
                "area": f.area_label,
                "cap": f.max_pressure.label if f.max_pressure is not None else "",
                "cleared": f.cleared,
                "rule": f.reason,
            }
            for f in findings
        ],
        "caps": [
            f"{f.max_pressure.label} at most: {f.area_phrase} ({f.label.lower()})"
            for f in (result.active_findings if result is not None else ())
            if f.max_pressure is not None
        ],
        "clearances": [
            {
                "finding": _label_of(result, c.finding_code),
                "given_by": c.given_by,
                "given_on": c.given_on.isoformat(),
                "expires_on": c.expires_on.isoformat() if c.expires_on else None,
            }
            for c in current.clearances
        ],
        "overrides": [
            {"finding": _label_of(result, code), "reason": reason}
            for code, reason in overrides.items()
        ]
        + [{"finding": name, "reason": reason} for name, reason in entry_reasons],
        "entries": [
            entry_allowance(result, entry, overrides=overrides)
            if result is not None
            else "No screening result"
            for entry in entries
        ],
    }


def _label_of(result: Any, code: str) -> str:
    finding = result.get_finding(code) if result is not None else None
    return finding.label if finding is not None else code


@operation
def discard_draft(actor: Actor, visit: Visit, *, expected_version: int | None) -> None:
    """Throw away a draft, as last seen by its author; signed notes are never discarded."""
    _check_version(visit, expected_version)
    if actor.user_id != visit.therapist_id:
        raise RuleViolations.one(None, "Only the therapist who started the draft can discard it.")
    visit.discarded_at = utcnow()
    _flush_visit(visit)
    _record(actor, AuditAction.CHANGE, visit, "Discarded the draft visit note")


@operation
def add_addendum(actor: Actor, visit: Visit, *, reason: str, text: str) -> Addendum:
    """Add a dated, signed correction under a signed note."""
    if not visit.is_signed:
        raise Conflict("A draft can still be edited; addenda are for signed notes.", visit)
    addendum = Addendum(
        clinic_id=visit.clinic_id,
        visit_id=visit.id,
        author_id=actor.required_user.id,
        reason=reason,
        text=text,
    )
    db.session.add(addendum)
    db.session.flush()
    _record(actor, AuditAction.CREATE, visit, "Added an addendum to the signed note")
    return addendum


@operation
def record_follow_up(actor: Actor, visit: Visit, *, text: str) -> VisitFollowUp:
    """Record what was done about a flagged visit; the flag then stops showing."""
    if not visit.adverse_flag:
        raise RuleViolations.one(None, "This visit is not flagged, so it needs no follow-up.")
    follow_up = VisitFollowUp(
        clinic_id=visit.clinic_id, visit_id=visit.id, author_id=actor.required_user.id, text=text
    )
    db.session.add(follow_up)
    db.session.flush()
    _record(actor, AuditAction.CREATE, visit, "Recorded the follow-up of a flagged visit")
    return follow_up


def list_addenda(visit: Visit) -> Sequence[Addendum]:
    """Return a visit's addenda, oldest first."""
    return db.session.scalars(
        scoped(Addendum)
        .where(Addendum.visit_id == visit.id)
        .order_by(Addendum.created_at, Addendum.id)
    ).all()


def list_follow_ups(visit: Visit) -> Sequence[VisitFollowUp]:
    """Return a visit's follow-up notes, oldest first."""
    return db.session.scalars(
        scoped(VisitFollowUp)
        .where(VisitFollowUp.visit_id == visit.id)
        .order_by(VisitFollowUp.created_at, VisitFollowUp.id)
    ).all()


# The client page shows the latest visits; the rest are on the client's visit list, by page.
RECENT_VISITS = 10


_CLIENT_VISITS_ORDER = (Visit.visit_on.desc(), Visit.start_time.desc(), Visit.id.desc())


# The lists of visits show no technique entries: loading them would read thousands of rows
# (in more queries the more visits there are) for nothing.
_WITHOUT_ENTRIES = lazyload(Visit.entries)


# One client's visits: the client is already loaded, and each visit takes it from the session
# rather than from a join that repeats the client's row on every visit.
_CLIENT_ALREADY_LOADED = lazyload(Visit.client)


def _client_visits(client: Client) -> Select[Visit]:
    return (
        scoped(Visit)
        .where(Visit.client_id == client.id, Visit.discarded_at.is_(None))
        .order_by(*_CLIENT_VISITS_ORDER)
        .options(_CLIENT_ALREADY_LOADED)
    )


@dataclass(frozen=True)
class ListedTechnique:
    """One technique as a visit list names it: what, on which side, where."""

    technique: Technique
    side: Side
    target: Target


@dataclass(frozen=True)
class ListedVisit:
    """A visit as a client's visit list shows it, read as plain values rather than as records:
    a list shows many, and building each visit and its entries as records cost more than the
    rest of the page."""

    id: int
    visit_on: date
    therapist_name: str
    status: VisitStatus
    adverse_flag: bool
    adverse_response: AdverseResponse
    # Whether a follow-up note answers the visit's flag (a flag without one stays open).
    followed_up: bool
    pain_pairs: tuple[tuple[str, int | None, int | None], ...]
    techniques: tuple[ListedTechnique, ...]

    @property
    def flag_open(self) -> bool:
        """Whether the visit was flagged and nobody has recorded what was done yet."""
        return self.adverse_flag and not self.followed_up


# A correlated EXISTS: the follow-ups of each visit read, not the clinic's all.
_FOLLOWED_UP = select(VisitFollowUp.id).where(VisitFollowUp.visit_id == Visit.id).exists()


_ListedSelect = Select[*tuple[Any, ...]]

# The columns a visit list shows, and the techniques of its visits: built once, with their
# values as parameters, so SQLAlchemy works out each statement's cache key once, not per page.
_LISTED_COLUMNS: _ListedSelect = (
    select(
        Visit.id,
        Visit.visit_on,
        Visit.knees,
        Visit.pain_before_left,
        Visit.pain_after_left,
        Visit.pain_before_right,
        Visit.pain_after_right,
        Visit.status,
        Visit.adverse_flag,
        Visit.adverse_response,
        _FOLLOWED_UP.label("followed_up"),
        User.full_name,
    )
    .join(User, User.id == Visit.therapist_id)
    # "+ 0": the visits by id, not every visit of the clinic through its index (SQLite).
    .where(Visit.clinic_id + 0 == bindparam("clinic_id"))
    .order_by(*_CLIENT_VISITS_ORDER)
)
_LISTED_TECHNIQUES = (
    select(
        TechniqueEntry.visit_id,
        TechniqueEntry.technique,
        TechniqueEntry.side,
        TechniqueEntry.target,
    )
    .where(TechniqueEntry.visit_id.in_(bindparam("visit_ids", expanding=True)))
    .order_by(TechniqueEntry.visit_id, TechniqueEntry.position)
)


_LISTED_BY_ID = _LISTED_COLUMNS.where(Visit.id.in_(bindparam("visit_ids", expanding=True)))


def _listed_visits(statement: _ListedSelect, values: Mapping[str, Any]) -> list[ListedVisit]:
    """Return the visits a statement built on _LISTED_COLUMNS gives, in a client's list order,
    with their techniques; values are its parameters, the clinic's id added here."""
    rows = db.session.execute(statement, {**values, "clinic_id": current_clinic_id()}).all()
    techniques: dict[int, list[ListedTechnique]] = {row.id: [] for row in rows}
    if rows:
        for visit_id, technique, side, target in db.session.execute(
            _LISTED_TECHNIQUES, {"visit_ids": list(techniques)}
        ):
            techniques[visit_id].append(ListedTechnique(technique, side, target))
    return [
        ListedVisit(
            id=row.id,
            visit_on=row.visit_on,
            therapist_name=row.full_name,
            status=row.status,
            adverse_flag=row.adverse_flag,
            adverse_response=row.adverse_response,
            followed_up=bool(row.followed_up),
            pain_pairs=knee_pain_pairs(
                row.knees,
                row.pain_before_left,
                row.pain_after_left,
                row.pain_before_right,
                row.pain_after_right,
            ),
            techniques=tuple(techniques[row.id]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class RecentVisits:
    """The visits the client page lists: the latest, and older drafts still to sign."""

    latest: Sequence[ListedVisit]
    older_drafts: Sequence[ListedVisit]
    # Flagged visits nobody has followed up yet, newest first, however far back.
    open_flags: Sequence[ListedVisit]


@cache
def _recent_visits(limit: int) -> _ListedSelect:
    """A client's latest visits, drafts and open flags (see list_recent_visits)."""
    client_id: BindParameter[int] = bindparam("client_id")
    latest = (
        select(Visit.id)
        .where(
            Visit.clinic_id == bindparam("clinic_id"),
            Visit.client_id == client_id,
            Visit.discarded_at.is_(None),
        )
        .order_by(*_CLIENT_VISITS_ORDER)
        .limit(limit)
        .subquery()
    )
    drafts = select(Visit.id).where(
        Visit.client_id == client_id,
        Visit.status == VisitStatus.DRAFT,
        Visit.discarded_at.is_(None),
    )
    open_flags = select(Visit.id).where(
        Visit.client_id == client_id,
        Visit.discarded_at.is_(None),
        Visit.adverse_flag.is_(True),
        ~_FOLLOWED_UP,
    )
    return _LISTED_COLUMNS.where(Visit.id.in_(union(select(latest.c.id), drafts, open_flags)))


def list_recent_visits(client: Client, limit: int = RECENT_VISITS) -> RecentVisits:
    """Return a client's latest visits, newest first, drafts included, discarded ones left out,
    the unsigned drafts older than those (a note left unsigned must stay in sight on the client
    page, however far back it is) and the flagged visits not followed up yet."""
    # Bounded by what the page shows, not by the client's history: the latest visits (the
    # limit in the SQL), the client's drafts (through their index) and open flags, in the
    # page's order. The first `limit` rows are the latest; any after them are older drafts or
    # flags.
    rows = _listed_visits(_recent_visits(limit), {"client_id": client.id})
    return RecentVisits(
        latest=rows[:limit],
        older_drafts=[row for row in rows[limit:] if row.status is VisitStatus.DRAFT],
        open_flags=[row for row in rows if row.flag_open],
    )


def count_client_visits(client: Client) -> int:
    """Return how many visits a client has, drafts included, discarded drafts left out."""
    return (
        db.session.scalar(
            select(func.count(Visit.id)).where(
                # "+ 0": through the client's visits, not every visit of the clinic (SQLite
                # has no statistics to tell which index is the narrower).
                Visit.clinic_id + 0 == client.clinic_id,
                Visit.client_id == client.id,
                Visit.discarded_at.is_(None),
            )
        )
        or 0
    )


def page_client_visits(client: Client, *, page: int, per_page: int) -> Pagination:
    """Return one page of a client's visits, newest first, drafts included."""
    pagination = paginate(
        _client_visits(client).with_only_columns(Visit.id),
        page=page,
        per_page=per_page,
        total=count_client_visits(client),
    )
    # The page's ids, then those visits as the list shows them.
    pagination.items = _listed_visits(_LISTED_BY_ID, {"visit_ids": list(pagination.items)})
    return pagination


def page_unsigned(user: User, *, page: int, per_page: int) -> Pagination:
    """Return a page of the unsigned notes a user should finish, oldest first: their own, or
    everyone's for the owner."""
    statement = (
        scoped(Visit)
        .where(Visit.status == VisitStatus.DRAFT, Visit.discarded_at.is_(None))
        .options(_WITHOUT_ENTRIES)
    )
    if user.role is not Role.OWNER:
        statement = statement.where(Visit.therapist_id == user.id)
    # The count reads the drafts alone, through their index: as many as there are to sign.
    return paginate(
        statement.order_by(Visit.visit_on, Visit.start_time, Visit.id), page=page, per_page=per_page
    )


def page_visits_in_month(day: date, *, page: int, per_page: int) -> Pagination:
    """Return a page of the clinic's visits in the calendar month of a day, in order."""
    first = day.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    statement = (
        scoped(Visit)
        .where(Visit.discarded_at.is_(None), Visit.visit_on >= first, Visit.visit_on < after)
        .order_by(Visit.visit_on, Visit.start_time, Visit.id)
        .options(_WITHOUT_ENTRIES)
    )
    # The month's count is kept by the database (clinic/tallies.py), as the home page shows it.
    total = visits_in_month(current_clinic_id(), first)
    return paginate(statement, page=page, per_page=per_page, total=total)


def last_visit(client: Client) -> Visit | None:
    """Return the client's most recent visit with entries, to start the next one from."""
    with_entries = select(TechniqueEntry.id).where(TechniqueEntry.visit_id == Visit.id).exists()
    return db.session.scalars(_client_visits(client).where(with_entries).limit(1)).first()
