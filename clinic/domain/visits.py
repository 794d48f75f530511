"""Rules for a visit note: entries against the screening, minutes, adverse flags and the gate."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.screening import (
    PlannedTechnique,
    ScreeningResult,
    Tier,
    Violation,
    check_technique,
)
from clinic.domain.screening_status import ScreeningStatus

MIN_ENTRY_MINUTES = Decimal("0.5")
MAX_ENTRY_MINUTES = Decimal("60")
MIN_VISIT_MINUTES = 5
MAX_VISIT_MINUTES = 240
# A rise of two points on the 0-10 scale is the smallest change that matters to patients
# (Farrar 2001, DOMAIN.md section 4); a visit that leaves pain that much higher is flagged.
ADVERSE_PAIN_RISE = 2
MIN_OVERRIDE_WORDS = 3


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
class EntryPlan:
    """One technique entry as typed, with the therapist's reason if an area is overridden."""

    technique: Technique
    target: Target
    side: Side
    pressure: Pressure
    minutes: Decimal
    override_reason: str = ""


@dataclass(frozen=True)
class EntryProblem:
    """A reason one entry (by its position) cannot be saved, and the field it concerns."""

    index: int
    field: str
    message: str


def check_entries(
    result: ScreeningResult,
    entries: Sequence[EntryPlan],
    *,
    overridden_today: Collection[str] = (),
) -> list[EntryProblem]:
    """List what stops each entry: the screening check, and overrides without a reason.

    An avoided-area violation passes when the entry carries a written reason of a few words,
    or when an override of that finding was recorded for the visit day; every other violation
    is final.
    """
    problems: list[EntryProblem] = []
    for index, entry in enumerate(entries):
        planned = PlannedTechnique(entry.technique, entry.target, entry.side, entry.pressure)
        for violation in check_technique(result, planned):
            if violation.overridable and _is_overridden(violation, entry, overridden_today):
                continue
            problems.append(EntryProblem(index, _field_of(violation), violation.reason))
    return problems


def _is_overridden(
    violation: Violation, entry: EntryPlan, overridden_today: Collection[str]
) -> bool:
    if violation.finding_code in overridden_today:
        return True
    return len(entry.override_reason.split()) >= MIN_OVERRIDE_WORDS


def _field_of(violation: Violation) -> str:
    # Overridable problems point at the reason box, so the fix is typed where it belongs.
    if violation.overridable:
        return "override_reason"
    return violation.field or "technique"


def check_total_minutes(entries: Sequence[EntryPlan], length_minutes: int) -> str | None:
    """Return why the entries cannot fit the visit, or None when they do."""
    total = sum((entry.minutes for entry in entries), Decimal(0))
    if total > length_minutes:
        return (
            f"The techniques add up to {total.normalize():f} minutes, more than the visit's "
            f"{length_minutes}. Shorten an entry or lengthen the visit."
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
        labels = ", ".join(f.label.lower() for f in result.active_findings if f.tier is Tier.REFER)
        reasons.append(
            f"The screening says to refer first ({labels}). Record a medical clearance before "
            "treating."
        )
    return reasons
