"""Recording outcomes, gathering a client's progress, the clinic overview and CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, defer, lazyload

from clinic.access import current_clinic_id, scoped
from clinic.audit.trail import Actor, record_event
from clinic.domain.catalogue import Side
from clinic.domain.errors import Problem, RuleViolations
from clinic.domain.outcomes import (
    DatedValue,
    Measure,
    PainChange,
    SeriesSummary,
    average_within_visit_change,
    classify_pain_change,
    score_koos_jr,
    score_lefs,
    summarise_series,
)
from clinic.domain.screening import Tier
from clinic.domain.visits import VisitStatus
from clinic.extensions import db
from clinic.models import (
    AuditAction,
    Client,
    ClinicTally,
    OutcomeAssessment,
    PainLogEntry,
    User,
    Visit,
)
from clinic.tallies import active_clients_with_tier, client_tally, visits_in_month
from clinic.transaction import operation

PAIN_SCORES = range(0, 11)
_SUMMARIES = {
    Measure.KOOS_JR: "Recorded a KOOS JR questionnaire",
    Measure.LEFS: "Recorded a LEFS questionnaire",
}


@operation
def record_pain_log(
    actor: Actor,
    client: Client,
    *,
    logged_on: date,
    knee: Side,
    score: int,
    note: str,
    today: date,
) -> PainLogEntry:
    """Add a score from the client's home pain log."""
    problems: list[Problem] = []
    if logged_on > today:
        problems.append(Problem("logged_on", "A home log entry cannot be dated in the future."))
    elif logged_on < client.date_of_birth:
        problems.append(Problem("logged_on", "This date is before the client was born."))
    if isinstance(score, bool) or score not in PAIN_SCORES:
        problems.append(Problem("score", "Pain is a whole number from 0 to 10."))
    if problems:
        raise RuleViolations(problems)
    entry = PainLogEntry(
        clinic_id=client.clinic_id,
        client_id=client.id,
        logged_on=logged_on,
        knee=knee,
        score=score,
        note=note,
        recorded_by_id=actor.required_user.id,
    )
    db.session.add(entry)
    db.session.flush()
    record_event(
        actor,
        AuditAction.CREATE,
        record_type="pain_log",
        record_id=entry.id,
        client_id=client.id,
        summary="Added a home pain log score",
    )
    db.session.flush()
    return entry


@operation
def record_assessment(
    actor: Actor,
    client: Client,
    *,
    measure: Measure,
    taken_on: date,
    knee: Side | None,
    answers: Mapping[str, int | None],
    today: date,
) -> OutcomeAssessment:
    """Score and store a completed questionnaire; every item must be answered.

    Raises RuleViolations; a problem with an answer names the item's code.
    """
    if taken_on > today:
        raise RuleViolations.one("taken_on", "A questionnaire cannot be dated in the future.")
    if measure is Measure.KOOS_JR:
        if knee is None:
            raise RuleViolations.one("knee", "Choose the knee the answers are about.")
        koos = score_koos_jr(answers)
        raw, score = koos.raw_sum, koos.interval_score
    elif measure is Measure.LEFS:
        raw = score_lefs(answers)
        score, knee = Decimal(raw), None
    else:
        raise RuleViolations.one(None, "Pain scores are recorded with visits or the home log.")
    assessment = OutcomeAssessment(
        clinic_id=client.clinic_id,
        client_id=client.id,
        measure=measure,
        taken_on=taken_on,
        knee=knee,
        answers={str(code): int(value) for code, value in answers.items() if value is not None},
        raw_score=raw,
        score=score,
        recorded_by_id=actor.required_user.id,
    )
    db.session.add(assessment)
    db.session.flush()
    record_event(
        actor,
        AuditAction.CREATE,
        record_type="assessment",
        record_id=assessment.id,
        client_id=client.id,
        summary=_SUMMARIES[measure],
    )
    db.session.flush()
    return assessment


class VisitPain(NamedTuple):
    """Pain before and after one visit, for one knee (a tuple: a long history makes many)."""

    visit_id: int
    on: date
    before: int | None
    after: int | None
    signed: bool


class HomeScore(NamedTuple):
    """One score from the client's home pain log."""

    logged_on: date
    knee: Side
    score: int
    note: str


class PainRow(NamedTuple):
    """One line of a knee's pain table: a visit or a home-log score."""

    on: date
    visit: VisitPain | None
    home: HomeScore | None


@dataclass(frozen=True)
class KneeProgress:
    """Everything about one knee's pain over time."""

    knee: Side
    visits: Sequence[VisitPain]
    home_log: Sequence[HomeScore]
    summary: SeriesSummary | None
    average_within_visit: Decimal | None

    @property
    def rows(self) -> list[PainRow]:
        """Return visits and home-log scores together, in date order."""
        rows = [PainRow(v.on, v, None) for v in self.visits]
        rows += [PainRow(e.logged_on, None, e) for e in self.home_log]
        return sorted(rows, key=lambda row: row.on)


@dataclass(frozen=True)
class Progress:
    """A client's pain per knee and questionnaire scores over time."""

    knees: Sequence[KneeProgress]
    koos_jr: Sequence[OutcomeAssessment]
    koos_jr_summaries: Sequence[tuple[Side, SeriesSummary]]
    lefs: Sequence[OutcomeAssessment]
    lefs_summary: SeriesSummary | None


def load_progress(client: Client) -> Progress:
    """Gather a client's pain and function scores, with summaries against the baseline."""
    visits = db.session.execute(
        select(
            Visit.id,
            Visit.visit_on,
            Visit.status,
            Visit.pain_before_left,
            Visit.pain_after_left,
            Visit.pain_before_right,
            Visit.pain_after_right,
        )
        .where(
            Visit.clinic_id == current_clinic_id(),
            Visit.client_id == client.id,
            Visit.discarded_at.is_(None),
        )
        .order_by(Visit.visit_on, Visit.start_time, Visit.id)
    ).all()
    logs = [
        HomeScore(*row)
        for row in db.session.execute(
            select(PainLogEntry.logged_on, PainLogEntry.knee, PainLogEntry.score, PainLogEntry.note)
            .where(
                PainLogEntry.clinic_id == current_clinic_id(),
                PainLogEntry.client_id == client.id,
            )
            .order_by(PainLogEntry.logged_on, PainLogEntry.id)
        )
    ]
    # The scores, not the answers behind them nor who recorded them: the page shows neither.
    assessments = db.session.scalars(
        scoped(OutcomeAssessment)
        .where(OutcomeAssessment.client_id == client.id)
        .order_by(OutcomeAssessment.taken_on, OutcomeAssessment.id)
        .options(defer(OutcomeAssessment.answers), lazyload(OutcomeAssessment.recorded_by))
    ).all()

    # One pass over the visits for both knees: a long history makes this the page's main loop.
    by_knee: dict[Side, list[VisitPain]] = {Side.LEFT: [], Side.RIGHT: []}
    left, right = by_knee[Side.LEFT], by_knee[Side.RIGHT]
    for visit_id, on, status, before_left, after_left, before_right, after_right in visits:
        signed = status == VisitStatus.SIGNED
        if before_left is not None or after_left is not None:
            left.append(VisitPain(visit_id, on, before_left, after_left, signed))
        if before_right is not None or after_right is not None:
            right.append(VisitPain(visit_id, on, before_right, after_right, signed))
    knees = []
    for knee in Side:
        pains = by_knee[knee]
        knee_logs = [entry for entry in logs if entry.knee is knee]
        if not pains and not knee_logs:
            continue
        # Progress is judged on the pain the client arrives with, visit after visit.
        befores = [DatedValue(p.on, p.before) for p in pains if p.before is not None]
        pairs = [(p.before, p.after) for p in pains if p.before is not None and p.after is not None]
        knees.append(
            KneeProgress(
                knee=knee,
                visits=pains,
                home_log=knee_logs,
                summary=summarise_series(Measure.NPRS, befores),
                average_within_visit=average_within_visit_change(pairs),
            )
        )
    koos = [a for a in assessments if a.measure is Measure.KOOS_JR]
    koos_summaries = []
    for knee in Side:
        values = [DatedValue(a.taken_on, a.score) for a in koos if a.knee is knee]
        summary = summarise_series(Measure.KOOS_JR, values)
        if summary is not None:
            koos_summaries.append((knee, summary))
    lefs = [a for a in assessments if a.measure is Measure.LEFS]
    lefs_summary = summarise_series(
        Measure.LEFS, [DatedValue(a.taken_on, int(a.score)) for a in lefs]
    )
    return Progress(knees, koos, koos_summaries, lefs, lefs_summary)


# Spreadsheet programs run cells that start with these as formulas (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_progress_csv(progress: Progress) -> str:
    """Return the client's pain and questionnaire data as CSV with a header and ISO dates."""
    rows: list[tuple[date, str, str, str, str, str, str]] = []
    for knee in progress.knees:
        for pain in knee.visits:
            for moment, value in (("before", pain.before), ("after", pain.after)):
                if value is not None:
                    source = f"visit {moment}"
                    rows.append((pain.on, "pain", knee.knee.value, str(value), "", source, ""))
        for entry in knee.home_log:
            rows.append(
                (entry.logged_on, "pain", entry.knee.value, str(entry.score), "", "home log",
                 _cell(entry.note))
            )  # fmt: skip
    for assessment in [*progress.koos_jr, *progress.lefs]:
        rows.append(
            (
                assessment.taken_on,
                assessment.measure.value,
                assessment.knee.value if assessment.knee else "",
                f"{assessment.score.normalize():f}",
                str(assessment.raw_score),
                "questionnaire",
                "",
            )
        )
    rows.sort(key=lambda row: row[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["date", "measure", "knee", "value", "raw_score", "source", "note"])
    writer.writerows((day.isoformat(), *rest) for day, *rest in rows)
    return buffer.getvalue()


# --- the clinic overview -------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    """The counts on the home page."""

    active_clients: int
    visits_this_month: int
    unsigned_notes: int
    flagged: Mapping[Tier, int]
    improved: int
    with_pain_history: int

    @property
    def improved_share(self) -> int | None:
        """Whole-number percentage of clients with an important improvement, if any qualify."""
        if not self.with_pain_history:
            return None
        return round(100 * self.improved / self.with_pain_history)


def improved_client_ids() -> set[int]:
    """Return the clinic's active clients whose pain improved in a clinically important way.

    For each knee, the pain before the first visit is compared with the pain before the latest;
    an improvement of at least 2 points and 30 % on either knee counts (Farrar 2001).
    """
    return {
        client_id
        for client_id, improved in _first_and_last_pain(client_tally(current_clinic_id()))
        if improved
    }


# Each app keeps the last answer per clinic, with the newest change to the clinic's visits it
# has seen. Reading every visit of a clinic is the slowest part of the home page at tens of
# thousands of visits; after the first time, only the clients whose visits changed since are
# read again (both through indexes).
PAIN_CACHE_KEY = "clinic.first_and_last_pain"
# Per process: the archived clients of each clinic, with the archive_changes they were read at.
ARCHIVED_CACHE_KEY = "clinic.archived_clients"
# Per process: each clinic's improved and pain-history counts, with what they were counted from.
PAIN_SUMMARY_CACHE_KEY = "clinic.pain_summary"
PAIN_CACHE_MARGIN = timedelta(minutes=5)
PAIN_CACHE_MAX_CHANGED = 500


@dataclass(frozen=True)
class _PainState:
    newest_change: datetime | None
    highest_id: int | None
    by_client: Mapping[int, bool]


def _first_and_last_pain(tally: ClinicTally) -> list[tuple[int, bool]]:
    """Return (client id, improved?) for each active client with pain at two or more visits."""
    clinic_id = current_clinic_id()
    by_client = _pain_by_client(clinic_id)
    archived = _archived_client_ids(clinic_id, tally.archive_changes)
    return [(client_id, improved) for client_id, improved in by_client.items()
            if client_id not in archived]  # fmt: skip


def _archived_client_ids(clinic_id: int, archive_changes: int) -> frozenset[int]:
    """Return the clinic's archived clients, read again only when the set may have changed."""
    cache: dict[int, tuple[int, frozenset[int]]] = current_app.extensions.setdefault(
        ARCHIVED_CACHE_KEY, {}
    )
    kept = cache.get(clinic_id)
    if kept is not None and kept[0] == archive_changes:
        return kept[1]
    archived = frozenset(
        db.session.scalars(
            select(Client.id).where(Client.clinic_id == clinic_id, Client.archived_at.is_not(None))
        )
    )
    cache[clinic_id] = (archive_changes, archived)
    return archived


def _pain_by_client(clinic_id: int) -> Mapping[int, bool]:
    cache: dict[int, _PainState] = current_app.extensions.setdefault(PAIN_CACHE_KEY, {})
    kept = cache.get(clinic_id)
    # Every change to a visit (edited, signed, discarded) moves its updated_at, and a new
    # visit moves the highest id. Both are taken over every clinic, straight from an index: a
    # change elsewhere only means looking again, at nothing of this clinic's.
    state = db.session.execute(
        select(
            select(func.max(Visit.updated_at)).scalar_subquery(),
            select(func.max(Visit.id)).scalar_subquery(),
        )
    ).one()
    newest_change: datetime | None = state[0]
    highest_id: int | None = state[1]
    if kept is not None and (kept.newest_change, kept.highest_id) == (newest_change, highest_id):
        return kept.by_client
    changed = aliased(Visit)
    if kept is None or kept.newest_change is None:
        kept = None
        changed_clients = select(changed.client_id, changed.clinic_id).where(
            changed.clinic_id == clinic_id
        )
    else:
        # A request's transaction may commit a change stamped a little before the newest one
        # seen here; a margin far longer than any request reads those again too. Other
        # clinics' changes may be among them, and are left out here.
        since = kept.newest_change - PAIN_CACHE_MARGIN
        changed_clients = select(changed.client_id, changed.clinic_id).where(
            or_(changed.updated_at >= since, changed.id > (kept.highest_id or 0))
        )
    changed_ids = {
        int(row.client_id)
        for row in db.session.execute(changed_clients)
        if row.clinic_id == clinic_id
    }
    if len(changed_ids) > PAIN_CACHE_MAX_CHANGED:
        kept = None  # reading everything again is cheaper than a list this long
    found = {} if kept is None else {
        client_id: improved
        for client_id, improved in kept.by_client.items()
        if client_id not in changed_ids
    }  # fmt: skip
    found.update(_compute_pain_by_client(clinic_id, None if kept is None else changed_ids))
    cache[clinic_id] = _PainState(newest_change, highest_id, found)
    return found


def _compute_pain_by_client(clinic_id: int, only: set[int] | None) -> dict[int, bool]:
    """Return, for each client (of `only`) with pain at two or more visits, if it improved."""
    found: dict[int, bool] = {}
    for column in (Visit.pain_before_left, Visit.pain_before_right):
        ordered = (Visit.visit_on, Visit.start_time, Visit.id)
        # The clients in `only` are this clinic's; naming them, not the clinic, lets SQLite
        # read just their visits through the client index.
        conditions = [
            Visit.clinic_id == clinic_id if only is None else Visit.client_id.in_(sorted(only)),
            Visit.discarded_at.is_(None),
            column.is_not(None),
        ]
        numbered = (
            select(
                Visit.client_id.label("client_id"),
                column.label("pain"),
                func.row_number()
                .over(partition_by=Visit.client_id, order_by=ordered)
                .label("first"),
                func.row_number()
                .over(partition_by=Visit.client_id, order_by=[o.desc() for o in ordered])
                .label("last"),
            )
            .where(*conditions)
            .subquery()
        )
        rows = db.session.execute(
            select(numbered.c.client_id, numbered.c.pain, numbered.c.first, numbered.c.last).where(
                or_(numbered.c.first == 1, numbered.c.last == 1)
            )
        ).all()
        baseline: dict[int, int] = {}
        latest: dict[int, int] = {}
        several: set[int] = set()
        for row in rows:
            client_id, pain, first, last = int(row[0]), int(row[1]), int(row[2]), int(row[3])
            if first == 1:
                baseline[client_id] = pain
            if last == 1:
                latest[client_id] = pain
            if first != 1 or last != 1:
                several.add(client_id)
        for client_id in several:
            change = classify_pain_change(baseline[client_id], latest[client_id])
            improved = change is PainChange.IMPORTANT_IMPROVEMENT
            found[client_id] = found.get(client_id, False) or improved
    return found


def load_overview(user: User, today: date) -> Overview:
    """Count what the home page shows: clients, visits, unsigned notes, flags, improvement."""
    clinic_id = current_clinic_id()
    # Counts kept by the database (clinic.models.tally): one row each, however many clients.
    tally = client_tally(clinic_id)
    active = tally.active_clients
    visits = visits_in_month(clinic_id, today)
    unsigned_filter = and_(
        Visit.clinic_id == clinic_id,
        Visit.discarded_at.is_(None),
        Visit.status == VisitStatus.DRAFT,
    )
    if not user.is_owner:
        unsigned_filter = and_(unsigned_filter, Visit.therapist_id == user.id)
    unsigned = db.session.scalar(select(func.count(Visit.id)).where(unsigned_filter)) or 0
    flagged = {
        tier: count
        for tier in (Tier.REFER, Tier.AVOID_LOCAL, Tier.MODIFY)
        if (count := active_clients_with_tier(tally, tier))
    }
    improved, with_pain_history = _pain_summary(tally)
    return Overview(
        active_clients=active,
        visits_this_month=visits,
        unsigned_notes=unsigned,
        flagged=flagged,
        improved=improved,
        with_pain_history=with_pain_history,
    )


def _pain_summary(tally: ClinicTally) -> tuple[int, int]:
    """Return how many active clients improved, and how many have pain at two visits or more.

    Counted once per change: while neither the clinic's visits (the mapping _pain_by_client
    keeps) nor its archive have changed, the count kept per process is given again, rather
    than counted over every client on every home page.
    """
    clinic_id = current_clinic_id()
    by_client = _pain_by_client(clinic_id)
    cache: dict[int, tuple[Mapping[int, bool], int, tuple[int, int]]] = (
        current_app.extensions.setdefault(PAIN_SUMMARY_CACHE_KEY, {})
    )
    kept = cache.get(clinic_id)
    if kept is not None and kept[0] is by_client and kept[1] == tally.archive_changes:
        return kept[2]
    archived = _archived_client_ids(clinic_id, tally.archive_changes)
    improved = with_history = 0
    for client_id, better in by_client.items():
        if client_id not in archived:
            with_history += 1
            improved += better
    summary = (improved, with_history)
    cache[clinic_id] = (by_client, tally.archive_changes, summary)
    return summary
