"""Recording screenings, confirmations, clearances and overrides, and reading the current state.

The screening in force on a day is the latest one taken on or before it, with every referral
of earlier screenings that is still open added as an active finding (find_open_referrals): a
later screening that no longer reports a sign does not lift a referral. A clearance lifts
every finding with its code found on or before the day it was given, whichever screening it
is filed under.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort
from sqlalchemy import BindParameter, Select, bindparam, or_, select, update
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from clinic.access import current_clinic_id, get_scoped_or_404, scoped
from clinic.audit.trail import Actor, record_event
from clinic.domain.errors import RuleViolations
from clinic.domain.intake import calculate_age
from clinic.domain.screening import (
    Answer,
    Finding,
    LiftedBy,
    OpenReferral,
    PastResult,
    ScreeningResult,
    Tier,
    apply_clearances,
    current_questionnaire,
    dump_answers,
    dump_result,
    evaluate_screening,
    find_open_referrals,
    is_written_reason,
    load_result,
    with_open_referrals,
)
from clinic.domain.screening_status import ScreeningStatus, assess_screening_status
from clinic.extensions import db
from clinic.models import (
    AuditAction,
    Clearance,
    Client,
    Clinic,
    FindingOverride,
    Screening,
    ScreeningConfirmation,
)
from clinic.transaction import operation


@dataclass(frozen=True)
class StillOpen:
    """A referral of an earlier screening still in force, with the screening that found it."""

    finding: Finding
    screening: Screening

    @property
    def needs_clearance(self) -> bool:
        """Whether a recorded clearance ends it (else a screening on a later day does)."""
        return self.finding.lifted_by is LiftedBy.MEDICAL_CLEARANCE


@dataclass(frozen=True)
class CurrentScreening:
    """The screening in force on one day: clearances applied, open referrals added, status known.

    result holds the screening's own findings and, as active refer findings, the referrals
    of earlier screenings still open on that day (open_referrals says where each was found).
    """

    screening: Screening | None
    result: ScreeningResult | None
    status: ScreeningStatus
    clearances: Sequence[Clearance]
    overrides_today: Sequence[FindingOverride]
    last_confirmation: ScreeningConfirmation | None
    open_referrals: tuple[StillOpen, ...] = ()

    @property
    def tier(self) -> Tier | None:
        """The tier that limits treatment now, or None without a screening."""
        return self.result.effective_tier if self.result is not None else None

    @property
    def refer_findings(self) -> tuple[Finding, ...]:
        """Active findings that rule out treatment, earlier screenings' open referrals included."""
        return self.findings_of(Tier.REFER)

    @property
    def avoid_findings(self) -> tuple[Finding, ...]:
        """Active findings that put an area off limits."""
        return self.findings_of(Tier.AVOID_LOCAL)

    @property
    def modify_findings(self) -> tuple[Finding, ...]:
        """Active findings that change how to treat."""
        return self.findings_of(Tier.MODIFY)

    def findings_of(self, tier: Tier) -> tuple[Finding, ...]:
        """Return the active findings of one tier."""
        if self.result is None:
            return ()
        return tuple(f for f in self.result.active_findings if f.tier is tier)

    def clearance_for(self, code: str) -> Clearance | None:
        """Return the clearance in force for a finding, if any."""
        return next((c for c in self.clearances if c.finding_code == code), None)

    def override_for(self, code: str) -> FindingOverride | None:
        """Return today's override of an avoided area, if any."""
        return next((o for o in self.overrides_today if o.finding_code == code), None)

    def open_referral_for(self, code: str) -> StillOpen | None:
        """Return the open referral of an earlier screening with that code, if there is one."""
        return next((r for r in self.open_referrals if r.finding.code == code), None)

    def clearance_screening_for(self, code: str) -> Screening | None:
        """Return the screening a clearance for that finding is recorded against."""
        still_open = self.open_referral_for(code)
        return still_open.screening if still_open is not None else self.screening


@dataclass(frozen=True)
class _InForce:
    """What the screening in force on a day comes to, before its currency is judged."""

    screening: Screening
    result: ScreeningResult
    open_referrals: tuple[StillOpen, ...]
    # Every clearance that lifts a finding counted here (for the banner and the recheck day).
    own_clearances: tuple[Clearance, ...]
    all_clearances: tuple[Clearance, ...]


def get_screening_or_404(client: Client, screening_id: int) -> Screening:
    """Return one of a client's screenings in the signed-in user's clinic, or answer 404."""
    screening = get_scoped_or_404(Screening, screening_id)
    if screening.client_id != client.id:
        abort(404)
    return screening


def latest_screening(client: Client, on: date | None = None) -> Screening | None:
    """Return the client's most recent screening, or the latest taken on or before a day."""
    query = scoped(Screening).where(Screening.client_id == client.id)
    if on is not None:
        query = query.where(Screening.taken_on <= on)
    return db.session.scalars(
        query.order_by(Screening.taken_on.desc(), Screening.id.desc()).limit(1)
    ).first()


def list_screenings(client: Client) -> Sequence[Screening]:
    """Return every screening of a client, newest first."""
    return db.session.scalars(
        scoped(Screening)
        .where(Screening.client_id == client.id)
        .order_by(Screening.taken_on.desc(), Screening.id.desc())
    ).all()


def list_confirmations(client: Client) -> Sequence[ScreeningConfirmation]:
    """Return every "no changes" confirmation of a client, newest first."""
    return db.session.scalars(
        scoped(ScreeningConfirmation)
        .where(ScreeningConfirmation.client_id == client.id)
        .order_by(ScreeningConfirmation.confirmed_on.desc(), ScreeningConfirmation.id.desc())
    ).all()


def list_clearances(screening: Screening) -> Sequence[Clearance]:
    """Return every clearance recorded against a screening, oldest first."""
    return db.session.scalars(
        scoped(Clearance)
        .where(Clearance.screening_id == screening.id)
        .order_by(Clearance.recorded_at, Clearance.id)
    ).all()


def list_overrides(screening: Screening) -> Sequence[FindingOverride]:
    """Return every override recorded against a screening, newest first."""
    return db.session.scalars(
        scoped(FindingOverride)
        .where(FindingOverride.screening_id == screening.id)
        .order_by(FindingOverride.visit_on.desc(), FindingOverride.id.desc())
    ).all()


# Read for the screening in force on every page about a screened client: built once.
_CLIENT_CLEARANCES = (
    select(Clearance)
    .where(
        Clearance.clinic_id == bindparam("clinic_id"), Clearance.client_id == bindparam("client_id")
    )
    .order_by(Clearance.recorded_at.desc(), Clearance.id.desc())
)


def _client_clearances(client_id: int) -> tuple[Clearance, ...]:
    """Every clearance of a client, newest first."""
    values = {"clinic_id": current_clinic_id(), "client_id": client_id}
    return tuple(db.session.scalars(_CLIENT_CLEARANCES, values).all())


def _lifting(
    clearances: Iterable[Clearance], screening: Screening, day: date
) -> dict[str, Clearance]:
    """The clearance that lifts each finding code of a screening on a day, newest first.

    A clearance counts for a finding when it was given on or after the day of the screening
    that found it and holds on that day, whichever screening it was recorded against.
    """
    lifting: dict[str, Clearance] = {}
    for clearance in clearances:
        if clearance.given_on >= screening.taken_on and clearance.is_in_force(day):
            lifting.setdefault(clearance.finding_code, clearance)
    return lifting


def _result_with(screening: Screening, lifting: Mapping[str, Clearance]) -> ScreeningResult:
    return apply_clearances(load_result(screening.result), lifting)


def result_on(screening: Screening, day: date) -> ScreeningResult:
    """Return a screening's own result with the clearances in force on a day applied."""
    clearances = _client_clearances(screening.client_id)
    return _result_with(screening, _lifting(clearances, screening, day))


def _screenings_in_force_statement() -> Select[Screening]:
    # One query: the latest screening up to the day, and the earlier ones that referred (only
    # those can leave a referral open; the stored tier says which). The first row is the latest.
    clinic_id: BindParameter[int] = bindparam("clinic_id")
    client_id: BindParameter[int] = bindparam("client_id")
    day: BindParameter[date] = bindparam("day")
    latest_id = (
        select(Screening.id)
        .where(
            Screening.clinic_id == clinic_id,
            Screening.client_id == client_id,
            Screening.taken_on <= day,
        )
        .order_by(Screening.taken_on.desc(), Screening.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(Screening)
        .where(
            Screening.clinic_id == clinic_id,
            Screening.client_id == client_id,
            Screening.taken_on <= day,
            or_(Screening.id == latest_id, Screening.tier == Tier.REFER),
        )
        .order_by(Screening.taken_on.desc(), Screening.id.desc())
        # Who signed is named on the client page only: read there, when it is shown (the
        # signer is most often the person signed in, whom the session holds already).
        .options(lazyload(Screening.signed_by))
    )


# Every page about a client asks for its screening in force: the statements are built once,
# with their values as parameters, so SQLAlchemy works out their cache keys once.
_SCREENINGS_IN_FORCE = _screenings_in_force_statement()
_LAST_CONFIRMATION = (
    select(ScreeningConfirmation)
    .where(
        ScreeningConfirmation.clinic_id == bindparam("clinic_id"),
        ScreeningConfirmation.screening_id == bindparam("screening_id"),
        ScreeningConfirmation.confirmed_on <= bindparam("day"),
    )
    .order_by(ScreeningConfirmation.confirmed_on.desc(), ScreeningConfirmation.id.desc())
    .limit(1)
    .options(lazyload(ScreeningConfirmation.confirmed_by))
)


def _in_force(client: Client, day: date) -> _InForce | None:
    found = db.session.scalars(
        _SCREENINGS_IN_FORCE,
        {"clinic_id": current_clinic_id(), "client_id": client.id, "day": day},
    ).all()
    if not found:
        return None
    screening, *earlier = found
    results = {s.id: load_result(s.result) for s in found}
    # Clearances lift findings: with none found, there is nothing to read them for.
    clearances: Sequence[Clearance] = ()
    if any(result.findings for result in results.values()):
        clearances = _client_clearances(client.id)
    lifting_own = _lifting(clearances, screening, day)
    result = apply_clearances(results[screening.id], lifting_own)
    own = {f.code: lifting_own[f.code] for f in result.cleared_findings}
    by_id = {s.id: s for s in earlier}
    used: dict[int, Clearance] = {c.id: c for c in own.values()}
    past: list[PastResult] = []
    for found_by in earlier:
        lifting = _lifting(clearances, found_by, day)
        past_result = apply_clearances(results[found_by.id], lifting)
        for finding in past_result.cleared_findings:
            if finding.tier is Tier.REFER:
                used.setdefault(lifting[finding.code].id, lifting[finding.code])
        past.append(PastResult(found_by.id, found_by.taken_on, past_result))
    referrals: Sequence[OpenReferral] = find_open_referrals(screening.taken_on, result, past)
    return _InForce(
        screening=screening,
        result=with_open_referrals(result, referrals),
        open_referrals=tuple(StillOpen(r.finding, by_id[r.found_by.key]) for r in referrals),
        own_clearances=tuple(own.values()),
        all_clearances=tuple(used.values()),
    )


def load_current_screening(client: Client, clinic: Clinic, today: date) -> CurrentScreening:
    """Return the screening in force on a day: the latest taken on or before it, with that
    day's clearances, overrides and status, and the referrals of earlier screenings still open.

    Pass the visit's own day when checking a visit, so a later screening or override does not
    count for an earlier visit.
    """
    found = _in_force(client, today)
    if found is None:
        status = assess_screening_status(
            taken_on=None,
            dvt_last_asked_on=None,
            today=today,
            valid_days=clinic.screening_valid_days,
        )
        return CurrentScreening(None, None, status, (), (), None)
    screening = found.screening
    confirmation = db.session.scalars(
        _LAST_CONFIRMATION,
        {"clinic_id": current_clinic_id(), "screening_id": screening.id, "day": today},
    ).first()
    # Every screening asks the clot question, so the screening's own day counts, as does the
    # latest "no changes" confirmation up to the day in question.
    dvt_last_asked_on = screening.taken_on
    if confirmation is not None:
        dvt_last_asked_on = max(dvt_last_asked_on, confirmation.confirmed_on)
    status = assess_screening_status(
        taken_on=screening.taken_on,
        dvt_last_asked_on=dvt_last_asked_on,
        today=today,
        valid_days=clinic.screening_valid_days,
    )
    # Only an area the screening itself found to avoid can be overridden (record_override).
    overrides: Sequence[FindingOverride] = ()
    if any(f.tier is Tier.AVOID_LOCAL for f in found.result.findings):
        overrides = db.session.scalars(
            scoped(FindingOverride)
            .where(FindingOverride.screening_id == screening.id, FindingOverride.visit_on == today)
            .order_by(FindingOverride.id.desc())
        ).all()
    return CurrentScreening(
        screening,
        found.result,
        status,
        found.own_clearances,
        overrides,
        confirmation,
        found.open_referrals,
    )


def refresh_client_screening(client: Client, today: date) -> None:
    """Bring the client's stored tier in step with the screening in force and open referrals."""
    values: dict[str, object] = {
        "screening_tier": None,
        "screened_on": None,
        "screening_recheck_on": None,
    }
    found = _in_force(client, today)
    if found is not None:
        # The day after the first expiry, the stored tier may be too lenient: look again then.
        expiries = [c.expires_on for c in found.all_clearances if c.expires_on is not None]
        values = {
            "screening_tier": found.result.effective_tier,
            "screened_on": found.screening.taken_on,
            "screening_recheck_on": min(expiries) + timedelta(days=1) if expiries else None,
        }
    # A statement of its own, not an attribute change: these columns are derived, and bumping
    # the intake's version would give someone editing the intake a false conflict.
    db.session.execute(
        update(Client)
        .where(Client.id == client.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        set_committed_value(client, name, value)


def refresh_due_clients(today: date) -> int:
    """Recompute the stored tier of the clinic's clients whose clearances have run out."""
    due = db.session.scalars(
        scoped(Client).where(
            Client.screening_recheck_on.is_not(None), Client.screening_recheck_on <= today
        )
    ).all()
    for client in due:
        refresh_client_screening(client, today)
    if due:
        db.session.flush()
    return len(due)


@operation
def record_screening(
    actor: Actor, client: Client, answers: Mapping[str, Answer], taken_on: date, today: date
) -> Screening:
    """Sign and store a new screening with the current questionnaire; it never changes after."""
    problems: list[tuple[str | None, str]] = []
    if taken_on > today:
        problems.append(("taken_on", "A screening cannot be dated in the future."))
    elif taken_on < client.date_of_birth:
        problems.append(("taken_on", "A screening cannot come before the date of birth."))
    if problems:
        raise RuleViolations(problems)
    questionnaire = current_questionnaire()
    age = calculate_age(client.date_of_birth, taken_on)
    result = evaluate_screening(answers, age=age, questionnaire=questionnaire)
    screening = Screening(
        clinic_id=client.clinic_id,
        client_id=client.id,
        taken_on=taken_on,
        questionnaire_version=questionnaire.version,
        answers=dump_answers(answers, questionnaire),
        result=dump_result(result),
        tier=result.tier,
        client_age=age,
        signed_by_id=actor.required_user.id,
    )
    db.session.add(screening)
    db.session.flush()
    refresh_client_screening(client, today)
    record_event(
        actor,
        AuditAction.SIGN,
        record_type="screening",
        record_id=screening.id,
        client_id=client.id,
        summary="Took and signed a screening",
    )
    db.session.flush()
    return screening


@operation
def confirm_no_changes(
    actor: Actor, client: Client, today: date, valid_days: int
) -> ScreeningConfirmation:
    """Record that the therapist asked today and nothing has changed since the screening."""
    screening = latest_screening(client, today)
    if screening is None:
        raise RuleViolations.one(
            None, "There is no screening to confirm yet. Take a screening first."
        )
    status = assess_screening_status(
        taken_on=screening.taken_on, dvt_last_asked_on=None, today=today, valid_days=valid_days
    )
    if not status.has_current_screening:
        raise RuleViolations.one(
            None, "The last screening is out of date, so it cannot be confirmed. Take a new one."
        )
    confirmation = ScreeningConfirmation(
        clinic_id=client.clinic_id,
        client_id=client.id,
        screening_id=screening.id,
        confirmed_on=today,
        confirmed_by_id=actor.required_user.id,
    )
    db.session.add(confirmation)
    db.session.flush()
    record_event(
        actor,
        AuditAction.CREATE,
        record_type="screening_confirmation",
        record_id=confirmation.id,
        client_id=client.id,
        summary="Confirmed no changes since the screening, clot signs asked",
    )
    db.session.flush()
    return confirmation


def clearable_findings(client: Client, screening: Screening, today: date) -> tuple[Finding, ...]:
    """Return the findings a clearance could be recorded for from this screening's page.

    Its own active findings that a clearance lifts and, when it is the screening in force,
    the referrals of earlier screenings still waiting for one.
    """
    own = tuple(
        f
        for f in result_on(screening, today).active_findings
        if f.lifted_by is LiftedBy.MEDICAL_CLEARANCE
    )
    return own + tuple(r.finding for r in _open_referrals_at(client, screening, today))


def _open_referrals_at(client: Client, screening: Screening, today: date) -> tuple[StillOpen, ...]:
    found = _in_force(client, today)
    if found is None or found.screening.id != screening.id:
        return ()
    return tuple(r for r in found.open_referrals if r.needs_clearance)


def _clearance_target(
    client: Client, screening: Screening, finding_code: str, today: date
) -> tuple[Screening, Finding]:
    """The screening a clearance is filed under and the finding it lifts."""
    finding = load_result(screening.result).get_finding(finding_code)
    if finding is not None:
        return screening, finding
    for still_open in _open_referrals_at(client, screening, today):
        if still_open.finding.code == finding_code:
            # File it with the screening that found it, where the record says what was cleared.
            return still_open.screening, still_open.finding
    raise RuleViolations.one("finding_code", "This screening has no such finding.")


@operation
def record_clearance(
    actor: Actor,
    client: Client,
    screening: Screening,
    *,
    finding_code: str,
    given_by: str,
    given_on: date,
    note: str,
    expires_on: date | None,
    today: date,
) -> Clearance:
    """Record a medical provider's go-ahead for a finding that a clearance lifts.

    The finding is one of the screening's own or, when the screening is the one in force, a
    referral of an earlier screening still open: then the clearance is filed with that one.
    It lifts the finding on every screening that found it on or before given_on.
    """
    target, finding = _clearance_target(client, screening, finding_code, today)
    if finding.lifted_by is not LiftedBy.MEDICAL_CLEARANCE:
        raise RuleViolations.one(
            "finding_code",
            f"“{finding.label}” is not lifted by a clearance: {finding.lifted_by.label}.",
        )
    problems: list[tuple[str | None, str]] = []
    if given_on > today:
        problems.append(("given_on", "The clearance cannot be dated in the future."))
    elif given_on < target.taken_on:
        problems.append(
            ("given_on", "The clearance must come on or after the screening that found this.")
        )
    if expires_on is not None and expires_on < today:
        problems.append(("expires_on", "This date has passed: the clearance would not count."))
    if problems:
        raise RuleViolations(problems)
    if finding_code in _lifting(_client_clearances(client.id), target, today):
        raise RuleViolations.one(None, "A clearance for this finding is already in force.")
    clearance = Clearance(
        clinic_id=client.clinic_id,
        client_id=client.id,
        screening_id=target.id,
        finding_code=finding_code,
        given_by=given_by,
        given_on=given_on,
        note=note,
        expires_on=expires_on,
        recorded_by_id=actor.required_user.id,
    )
    db.session.add(clearance)
    db.session.flush()
    refresh_client_screening(client, today)
    record_event(
        actor,
        AuditAction.CREATE,
        record_type="screening",
        record_id=target.id,
        client_id=client.id,
        summary="Recorded a medical clearance",
    )
    db.session.flush()
    return clearance


def previous_clearance(client: Client, finding_code: str, before: Screening) -> Clearance | None:
    """Return the last clearance of the same finding on an earlier screening, to copy from."""
    return db.session.scalars(
        scoped(Clearance)
        .where(
            Clearance.client_id == client.id,
            Clearance.finding_code == finding_code,
            Clearance.screening_id != before.id,
        )
        .order_by(Clearance.recorded_at.desc(), Clearance.id.desc())
        .limit(1)
    ).first()


@operation
def record_override(
    actor: Actor,
    client: Client,
    screening: Screening,
    *,
    finding_code: str,
    reason: str,
    visit_on: date,
) -> FindingOverride:
    """Allow work on an avoided area for one visit day, with the therapist's written reason."""
    finding = load_result(screening.result).get_finding(finding_code)
    if finding is None:
        raise RuleViolations.one("finding_code", "This screening has no such finding.")
    if finding.tier is not Tier.AVOID_LOCAL:
        raise RuleViolations.one(
            "finding_code", "Only an area to avoid can be overridden for a visit."
        )
    if not finding.overridable:
        raise RuleViolations.one(
            "finding_code",
            f"“{finding.label}” is lifted only by a recorded clearance, not by an override.",
        )
    if not is_written_reason(reason):
        raise RuleViolations.one(
            "reason",
            "Write the reason in at least 3 words of letters, so others can follow it.",
        )
    override = FindingOverride(
        clinic_id=client.clinic_id,
        client_id=client.id,
        screening_id=screening.id,
        finding_code=finding_code,
        visit_on=visit_on,
        reason=reason,
        recorded_by_id=actor.required_user.id,
    )
    db.session.add(override)
    db.session.flush()
    record_event(
        actor,
        AuditAction.CREATE,
        record_type="screening",
        record_id=screening.id,
        client_id=client.id,
        summary="Recorded an override for today's visit",
    )
    db.session.flush()
    return override
