"""Tests for checking a planned technique entry against a screening result."""

from __future__ import annotations

import itertools
from dataclasses import fields
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.domain.catalogue import (
    HELD_PRESSURE_SITES,
    Laterality,
    Pressure,
    Region,
    Side,
    Target,
    Technique,
)
from clinic.domain.screening import (
    CLEARANCE_ONLY_CODES,
    FINDING_LABELS,
    QUESTIONS,
    QUESTIONS_BY_CODE,
    Answer,
    LiftedBy,
    PlannedTechnique,
    ScreeningResult,
    Tier,
    ViolationCode,
    apply_clearances,
    blank_answers,
    check_technique,
    evaluate_screening,
)
from clinic.domain.screening_status import ScreeningStatus, assess_screening_status
from clinic.domain.visits import (
    AFTERCARE,
    ENTRY_FIELDS,
    MAX_ENTRIES,
    REQUIRED_ENTRY_FIELDS,
    AdverseResponse,
    EntryDetails,
    check_dose,
    check_entries,
    check_entry,
    check_entry_count,
    check_total_minutes,
    entry_allowance,
    is_written_reason,
    reasons_note_cannot_change,
    reasons_visit_cannot_start,
    visit_reminders,
)

L, R, B = Laterality.LEFT, Laterality.RIGHT, Laterality.BOTH
V = ViolationCode
YES = Answer(True)
EFFLEURAGE, PETRISSAGE = Technique.EFFLEURAGE, Technique.PETRISSAGE
CIRCLES, HOLD, LIFTING = (
    Technique.CIRCULAR_FRICTION,
    Technique.TRIGGER_POINT,
    Technique.MYOFASCIAL_RELEASE,
)
LIGHT, MEDIUM, FIRM, DEEP = Pressure.LIGHT, Pressure.MEDIUM, Pressure.FIRM, Pressure.DEEP
LEFT, RIGHT = Side.LEFT, Side.RIGHT
CLEAR = evaluate_screening(blank_answers(), age=30)


def screen(age: int | None = 30, **yes: Answer) -> ScreeningResult:
    """Evaluate a screening where only the given questions are answered yes."""
    return evaluate_screening({**blank_answers(), **yes}, age=age)


def plan(
    technique: Technique,
    target: Target,
    side: Side = Side.LEFT,
    pressure: Pressure = Pressure.LIGHT,
) -> PlannedTechnique:
    """Build a planned entry, light on the left unless told otherwise."""
    return PlannedTechnique(technique, target, side, pressure)


def codes(result: ScreeningResult, planned: PlannedTechnique) -> list[ViolationCode]:
    """Return the codes of the violations, in order."""
    return [v.code for v in check_technique(result, planned)]


# --- Every technique x target pair (DOMAIN.md section 3) ---------------------------------------

ALL_PAIRS = list(itertools.product(Technique, Target))


@pytest.mark.parametrize(
    ("technique", "target"), ALL_PAIRS, ids=[f"{a.value}-{b.value}" for a, b in ALL_PAIRS]
)
def test_every_pair_on_a_clear_client_at_light_pressure(
    technique: Technique, target: Target
) -> None:
    violations = check_technique(CLEAR, plan(technique, target))
    if technique.allows(target):
        assert violations == []
    else:
        first = violations[0]
        assert first.code is V.TECHNIQUE_NOT_FOR_TARGET
        assert not first.overridable
        assert first.finding_code is None
        assert first.field == "technique"
        assert target.label in first.reason


# --- Always-on site rules (DOMAIN.md section 1.4) ----------------------------------------------

SITE_ROWS: list[tuple[str, Technique, Target, Pressure, list[ViolationCode]]] = [
    ("kneecap effleurage light", EFFLEURAGE, Target.AROUND_KNEECAP, LIGHT, []),
    ("kneecap effleurage medium", EFFLEURAGE, Target.AROUND_KNEECAP, MEDIUM, [V.KNEECAP]),
    ("whole knee effleurage medium", EFFLEURAGE, Target.KNEE_JOINT, MEDIUM, [V.KNEECAP]),
    ("kneecap friction medium", CIRCLES, Target.AROUND_KNEECAP, MEDIUM, []),
    ("kneecap friction firm", CIRCLES, Target.AROUND_KNEECAP, FIRM, [V.KNEECAP]),
    ("joint line friction deep", CIRCLES, Target.KNEE_JOINT, DEEP, [V.KNEECAP]),
    ("kneecap skin lifting medium", LIFTING, Target.AROUND_KNEECAP, MEDIUM, []),
    ("kneecap skin lifting firm", LIFTING, Target.AROUND_KNEECAP, FIRM, [V.KNEECAP]),
    (
        "kneecap trigger point",
        HOLD,
        Target.AROUND_KNEECAP,
        LIGHT,
        [V.TECHNIQUE_NOT_FOR_TARGET, V.KNEECAP],
    ),
    ("back of knee effleurage light", EFFLEURAGE, Target.BACK_OF_KNEE, LIGHT, []),
    ("back of knee effleurage medium", EFFLEURAGE, Target.BACK_OF_KNEE, MEDIUM, [V.BACK_OF_KNEE]),
    ("popliteus effleurage firm", EFFLEURAGE, Target.POPLITEUS, FIRM, [V.BACK_OF_KNEE]),
    (
        "back of knee trigger point",
        HOLD,
        Target.BACK_OF_KNEE,
        LIGHT,
        [V.TECHNIQUE_NOT_FOR_TARGET, V.BACK_OF_KNEE],
    ),
    (
        "popliteus trigger point firm",
        HOLD,
        Target.POPLITEUS,
        FIRM,
        [V.TECHNIQUE_NOT_FOR_TARGET, V.BACK_OF_KNEE, V.BACK_OF_KNEE],
    ),
    ("LCL trigger point", HOLD, Target.LCL, LIGHT, [V.TECHNIQUE_NOT_FOR_TARGET, V.FIBULAR_HEAD]),
    (
        "hamstring tendons myofascial hold",
        LIFTING,
        Target.HAMSTRING_TENDONS,
        LIGHT,
        [V.TECHNIQUE_NOT_FOR_TARGET, V.FIBULAR_HEAD],
    ),
    ("LCL cross-fibre friction firm", Technique.CROSS_FIBRE_FRICTION, Target.LCL, FIRM, []),
    ("MCL cross-fibre friction deep", Technique.CROSS_FIBRE_FRICTION, Target.MCL, DEEP, []),
    ("quadriceps petrissage deep", PETRISSAGE, Target.QUADRICEPS, DEEP, []),
    ("calf trigger point deep", HOLD, Target.CALF, DEEP, []),
    ("heat on a quiet knee", Technique.HEAT, Target.KNEE_JOINT, LIGHT, []),
]


@pytest.mark.parametrize(
    ("technique", "target", "pressure", "expected"),
    [row[1:] for row in SITE_ROWS],
    ids=[row[0] for row in SITE_ROWS],
)
def test_site_rules(
    technique: Technique, target: Target, pressure: Pressure, expected: list[ViolationCode]
) -> None:
    violations = check_technique(CLEAR, plan(technique, target, Side.RIGHT, pressure))
    assert [v.code for v in violations] == expected
    assert not any(v.overridable for v in violations)
    assert all(v.finding_code is None for v in violations)


# --- Avoided areas (DOMAIN.md section 1.2): overridable with a written reason -----------------

AREA_ROWS: list[tuple[str, Answer, Target, Side, bool]] = [
    ("skin_break", Answer(True, side=L, region=Region.SHIN), Target.TIBIALIS_ANTERIOR, LEFT, True),
    (
        "skin_break",
        Answer(True, side=L, region=Region.SHIN),
        Target.TIBIALIS_ANTERIOR,
        RIGHT,
        False,
    ),
    ("skin_break", Answer(True, side=L, region=Region.SHIN), Target.CALF, LEFT, False),
    ("skin_break", Answer(True, side=L, region=Region.LOWER_LEG), Target.CALF, LEFT, True),
    ("skin_break", Answer(True, side=L, region=Region.WHOLE_LEG), Target.QUADRICEPS, LEFT, True),
    (
        "recent_fracture",
        Answer(True, side=R, region=Region.THIGH),
        Target.ILIOTIBIAL_BAND,
        RIGHT,
        True,
    ),
    ("recent_fracture", Answer(True, side=R, region=Region.THIGH), Target.KNEE_JOINT, RIGHT, False),
    ("acute_flare", Answer(True, side=R), Target.PATELLAR_TENDON, RIGHT, True),
    ("acute_flare", Answer(True, side=R), Target.QUADRICEPS, RIGHT, False),
    ("acute_flare", Answer(True, side=R), Target.PATELLAR_TENDON, LEFT, False),
    ("recent_surgery", Answer(True, side=R, region=Region.KNEE), Target.KNEE_JOINT, RIGHT, True),
    ("varicose_veins", Answer(True, side=B, region=Region.CALF), Target.CALF, RIGHT, True),
    ("varicose_veins", Answer(True, side=B, region=Region.CALF), Target.CALF, LEFT, True),
    ("varicose_veins", Answer(True, side=B, region=Region.CALF), Target.HAMSTRINGS, LEFT, False),
    ("bruise", Answer(True, side=R, region=Region.THIGH), Target.ADDUCTORS, RIGHT, True),
    ("unexplained_lump", Answer(True, side=L, region=Region.CALF), Target.CALF, LEFT, True),
    ("recent_knee_injury", Answer(True, side=L), Target.MCL, LEFT, True),
    ("recent_knee_injury", Answer(True, side=L), Target.MCL, RIGHT, False),
]


@pytest.mark.parametrize(
    ("code", "answer", "target", "side", "avoided"),
    AREA_ROWS,
    ids=[f"{row[0]}-{row[2].value}-{row[3].value}" for row in AREA_ROWS],
)
def test_avoided_areas(
    code: str, answer: Answer, target: Target, side: Side, avoided: bool
) -> None:
    result = screen(**{code: answer})
    violations = check_technique(result, plan(Technique.EFFLEURAGE, target, side))
    if not avoided:
        assert violations == []
        return
    assert len(violations) == 1
    violation = violations[0]
    assert violation.code is V.AVOIDED_AREA
    # A break, an operation site or an unchecked lump is lifted only by a clearance (8.1).
    assert violation.overridable is (code not in CLEARANCE_ONLY_CODES)
    assert violation.finding_code == code
    assert violation.field == "target"
    if violation.overridable:
        assert "write down why" in violation.reason
    else:
        assert "a written reason is not enough" in violation.reason


# --- Pressure caps (DOMAIN.md section 1.3) -----------------------------------------------------

CAP_ROWS: list[tuple[str, Answer, Technique, Target, Side, Pressure, bool]] = [
    ("anticoagulants", YES, PETRISSAGE, Target.QUADRICEPS, LEFT, MEDIUM, False),
    ("anticoagulants", YES, PETRISSAGE, Target.QUADRICEPS, LEFT, FIRM, True),
    ("neuropathy", YES, PETRISSAGE, Target.CALF, RIGHT, DEEP, True),
    ("osteoporosis", YES, HOLD, Target.HAMSTRINGS, LEFT, FIRM, True),
    ("cancer", YES, Technique.CROSS_FIBRE_FRICTION, Target.ILIOTIBIAL_BAND, LEFT, FIRM, True),
    ("pregnancy", YES, PETRISSAGE, Target.CALF, LEFT, FIRM, True),
    ("pregnancy", YES, PETRISSAGE, Target.CALF, RIGHT, MEDIUM, False),
    ("pregnancy", YES, PETRISSAGE, Target.QUADRICEPS, LEFT, DEEP, False),
    ("previous_dvt", Answer(True, side=L), PETRISSAGE, Target.CALF, LEFT, MEDIUM, True),
    ("previous_dvt", Answer(True, side=L), PETRISSAGE, Target.CALF, LEFT, LIGHT, False),
    ("previous_dvt", Answer(True, side=L), PETRISSAGE, Target.CALF, RIGHT, FIRM, False),
    (
        "post_replacement_cleared",
        Answer(True, side=R),
        Technique.CROSS_FIBRE_FRICTION,
        Target.PATELLAR_TENDON,
        RIGHT,
        MEDIUM,
        True,
    ),
    (
        "post_replacement_cleared",
        Answer(True, side=R),
        PETRISSAGE,
        Target.QUADRICEPS,
        RIGHT,
        FIRM,
        False,
    ),
    ("immobilisation", Answer(True, side=B), PETRISSAGE, Target.CALF, RIGHT, MEDIUM, True),
    (
        "immobilisation",
        Answer(True, side=B),
        PETRISSAGE,
        Target.TIBIALIS_ANTERIOR,
        RIGHT,
        MEDIUM,
        False,
    ),
    ("product_allergy", YES, PETRISSAGE, Target.QUADRICEPS, LEFT, DEEP, False),
]


@pytest.mark.parametrize(
    ("code", "answer", "technique", "target", "side", "pressure", "above"),
    CAP_ROWS,
    ids=[f"{r[0]}-{r[3].value}-{r[4].value}-{r[5].label.lower()}" for r in CAP_ROWS],
)
def test_pressure_caps(
    code: str,
    answer: Answer,
    technique: Technique,
    target: Target,
    side: Side,
    pressure: Pressure,
    above: bool,
) -> None:
    result = screen(**{code: answer})
    violations = check_technique(result, plan(technique, target, side, pressure))
    if not above:
        assert violations == []
        return
    assert [v.code for v in violations] == [V.PRESSURE_ABOVE_CAP]
    assert violations[0].finding_code == code
    assert not violations[0].overridable
    assert violations[0].field == "pressure"


def test_each_cap_exceeded_is_reported_with_its_finding() -> None:
    result = screen(anticoagulants=Answer(True), previous_dvt=Answer(True, side=L))
    violations = check_technique(
        result, plan(Technique.PETRISSAGE, Target.CALF, Side.LEFT, Pressure.FIRM)
    )
    assert [(v.code, v.finding_code) for v in violations] == [
        (V.PRESSURE_ABOVE_CAP, "anticoagulants"),
        (V.PRESSURE_ABOVE_CAP, "previous_dvt"),
    ]


# --- Heat on an inflamed knee (DOMAIN.md section 3) -------------------------------------------

HEAT_ROWS: list[tuple[str, Answer, Technique, Side, list[ViolationCode]]] = [
    (
        "acute_flare",
        Answer(True, side=L),
        Technique.HEAT,
        LEFT,
        [V.AVOIDED_AREA, V.HEAT_ON_INFLAMED_KNEE],
    ),
    ("acute_flare", Answer(True, side=L), Technique.COLD, LEFT, [V.AVOIDED_AREA]),
    ("acute_flare", Answer(True, side=L), Technique.HEAT, RIGHT, []),
    (
        "recent_knee_injury",
        Answer(True, side=R),
        Technique.HEAT,
        RIGHT,
        [V.AVOIDED_AREA, V.HEAT_ON_INFLAMED_KNEE],
    ),
    (
        "hot_swollen_knee",
        Answer(True, side=B),
        Technique.HEAT,
        LEFT,
        [V.REFER_NOT_CLEARED, V.HEAT_ON_INFLAMED_KNEE],
    ),
]


@pytest.mark.parametrize(
    ("code", "answer", "technique", "side", "expected"),
    HEAT_ROWS,
    ids=[f"{r[0]}-{r[2].value}-{r[3].value}" for r in HEAT_ROWS],
)
def test_heat_on_an_inflamed_knee(
    code: str, answer: Answer, technique: Technique, side: Side, expected: list[ViolationCode]
) -> None:
    result = screen(**{code: answer})
    violations = check_technique(result, plan(technique, Target.KNEE_JOINT, side))
    assert [v.code for v in violations] == expected
    heat = [v for v in violations if v.code is V.HEAT_ON_INFLAMED_KNEE]
    assert all(v.finding_code == code and not v.overridable for v in heat)


def test_a_written_reason_cannot_override_heat_on_a_flared_knee() -> None:
    result = screen(acute_flare=Answer(True, side=L))
    violations = check_technique(result, plan(Technique.HEAT, Target.KNEE_JOINT))
    assert [v.overridable for v in violations] == [True, False]


def test_a_cleared_hot_knee_still_takes_no_heat_and_medium_at_most() -> None:
    # DOMAIN.md 8.1: the clearance rules out infection, not inflammation.
    result = apply_clearances(screen(hot_swollen_knee=Answer(True, side=L)), ["hot_swollen_knee"])
    assert codes(result, plan(Technique.HEAT, Target.KNEE_JOINT)) == [V.HEAT_ON_INFLAMED_KNEE]
    assert codes(result, plan(Technique.COLD, Target.KNEE_JOINT)) == []
    friction = Technique.CROSS_FIBRE_FRICTION
    assert codes(result, plan(friction, Target.PATELLAR_TENDON, pressure=MEDIUM)) == []
    assert codes(result, plan(friction, Target.PATELLAR_TENDON, pressure=FIRM)) == [
        V.PRESSURE_ABOVE_CAP
    ]
    assert codes(result, plan(friction, Target.PATELLAR_TENDON, RIGHT, FIRM)) == []


# --- Referrals not cleared (DOMAIN.md section 1.1) ---------------------------------------------

REFER_ROWS: list[tuple[str, dict[str, Answer], int | None, bool]] = [
    ("breathless_chest_pain", {"breathless_chest_pain": YES}, 30, True),
    ("dvt_signs", {"dvt_signs": Answer(True, side=L)}, 30, True),
    ("dvt_current", {"dvt_current": Answer(True, side=B)}, 30, True),
    ("hot_swollen_knee", {"hot_swollen_knee": Answer(True, side=R)}, 30, True),
    ("locked_or_numb", {"locked_or_numb": Answer(True, side=R)}, 30, True),
    ("fever_infection", {"fever_infection": YES}, 30, False),
    ("unexplained_pain", {"unexplained_pain": YES}, 30, True),
    ("hypertension_uncontrolled", {"hypertension_uncontrolled": YES}, 30, True),
    ("acute_injury_ottawa", {"recent_knee_injury": Answer(True, side=L)}, 60, True),
]


@pytest.mark.parametrize(
    ("code", "answers", "age", "clearable"), REFER_ROWS, ids=[row[0] for row in REFER_ROWS]
)
def test_a_referral_not_cleared_refuses_any_treatment(
    code: str, answers: dict[str, Answer], age: int | None, clearable: bool
) -> None:
    result = screen(age=age, **answers)
    # Even the gentlest entry, far from any named area, is refused.
    planned = plan(Technique.EFFLEURAGE, Target.QUADRICEPS, Side.RIGHT, Pressure.LIGHT)
    violations = check_technique(result, planned)
    refusal = [v for v in violations if v.code is V.REFER_NOT_CLEARED]
    assert [v.finding_code for v in refusal] == [code]
    assert violations[0] is refusal[0]
    assert not refusal[0].overridable

    cleared = apply_clearances(result, [code])
    still_refused = V.REFER_NOT_CLEARED in codes(cleared, planned)
    assert still_refused is not clearable


# --- Clearances lift restrictions --------------------------------------------------------------

CLEARED_ROWS: list[tuple[str, Answer, PlannedTechnique]] = [
    (
        "recent_surgery",
        Answer(True, side=L, region=Region.KNEE),
        plan(EFFLEURAGE, Target.KNEE_JOINT),
    ),
    (
        "recent_fracture",
        Answer(True, side=L, region=Region.THIGH),
        plan(PETRISSAGE, Target.QUADRICEPS),
    ),
    ("unexplained_lump", Answer(True, side=L, region=Region.CALF), plan(PETRISSAGE, Target.CALF)),
    ("cancer", YES, plan(PETRISSAGE, Target.QUADRICEPS, LEFT, DEEP)),
    ("dvt_current", Answer(True, side=L), plan(PETRISSAGE, Target.CALF)),
]


@pytest.mark.parametrize(
    ("code", "answer", "planned"), CLEARED_ROWS, ids=[row[0] for row in CLEARED_ROWS]
)
def test_a_cleared_finding_no_longer_restricts(
    code: str, answer: Answer, planned: PlannedTechnique
) -> None:
    result = screen(**{code: answer})
    assert [v.finding_code for v in check_technique(result, planned)] == [code]
    assert check_technique(apply_clearances(result, [code]), planned) == []


@pytest.mark.parametrize(
    ("code", "answer", "planned"),
    [
        ("varicose_veins", Answer(True, side=L, region=Region.CALF), plan(PETRISSAGE, Target.CALF)),
        ("previous_dvt", Answer(True, side=L), plan(PETRISSAGE, Target.CALF, LEFT, FIRM)),
        ("acute_flare", Answer(True, side=L), plan(EFFLEURAGE, Target.KNEE_JOINT)),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_clearance_does_not_lift_a_standing_or_healing_precaution(
    code: str, answer: Answer, planned: PlannedTechnique
) -> None:
    result = apply_clearances(screen(**{code: answer}), [code])
    assert [v.finding_code for v in check_technique(result, planned)] == [code]


# --- Properties over any screening and any entry ----------------------------------------------


def yes_answer(code: str) -> st.SearchStrategy[Answer]:
    """Draw a valid yes answer to the question with that code."""
    question = QUESTIONS_BY_CODE[code]
    return st.builds(
        Answer,
        yes=st.just(True),
        side=st.sampled_from(Laterality) if question.asks_side else st.none(),
        region=st.sampled_from(Region) if question.asks_region else st.none(),
    )


@st.composite
def results(draw: st.DrawFn) -> ScreeningResult:
    """Draw a screening result with a few yes answers and some clearances."""
    yes_codes = draw(st.sets(st.sampled_from([q.code for q in QUESTIONS]), max_size=5))
    answers = blank_answers()
    for code in sorted(yes_codes):
        answers[code] = draw(yes_answer(code))
    age = draw(st.none() | st.integers(min_value=18, max_value=90))
    cleared = draw(st.frozensets(st.sampled_from(sorted(FINDING_LABELS)), max_size=4))
    return apply_clearances(evaluate_screening(answers, age=age), cleared)


PLANS = st.builds(
    PlannedTechnique,
    st.sampled_from(Technique),
    st.sampled_from(Target),
    st.sampled_from(Side),
    st.sampled_from(Pressure),
)


@settings(max_examples=150, deadline=None)
@given(result=results(), planned=PLANS)
def test_violations_are_well_formed(result: ScreeningResult, planned: PlannedTechnique) -> None:
    violations = check_technique(result, planned)
    active = {f.code for f in result.active_findings}
    for violation in violations:
        assert violation.reason.strip()
        assert violation.overridable is (
            violation.code is V.AVOIDED_AREA and violation.finding_code not in CLEARANCE_ONLY_CODES
        )
        # A cleared finding never restricts.
        assert violation.finding_code is None or violation.finding_code in active
    refused = V.REFER_NOT_CLEARED in {v.code for v in violations}
    assert refused is (result.effective_tier is Tier.REFER)
    if result.effective_tier is Tier.CLEAR:
        assert all(v.finding_code is None for v in violations)


@settings(max_examples=100, deadline=None)
@given(result=results(), planned=PLANS)
def test_clearing_everything_clearable_never_adds_violations(
    result: ScreeningResult, planned: PlannedTechnique
) -> None:
    clearable = [f.code for f in result.findings if f.lifted_by is LiftedBy.MEDICAL_CLEARANCE]
    before = check_technique(result, planned)
    after = check_technique(apply_clearances(result, clearable), planned)
    # A cleared referral lets treatment start, under the limits it leaves behind (8.1): only
    # then may new limits appear. Otherwise clearing never refuses anything more.
    if V.REFER_NOT_CLEARED not in {v.code for v in before}:
        assert set(after) <= set(before)
    if not before:
        assert after == []


# --- A visit's entries: one shape, problems keyed by row -----------------------------------------


def entry_of(
    technique: Technique = PETRISSAGE,
    target: Target = Target.QUADRICEPS,
    side: Side = LEFT,
    pressure: Pressure | str | None = "light unless none",
    minutes: str = "10",
    override_reason: str = "",
    hold_seconds: int | None = None,
) -> EntryDetails:
    """Build a visit entry, light petrissage on the left quadriceps unless told otherwise.

    Heat, cold and joint mobilisation get no pressure unless one is given.
    """
    if isinstance(pressure, str):
        pressure = LIGHT if technique.has_pressure else None
    return EntryDetails(
        technique,
        target,
        side,
        pressure,
        Decimal(minutes),
        hold_seconds=hold_seconds,
        override_reason=override_reason,
    )


GRAZED_THIGH = screen(skin_break=Answer(True, side=L, region=Region.THIGH))


@pytest.mark.parametrize(
    ("result", "entries", "overridden", "expected"),
    [
        (CLEAR, [entry_of(), entry_of(EFFLEURAGE, Target.CALF)], (), []),
        (CLEAR, [entry_of(), entry_of(Technique.PASSIVE_STRETCH, Target.PATELLAR_TENDON)], (),
         ["entries-1-technique"]),
        (GRAZED_THIGH, [entry_of(EFFLEURAGE, Target.CALF), entry_of()], (),
         ["entries-1-override_reason"]),
        (GRAZED_THIGH, [entry_of(override_reason="Healed, checked today")], (), []),
        (GRAZED_THIGH, [entry_of(override_reason="healed")], (), ["entries-0-override_reason"]),
        (GRAZED_THIGH, [entry_of()], ("skin_break",), []),
        (GRAZED_THIGH, [entry_of()], ("some_other_finding",), ["entries-0-override_reason"]),
        (screen(acute_flare=Answer(True, side=L)), [entry_of(Technique.HEAT, Target.KNEE_JOINT)],
         ("acute_flare",), ["entries-0-technique"]),
    ],
)  # fmt: skip
def test_entry_problems_are_keyed_by_their_row_and_field(
    result: ScreeningResult,
    entries: list[EntryDetails],
    overridden: tuple[str, ...],
    expected: list[str],
) -> None:
    problems = check_entries(result, entries, overridden=overridden)
    assert [p.field for p in problems] == expected
    assert all(p.message for p in problems)


def test_an_entry_checked_alone_names_only_its_field() -> None:
    (problem,) = check_entry(GRAZED_THIGH, entry_of())
    assert problem.field == "override_reason"
    assert check_entry(GRAZED_THIGH, entry_of(), overridden={"skin_break"}) == []


@pytest.mark.parametrize(
    ("minutes", "length", "refused"),
    [(["20", "10"], 30, False), (["20", "10.5"], 30, True), ([], 5, False)],
)
def test_the_entries_must_fit_the_visit(minutes: list[str], length: int, refused: bool) -> None:
    problem = check_total_minutes([entry_of(minutes=m) for m in minutes], length)
    assert (problem is not None) is refused
    if problem is not None:
        assert problem.field == "length_minutes"


@pytest.mark.parametrize(
    ("count", "refused"), [(0, False), (MAX_ENTRIES, False), (MAX_ENTRIES + 1, True)]
)
def test_a_note_holds_a_limited_number_of_entries(count: int, refused: bool) -> None:
    problem = check_entry_count(count)
    assert (problem is not None) is refused
    if problem is not None:
        assert str(count) in problem.message


def test_an_entry_has_one_shape_with_its_required_fields_first() -> None:
    assert tuple(f.name for f in fields(EntryDetails)) == ENTRY_FIELDS
    # The pressure is needed too, unless the technique has no pressure level (DOMAIN.md 8.3).
    assert REQUIRED_ENTRY_FIELDS == ("technique", "target", "side", "minutes")
    label = f"{EFFLEURAGE.label} on left {Target.CALF.label.lower()}"
    assert entry_of(EFFLEURAGE, Target.CALF).label == label


# --- The gate on the visit's own day ----------------------------------------------------------


def _status(taken_on: date | None, asked_on: date | None, day: date) -> ScreeningStatus:
    return assess_screening_status(
        taken_on=taken_on, dvt_last_asked_on=asked_on, today=day, valid_days=30
    )


TODAY = date(2026, 3, 10)
YESTERDAY = TODAY - timedelta(days=1)
DVT = screen(dvt_signs=Answer(True, side=L))


@pytest.mark.parametrize(
    ("status", "result", "visit_on", "expected"),
    [
        (_status(YESTERDAY, YESTERDAY, YESTERDAY), CLEAR, YESTERDAY, []),
        (_status(TODAY, TODAY, TODAY), CLEAR, TODAY, []),
        (_status(None, None, YESTERDAY), None, YESTERDAY, ["no screening on 9 Mar 2026"]),
        (_status(YESTERDAY - timedelta(days=31), YESTERDAY, YESTERDAY), CLEAR, YESTERDAY,
         ["was out of date that day"]),
        (_status(YESTERDAY - timedelta(days=3), YESTERDAY - timedelta(days=3), YESTERDAY), CLEAR,
         YESTERDAY, ["not asked about on 9 Mar 2026"]),
        (_status(YESTERDAY, YESTERDAY, YESTERDAY), DVT, YESTERDAY,
         ["Record the medical clearance (given on or before 9 Mar 2026)"]),
        (_status(TODAY - timedelta(days=3), TODAY - timedelta(days=3), TODAY), CLEAR, TODAY,
         ["not been asked about today"]),
        (_status(TODAY, TODAY, TODAY), DVT, TODAY, ["record the medical provider's clearance"]),
    ],
)  # fmt: skip
def test_a_note_can_change_only_while_the_gate_of_its_day_is_open(
    status: ScreeningStatus,
    result: ScreeningResult | None,
    visit_on: date,
    expected: list[str],
) -> None:
    reasons = reasons_note_cannot_change(status, result, visit_on=visit_on, today=TODAY)
    assert len(reasons) == len(expected)
    for reason, words in zip(reasons, expected, strict=True):
        assert words in reason


def test_the_gate_says_what_lifts_each_referral():
    """A fever is lifted by a later screening once well, a clot sign by a clearance."""
    fever = evaluate_screening({**blank_answers(), "fever_infection": Answer(yes=True)}, age=40)
    clot = evaluate_screening(
        {**blank_answers(), "dvt_signs": Answer(yes=True, side=Laterality.LEFT)}, age=40
    )
    ready = assess_screening_status(
        taken_on=TODAY, dvt_last_asked_on=TODAY, today=TODAY, valid_days=30
    )
    [fever_reason] = reasons_visit_cannot_start(ready, fever)
    [clot_reason] = reasons_visit_cannot_start(ready, clot)
    assert "take a new screening on a later day" in fever_reason
    assert "clearance" not in fever_reason
    assert "record the medical provider's clearance" in clot_reason


# --- Holds, doses and pressure that does not apply (DOMAIN.md 8.3) ------------------------------

HELD_SITE_TARGETS = [t for t in Target if t.sites & HELD_PRESSURE_SITES]
# A target of each technique that no held-pressure site rule touches (heat, cold and mobilisation
# only go on the knee joint, which the kneecap rule covers).
PLAIN_TARGET = {
    technique: next(
        (t for t in Target if technique.allows(t) and not t.sites & HELD_PRESSURE_SITES),
        Target.KNEE_JOINT,
    )
    for technique in Technique
}


def hold_problems(entry: EntryDetails) -> list[str]:
    return [p.message for p in check_dose(entry) if p.field == "hold_seconds"]


@pytest.mark.parametrize(
    ("technique", "hold", "allowed", "words"),
    [
        (HOLD, 30, True, ""),
        (HOLD, 60, True, ""),
        (HOLD, 90, True, ""),
        (HOLD, 91, False, "30 to 60 seconds a hold, 90 seconds at most"),
        (HOLD, 600, False, "30 to 60 seconds a hold, 90 seconds at most"),
        (LIFTING, 90, True, ""),
        (LIFTING, 120, False, "30 to 60 seconds a hold, 90 seconds at most"),
        (Technique.PASSIVE_STRETCH, 15, True, ""),
        (Technique.PASSIVE_STRETCH, 30, True, ""),
        (Technique.PASSIVE_STRETCH, 60, True, ""),
        (Technique.PASSIVE_STRETCH, 61, False, "15 to 30 seconds a hold, 60 seconds at most"),
        (Technique.PASSIVE_STRETCH, 120, False, "15 to 30 seconds a hold, 60 seconds at most"),
        *[
            (t, 10, False, "does not hold")
            for t in (
                EFFLEURAGE,
                PETRISSAGE,
                Technique.CROSS_FIBRE_FRICTION,
                CIRCLES,
                Technique.JOINT_MOBILISATION,
                Technique.HEAT,
                Technique.COLD,
            )
        ],
    ],
)
def test_hold_ranges_for_each_technique(
    technique: Technique, hold: int, allowed: bool, words: str
) -> None:
    entry = entry_of(technique, PLAIN_TARGET[technique], hold_seconds=hold)
    problems = hold_problems(entry)
    if technique in (Technique.JOINT_MOBILISATION, Technique.HEAT, Technique.COLD):
        # Their only target is the knee joint, where the kneecap rule also refuses a hold.
        problems = [m for m in problems if "No held pressure" not in m]
    assert (problems == []) is allowed
    if not allowed:
        assert words in problems[0]
        # Every refusal states the allowed range.
        assert "at most" in problems[0]


@pytest.mark.parametrize(("technique", "target"), itertools.product(Technique, HELD_SITE_TARGETS))
def test_a_hold_time_is_held_pressure_on_every_held_pressure_site(
    technique: Technique, target: Target
) -> None:
    problems = hold_problems(entry_of(technique, target, hold_seconds=20))
    sites = sorted(target.sites & HELD_PRESSURE_SITES)
    assert [m for m in problems if "No held pressure here" in m] == [
        next(m for m in problems if s.label.lower() in m) for s in sites
    ]
    assert sites
    # Without a hold time the site rule of held pressure does not fire.
    assert not [m for m in hold_problems(entry_of(technique, target)) if "No held pressure" in m]


@pytest.mark.parametrize("technique", [Technique.TRIGGER_POINT, LIFTING, Technique.PASSIVE_STRETCH])
def test_a_hold_in_range_away_from_the_sites_passes(technique: Technique) -> None:
    allowed = technique.hold_range
    assert allowed is not None
    entry = entry_of(technique, PLAIN_TARGET[technique], hold_seconds=allowed.usual_to)
    assert check_entry(CLEAR, entry) == []


NO_PRESSURE = [Technique.JOINT_MOBILISATION, Technique.HEAT, Technique.COLD]


@pytest.mark.parametrize("technique", Technique)
def test_pressure_applies_only_to_techniques_that_have_it(technique: Technique) -> None:
    target = PLAIN_TARGET[technique]
    without = check_dose(entry_of(technique, target, pressure=None))
    with_deep = check_dose(entry_of(technique, target, pressure=DEEP))
    if technique in NO_PRESSURE:
        assert not technique.has_pressure
        assert without == []
        (problem,) = with_deep
        assert problem.field == "pressure"
        assert "no pressure level" in problem.message
    else:
        assert technique.has_pressure
        (problem,) = without
        assert problem.field == "pressure"
        assert "from light to deep" in problem.message
        assert with_deep == []


@pytest.mark.parametrize("technique", NO_PRESSURE)
def test_no_pressure_techniques_pass_under_the_lightest_cap(technique: Technique) -> None:
    # A knee replacement caps that knee at light: a technique without pressure still passes.
    replaced = screen(post_replacement_cleared=Answer(True, side=L))
    assert check_entry(replaced, entry_of(technique, Target.KNEE_JOINT)) == []
    assert (
        entry_allowance(replaced, entry_of(technique, Target.KNEE_JOINT), overrides={})
        == "Within the limits (no pressure level)"
    )


@pytest.mark.parametrize(
    ("reason", "accepted"),
    [
        ("", False),
        (". . .", False),
        ("x x x", False),
        ("1 2 3", False),
        ("healed", False),
        ("healed and dry", True),
        ("Graze healed, dry", True),
        ("Scar checked today, surgeon agreed", True),
        ("ok - - fine", False),
    ],
)
def test_a_written_reason_needs_three_words_of_letters(reason: str, accepted: bool) -> None:
    assert is_written_reason(reason) is accepted
    problems = check_entry(GRAZED_THIGH, entry_of(override_reason=reason))
    assert (problems == []) is accepted
    if reason.strip() and not accepted:
        assert "at least 3 words" in problems[0].message


@pytest.mark.parametrize(
    ("result", "entry", "overrides", "expected"),
    [
        (CLEAR, entry_of(), {}, "Within the limits"),
        (screen(anticoagulants=YES), entry_of(pressure=MEDIUM), {},
         "Within the limits (medium at most here)"),
        (GRAZED_THIGH, entry_of(override_reason="Graze healed and dry"), {},
         "Allowed by override (broken or irritated skin): Graze healed and dry"),
        (GRAZED_THIGH, entry_of(), {"skin_break": "Scab gone, light only"},
         "Allowed by the override for that day (broken or irritated skin): Scab gone, light only"),
    ],
)  # fmt: skip
def test_the_note_says_why_each_entry_was_allowed(
    result: ScreeningResult, entry: EntryDetails, overrides: dict[str, str], expected: str
) -> None:
    assert check_entry(result, entry, overridden=overrides) == []
    assert entry_allowance(result, entry, overrides=overrides) == expected


# --- Reminders, aftercare and red flags (DOMAIN.md 8.5) -----------------------------------------

ALWAYS_REMINDED = ["Light pressure only over the vein on the inner side", "light-headed or dizzy"]


@pytest.mark.parametrize(
    ("result", "expected", "absent"),
    [
        (None, ALWAYS_REMINDED, ["skin", "midwife", "umour"]),
        (CLEAR, ALWAYS_REMINDED, ["skin", "midwife", "umour"]),
        (screen(neuropathy=YES), [*ALWAYS_REMINDED, "look at the skin"], ["midwife", "umour"]),
        (screen(pregnancy=YES), [*ALWAYS_REMINDED, "midwife or doctor"], ["skin", "umour"]),
        (screen(cancer=YES), [*ALWAYS_REMINDED, "tumour"], ["skin", "midwife"]),
        (apply_clearances(screen(cancer=YES), ["cancer"]), [*ALWAYS_REMINDED, "tumour"], []),
    ],
)
def test_visit_form_reminders_show_when_they_apply(
    result: ScreeningResult | None, expected: list[str], absent: list[str]
) -> None:
    text = " ".join(visit_reminders(result))
    for words in expected:
        assert words in text
    for words in absent:
        assert words not in text


@pytest.mark.parametrize(
    "words",
    ["sore for a day or two", "pain, swelling or redness gets worse", "calf", "same day",
     "emergency services", "short of breath or have chest pain", "light-headed or dizzy"],
)  # fmt: skip
def test_aftercare_covers_each_point(words: str) -> None:
    assert words in " ".join(AFTERCARE)


@pytest.mark.parametrize(
    ("response", "red_flag"),
    [
        (AdverseResponse.NONE, False),
        (AdverseResponse.MORE_PAIN, False),
        (AdverseResponse.DIZZINESS, False),
        (AdverseResponse.BRUISING, False),
        (AdverseResponse.OTHER, False),
        (AdverseResponse.CALF_PAIN, True),
        (AdverseResponse.NUMB_FOOT, True),
        (AdverseResponse.REDNESS, True),
    ],
)
def test_red_flag_responses_advise_a_referral(response: AdverseResponse, red_flag: bool) -> None:
    assert response.is_red_flag is red_flag
    assert bool(response.referral_advice) is red_flag
    assert len(response.value) <= len("more_pain"), "keeps the stored column's length"


@pytest.mark.parametrize("code", sorted(CLEARANCE_ONLY_CODES))
def test_a_written_reason_or_a_day_override_never_lifts_a_clearance_only_finding(
    code: str,
) -> None:
    # DOMAIN.md 8.1: a break, an operation site or an unchecked lump needs the clearance.
    result = screen(**{code: Answer(True, side=L, region=Region.THIGH)})
    reasoned = entry_of(override_reason="Scar looks healed, client agrees")
    (problem,) = check_entry(result, reasoned)
    # Refused on the target: no reason typed in the entry would lift it.
    assert problem.field == "target"
    assert "written reason is not enough" in problem.message
    assert [p.field for p in check_entry(result, entry_of(), overridden={code})] == ["target"]
    cleared = apply_clearances(result, [code])
    assert check_entry(cleared, entry_of()) == []
