"""Rules for a visit note: entries against the screening, minutes, adverse flags and the gate."""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from datetime import date
from decimal import Decimal

from clinic.domain.catalogue import (
    HELD_PRESSURE_SITES,
    HOLD_RANGES,
    NO_PRESSURE_TECHNIQUES,
    Pressure,
    Side,
    SiteRule,
    Target,
    Technique,
)
from clinic.domain.errors import Problem, row_key
from clinic.domain.intake import AffectedKnee
from clinic.domain.screening import (
    Finding,
    PlannedTechnique,
    ScreeningResult,
    Tier,
    Violation,
    check_technique,
)

# The shared rule for written reasons (at least 3 words of letters), re-exported for the tests.
from clinic.domain.screening import is_written_reason as is_written_reason
from clinic.domain.screening_status import ScreeningState, ScreeningStatus

MIN_ENTRY_MINUTES = Decimal("0.5")
MAX_ENTRY_MINUTES = Decimal("60")
MIN_VISIT_MINUTES = 5
MAX_VISIT_MINUTES = 240
# A rise of two points on the 0-10 scale is the smallest change that matters to patients
# (Farrar 2001, DOMAIN.md section 4); a visit that leaves pain that much higher is flagged.
ADVERSE_PAIN_RISE = 2
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
    CALF_PAIN = "calf_pain"
    NUMB_FOOT = "numb_foot"
    REDNESS = "redness"
    OTHER = "other"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "none": "None",
            "more_pain": "More pain",
            "dizziness": "Dizziness or light-headedness",
            "bruising": "Bruising",
            "calf_pain": "New pain or swelling in a calf (warning sign)",
            "numb_foot": "Numbness or a weak foot after work near the outer knee (warning sign)",
            "redness": "Swelling or redness that keeps increasing (warning sign)",
            "other": "Other (say what in the note)",
        }[self.value]

    @property
    def is_red_flag(self) -> bool:
        """Whether the response is a warning sign that calls for a referral."""
        return self in _RED_FLAGS

    @property
    def referral_advice(self) -> str:
        """What to advise after a warning sign, in plain words (empty for other responses)."""
        return {
            "calf_pain": (
                "A painful, swollen, warm or red calf can be a clot: the client sees a doctor"
                " the same day, or calls emergency services if breathless or with chest pain."
            ),
            "numb_foot": (
                "Numbness or a weak foot after work near the outer knee can mean the nerve there"
                " was pressed: the client sees a doctor the same day."
            ),
            "redness": (
                "Swelling or redness that keeps increasing needs a doctor's check: the client"
                " sees a doctor soon, the same day if it is hot or spreading."
            ),
        }.get(self.value, "")


_RED_FLAGS = frozenset(
    {AdverseResponse.CALF_PAIN, AdverseResponse.NUMB_FOOT, AdverseResponse.REDNESS}
)


@dataclass(frozen=True)
class EntryDetails:
    """One technique entry: the one shape used by the form, the checks, the rows and printing.

    Fields without a default are required in every entry; the others are optional.
    """

    technique: Technique
    target: Target
    side: Side
    # None for a technique given without a pressure level (joint mobilisation, heat, cold).
    pressure: Pressure | None
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
# The fields every entry needs; the pressure is needed too, unless the technique has none.
REQUIRED_ENTRY_FIELDS = tuple(
    f.name for f in fields(EntryDetails) if f.default is MISSING and f.name != "pressure"
)


REASON_TOO_SHORT = (
    'Write the reason in at least 3 words of letters, for example "Scar healed, surgeon agreed".'
)


def check_dose(entry: EntryDetails) -> list[Problem]:
    """List what is wrong with an entry's pressure and hold time (DOMAIN.md 8.3).

    Every refusal states the allowed range. A hold time makes the entry held pressure, which
    the kneecap, back-of-knee and fibular-head rules forbid whatever the technique.
    """
    problems: list[Problem] = []
    technique = entry.technique
    if technique.has_pressure and entry.pressure is None:
        problems.append(Problem("pressure", "Choose the pressure, from light to deep."))
    if not technique.has_pressure and entry.pressure is not None:
        problems.append(
            Problem(
                "pressure",
                f"{technique.label} has no pressure level: leave the pressure empty"
                f" ({_no_pressure_words()} are given without one).",
            )
        )
    hold = entry.hold_seconds
    if hold is None:
        return problems
    allowed = technique.hold_range
    if allowed is None:
        problems.append(
            Problem(
                "hold_seconds",
                f"{technique.label} does not hold on one spot: leave the hold empty."
                f" Only {_holding_words()} take a hold.",
            )
        )
    elif not 1 <= hold <= allowed.most:
        problems.append(
            Problem(
                "hold_seconds",
                f"A hold of {hold} seconds is too long for {technique.label.lower()}: "
                f"{allowed.words}.",
            )
        )
    for site in sorted(HELD_PRESSURE_SITES & entry.target.sites):
        problems.append(
            Problem(
                "hold_seconds",
                f"No held pressure here ({site.label.lower()}): an entry with a hold time"
                f" is held pressure, whatever the technique. {site.rule}",
            )
        )
    return problems


def _no_pressure_words() -> str:
    names = [t.label.split(" (")[0].lower() for t in Technique if t in NO_PRESSURE_TECHNIQUES]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _holding_words() -> str:
    named = [
        f"{t.label.split(' (')[0].lower()} ({r.most} s at most)" for t, r in HOLD_RANGES.items()
    ]
    return ", ".join(named[:-1]) + " and " + named[-1]


def check_entry(
    result: ScreeningResult, entry: EntryDetails, *, overridden: Collection[str] = ()
) -> list[Problem]:
    """List what stops one entry, each with the entry field it concerns.

    An avoided-area violation passes when the entry carries a written reason of a few words,
    or when an override of that finding was recorded for the visit's day (overridden holds
    those finding codes); every other violation is final.
    """
    problems = [
        Problem(_field_of(violation), _refusal(violation, entry))
        for violation in check_technique(result, _planned(entry))
        if not (violation.overridable and _is_overridden(violation, entry, overridden))
    ]
    return problems + check_dose(entry)


def _planned(entry: EntryDetails) -> PlannedTechnique:
    # A technique without a pressure level is checked as the lightest touch: caps never
    # refuse it, and the site and avoided-area rules still do.
    return PlannedTechnique(
        entry.technique, entry.target, entry.side, entry.pressure or Pressure.LIGHT
    )


def _refusal(violation: Violation, entry: EntryDetails) -> str:
    if violation.overridable and entry.override_reason.strip():
        return f"{violation.reason} {REASON_TOO_SHORT}"
    return violation.reason


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
    return is_written_reason(entry.override_reason)


def entry_allowance(
    result: ScreeningResult, entry: EntryDetails, *, overrides: Mapping[str, str]
) -> str:
    """Say why an entry that passed its checks was allowed, for the signed note.

    overrides maps the finding codes overridden for the visit's day to their reasons.
    """
    reasons: list[str] = []
    for violation in check_technique(result, _planned(entry)):
        if not violation.overridable:
            continue
        code = violation.finding_code
        label = _finding_label(result, code)
        if code is not None and code in overrides:
            reasons.append(f"allowed by the override for that day ({label}): {overrides[code]}")
        else:
            reasons.append(f"allowed by override ({label}): {entry.override_reason.strip()}")
    if reasons:
        text = "; ".join(dict.fromkeys(reasons))
        return text[0].upper() + text[1:]
    if entry.pressure is None:
        return "Within the limits (no pressure level)"
    cap = result.cap_for(entry.side, entry.target.region)
    if cap is not None:
        return f"Within the limits ({cap.label.lower()} at most here)"
    return "Within the limits"


def _finding_label(result: ScreeningResult, code: str | None) -> str:
    finding = result.get_finding(code) if code else None
    return finding.label.lower() if finding is not None else "an area to leave alone"


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


def knee_pain_pairs(
    knees: AffectedKnee,
    before_left: int | None,
    after_left: int | None,
    before_right: int | None,
    after_right: int | None,
) -> tuple[tuple[str, int | None, int | None], ...]:
    """Return (knee, pain before, pain after) for each knee a visit treated."""
    pairs: list[tuple[str, int | None, int | None]] = []
    if knees in (AffectedKnee.LEFT, AffectedKnee.BOTH):
        pairs.append(("left", before_left, after_left))
    if knees in (AffectedKnee.RIGHT, AffectedKnee.BOTH):
        pairs.append(("right", before_right, after_right))
    return tuple(pairs)


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


# --- Reminders on the visit form and aftercare (DOMAIN.md 8.5) ------------------------------

DIZZY_REMINDER = (
    "Stop at once if the client feels light-headed or dizzy, and help them into a safe,"
    " comfortable position."
)


def visit_reminders(result: ScreeningResult | None) -> list[str]:
    """Return the reminders shown beside the caps on the visit form, each when it applies.

    The saphenous-vein rule and the dizziness rule hold on every visit; the skin check, the
    pregnancy advice and the tumour area follow the screening's findings.
    """
    reminders = [SiteRule.SAPHENOUS_VEIN.rule, DIZZY_REMINDER]
    if result is None:
        return reminders
    active = {f.code for f in result.active_findings}
    if "neuropathy" in active:
        reminders.append(
            "Less feeling in the legs: look at the skin of the legs and feet before and after"
            " the massage, as the client may not feel too much pressure."
        )
    if "pregnancy" in active:
        reminders.append(
            "Pregnancy: no deep work on the calves, and follow what the client's midwife or"
            " doctor advises about massage."
        )
    for finding in result.findings:
        if finding.code == "cancer" or "tumour" in finding.code:
            reminders.append(_tumour_reminder(finding))
    return list(dict.fromkeys(reminders))


def _tumour_reminder(finding: Finding) -> str:
    if finding.side is None and finding.region is None:
        return (
            "Cancer: ask where any tumour is and keep all pressure off that area, even after"
            " the oncologist's go-ahead."
        )
    return (
        f"Tumour area ({finding.area_phrase}): no pressure over it, even after the"
        " oncologist's go-ahead."
    )


# Read out after every visit and printed on the aftercare slip (seed 000, safety step 5).
AFTERCARE: tuple[str, ...] = (
    "Feeling a little sore for a day or two after a massage is common and settles by itself.",
    "If the pain, swelling or redness gets worse instead of better, see your doctor.",
    "If a calf becomes painful, swollen, warm or red, see a doctor the same day. If you are"
    " also short of breath or have chest pain, call emergency services straight away.",
    "If you feel light-headed or dizzy, stop what you are doing, sit or lie down, and tell"
    " someone.",
)
