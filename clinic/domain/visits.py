"""Rules for a visit note: entries against the screening, minutes, adverse flags and the gate."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import MISSING, dataclass, fields
from datetime import date
from decimal import Decimal

from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.errors import Problem, row_key
from clinic.domain.screening import (
    PlannedTechnique,
    ScreeningResult,
    Tier,
    Violation,
    check_technique,
)
from clinic.domain.screening_status import ScreeningState, ScreeningStatus

MIN_ENTRY_MINUTES = Decimal("0.5")
MAX_ENTRY_MINUTES = Decimal("60")
MIN_VISIT_MINUTES = 5
MAX_VISIT_MINUTES = 240
# A rise of two points on the 0-10 scale is the smallest change that matters to patients
# (Farrar 2001, DOMAIN.md section 4); a visit that leaves pain that much higher is flagged.
ADVERSE_PAIN_RISE = 2
MIN_OVERRIDE_WORDS = 3
# The most technique entries one note holds; more are refused, never cut off.
MAX_ENTRIES = 40


class VisitStatus(enum.StrEnum):
    """Whether a visit note can still change."""

    DRAFT = "draft"
    SIGNED = "signed"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {"draft": "Draft", "signed": "Signed"}[self.value]


class Swelling(enum.StrEnum):
    """How swollen the treated knee looked."""

    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    MARKED = "marked"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {"none": "None", "mild": "Mild", "moderate": "Moderate", "marked": "Marked"}[
            self.value
        ]


class AdverseResponse(enum.StrEnum):
    """How the client reacted to treatment, if badly."""

    NONE = "none"
    MORE_PAIN = "more_pain"
    DIZZINESS = "dizziness"
    BRUISING = "bruising"
    OTHER = "other"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "none": "None",
            "more_pain": "More pain",
            "dizziness": "Dizziness or light-headedness",
            "bruising": "Bruising",
            "other": "Other (say what in the note)",
        }[self.value]


@dataclass(frozen=True)
class EntryDetails:
    """One technique entry: the one shape used by the form, the checks, the rows and printing.

    Fields without a default are required in every entry; the others are optional.
    """

    technique: Technique
    target: Target
    side: Side
    pressure: Pressure
    minutes: Decimal
    repetitions: int | None = None
    hold_seconds: int | None = None
    note: str = ""
    # The therapist's written reason for working on an area the screening says to avoid.
    override_reason: str = ""

    @property
    def label(self) -> str:
        """Name the entry in a sentence: "Petrissage (kneading) on left calf"."""
        return f"{self.technique.label} on {self.side.value} {self.target.label.lower()}"


# Every field of an entry, in order: the form's row, the stored row and the printed line.
ENTRY_FIELDS = tuple(field.name for field in fields(EntryDetails))
REQUIRED_ENTRY_FIELDS = tuple(f.name for f in fields(EntryDetails) if f.default is MISSING)


def check_entry(
    result: ScreeningResult, entry: EntryDetails, *, overridden: Collection[str] = ()
) -> list[Problem]:
    """List what stops one entry, each with the entry field it concerns.

    An avoided-area violation passes when the entry carries a written reason of a few words,
    or when an override of that finding was recorded for the visit's day (overridden holds
    those finding codes); every other violation is final.
    """
    planned = PlannedTechnique(entry.technique, entry.target, entry.side, entry.pressure)
    return [
        Problem(_field_of(violation), violation.reason)
        for violation in check_technique(result, planned)
        if not (violation.overridable and _is_overridden(violation, entry, overridden))
    ]


def check_entries(
    result: ScreeningResult,
    entries: Sequence[EntryDetails],
    *,
    overridden: Collection[str] = (),
    rows: str = "entries",
) -> list[Problem]:
    """List what stops each entry, keyed by row: row_key(rows, index, field)."""
    return [
        Problem(row_key(rows, index, problem.field or "technique"), problem.message)
        for index, entry in enumerate(entries)
        for problem in check_entry(result, entry, overridden=overridden)
    ]


def _is_overridden(violation: Violation, entry: EntryDetails, overridden: Collection[str]) -> bool:
    if violation.finding_code in overridden:
        return True
    return len(entry.override_reason.split()) >= MIN_OVERRIDE_WORDS


def _field_of(violation: Violation) -> str:
    # Overridable problems point at the reason box, so the fix is typed where it belongs.
    if violation.overridable:
        return "override_reason"
    return violation.field or "technique"


def check_total_minutes(entries: Sequence[EntryDetails], length_minutes: int) -> Problem | None:
    """Return why the entries cannot fit the visit (on its length), or None when they do."""
    total = sum((entry.minutes for entry in entries), Decimal(0))
    if total > length_minutes:
        return Problem(
            "length_minutes",
            f"The techniques add up to {total.normalize():f} minutes, more than the visit's "
            f"{length_minutes}. Shorten an entry or lengthen the visit.",
        )
    return None


def check_entry_count(count: int) -> Problem | None:
    """Return why a note cannot hold this many entries, or None when it can."""
    if count > MAX_ENTRIES:
        return Problem(
            "entries",
            f"A visit note holds at most {MAX_ENTRIES} techniques and this one has {count}. "
            f"Nothing was saved and every row is still here: remove {count - MAX_ENTRIES} "
            "(or combine entries) before saving.",
        )
    return None


def is_adverse(
    pain_pairs: Sequence[tuple[int | None, int | None]], response: AdverseResponse
) -> bool:
    """Return whether a visit needs a follow-up: an adverse response or pain up by 2 or more."""
    if response is not AdverseResponse.NONE:
        return True
    return any(
        before is not None and after is not None and after - before >= ADVERSE_PAIN_RISE
        for before, after in pain_pairs
    )


def reasons_visit_cannot_start(
    status: ScreeningStatus, result: ScreeningResult | None
) -> list[str]:
    """Return why no visit may start today; an empty list means it may."""
    reasons: list[str] = []
    if not status.is_ready:
        reasons.append(status.explanation)
    if result is not None and result.refuses_treatment:
        steps = dict.fromkeys(f.next_step for f in result.active_findings if f.tier is Tier.REFER)
        reasons.append(
            f"The screening says to refer first ({_referrals(result)}). Before treating, "
            f"{'; '.join(steps)}."
        )
    return reasons


def reasons_note_cannot_change(
    status: ScreeningStatus, result: ScreeningResult | None, *, visit_on: date, today: date
) -> list[str]:
    """Return why a note of a given day can no longer be saved or signed (empty: it can).

    The gate of a visit holds on the visit's own day: a current screening then, the clot
    question asked that day, and no referral left uncleared. Each reason says what to do.
    """
    if visit_on == today:
        return reasons_visit_cannot_start(status, result)
    day = _day(visit_on)
    reasons: list[str] = []
    if status.state is ScreeningState.NONE:
        reasons.append(
            f"There was no screening on {day}, the day of this visit, so the note cannot be "
            "saved or signed. Discard the draft: a visit needs a screening on its own day."
        )
    elif status.state is ScreeningState.EXPIRED:
        reasons.append(
            f"The screening in force on {day}, the day of this visit, was out of date that "
            "day, so the note cannot be saved or signed. Discard the draft: a visit needs a "
            "current screening on its own day."
        )
    elif status.state is ScreeningState.DVT_NOT_ASKED_TODAY:
        reasons.append(
            f"The signs of a clot in the leg were not asked about on {day}, the day of this "
            "visit, so the note cannot be saved or signed. Discard the draft: the clot "
            "question must be asked on the day of the visit."
        )
    if result is not None and result.refuses_treatment:
        reasons.append(
            f"The screening in force on {day} says to refer first ({_referrals(result)}). "
            f"Record the medical clearance (given on or before {day}) on the screening, then "
            "save or sign the note."
        )
    return reasons


def _referrals(result: ScreeningResult) -> str:
    return ", ".join(f.label.lower() for f in result.active_findings if f.tier is Tier.REFER)


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"
