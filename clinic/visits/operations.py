"""Starting, editing, signing and discarding visits; addenda and follow-ups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, time
from decimal import Decimal

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from clinic.access import get_scoped_or_404, scoped
from clinic.database import utcnow
from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.errors import RuleViolation
from clinic.domain.intake import AffectedKnee
from clinic.domain.visits import (
    AdverseResponse,
    EntryPlan,
    EntryProblem,
    Swelling,
    VisitStatus,
    check_entries,
    check_total_minutes,
    is_adverse,
    reasons_visit_cannot_start,
)
from clinic.extensions import db
from clinic.models import (
    Addendum,
    Client,
    Clinic,
    Role,
    TechniqueEntry,
    User,
    Visit,
    VisitFollowUp,
)
from clinic.screening.operations import CurrentScreening, load_current_screening


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


@dataclass(frozen=True)
class EntryDetails:
    """One technique entry as typed."""

    technique: Technique
    target: Target
    side: Side
    pressure: Pressure
    minutes: Decimal
    repetitions: int | None = None
    hold_seconds: int | None = None
    note: str = ""
    override_reason: str = ""

    def plan(self) -> EntryPlan:
        """Return what the screening check needs of this entry."""
        return EntryPlan(
            self.technique,
            self.target,
            self.side,
            self.pressure,
            self.minutes,
            self.override_reason,
        )


class EntriesRefused(Exception):
    """Entries that break the screening or the visit's length; nothing was saved."""

    def __init__(self, problems: Sequence[EntryProblem], total: str | None) -> None:
        super().__init__("Some technique entries cannot be saved.")
        self.problems = list(problems)
        self.total = total


class DraftConflict(Exception):
    """Someone saved the draft after this form was loaded."""

    def __init__(self, visit: Visit) -> None:
        super().__init__("The draft was changed by someone else.")
        self.visit = visit


class VisitLocked(Exception):
    """The visit is signed: it can only get addenda."""


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


def _check(
    current: CurrentScreening, details: VisitDetails, entries: Sequence[EntryDetails]
) -> None:
    problems: list[EntryProblem] = []
    if current.result is not None:
        overridden = {o.finding_code for o in current.overrides_today}
        problems = check_entries(
            current.result, [e.plan() for e in entries], overridden_today=overridden
        )
    total = check_total_minutes([e.plan() for e in entries], details.length_minutes)
    if problems or total:
        raise EntriesRefused(problems, total)


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
        TechniqueEntry(
            clinic_id=visit.clinic_id,
            position=position,
            technique=entry.technique,
            target=entry.target,
            side=entry.side,
            pressure=entry.pressure,
            minutes=entry.minutes,
            repetitions=entry.repetitions,
            hold_seconds=entry.hold_seconds,
            note=entry.note,
            override_reason=entry.override_reason,
        )
        for position, entry in enumerate(entries)
    ]


def find_visit_by_token(token: str) -> Visit | None:
    """Return the visit a "new visit" form already created, if it was saved before."""
    return db.session.scalars(scoped(Visit).where(Visit.creation_token == token)).first()


def start_visit(
    client: Client,
    therapist: User,
    details: VisitDetails,
    entries: Sequence[EntryDetails],
    *,
    creation_token: str,
    today: date,
) -> Visit:
    """Create a draft visit after the screening gate and the entry checks."""
    reasons, current = check_visit_can_start(client, therapist.clinic, today)
    if reasons:
        raise RuleViolation(None, " ".join(reasons))
    if details.visit_on != today:
        raise RuleViolation("visit_on", "A new visit is recorded on the day it happens.")
    _check(current, details, entries)
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
    return visit


def update_visit(
    visit: Visit,
    editor: User,
    details: VisitDetails,
    entries: Sequence[EntryDetails],
    *,
    expected_version: int | None,
    today: date,
) -> Visit:
    """Save changes to a draft, refusing a signed visit or a stale form."""
    if visit.is_signed:
        raise VisitLocked()
    if expected_version != visit.version:
        raise DraftConflict(visit)
    if details.visit_on != visit.visit_on:
        raise RuleViolation(
            "visit_on", "The date of a visit cannot change; discard the draft instead."
        )
    client = db.session.get_one(Client, visit.client_id)
    current = load_current_screening(client, editor.clinic, today)
    _check(current, details, entries)
    _apply(visit, details, entries)
    db.session.flush()
    return visit


def sign_visit(visit: Visit, signer: User, *, expected_version: int | None) -> None:
    """Sign a draft: from now on it is locked and only addenda can follow."""
    if visit.is_signed:
        raise VisitLocked()
    if expected_version != visit.version:
        raise DraftConflict(visit)
    if signer.id != visit.therapist_id:
        raise RuleViolation(None, "Only the therapist who gave the treatment signs the note.")
    missing = [knee for knee, before, after in visit.pain_pairs if before is None or after is None]
    if missing:
        raise RuleViolation(
            None,
            f"Record the pain before and after for the {' and '.join(missing)} knee "
            "before signing.",
        )
    visit.status = VisitStatus.SIGNED
    visit.signed_at = utcnow()
    db.session.flush()


def discard_draft(visit: Visit, user: User) -> None:
    """Throw away a draft; signed notes are never discarded."""
    if visit.is_signed:
        raise VisitLocked()
    if user.id != visit.therapist_id:
        raise RuleViolation(None, "Only the therapist who started the draft can discard it.")
    visit.discarded_at = utcnow()
    db.session.flush()


def add_addendum(visit: Visit, author: User, *, reason: str, text: str) -> Addendum:
    """Add a dated, signed correction under a signed note."""
    if not visit.is_signed:
        raise RuleViolation(None, "A draft can still be edited; addenda are for signed notes.")
    addendum = Addendum(
        clinic_id=visit.clinic_id, visit_id=visit.id, author_id=author.id, reason=reason, text=text
    )
    db.session.add(addendum)
    db.session.flush()
    return addendum


def record_follow_up(visit: Visit, author: User, *, text: str) -> VisitFollowUp:
    """Record what was done about a flagged visit; the flag then stops showing."""
    if not visit.adverse_flag:
        raise RuleViolation(None, "This visit is not flagged, so it needs no follow-up.")
    follow_up = VisitFollowUp(
        clinic_id=visit.clinic_id, visit_id=visit.id, author_id=author.id, text=text
    )
    db.session.add(follow_up)
    db.session.flush()
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


def list_client_visits(client: Client) -> Sequence[Visit]:
    """Return a client's visits, newest first, drafts included, discarded drafts left out."""
    return db.session.scalars(
        scoped(Visit)
        .where(Visit.client_id == client.id, Visit.discarded_at.is_(None))
        .order_by(Visit.visit_on.desc(), Visit.start_time.desc(), Visit.id.desc())
    ).all()


def list_open_flags(client: Client) -> Sequence[Visit]:
    """Return the client's flagged visits that have no follow-up note yet."""
    followed = select(VisitFollowUp.visit_id)
    return db.session.scalars(
        scoped(Visit)
        .where(
            Visit.client_id == client.id,
            Visit.discarded_at.is_(None),
            Visit.adverse_flag.is_(True),
            Visit.id.not_in(followed),
        )
        .order_by(Visit.visit_on.desc())
    ).all()


# The lists of visits show no technique entries: loading them would read thousands of rows
# (in more queries the more visits there are) for nothing.
_WITHOUT_ENTRIES = lazyload(Visit.entries)


def list_unsigned(user: User) -> Sequence[Visit]:
    """Return the unsigned notes a user should finish: their own, or everyone's for the owner."""
    statement = (
        scoped(Visit)
        .where(Visit.status == VisitStatus.DRAFT, Visit.discarded_at.is_(None))
        .options(_WITHOUT_ENTRIES)
    )
    if user.role is not Role.OWNER:
        statement = statement.where(Visit.therapist_id == user.id)
    return db.session.scalars(statement.order_by(Visit.visit_on, Visit.start_time)).all()


def list_visits_between(first: date, last: date) -> Sequence[Visit]:
    """Return the clinic's visits between two days, in order."""
    return db.session.scalars(
        scoped(Visit)
        .where(Visit.discarded_at.is_(None), Visit.visit_on >= first, Visit.visit_on <= last)
        .order_by(Visit.visit_on, Visit.start_time, Visit.id)
        .options(_WITHOUT_ENTRIES)
    ).all()


def last_visit(client: Client) -> Visit | None:
    """Return the client's most recent visit with entries, to start the next one from."""
    for visit in list_client_visits(client):
        if visit.entries:
            return visit
    return None
