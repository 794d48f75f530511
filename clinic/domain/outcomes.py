"""Score knee outcome questionnaires and judge change in pain and function over time."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from clinic.domain.errors import Problem, RuleViolations

# --- Shared vocabularies ---------------------------------------------------------------------


class Direction(enum.StrEnum):
    """Which way a measure moved, judged by what is better for that measure."""

    BETTER = "better"
    SAME = "same"
    WORSE = "worse"

    @property
    def label(self) -> str:
        return {"better": "Better", "same": "No change", "worse": "Worse"}[self.value]


class Measure(enum.StrEnum):
    """An outcome measure the app tracks over time."""

    NPRS = "nprs"
    KOOS_JR = "koos_jr"
    LEFS = "lefs"

    @property
    def label(self) -> str:
        return {
            "nprs": "Pain (0 to 10)",
            "koos_jr": "KOOS JR knee score",
            "lefs": "Lower limb function (LEFS)",
        }[self.value]

    @property
    def higher_is_better(self) -> bool:
        # NPRS counts pain, so less is better; KOOS JR and LEFS count health and ability.
        return self is not Measure.NPRS


# --- KOOS JR ---------------------------------------------------------------------------------

# The app's own words above the questions; the questions themselves keep their published wording.
KOOS_JR_PROMPT = (
    "Answers are about one knee. The questions below keep their published wording "
    "(KOOS JR, Lyman et al. 2016)."
)


class KoosJrItem(enum.StrEnum):
    """One of the 7 KOOS JR questions, in questionnaire order."""

    MORNING_STIFFNESS = "morning_stiffness"
    PAIN_TWISTING = "pain_twisting"
    PAIN_STRAIGHTENING = "pain_straightening"
    PAIN_STAIRS = "pain_stairs"
    PAIN_STANDING = "pain_standing"
    DIFFICULTY_RISING = "difficulty_rising"
    DIFFICULTY_BENDING = "difficulty_bending"

    @property
    def label(self) -> str:
        # Published wording (Lyman et al. 2016): a validated instrument is never paraphrased.
        return {
            "morning_stiffness": (
                "How severe is your knee stiffness after first wakening in the morning?"
            ),
            "pain_twisting": "Twisting/pivoting on your knee",
            "pain_straightening": "Straightening knee fully",
            "pain_stairs": "Going up or down stairs",
            "pain_standing": "Standing upright",
            "difficulty_rising": "Rising from sitting",
            "difficulty_bending": "Bending to floor/pick up an object",
        }[self.value]


class KoosJrAnswer(enum.IntEnum):
    """An answer to a KOOS JR question: 0 means no problem, 4 the worst."""

    NONE = 0
    MILD = 1
    MODERATE = 2
    SEVERE = 3
    EXTREME = 4

    @property
    def label(self) -> str:
        return ("None", "Mild", "Moderate", "Severe", "Extreme")[self.value]


KOOS_JR_ITEMS: tuple[KoosJrItem, ...] = tuple(KoosJrItem)
KOOS_JR_RAW_MAX = len(KOOS_JR_ITEMS) * KoosJrAnswer.EXTREME


@dataclass(frozen=True)
class QuestionGroup:
    """Questions asked under one published heading and stem, in questionnaire order."""

    heading: str
    stem: tuple[str, ...]  # paragraphs, as published
    items: tuple[KoosJrItem, ...] | tuple[LefsItem, ...]


# The three parts of the KOOS JR form, each with the stem printed above its questions.
KOOS_JR_GROUPS: tuple[QuestionGroup, ...] = (
    QuestionGroup(
        "Stiffness",
        (
            "The following question concerns the amount of joint stiffness you have "
            "experienced during the last week in your knee. Stiffness is a sensation of "
            "restriction or slowness in the ease with which you move your knee joint.",
        ),
        (KoosJrItem.MORNING_STIFFNESS,),
    ),
    QuestionGroup(
        "Pain",
        (
            "What amount of knee pain have you experienced the last week during the "
            "following activities?",
        ),
        (
            KoosJrItem.PAIN_TWISTING,
            KoosJrItem.PAIN_STRAIGHTENING,
            KoosJrItem.PAIN_STAIRS,
            KoosJrItem.PAIN_STANDING,
        ),
    ),
    QuestionGroup(
        "Function, daily living",
        (
            "The following questions concern your physical function. By this we mean your "
            "ability to move around and to look after yourself. For each of the following "
            "activities please indicate the degree of difficulty you have experienced in the "
            "last week due to your knee.",
        ),
        (KoosJrItem.DIFFICULTY_RISING, KoosJrItem.DIFFICULTY_BENDING),
    ),
)

# Raw sum (index) to interval score, 100 = perfect knee health. Lyman et al. 2016, Clin Orthop
# Relat Res 474:1461; the same values appear in several independent implementations. The curve
# is not linear, so it is a lookup, never a formula.
# fmt: off
_KOOS_JR_INTERVAL: tuple[Decimal, ...] = tuple(
    Decimal(s)
    for s in (
        "100.000", "91.975", "84.600", "79.914", "76.332", "73.342", "70.704", "68.284",
        "65.994", "63.776", "61.583", "59.381", "57.140", "54.840", "52.465", "50.012",
        "47.487", "44.905", "42.281", "39.625", "36.931", "34.174", "31.307", "28.251",
        "24.875", "20.941", "15.939", "8.291", "0.000",
    )
)
# fmt: on


@dataclass(frozen=True)
class KoosJrScore:
    """A scored KOOS JR: the raw sum of the answers and its interval score."""

    raw_sum: int
    interval_score: Decimal

    @property
    def label(self) -> str:
        return f"{format_score(Measure.KOOS_JR, self.interval_score)} / 100"


def convert_koos_jr_raw_sum(raw_sum: int) -> Decimal:
    """Convert a KOOS JR raw sum (0-28) to its interval score (100 = perfect knee health)."""
    if not _is_whole_number(raw_sum) or not 0 <= raw_sum <= KOOS_JR_RAW_MAX:
        raise RuleViolations.one(
            "raw_sum", f"A KOOS JR raw sum is a whole number 0-{KOOS_JR_RAW_MAX}."
        )
    return _KOOS_JR_INTERVAL[raw_sum]


def score_koos_jr(
    answers: Mapping[str, int | None] | Mapping[KoosJrItem, int | None],
) -> KoosJrScore:
    """Score a complete KOOS JR from its 7 answers keyed by item code."""
    values = _check_answers(
        _plain_keys(answers),
        KOOS_JR_ITEMS,
        instrument="KOOS JR",
        out_of_range="Choose an answer from 0 (none) to 4 (extreme).",
    )
    raw_sum = sum(values)
    return KoosJrScore(raw_sum=raw_sum, interval_score=_KOOS_JR_INTERVAL[raw_sum])


def compute_koos_jr_change(
    baseline: KoosJrScore | Decimal | int, latest: KoosJrScore | Decimal | int
) -> Decimal:
    """Return the signed change in KOOS JR interval score (positive is better).

    No threshold for a meaningful change is claimed: DOMAIN.md shows the change only.
    """
    first = _check_koos_jr_interval(_interval(baseline), "baseline")
    last = _check_koos_jr_interval(_interval(latest), "latest")
    return last - first


# --- LEFS ------------------------------------------------------------------------------------

LEFS_PROMPT = "The questions below keep their published wording (LEFS, Binkley et al. 1999)."


class LefsItem(enum.StrEnum):
    """One of the 20 LEFS activities, in questionnaire order."""

    USUAL_WORK = "usual_work"
    HOBBIES_SPORT = "hobbies_sport"
    BATH = "bath"
    WALKING_BETWEEN_ROOMS = "walking_between_rooms"
    SHOES_SOCKS = "shoes_socks"
    SQUATTING = "squatting"
    LIFTING_FROM_FLOOR = "lifting_from_floor"
    LIGHT_HOUSEWORK = "light_housework"
    HEAVY_HOUSEWORK = "heavy_housework"
    CAR = "car"
    WALKING_TWO_BLOCKS = "walking_two_blocks"
    WALKING_MILE = "walking_mile"
    STAIRS = "stairs"
    STANDING_HOUR = "standing_hour"
    SITTING_HOUR = "sitting_hour"
    RUNNING_EVEN = "running_even"
    RUNNING_UNEVEN = "running_uneven"
    SHARP_TURNS = "sharp_turns"
    HOPPING = "hopping"
    ROLLING_IN_BED = "rolling_in_bed"

    @property
    def label(self) -> str:
        # Published wording (Binkley et al. 1999): a validated instrument is never paraphrased.
        return {
            "usual_work": "Any of your usual work, housework, or school activities.",
            "hobbies_sport": "Your usual hobbies, recreational or sporting activities.",
            "bath": "Getting into or out of the bath.",
            "walking_between_rooms": "Walking between rooms.",
            "shoes_socks": "Putting on your shoes or socks.",
            "squatting": "Squatting.",
            "lifting_from_floor": "Lifting an object, like a bag of groceries from the floor.",
            "light_housework": "Performing light activities around your home.",
            "heavy_housework": "Performing heavy activities around your home.",
            "car": "Getting into or out of a car.",
            "walking_two_blocks": "Walking 2 blocks.",
            "walking_mile": "Walking a mile.",
            "stairs": "Going up or down 10 stairs (about 1 flight of stairs).",
            "standing_hour": "Standing for 1 hour.",
            "sitting_hour": "Sitting for 1 hour.",
            "running_even": "Running on even ground.",
            "running_uneven": "Running on uneven ground.",
            "sharp_turns": "Making sharp turns while running fast.",
            "hopping": "Hopping.",
            "rolling_in_bed": "Rolling over in bed.",
        }[self.value]


class LefsAnswer(enum.IntEnum):
    """An answer to a LEFS activity: 0 means extreme difficulty or unable, 4 no difficulty."""

    EXTREME_OR_UNABLE = 0
    QUITE_A_BIT = 1
    MODERATE = 2
    A_LITTLE = 3
    NO_DIFFICULTY = 4

    @property
    def label(self) -> str:
        # The response labels as printed on the published form.
        return (
            "Extreme Difficulty or Unable to Perform Activity",
            "Quite a Bit of Difficulty",
            "Moderate Difficulty",
            "A Little Bit of Difficulty",
            "No Difficulty",
        )[self.value]


LEFS_ITEMS: tuple[LefsItem, ...] = tuple(LefsItem)
LEFS_MAX = len(LEFS_ITEMS) * LefsAnswer.NO_DIFFICULTY

# The LEFS form: its instruction, then the question every activity completes.
LEFS_GROUPS: tuple[QuestionGroup, ...] = (
    QuestionGroup(
        "",
        (
            "We are interested in knowing whether you are having any difficulty at all with "
            "the activities listed below because of your lower limb problem for which you are "
            "currently seeking attention. Please provide an answer for each activity.",
            "Today, do you or would you have any difficulty at all with:",
        ),
        LEFS_ITEMS,
    ),
)

# Binkley et al. 1999, Phys Ther 79:371: the minimal clinically important difference (and the
# minimal detectable change) of the LEFS is 9 scale points.
LEFS_IMPORTANT_CHANGE = 9


class LefsChange(enum.StrEnum):
    """How a LEFS score moved from baseline, against the 9-point threshold."""

    IMPORTANT_IMPROVEMENT = "important_improvement"
    IMPROVEMENT = "improvement"
    NO_CHANGE = "no_change"
    WORSENING = "worsening"
    IMPORTANT_WORSENING = "important_worsening"

    @property
    def label(self) -> str:
        return {
            "important_improvement": "Better by 9 points or more: an important improvement",
            "improvement": "Better, by less than 9 points",
            "no_change": "No change",
            "worsening": "Worse, by less than 9 points",
            "important_worsening": "Worse by 9 points or more: an important decline",
        }[self.value]

    @property
    def is_important(self) -> bool:
        return self in (LefsChange.IMPORTANT_IMPROVEMENT, LefsChange.IMPORTANT_WORSENING)

    @property
    def direction(self) -> Direction:
        if self in (LefsChange.IMPORTANT_IMPROVEMENT, LefsChange.IMPROVEMENT):
            return Direction.BETTER
        if self is LefsChange.NO_CHANGE:
            return Direction.SAME
        return Direction.WORSE


def score_lefs(answers: Mapping[str, int | None] | Mapping[LefsItem, int | None]) -> int:
    """Score a complete LEFS from its 20 answers keyed by item code (0-80, higher is better)."""
    values = _check_answers(
        _plain_keys(answers),
        LEFS_ITEMS,
        instrument="LEFS",
        out_of_range="Choose an answer from 0 (extreme difficulty) to 4 (no difficulty).",
    )
    return sum(values)


def classify_lefs_change(baseline: int, latest: int) -> LefsChange:
    """Classify the change between two LEFS scores against the 9-point threshold."""
    _check_int_range(
        [("baseline", baseline), ("latest", latest)], 0, LEFS_MAX, "A LEFS score is 0-80."
    )
    change = latest - baseline
    # The threshold is applied both ways: a fall of 9 points is as real as a rise of 9.
    if change >= LEFS_IMPORTANT_CHANGE:
        return LefsChange.IMPORTANT_IMPROVEMENT
    if change <= -LEFS_IMPORTANT_CHANGE:
        return LefsChange.IMPORTANT_WORSENING
    if change > 0:
        return LefsChange.IMPROVEMENT
    if change < 0:
        return LefsChange.WORSENING
    return LefsChange.NO_CHANGE


# --- Pain (NPRS) -----------------------------------------------------------------------------

NPRS_MIN = 0
NPRS_MAX = 10

# Farrar et al. 2001, Pain 94:149: a fall of about 2 points or 30 % on the 0-10 scale matched
# "much improved"; the app asks for both.
_IMPORTANT_PAIN_POINTS = 2
_IMPORTANT_PAIN_SHARE = Fraction(30, 100)
# Salaffi et al. 2004, Eur J Pain 8:283 (chronic musculoskeletal pain, knee osteoarthritis
# among it): the minimal clinically important improvement was 1 point and 15 %.
_MINIMAL_PAIN_POINTS = 1
_MINIMAL_PAIN_SHARE = Fraction(15, 100)


class PainChange(enum.StrEnum):
    """How pain (0-10) moved from baseline, judged by published thresholds."""

    IMPORTANT_IMPROVEMENT = "important_improvement"
    MINIMAL_IMPROVEMENT = "minimal_improvement"
    NO_MEANINGFUL_CHANGE = "no_meaningful_change"
    WORSE = "worse"

    @property
    def label(self) -> str:
        return {
            "important_improvement": "Clinically important improvement",
            "minimal_improvement": "Small but noticeable improvement",
            "no_meaningful_change": "No meaningful change",
            "worse": "Pain is higher than at the start",
        }[self.value]


def classify_pain_change(baseline: int, latest: int) -> PainChange:
    """Classify the change from a baseline pain rating (0-10) to the latest one."""
    _check_int_range(
        [("baseline", baseline), ("latest", latest)],
        NPRS_MIN,
        NPRS_MAX,
        "Pain is rated as a whole number from 0 to 10.",
    )
    # Any rise is reported: massage should not leave pain higher, so even 1 point is worth a look.
    if latest > baseline:
        return PainChange.WORSE
    reduction = baseline - latest
    # Fractions keep the edges exact: in floats 0.3 * 10 is 3.0000000000000004, so 10 -> 7 would
    # miss the 30 % it meets. A baseline of 0 cannot improve: both tests fail on the point count.
    if reduction >= _IMPORTANT_PAIN_POINTS and reduction >= _IMPORTANT_PAIN_SHARE * baseline:
        return PainChange.IMPORTANT_IMPROVEMENT
    if reduction >= _MINIMAL_PAIN_POINTS and reduction >= _MINIMAL_PAIN_SHARE * baseline:
        return PainChange.MINIMAL_IMPROVEMENT
    return PainChange.NO_MEANINGFUL_CHANGE


def average_within_visit_change(pairs: Iterable[tuple[int, int]]) -> Decimal | None:
    """Return the mean pain change within visits (after minus before), or None without pairs.

    Negative means pain fell during visits. Rounded half away from zero to 1 decimal place.
    """
    checked: list[tuple[int, int]] = []
    for index, (before, after) in enumerate(pairs):
        _check_int_range(
            [(f"pairs[{index}].before", before), (f"pairs[{index}].after", after)],
            NPRS_MIN,
            NPRS_MAX,
            "Pain is rated as a whole number from 0 to 10.",
        )
        checked.append((before, after))
    if not checked:
        return None
    total = sum(after - before for before, after in checked)
    return (Decimal(total) / Decimal(len(checked))).quantize(Decimal("0.1"), ROUND_HALF_UP)


# --- Series ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatedValue:
    """One value of a measure and the day it was taken."""

    on: date
    value: int | Decimal


@dataclass(frozen=True)
class SeriesSummary:
    """Baseline, latest value and the change between them for one measure."""

    measure: Measure
    baseline: DatedValue
    latest: DatedValue
    change: int | Decimal  # latest minus baseline; see `direction` for better or worse
    direction: Direction
    classification: PainChange | LefsChange | None  # None for KOOS JR: no threshold is claimed
    count: int

    @property
    def label(self) -> str:
        if self.classification is not None:
            return self.classification.label
        return self.direction.label

    @property
    def baseline_text(self) -> str:
        """The baseline value rounded for reading."""
        return format_score(self.measure, self.baseline.value)

    @property
    def latest_text(self) -> str:
        """The latest value rounded for reading."""
        return format_score(self.measure, self.latest.value)

    @property
    def change_text(self) -> str:
        """The signed change rounded for reading."""
        return format_change(self.measure, self.change)


def summarise_series(
    measure: Measure, values: Iterable[DatedValue | tuple[date, int | Decimal]]
) -> SeriesSummary | None:
    """Summarise dated values of one measure from the earliest to the latest, or None if empty.

    Values are ordered by date (stable, so same-day values keep the order given); NPRS and LEFS
    values are whole numbers, KOOS JR values are interval scores (0-100).
    """
    points = [v if isinstance(v, DatedValue) else DatedValue(on=v[0], value=v[1]) for v in values]
    if not points:
        return None
    for index, point in enumerate(points):
        _check_series_value(measure, point.value, f"values[{index}]")
    points.sort(key=lambda p: p.on)
    baseline, latest = points[0], points[-1]
    change = latest.value - baseline.value

    classification: PainChange | LefsChange | None = None
    if measure is Measure.NPRS:
        classification = classify_pain_change(int(baseline.value), int(latest.value))
    elif measure is Measure.LEFS:
        classification = classify_lefs_change(int(baseline.value), int(latest.value))

    if change == 0:
        direction = Direction.SAME
    elif (change > 0) == measure.higher_is_better:
        direction = Direction.BETTER
    else:
        direction = Direction.WORSE
    return SeriesSummary(
        measure=measure,
        baseline=baseline,
        latest=latest,
        change=change,
        direction=direction,
        classification=classification,
        count=len(points),
    )


# --- Display ---------------------------------------------------------------------------------

# The published KOOS JR table has three decimals; one is enough to read a score by, and the exact
# value stays stored (and in the CSV export). NPRS and LEFS are whole numbers.
_SHOWN_PLACES = {
    Measure.KOOS_JR: Decimal("0.1"),
    Measure.NPRS: Decimal(1),
    Measure.LEFS: Decimal(1),
}


def _rounded(measure: Measure, value: int | Decimal) -> Decimal:
    rounded = Decimal(value).quantize(_SHOWN_PLACES[measure], ROUND_HALF_UP)
    # A change like -0.04 rounds to "-0.0"; reading it as "no change" is what is meant.
    return rounded.copy_abs() if rounded == 0 else rounded


def format_score(measure: Measure, value: int | Decimal) -> str:
    """Return a score rounded for reading: KOOS JR to one decimal, NPRS and LEFS whole."""
    return str(_rounded(measure, value))


def format_change(measure: Measure, change: int | Decimal) -> str:
    """Return a signed change rounded as its scores are ("+11.6", "-2", "0")."""
    rounded = _rounded(measure, change)
    return f"+{rounded}" if rounded > 0 else str(rounded)


# --- Checks ----------------------------------------------------------------------------------


# Both questionnaires answer on 0-4; only the meaning of the ends differs.
_LOWEST_ANSWER = 0
_HIGHEST_ANSWER = 4


def _is_whole_number(value: object) -> bool:
    # bool is an int subclass, but True is not an answer anyone gave.
    return isinstance(value, int) and not isinstance(value, bool)


def _plain_keys(
    answers: Mapping[str, int | None]
    | Mapping[KoosJrItem, int | None]
    | Mapping[LefsItem, int | None],
) -> dict[str, int | None]:
    # Mapping keys are invariant, so enum-keyed and str-keyed answers are separate types; str()
    # of a StrEnum member is its code, which makes one shape for the checks.
    return {str(key): value for key, value in answers.items()}


def _check_answers(
    answers: Mapping[str, int | None],
    items: Sequence[KoosJrItem] | Sequence[LefsItem],
    *,
    instrument: str,
    out_of_range: str,
) -> list[int]:
    """Return the answers in questionnaire order, or raise naming every offending item."""
    violations: list[Problem] = []
    values: list[int] = []
    for item in items:
        value = answers.get(item.value)
        if value is None:
            violations.append(Problem(item.value, "Answer this question."))
        elif not _is_whole_number(value) or not _LOWEST_ANSWER <= value <= _HIGHEST_ANSWER:
            violations.append(Problem(item.value, out_of_range))
        else:
            values.append(value)
    known = {item.value for item in items}
    for key in answers:
        if key not in known:
            violations.append(Problem(str(key), f"This is not a {instrument} question."))
    if violations:
        raise RuleViolations(violations)
    return values


def _check_int_range(named: Sequence[tuple[str, int]], low: int, high: int, message: str) -> None:
    violations = [
        Problem(name, message)
        for name, value in named
        if not _is_whole_number(value) or not low <= value <= high
    ]
    if violations:
        raise RuleViolations(violations)


def _interval(value: KoosJrScore | Decimal | int) -> Decimal | int:
    return value.interval_score if isinstance(value, KoosJrScore) else value


def _check_koos_jr_interval(value: Decimal | int, field: str) -> Decimal:
    if isinstance(value, Decimal):
        ok = value.is_finite() and 0 <= value <= _KOOS_JR_INTERVAL[0]
    else:
        ok = _is_whole_number(value) and 0 <= value <= _KOOS_JR_INTERVAL[0]
    if not ok:
        raise RuleViolations.one(field, "A KOOS JR score is from 0 to 100.")
    return Decimal(value)


def _check_series_value(measure: Measure, value: int | Decimal, field: str) -> None:
    if measure is Measure.KOOS_JR:
        _check_koos_jr_interval(value, field)
        return
    high = NPRS_MAX if measure is Measure.NPRS else LEFS_MAX
    if not _is_whole_number(value) or not 0 <= value <= high:
        raise RuleViolations.one(field, f"{measure.label} is a whole number 0-{high}.")
