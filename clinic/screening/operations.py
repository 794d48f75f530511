"""Recording screenings, confirmations, clearances and overrides, and reading the current state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from clinic.access import get_scoped_or_404, scoped
from clinic.domain.errors import RuleViolation
from clinic.domain.intake import calculate_age
from clinic.domain.screening import (
    Answer,
    Finding,
    LiftedBy,
    ScreeningResult,
    Tier,
    apply_clearances,
    dump_answers,
    dump_result,
    evaluate_screening,
    load_result,
)
from clinic.domain.screening_status import ScreeningStatus, assess_screening_status
from clinic.extensions import db
from clinic.models import (
    Clearance,
    Client,
    Clinic,
    FindingOverride,
    Screening,
    ScreeningConfirmation,
    User,
)


@dataclass(frozen=True)
class CurrentScreening:
    """A client's latest screening as it stands on one day: clearances applied, status known."""

    screening: Screening | None
    result: ScreeningResult | None
    status: ScreeningStatus
    clearances: Sequence[Clearance]
    overrides_today: Sequence[FindingOverride]
    last_confirmation: ScreeningConfirmation | None

    @property
    def tier(self) -> Tier | None:
        """The tier that limits treatment now, or None without a screening."""
        return self.result.effective_tier if self.result is not None else None

    @property
    def refer_findings(self) -> tuple[Finding, ...]:
        """Active findings that rule out treatment."""
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


def get_screening_or_404(client: Client, screening_id: int) -> Screening:
    """Return one of a client's screenings in the signed-in user's clinic, or answer 404."""
    screening = get_scoped_or_404(Screening, screening_id)
    if screening.client_id != client.id:
        abort(404)
    return screening


def latest_screening(client: Client) -> Screening | None:
    """Return the client's most recent screening."""
    return db.session.scalars(
        scoped(Screening)
        .where(Screening.client_id == client.id)
        .order_by(Screening.taken_on.desc(), Screening.id.desc())
        .limit(1)
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


def _dvt_last_asked_on(client: Client, screening: Screening) -> date:
    # Every screening asks the clot question, so the latest one counts, as does any
    # later "no changes" confirmation.
    confirmed = db.session.scalar(
        select(func.max(ScreeningConfirmation.confirmed_on)).where(
            ScreeningConfirmation.client_id == client.id,
            ScreeningConfirmation.screening_id == screening.id,
        )
    )
    return max(screening.taken_on, confirmed) if confirmed else screening.taken_on


def clearances_in_force(screening: Screening, today: date) -> list[Clearance]:
    """Return the clearances of a screening that hold on a given day."""
    return [c for c in list_clearances(screening) if c.is_in_force(today)]


def result_on(screening: Screening, today: date) -> ScreeningResult:
    """Return a screening's result with the clearances in force on a given day applied."""
    codes = {c.finding_code for c in clearances_in_force(screening, today)}
    return apply_clearances(load_result(screening.result), codes)


def load_current_screening(client: Client, clinic: Clinic, today: date) -> CurrentScreening:
    """Return the client's latest screening with today's clearances, overrides and status."""
    screening = latest_screening(client)
    if screening is None:
        status = assess_screening_status(
            taken_on=None,
            dvt_last_asked_on=None,
            today=today,
            valid_days=clinic.screening_valid_days,
        )
        return CurrentScreening(None, None, status, (), (), None)
    in_force = clearances_in_force(screening, today)
    result = apply_clearances(load_result(screening.result), {c.finding_code for c in in_force})
    status = assess_screening_status(
        taken_on=screening.taken_on,
        dvt_last_asked_on=_dvt_last_asked_on(client, screening),
        today=today,
        valid_days=clinic.screening_valid_days,
    )
    overrides = [o for o in list_overrides(screening) if o.visit_on == today]
    confirmation = db.session.scalars(
        scoped(ScreeningConfirmation)
        .where(ScreeningConfirmation.screening_id == screening.id)
        .order_by(ScreeningConfirmation.confirmed_on.desc(), ScreeningConfirmation.id.desc())
        .limit(1)
    ).first()
    return CurrentScreening(screening, result, status, in_force, overrides, confirmation)


def refresh_client_screening(client: Client, today: date) -> None:
    """Bring the client's stored tier in step with the latest screening and its clearances."""
    values: dict[str, object] = {
        "screening_tier": None,
        "screened_on": None,
        "screening_recheck_on": None,
    }
    screening = latest_screening(client)
    if screening is not None:
        clearances = clearances_in_force(screening, today)
        result = apply_clearances(
            load_result(screening.result), {c.finding_code for c in clearances}
        )
        # The day after the first expiry, the stored tier may be too lenient: look again then.
        expiries = [c.expires_on for c in clearances if c.expires_on is not None]
        values = {
            "screening_tier": result.effective_tier,
            "screened_on": screening.taken_on,
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


def record_screening(
    client: Client, therapist: User, answers: Mapping[str, Answer], taken_on: date, today: date
) -> Screening:
    """Sign and store a new screening; it is never changed afterwards."""
    if taken_on > today:
        raise RuleViolation("taken_on", "A screening cannot be dated in the future.")
    if taken_on < client.date_of_birth:
        raise RuleViolation("taken_on", "A screening cannot come before the date of birth.")
    age = calculate_age(client.date_of_birth, taken_on)
    result = evaluate_screening(answers, age=age)
    screening = Screening(
        clinic_id=client.clinic_id,
        client_id=client.id,
        taken_on=taken_on,
        questionnaire_version=result.questionnaire_version,
        answers=dump_answers(answers),
        result=dump_result(result),
        tier=result.tier,
        client_age=age,
        signed_by_id=therapist.id,
    )
    db.session.add(screening)
    db.session.flush()
    refresh_client_screening(client, today)
    db.session.flush()
    return screening


def confirm_no_changes(
    client: Client, therapist: User, today: date, valid_days: int
) -> ScreeningConfirmation:
    """Record that the therapist asked today and nothing has changed since the screening."""
    screening = latest_screening(client)
    if screening is None:
        raise RuleViolation(None, "There is no screening to confirm yet. Take a screening first.")
    status = assess_screening_status(
        taken_on=screening.taken_on, dvt_last_asked_on=None, today=today, valid_days=valid_days
    )
    if not status.has_current_screening:
        raise RuleViolation(
            None, "The last screening is out of date, so it cannot be confirmed. Take a new one."
        )
    confirmation = ScreeningConfirmation(
        clinic_id=client.clinic_id,
        client_id=client.id,
        screening_id=screening.id,
        confirmed_on=today,
        confirmed_by_id=therapist.id,
    )
    db.session.add(confirmation)
    db.session.flush()
    return confirmation


def _finding_of(screening: Screening, code: str) -> Finding:
    finding = load_result(screening.result).get_finding(code)
    if finding is None:
        raise RuleViolation(None, "This screening has no such finding.")
    return finding


def record_clearance(
    client: Client,
    screening: Screening,
    recorder: User,
    *,
    finding_code: str,
    given_by: str,
    given_on: date,
    note: str,
    expires_on: date | None,
    today: date,
) -> Clearance:
    """Record a medical provider's go-ahead for a finding that a clearance lifts."""
    finding = _finding_of(screening, finding_code)
    if finding.lifted_by is not LiftedBy.MEDICAL_CLEARANCE:
        raise RuleViolation(
            None, f"“{finding.label}” is not lifted by a clearance: {finding.lifted_by.label}."
        )
    if given_on > today:
        raise RuleViolation("given_on", "The clearance cannot be dated in the future.")
    if given_on < screening.taken_on:
        raise RuleViolation(
            "given_on", "The clearance must come on or after the screening that found this."
        )
    if expires_on is not None and expires_on < today:
        raise RuleViolation("expires_on", "This date has passed: the clearance would not count.")
    if any(
        c.finding_code == finding_code and c.is_in_force(today) for c in list_clearances(screening)
    ):
        raise RuleViolation(None, "A clearance for this finding is already in force.")
    clearance = Clearance(
        clinic_id=client.clinic_id,
        client_id=client.id,
        screening_id=screening.id,
        finding_code=finding_code,
        given_by=given_by,
        given_on=given_on,
        note=note,
        expires_on=expires_on,
        recorded_by_id=recorder.id,
    )
    db.session.add(clearance)
    db.session.flush()
    refresh_client_screening(client, today)
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


def record_override(
    client: Client,
    screening: Screening,
    recorder: User,
    *,
    finding_code: str,
    reason: str,
    visit_on: date,
) -> FindingOverride:
    """Allow work on an avoided area for one visit day, with the therapist's written reason."""
    finding = _finding_of(screening, finding_code)
    if finding.tier is not Tier.AVOID_LOCAL:
        raise RuleViolation(None, "Only an area to avoid can be overridden for a visit.")
    if len(reason.split()) < 3:
        raise RuleViolation("reason", "Write the reason in a few words, so others can follow it.")
    override = FindingOverride(
        clinic_id=client.clinic_id,
        client_id=client.id,
        screening_id=screening.id,
        finding_code=finding_code,
        visit_on=visit_on,
        reason=reason,
        recorded_by_id=recorder.id,
    )
    db.session.add(override)
    db.session.flush()
    return override
