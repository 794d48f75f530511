"""Tests for the screening questionnaire, its rules, clearances and stored results."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date

import pytest
import textstat
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.domain.catalogue import (
    BASIC_REGIONS,
    Laterality,
    Pressure,
    Region,
    Side,
    SiteRule,
    Target,
    Technique,
)
from clinic.domain.errors import RuleViolations
from clinic.domain.screening import (
    CLEARANCE_ONLY_CODES,
    FINDING_LABELS,
    KNEE_SURGERY_CALF,
    OTTAWA_CRITERIA,
    QUESTIONNAIRE_VERSION,
    QUESTIONNAIRES,
    QUESTIONS,
    QUESTIONS_BY_CODE,
    QUESTIONS_V2,
    Answer,
    Finding,
    LiftedBy,
    PastResult,
    PlannedTechnique,
    Question,
    Questionnaire,
    ScreeningResult,
    Section,
    Tier,
    Urgency,
    ViolationCode,
    apply_clearances,
    blank_answers,
    check_technique,
    current_questionnaire,
    dump_answers,
    dump_result,
    evaluate_screening,
    find_open_referrals,
    get_questionnaire,
    is_at_least_as_strict,
    is_written_reason,
    load_answers,
    load_result,
    with_open_referrals,
)

L, R, B = Laterality.LEFT, Laterality.RIGHT, Laterality.BOTH
CLEARANCE, HEALING, NOTHING = LiftedBy.MEDICAL_CLEARANCE, LiftedBy.HEALING, LiftedBy.NOTHING
ADULT = 30
YES = Answer(True)
DAY = date(2024, 3, 1)
REFER, AVOID, MODIFY = Tier.REFER, Tier.AVOID_LOCAL, Tier.MODIFY
U = Urgency
LIGHT, MEDIUM = Pressure.LIGHT, Pressure.MEDIUM
THIGH, KNEE, CALF, SHIN, LOWER = (
    Region.THIGH,
    Region.KNEE,
    Region.CALF,
    Region.SHIN,
    Region.LOWER_LEG,
)


def screen(age: int | None = ADULT, **yes: Answer) -> ScreeningResult:
    """Evaluate a screening where only the given questions are answered yes."""
    return evaluate_screening({**blank_answers(), **yes}, age=age)


# --- The questionnaire ------------------------------------------------------------------------

# DOMAIN.md sections 1.1 to 1.3 item codes, with the question codes that ask about each.
DOMAIN_ITEMS: dict[str, tuple[str, ...]] = {
    "dvt_signs": ("dvt_signs", "breathless_chest_pain"),
    "dvt_current": ("dvt_current",),
    "hot_swollen_knee": ("hot_swollen_knee",),
    "fever_infection": ("fever_infection",),
    "acute_injury_ottawa": ("recent_knee_injury", *OTTAWA_CRITERIA),
    "locked_or_numb": ("locked_or_numb", "cold_pale_foot"),
    "unexplained_pain": ("unexplained_pain",),
    "hypertension_uncontrolled": ("hypertension_uncontrolled",),
    "skin_break": ("skin_break",),
    "recent_fracture": ("recent_fracture",),
    "acute_flare": ("acute_flare",),
    "recent_surgery": ("recent_surgery", "surgery_cleared"),
    "varicose_veins": ("varicose_veins",),
    "bruise_or_lump": ("bruise", "unexplained_lump"),
    "anticoagulants": ("anticoagulants",),
    "neuropathy": ("neuropathy",),
    "osteoporosis": ("osteoporosis",),
    "pregnancy": ("pregnancy",),
    "cancer": ("cancer", "tumour_site"),
    "previous_dvt": ("previous_dvt",),
    "post_replacement_cleared": ("post_replacement_cleared",),
    "product_allergy": ("product_allergy",),
    # DOMAIN.md 8.2
    "baker_cyst": ("baker_cyst", "baker_cyst_burst_signs"),
    "knee_injection": ("knee_injection",),
    "circulation": ("circulation",),
    "lymphoedema": ("lymphoedema", "lymphoedema_new"),
    # Wells history prompt with no DOMAIN row of its own.
    "wells_immobilisation": ("immobilisation",),
}


@pytest.mark.parametrize("item", sorted(DOMAIN_ITEMS))
def test_every_domain_item_is_asked(item: str) -> None:
    for code in DOMAIN_ITEMS[item]:
        assert code in QUESTIONS_BY_CODE


def test_every_question_is_accounted_for() -> None:
    asked = {code for codes in DOMAIN_ITEMS.values() for code in codes}
    assert asked == set(QUESTIONS_BY_CODE)


def test_questionnaire_has_a_version_and_unique_codes() -> None:
    assert isinstance(QUESTIONNAIRE_VERSION, int)
    assert QUESTIONNAIRE_VERSION >= 1
    assert len({q.code for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.code)
def test_question_wording(question: Question) -> None:
    assert question.prompt.endswith("?")
    assert question.section in Section
    # Screening words, never a diagnosis put to the client.
    for phrase in ("you have dvt", "you have a clot", "diagnos", "you have an infection"):
        assert phrase not in question.prompt.lower()
        assert phrase not in question.help_text.lower()
    assert bool(question.date_label) is question.asks_date


@pytest.mark.parametrize(
    ("code", "asks_side", "asks_region", "asks_date"),
    [
        ("dvt_signs", True, False, False),
        ("recent_knee_injury", True, False, True),
        ("skin_break", True, True, False),
        ("recent_surgery", True, True, True),
        ("recent_fracture", True, True, True),
        ("post_replacement_cleared", True, False, True),
        ("acute_flare", True, False, False),
        ("previous_dvt", True, False, False),
        ("immobilisation", True, False, False),
        ("cancer", False, False, False),
        ("ottawa_cannot_bend_90", False, False, False),
    ],
)
def test_question_asks_for(code: str, asks_side: bool, asks_region: bool, asks_date: bool) -> None:
    question = QUESTIONS_BY_CODE[code]
    assert (question.asks_side, question.asks_region, question.asks_date) == (
        asks_side,
        asks_region,
        asks_date,
    )


def test_sections_are_shown_in_one_block_each() -> None:
    order = [q.section for q in QUESTIONS]
    blocks = [s for i, s in enumerate(order) if i == 0 or order[i - 1] is not s]
    assert len(blocks) == len(set(blocks))


# --- Validating answers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"no_such_question": Answer(yes=True)}, "no_such_question-answer"),
        ({"dvt_signs": Answer(yes=True)}, "dvt_signs-side"),
        ({"skin_break": Answer(yes=True, side=L)}, "skin_break-region"),
        ({"cancer": Answer(yes=True, side=L)}, "cancer-side"),
        ({"acute_flare": Answer(yes=True, side=L, region=Region.KNEE)}, "acute_flare-region"),
        ({"dvt_signs": Answer(yes=True, side=L, date=date(2024, 1, 1))}, "dvt_signs-date"),
        ({"previous_dvt": Answer(yes=False, side=L)}, "previous_dvt-side"),
        ({"recent_surgery": Answer(yes=False, date=date(2024, 1, 1))}, "recent_surgery-date"),
        ({"pregnancy": Answer(yes=True, detail="x" * 1001)}, "pregnancy-detail"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_invalid_answers_are_refused(changes: dict[str, Answer], field: str) -> None:
    with pytest.raises(RuleViolations) as caught:
        evaluate_screening({**blank_answers(), **changes}, age=ADULT)
    assert caught.value.fields == (field,)
    assert caught.value.field == field
    assert caught.value.message


def test_a_missing_answer_is_refused() -> None:
    answers = blank_answers()
    del answers["dvt_signs"]
    with pytest.raises(RuleViolations) as caught:
        evaluate_screening(answers, age=ADULT)
    assert caught.value.fields == ("dvt_signs-answer",)


def test_several_problems_are_reported_together() -> None:
    answers = {**blank_answers(), "dvt_signs": Answer(yes=True), "bruise": Answer(yes=True)}
    with pytest.raises(RuleViolations) as caught:
        evaluate_screening(answers, age=ADULT)
    assert caught.value.fields == ("dvt_signs-side", "bruise-side", "bruise-region")
    assert [p.field for p in caught.value] == ["dvt_signs-side", "bruise-side", "bruise-region"]


def test_a_negative_age_is_refused() -> None:
    with pytest.raises(RuleViolations) as caught:
        screen(age=-1)
    assert caught.value.field == "age"


def test_optional_date_and_detail_are_accepted() -> None:
    result = screen(
        recent_surgery=Answer(yes=True, side=R, region=Region.KNEE, detail="replacement"),
        post_replacement_cleared=Answer(yes=True, side=L, date=date(2023, 5, 2)),
    )
    assert {f.code for f in result.findings} == {
        "recent_surgery",
        KNEE_SURGERY_CALF,
        "post_replacement_cleared",
    }


# --- One row per DOMAIN.md item ---------------------------------------------------------------

# code, answer, tier, urgency, cap, side, region, lifted by
RULE_ROWS: list[
    tuple[
        str,
        Answer,
        Tier,
        Urgency | None,
        Pressure | None,
        Laterality | None,
        Region | None,
        LiftedBy,
    ]
] = [
    # 1.1 refer
    ("breathless_chest_pain", YES, REFER, U.EMERGENCY, None, None, None, CLEARANCE),
    ("dvt_signs", Answer(True, side=L), REFER, U.SAME_DAY, None, L, None, CLEARANCE),
    ("dvt_current", Answer(True, side=R), REFER, U.BEFORE_TREATMENT, None, R, None, CLEARANCE),
    ("hot_swollen_knee", Answer(True, side=R), REFER, U.URGENT, None, R, KNEE, CLEARANCE),
    ("fever_infection", YES, REFER, U.RESCHEDULE, None, None, None, HEALING),
    ("locked_or_numb", Answer(True, side=B), REFER, U.URGENT, None, B, None, CLEARANCE),
    ("unexplained_pain", YES, REFER, U.BEFORE_TREATMENT, None, None, None, CLEARANCE),
    ("hypertension_uncontrolled", YES, REFER, U.BEFORE_TREATMENT, None, None, None, CLEARANCE),
    # 1.2 avoid the local area
    ("recent_knee_injury", Answer(True, side=L), AVOID, None, None, L, KNEE, HEALING),
    ("skin_break", Answer(True, side=L, region=SHIN), AVOID, None, None, L, SHIN, HEALING),
    (
        "recent_fracture",
        Answer(True, side=R, region=THIGH, date=DAY),
        AVOID,
        None,
        None,
        R,
        THIGH,
        CLEARANCE,
    ),
    ("acute_flare", Answer(True, side=R), AVOID, None, None, R, KNEE, HEALING),
    (
        "recent_surgery",
        Answer(True, side=R, region=THIGH, date=DAY),
        AVOID,
        None,
        None,
        R,
        THIGH,
        CLEARANCE,
    ),
    ("varicose_veins", Answer(True, side=B, region=CALF), AVOID, None, None, B, CALF, NOTHING),
    ("bruise", Answer(True, side=L, region=THIGH), AVOID, None, None, L, THIGH, HEALING),
    (
        "unexplained_lump",
        Answer(True, side=R, region=LOWER),
        AVOID,
        U.ROUTINE,
        None,
        R,
        LOWER,
        CLEARANCE,
    ),
    # 1.3 modify
    ("anticoagulants", YES, MODIFY, None, MEDIUM, None, None, NOTHING),
    ("neuropathy", YES, MODIFY, None, MEDIUM, None, None, NOTHING),
    ("osteoporosis", YES, MODIFY, None, MEDIUM, None, None, NOTHING),
    ("pregnancy", YES, MODIFY, None, MEDIUM, None, CALF, NOTHING),
    ("cancer", YES, MODIFY, None, MEDIUM, None, None, CLEARANCE),
    ("previous_dvt", Answer(True, side=L), MODIFY, None, LIGHT, L, CALF, NOTHING),
    ("post_replacement_cleared", Answer(True, side=R), MODIFY, None, LIGHT, R, KNEE, NOTHING),
    ("product_allergy", YES, MODIFY, None, None, None, None, NOTHING),
    # Wells history prompt
    ("immobilisation", Answer(True, side=B), MODIFY, None, LIGHT, B, CALF, HEALING),
    # 8.2 more findings, and 8.6 (a cold, pale or numb foot asked on its own)
    ("cold_pale_foot", Answer(True, side=L), REFER, U.URGENT, None, L, None, CLEARANCE),
    ("baker_cyst", Answer(True, side=L), AVOID, None, None, L, KNEE, NOTHING),
    (
        "baker_cyst_burst_signs",
        Answer(True, side=L),
        REFER,
        U.SAME_DAY,
        None,
        L,
        CALF,
        CLEARANCE,
    ),
    ("knee_injection", Answer(True, side=R, date=DAY), AVOID, None, None, R, KNEE, HEALING),
    ("circulation", Answer(True, side=R), MODIFY, None, MEDIUM, R, None, NOTHING),
    ("lymphoedema", Answer(True, side=L), MODIFY, None, LIGHT, L, None, NOTHING),
    ("lymphoedema_new", YES, REFER, U.BEFORE_TREATMENT, None, None, None, CLEARANCE),
    ("tumour_site", Answer(True, side=R, region=THIGH), AVOID, None, None, R, THIGH, NOTHING),
]


@pytest.mark.parametrize(
    ("code", "answer", "tier", "urgency", "cap", "side", "region", "lifted_by"),
    RULE_ROWS,
    ids=[row[0] for row in RULE_ROWS],
)
def test_rule_row(
    code: str,
    answer: Answer,
    tier: Tier,
    urgency: Urgency | None,
    cap: Pressure | None,
    side: Laterality | None,
    region: Region | None,
    lifted_by: LiftedBy,
) -> None:
    result = screen(**{code: answer})
    assert [f.code for f in result.findings] == [code]
    finding = result.findings[0]
    assert (finding.tier, finding.urgency, finding.max_pressure) == (tier, urgency, cap)
    assert (finding.side, finding.region, finding.lifted_by) == (side, region, lifted_by)
    assert finding.reason.strip()
    assert not finding.cleared
    assert finding.label == FINDING_LABELS[code]
    assert result.tier is tier
    assert result.effective_tier is tier
    assert result.urgency == urgency
    assert result.refuses_treatment is (tier is Tier.REFER)


def test_every_rule_has_a_row() -> None:
    # "Has the surgeon cleared massage there?" only prompts recording the clearance (8.1).
    with_rules = set(QUESTIONS_BY_CODE) - set(OTTAWA_CRITERIA) - {"surgery_cleared"}
    assert {row[0] for row in RULE_ROWS} == with_rules


def test_the_surgeon_question_alone_makes_no_finding() -> None:
    assert screen(surgery_cleared=YES).findings == ()


def test_avoid_local_findings_always_name_side_and_region() -> None:
    for _code, _answer, tier, _u, _cap, side, region, _lift in RULE_ROWS:
        if tier is Tier.AVOID_LOCAL:
            assert side is not None
            assert region is not None


# --- The Ottawa knee rule (Stiell 1995/1996) ---------------------------------------------------

OTTAWA_ROWS: list[tuple[str, bool, tuple[str, ...], int | None, bool]] = [
    ("no criterion", True, (), 30, False),
    ("age 54", True, (), 54, False),
    ("age 55", True, (), 55, True),
    ("age 80", True, (), 80, True),
    ("age unknown", True, (), None, True),
    ("kneecap tender", True, ("ottawa_kneecap_tender",), 30, True),
    ("fibular head tender", True, ("ottawa_fibular_head_tender",), 30, True),
    ("cannot bend to 90", True, ("ottawa_cannot_bend_90",), 30, True),
    ("cannot take 4 steps", True, ("ottawa_cannot_take_4_steps",), 30, True),
    ("all criteria", True, OTTAWA_CRITERIA, 70, True),
    ("criteria without injury", False, OTTAWA_CRITERIA, 30, False),
    ("age without injury", False, (), 70, False),
]


@pytest.mark.parametrize(
    ("injured", "criteria", "age", "refers"),
    [row[1:] for row in OTTAWA_ROWS],
    ids=[row[0] for row in OTTAWA_ROWS],
)
def test_ottawa_rule(
    injured: bool, criteria: tuple[str, ...], age: int | None, refers: bool
) -> None:
    answers = {code: Answer(yes=True) for code in criteria}
    if injured:
        answers["recent_knee_injury"] = Answer(yes=True, side=R, date=date(2024, 2, 3))
    result = screen(age=age, **answers)
    ottawa = result.get_finding("acute_injury_ottawa")
    assert (ottawa is not None) is refers
    assert (result.get_finding("recent_knee_injury") is not None) is injured
    if ottawa is not None:
        assert (ottawa.tier, ottawa.urgency) == (Tier.REFER, Urgency.BEFORE_TREATMENT)
        assert (ottawa.side, ottawa.region) == (R, Region.KNEE)
        assert ottawa.lifted_by is CLEARANCE
        assert result.tier is Tier.REFER
        assert result.findings[0] is ottawa
    elif injured:
        assert result.tier is Tier.AVOID_LOCAL


# --- The result as a whole --------------------------------------------------------------------


def test_a_clear_screening_still_carries_the_site_rules() -> None:
    result = screen()
    assert result.findings == ()
    assert result.tier is Tier.CLEAR
    assert result.effective_tier is Tier.CLEAR
    assert result.urgency is None
    assert not result.refuses_treatment
    assert result.site_rules == tuple(SiteRule)
    assert len(result.site_rules) == 6


def test_site_rules_do_not_change_the_tier() -> None:
    result = screen(anticoagulants=Answer(True))
    assert set(result.site_rules) == set(SiteRule)
    assert result.tier is Tier.MODIFY


def test_findings_are_strictest_first_and_tier_is_the_strictest() -> None:
    result = screen(
        product_allergy=Answer(True),
        bruise=Answer(True, side=L, region=Region.THIGH),
        fever_infection=Answer(True),
        dvt_signs=Answer(True, side=R),
    )
    assert [f.code for f in result.findings] == [
        "dvt_signs",
        "fever_infection",
        "bruise",
        "product_allergy",
    ]
    assert result.tier is Tier.REFER
    assert result.urgency is Urgency.SAME_DAY


def test_the_most_urgent_referral_wins() -> None:
    result = screen(
        dvt_signs=Answer(True, side=R),
        breathless_chest_pain=Answer(True),
        fever_infection=Answer(True),
    )
    assert result.urgency is Urgency.EMERGENCY


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (Tier.CLEAR, Tier.MODIFY),
        (Tier.MODIFY, Tier.AVOID_LOCAL),
        (Tier.AVOID_LOCAL, Tier.REFER),
        (Tier.CLEAR, Tier.REFER),
    ],
)
def test_tiers_compare_by_strictness(left: Tier, right: Tier) -> None:
    assert left < right
    assert left <= right
    assert right > left
    assert right >= left
    assert max(left, right) is right


def test_urgency_labels_name_the_emergency_branch() -> None:
    assert "emergency services" in Urgency.SAME_DAY.label
    assert "same day" in Urgency.SAME_DAY.label.lower()


@pytest.mark.parametrize("kind", [Tier, Urgency, LiftedBy, Section])
def test_vocabularies_have_labels(kind: type[Tier | Urgency | LiftedBy | Section]) -> None:
    labels = [member.label for member in kind]
    assert all(labels)
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize(
    ("side", "region", "cap"),
    [
        (Side.LEFT, Region.CALF, Pressure.LIGHT),
        (Side.RIGHT, Region.CALF, Pressure.MEDIUM),
        (Side.LEFT, Region.THIGH, Pressure.MEDIUM),
        (Side.LEFT, Region.LOWER_LEG, Pressure.LIGHT),
    ],
)
def test_the_lowest_cap_that_covers_a_place_applies(
    side: Side, region: Region, cap: Pressure
) -> None:
    result = screen(previous_dvt=Answer(True, side=L), anticoagulants=Answer(True))
    assert result.cap_for(side, region) is cap


def test_no_cap_means_none() -> None:
    assert screen().cap_for(Side.LEFT, Region.KNEE) is None


# --- Clearances -------------------------------------------------------------------------------


def test_a_cleared_referral_stays_on_record_and_stops_restricting() -> None:
    result = screen(dvt_signs=Answer(True, side=L), anticoagulants=Answer(True))
    cleared = apply_clearances(result, ["dvt_signs"])
    finding = cleared.get_finding("dvt_signs")
    assert finding is not None
    assert finding.cleared
    assert len(cleared.findings) == len(result.findings)
    assert cleared.tier is Tier.REFER
    assert cleared.effective_tier is Tier.MODIFY
    assert cleared.urgency is None
    assert not cleared.refuses_treatment
    assert [f.code for f in cleared.cleared_findings] == ["dvt_signs"]
    assert [f.code for f in cleared.active_findings] == ["anticoagulants"]


def test_a_cleared_cap_no_longer_caps() -> None:
    result = apply_clearances(screen(cancer=Answer(True)), {"cancer"})
    assert result.cap_for(Side.LEFT, Region.THIGH) is None
    assert result.effective_tier is Tier.CLEAR


@pytest.mark.parametrize(
    ("code", "answer"),
    [(row[0], row[1]) for row in RULE_ROWS if row[7] is not CLEARANCE],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_clearance_does_not_lift_what_only_healing_or_nothing_lifts(
    code: str, answer: Answer
) -> None:
    result = screen(**{code: answer})
    assert apply_clearances(result, [code]) == result


def test_clearances_for_findings_not_made_are_ignored() -> None:
    result = screen(bruise=Answer(True, side=L, region=Region.THIGH))
    assert apply_clearances(result, ["dvt_signs", "no_such_code"]) == result


def test_the_ottawa_finding_can_be_cleared() -> None:
    result = screen(
        age=60, recent_knee_injury=Answer(True, side=L), ottawa_cannot_bend_90=Answer(True)
    )
    cleared = apply_clearances(result, ["acute_injury_ottawa"])
    assert cleared.effective_tier is Tier.AVOID_LOCAL


def test_clearing_twice_changes_nothing_more() -> None:
    result = screen(recent_surgery=Answer(True, side=R, region=Region.KNEE))
    once = apply_clearances(result, ["recent_surgery"])
    assert apply_clearances(once, ["recent_surgery"]) == once
    assert apply_clearances(once, []) == once


# --- Storing answers and results --------------------------------------------------------------


def test_answers_round_trip_through_json() -> None:
    answers = {
        **blank_answers(),
        "recent_surgery": Answer(True, "left knee replaced", R, Region.KNEE, date(2024, 1, 31)),
        "dvt_signs": Answer(True, side=B),
        "cancer": Answer(False, detail="treated 2010"),
    }
    stored = json.loads(json.dumps(dump_answers(answers)))
    assert stored["recent_surgery"] == {
        "yes": True,
        "detail": "left knee replaced",
        "side": "right",
        "region": "knee",
        "date": "2024-01-31",
    }
    assert stored["bruise"] == {"yes": False}
    assert load_answers(stored, QUESTIONNAIRE_VERSION) == answers


@pytest.mark.parametrize(
    ("stored", "field"),
    [
        ("not a dict", "answers"),
        ({"dvt_signs": {"yes": "true", "side": "left"}}, "dvt_signs-answer"),
        ({"dvt_signs": {"yes": True, "side": "middle"}}, "dvt_signs-side"),
        ({"bruise": {"yes": True, "side": "left", "region": "arm"}}, "bruise-region"),
        (
            {"recent_surgery": {"yes": True, "side": "left", "region": "knee", "date": "1/2/2024"}},
            "recent_surgery-date",
        ),
        ({"cancer": {"yes": True, "detail": 3}}, "cancer-detail"),
        ({"cancer": {"yes": True, "colour": "red"}}, "cancer-answer"),
        ({"cancer": ["yes"]}, "cancer-answer"),
    ],
)
def test_malformed_stored_answers_are_refused(stored: object, field: str) -> None:
    if isinstance(stored, dict):
        stored = {**dump_answers(blank_answers()), **stored}
    with pytest.raises(RuleViolations) as caught:
        load_answers(stored, QUESTIONNAIRE_VERSION)
    assert caught.value.fields[0] == field


def test_a_stored_result_equals_one_recomputed_from_the_stored_answers() -> None:
    answers = {
        **blank_answers(),
        "recent_knee_injury": Answer(True, side=L),
        "ottawa_kneecap_tender": Answer(True),
        "varicose_veins": Answer(True, side=R, region=Region.CALF),
        "previous_dvt": Answer(True, side=R),
        "product_allergy": Answer(True, detail="almond oil"),
    }
    result = apply_clearances(evaluate_screening(answers, age=58), ["acute_injury_ottawa"])
    stored_answers = json.loads(json.dumps(dump_answers(answers)))
    stored_result = json.loads(json.dumps(dump_result(result)))

    recomputed = apply_clearances(
        evaluate_screening(load_answers(stored_answers, QUESTIONNAIRE_VERSION), age=58),
        ["acute_injury_ottawa"],
    )
    assert load_result(stored_result) == recomputed
    assert stored_result["tier"] == "refer"
    assert stored_result["effective_tier"] == "avoid_local"


def test_a_stored_result_names_the_site_rules_by_code() -> None:
    assert dump_result(screen())["site_rules"] == [rule.value for rule in SiteRule]


def _stored_result() -> dict[str, object]:
    return dump_result(
        screen(anticoagulants=Answer(True), bruise=Answer(True, side=L, region=Region.THIGH))
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tier": "clear"}, "result"),
        ({"effective_tier": "refer"}, "result"),
        ({"questionnaire_version": "1"}, "result"),
        ({"findings": "none"}, "result"),
        ({"site_rules": ["kneecap", "elbow"]}, "result-site_rules"),
    ],
)
def test_malformed_stored_results_are_refused(change: dict[str, object], field: str) -> None:
    with pytest.raises(RuleViolations) as caught:
        load_result({**_stored_result(), **change})
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tier": "maybe"}, "bruise-tier"),
        ({"max_pressure": True}, "bruise-max_pressure"),
        ({"max_pressure": 9}, "bruise-max_pressure"),
        ({"side": "up"}, "bruise-side"),
        ({"urgency": "soonish"}, "bruise-urgency"),
        ({"lifted_by": "luck"}, "bruise-lifted_by"),
        ({"cleared": "no"}, "result-findings"),
    ],
)
def test_malformed_stored_findings_are_refused(change: dict[str, object], field: str) -> None:
    stored = _stored_result()
    findings = stored["findings"]
    assert isinstance(findings, list)
    bruise = next(f for f in findings if f["code"] == "bruise")
    findings[findings.index(bruise)] = {**bruise, **change}
    with pytest.raises(RuleViolations) as caught:
        load_result(stored)
    assert caught.value.field == field


# --- The strictness helper --------------------------------------------------------------------


def _result(*findings: Finding) -> ScreeningResult:
    return ScreeningResult(findings=findings)


def _cap(cap: Pressure, side: Laterality | None = None, region: Region | None = None) -> Finding:
    return Finding("x", Tier.MODIFY, "why", NOTHING, side=side, region=region, max_pressure=cap)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (_result(), _result(), True),
        (_result(_cap(Pressure.LIGHT)), _result(), True),
        (_result(), _result(_cap(Pressure.LIGHT)), False),
        (_result(_cap(Pressure.LIGHT)), _result(_cap(Pressure.MEDIUM)), True),
        (_result(_cap(Pressure.MEDIUM)), _result(_cap(Pressure.LIGHT)), False),
        # Same code and tier, but the cap moved to the other leg: b's left calf is looser in a.
        (
            _result(_cap(Pressure.LIGHT, R, Region.CALF)),
            _result(_cap(Pressure.LIGHT, L, Region.CALF)),
            False,
        ),
        # A cap on the whole leg covers a cap on the calf alone.
        (
            _result(_cap(Pressure.LIGHT, B, Region.WHOLE_LEG)),
            _result(_cap(Pressure.LIGHT, L, Region.CALF)),
            True,
        ),
        # The avoided area moved from the left thigh to the right thigh.
        (
            _result(Finding("x", Tier.AVOID_LOCAL, "why", HEALING, side=R, region=Region.THIGH)),
            _result(Finding("x", Tier.AVOID_LOCAL, "why", HEALING, side=L, region=Region.THIGH)),
            False,
        ),
        # No heat on the left knee disappears although tier and codes stay.
        (
            _result(Finding("acute_flare", MODIFY, "why", HEALING, side=R, region=KNEE)),
            _result(Finding("acute_flare", MODIFY, "why", HEALING, side=L, region=KNEE)),
            False,
        ),
        # A different precaution of the same tier is not "as strict".
        (
            _result(Finding("pregnancy", Tier.MODIFY, "why", NOTHING)),
            _result(Finding("product_allergy", Tier.MODIFY, "why", NOTHING)),
            False,
        ),
    ],
)
def test_is_at_least_as_strict(a: ScreeningResult, b: ScreeningResult, expected: bool) -> None:
    assert is_at_least_as_strict(a, b) is expected


def test_a_clearance_makes_a_result_less_strict() -> None:
    result = screen(dvt_signs=Answer(True, side=L))
    cleared = apply_clearances(result, ["dvt_signs"])
    assert is_at_least_as_strict(result, cleared)
    assert not is_at_least_as_strict(cleared, result)


# --- Properties -------------------------------------------------------------------------------

CODES = [q.code for q in QUESTIONS]
FINDING_CODES = sorted(FINDING_LABELS)


def yes_answer(question: Question) -> st.SearchStrategy[Answer]:
    """Draw a valid yes answer to the question."""
    return st.builds(
        Answer,
        yes=st.just(True),
        detail=st.sampled_from(["", "note"]),
        side=st.sampled_from(Laterality) if question.asks_side else st.none(),
        region=st.sampled_from(Region) if question.asks_region else st.none(),
        date=st.none() | st.dates() if question.asks_date else st.none(),
    )


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, Answer]:
    """Draw a complete, valid set of answers with a handful of yes answers."""
    yes_codes = draw(st.sets(st.sampled_from(CODES), max_size=8))
    answers = blank_answers()
    for code in sorted(yes_codes):
        answers[code] = draw(yes_answer(QUESTIONS_BY_CODE[code]))
    return answers


AGES = st.none() | st.integers(min_value=0, max_value=100)
CLEARED = st.frozensets(st.sampled_from(FINDING_CODES), max_size=6)


def sample_yes(question: Question) -> Answer:
    """Return one fixed, valid yes answer to the question."""
    return Answer(
        yes=True,
        side=L if question.asks_side else None,
        region=Region.CALF if question.asks_region else None,
        date=DAY if question.asks_date else None,
    )


@pytest.mark.parametrize("cleared", [frozenset(), frozenset(FINDING_LABELS)], ids=["", "cleared"])
@pytest.mark.parametrize("age", [None, 30, 60])
def test_adding_any_yes_to_any_other_yes_never_loosens(
    age: int | None, cleared: frozenset[str]
) -> None:
    # Exhaustive over ordered pairs, so a rare interaction cannot hide from random sampling;
    # once as screened, once with every clearance recorded (DOMAIN.md 8.1 leaves limits).
    def cleared_screen(**yes: Answer) -> ScreeningResult:
        return apply_clearances(screen(age, **yes), cleared)

    singles = {q.code: cleared_screen(**{q.code: sample_yes(q)}) for q in QUESTIONS}
    none = cleared_screen()
    for first in QUESTIONS:
        assert is_at_least_as_strict(singles[first.code], none), first.code
        for second in QUESTIONS:
            if second is first:
                continue
            both = cleared_screen(
                **{first.code: sample_yes(first), second.code: sample_yes(second)}
            )
            assert is_at_least_as_strict(both, singles[first.code]), (first.code, second.code)
            assert both.tier >= singles[first.code].tier


@settings(max_examples=300, deadline=None)
@given(data=st.data(), answers=answer_sets(), age=AGES, cleared=CLEARED)
def test_one_more_yes_never_makes_the_result_less_strict(
    data: st.DataObject, answers: dict[str, Answer], age: int | None, cleared: frozenset[str]
) -> None:
    still_no = [q for q in QUESTIONS if not answers[q.code].yes]
    question = data.draw(st.sampled_from(still_no))
    more = {**answers, question.code: data.draw(yes_answer(question))}
    before = apply_clearances(evaluate_screening(answers, age=age), cleared)
    after = apply_clearances(evaluate_screening(more, age=age), cleared)

    assert after.tier >= before.tier
    assert after.effective_tier >= before.effective_tier
    for side in Side:
        for region in BASIC_REGIONS:
            cap_before, cap_after = before.cap_for(side, region), after.cap_for(side, region)
            if cap_before is not None:
                assert cap_after is not None
                assert cap_after <= cap_before
            if before.avoids(side, region):
                assert after.avoids(side, region)
            # Heat and cold bans (8.1 cleared hot knee, 8.2 injection and circulation) too.
            if before.bans_heat(side, region):
                assert after.bans_heat(side, region)
            if before.bans_cold(side, region):
                assert after.bans_cold(side, region)
        if before.keeps_calf_light(side):
            assert after.keeps_calf_light(side)
    assert is_at_least_as_strict(after, before)


@settings(max_examples=100, deadline=None)
@given(answers=answer_sets(), age=AGES, cleared=CLEARED)
def test_results_round_trip_and_clearances_only_loosen(
    answers: dict[str, Answer], age: int | None, cleared: frozenset[str]
) -> None:
    result = evaluate_screening(answers, age=age)
    after = apply_clearances(result, cleared)

    assert is_at_least_as_strict(result, result)
    assert is_at_least_as_strict(result, after)
    assert after.tier is result.tier
    assert after.effective_tier <= result.effective_tier
    kept = [f.code for f in after.findings if not f.after_clearance]
    assert kept == [f.code for f in result.findings]
    assert [f.tier.rank for f in after.findings] == sorted(
        (f.tier.rank for f in after.findings), reverse=True
    )
    assert after.site_rules == tuple(SiteRule)
    assert [f.tier.rank for f in result.findings] == sorted(
        (f.tier.rank for f in result.findings), reverse=True
    )
    assert load_result(json.loads(json.dumps(dump_result(after)))) == after
    stored = json.loads(json.dumps(dump_answers(answers)))
    assert load_answers(stored, QUESTIONNAIRE_VERSION) == answers


# --- Questionnaire versions -------------------------------------------------------------------

NEW_QUESTION = Question(
    "recent_long_flight",
    Section.HISTORY,
    "Have you been on a flight of more than four hours in the last four weeks?",
)


CURRENT = QUESTIONNAIRE_VERSION
NEXT = CURRENT + 1


def _later_versions() -> dict[str, Questionnaire]:
    """A version that adds a question, one that rewords one and one that retires one."""
    v1 = QUESTIONNAIRES[CURRENT]
    reworded = tuple(
        replace(q, prompt="Do you take blood thinners, or bruise easily?")
        if q.code == "anticoagulants"
        else q
        for q in v1.questions
    )
    return {
        "adds": Questionnaire(NEXT, (*v1.questions, NEW_QUESTION)),
        "rewords": Questionnaire(NEXT, reworded),
        "retires": Questionnaire(NEXT, tuple(q for q in v1.questions if q.code != "bruise")),
    }


def test_every_version_is_registered_under_its_own_number() -> None:
    assert QUESTIONNAIRE_VERSION in QUESTIONNAIRES
    assert current_questionnaire().version == QUESTIONNAIRE_VERSION
    for version, questionnaire in QUESTIONNAIRES.items():
        assert questionnaire.version == version
        codes = [q.code for q in questionnaire.questions]
        assert len(codes) == len(set(codes))


def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(RuleViolations) as caught:
        get_questionnaire(999)
    assert caught.value.field == "questionnaire_version"


@pytest.mark.parametrize("change", ["adds", "rewords", "retires"])
def test_stored_answers_are_read_with_their_own_version(
    monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    answers = {
        **blank_answers(),
        "dvt_signs": Answer(True, side=L),
        "bruise": Answer(True, side=R, region=Region.THIGH),
    }
    stored_answers = json.loads(json.dumps(dump_answers(answers)))
    stored_result = json.loads(json.dumps(dump_result(evaluate_screening(answers, age=ADULT))))
    newer = _later_versions()[change]
    monkeypatch.setitem(QUESTIONNAIRES, NEXT, newer)
    monkeypatch.setattr("clinic.domain.screening.QUESTIONNAIRE_VERSION", NEXT)
    assert current_questionnaire() is newer

    loaded = load_answers(stored_answers, CURRENT)
    assert loaded == answers
    assert evaluate_screening(loaded, age=ADULT, questionnaire=get_questionnaire(CURRENT)) == (
        load_result(stored_result)
    )
    assert load_result(stored_result).questionnaire_version == CURRENT
    if change != "rewords":
        # The stored answers do not fit the new version, and are never read with it.
        with pytest.raises(RuleViolations):
            load_answers(stored_answers, NEXT)
    # New screenings are taken, stored and read with the new version.
    fresh = blank_answers()
    assert set(fresh) == {q.code for q in newer.questions}
    result = evaluate_screening(fresh, age=ADULT)
    assert result.questionnaire_version == NEXT
    assert load_answers(json.loads(json.dumps(dump_answers(fresh))), NEXT) == fresh


def test_a_version_without_the_ottawa_criteria_still_evaluates() -> None:
    v1 = QUESTIONNAIRES[1]
    fewer = Questionnaire(2, tuple(q for q in v1.questions if q.code not in OTTAWA_CRITERIA))
    answers = {
        q.code: Answer(q.code == "recent_knee_injury", side=L if q.asks_side else None)
        if q.code == "recent_knee_injury"
        else Answer(False)
        for q in fewer.questions
    }
    result = evaluate_screening(answers, age=60, questionnaire=fewer)
    assert result.get_finding("acute_injury_ottawa") is not None  # the age criterion alone


# --- Referrals across screenings ----------------------------------------------------------------

DAY_2 = date(2024, 3, 2)


def _past(key: int, day: date, result: ScreeningResult) -> PastResult:
    return PastResult(key, day, result)


def test_a_clearance_referral_stays_open_across_later_screenings() -> None:
    earlier = _past(1, DAY, screen(dvt_signs=Answer(True, side=L)))
    for day in (DAY, DAY_2, date(2025, 1, 1)):
        later = screen()
        still = find_open_referrals(day, later, [earlier])
        assert [r.finding.code for r in still] == ["dvt_signs"]
        assert still[0].found_by is earlier
        assert still[0].needs_clearance
        combined = with_open_referrals(later, still)
        assert combined.refuses_treatment
        assert combined.effective_tier is Tier.REFER
        assert [f.code for f in combined.active_findings] == ["dvt_signs"]


def test_a_cleared_referral_does_not_carry_over() -> None:
    cleared = apply_clearances(screen(dvt_signs=Answer(True, side=L)), ["dvt_signs"])
    assert find_open_referrals(DAY_2, screen(), [_past(1, DAY, cleared)]) == ()


def test_fever_ends_only_with_a_screening_on_a_later_day() -> None:
    fever = _past(1, DAY, screen(fever_infection=YES))
    same_day = find_open_referrals(DAY, screen(), [fever])
    assert [r.finding.code for r in same_day] == ["fever_infection"]
    assert not same_day[0].needs_clearance
    assert with_open_referrals(screen(), same_day).refuses_treatment
    assert find_open_referrals(DAY_2, screen(), [fever]) == ()


def test_a_code_the_later_screening_found_itself_is_not_carried() -> None:
    earlier = _past(1, DAY, screen(dvt_signs=Answer(True, side=L)))
    later = screen(dvt_signs=Answer(True, side=R))
    assert find_open_referrals(DAY_2, later, [earlier]) == ()


def test_one_open_referral_per_code_from_the_latest_screening_that_found_it() -> None:
    first = _past(1, DAY, screen(dvt_signs=Answer(True, side=L)))
    second = _past(2, DAY_2, screen(dvt_signs=Answer(True, side=R), unexplained_pain=YES))
    still = find_open_referrals(date(2024, 3, 5), screen(), [second, first])
    assert {r.finding.code: r.found_by.key for r in still} == {
        "dvt_signs": 2,
        "unexplained_pain": 2,
    }


def test_findings_short_of_a_referral_are_not_carried() -> None:
    earlier = _past(1, DAY, screen(bruise=Answer(True, side=L, region=Region.THIGH)))
    assert find_open_referrals(DAY, screen(), [earlier]) == ()


def test_screenings_after_the_day_are_ignored() -> None:
    later = _past(1, DAY_2, screen(dvt_signs=Answer(True, side=L)))
    assert find_open_referrals(DAY, screen(), [later]) == ()


@settings(max_examples=60, deadline=None)
@given(first=answer_sets(), second=answer_sets(), same_day=st.booleans())
def test_a_later_screening_never_loosens_a_referral_that_needs_a_clearance(
    first: dict[str, Answer], second: dict[str, Answer], same_day: bool
) -> None:
    before = evaluate_screening(first, age=ADULT)
    after = evaluate_screening(second, age=ADULT)
    day = DAY if same_day else DAY_2
    combined = with_open_referrals(after, find_open_referrals(day, after, [_past(1, DAY, before)]))
    needing = {
        f.code for f in before.active_findings if f.tier is Tier.REFER and f.lifted_by is CLEARANCE
    }
    assert needing <= {f.code for f in combined.active_findings}
    if before.refuses_treatment and (same_day or needing):
        assert combined.refuses_treatment
    assert is_at_least_as_strict(combined, after)


@pytest.mark.parametrize(
    ("answers", "code", "words"),
    [
        ({"dvt_signs": Answer(True, side=L)}, "dvt_signs", "clearance"),
        ({"fever_infection": YES}, "fever_infection", "a later day"),
        ({"bruise": Answer(True, side=L, region=Region.THIGH)}, "bruise", "next screening"),
    ],
)
def test_each_finding_says_what_lifts_it(answers: dict[str, Answer], code: str, words: str) -> None:
    finding = screen(**answers).get_finding(code)
    assert finding is not None
    assert words in finding.next_step


# --- DOMAIN.md 8.1: findings after a clearance ----------------------------------------------


def _planned(
    technique: Technique, target: Target, side: Side, pressure: Pressure
) -> PlannedTechnique:
    return PlannedTechnique(technique, target, side, pressure)


def _refused(result: ScreeningResult, planned: PlannedTechnique) -> set[ViolationCode]:
    return {v.code for v in check_technique(result, planned)}


LEFT, RIGHT = Side.LEFT, Side.RIGHT
T, P = Technique, Pressure

# case, yes answers, cleared codes, the check, side, region, expected
AFTER_CLEARANCE_ROWS: list[tuple[str, dict[str, Answer], frozenset[str], str, Side, Region, object]] = [
    # dvt_current: the calf of that leg stays light, like a past clot (previous_dvt).
    ("dvt_current cleared: calf light", {"dvt_current": Answer(True, side=L)},
     frozenset({"dvt_current"}), "cap", LEFT, CALF, LIGHT),
    ("dvt_current cleared: no calf rolling", {"dvt_current": Answer(True, side=L)},
     frozenset({"dvt_current"}), "calf_light", LEFT, CALF, True),
    ("dvt_current cleared: other leg free", {"dvt_current": Answer(True, side=L)},
     frozenset({"dvt_current"}), "cap", RIGHT, CALF, None),
    ("dvt_current cleared: treatment allowed", {"dvt_current": Answer(True, side=L)},
     frozenset({"dvt_current"}), "refuses", LEFT, CALF, False),
    ("dvt_current cleared: same as previous_dvt", {"previous_dvt": Answer(True, side=L)},
     frozenset(), "cap", LEFT, CALF, LIGHT),
    ("dvt_current not cleared: refer", {"dvt_current": Answer(True, side=L)},
     frozenset(), "refuses", LEFT, CALF, True),
    # hot_swollen_knee: no heat, medium at most on that knee.
    ("hot_swollen_knee cleared: medium", {"hot_swollen_knee": Answer(True, side=R)},
     frozenset({"hot_swollen_knee"}), "cap", RIGHT, KNEE, MEDIUM),
    ("hot_swollen_knee cleared: no heat", {"hot_swollen_knee": Answer(True, side=R)},
     frozenset({"hot_swollen_knee"}), "bans_heat", RIGHT, KNEE, True),
    ("hot_swollen_knee cleared: other knee free", {"hot_swollen_knee": Answer(True, side=R)},
     frozenset({"hot_swollen_knee"}), "bans_heat", LEFT, KNEE, False),
    ("hot_swollen_knee cleared: thigh free", {"hot_swollen_knee": Answer(True, side=R)},
     frozenset({"hot_swollen_knee"}), "cap", RIGHT, THIGH, None),
    # recent_fracture, recent_surgery, unexplained_lump: only a clearance lifts them.
    ("recent_fracture: no override", {"recent_fracture": Answer(True, side=R, region=THIGH)},
     frozenset(), "overridable", RIGHT, THIGH, False),
    ("recent_fracture cleared", {"recent_fracture": Answer(True, side=R, region=THIGH)},
     frozenset({"recent_fracture"}), "avoids", RIGHT, THIGH, False),
    ("recent_surgery: no override", {"recent_surgery": Answer(True, side=L, region=THIGH)},
     frozenset(), "overridable", LEFT, THIGH, False),
    ("recent_surgery cleared", {"recent_surgery": Answer(True, side=L, region=THIGH)},
     frozenset({"recent_surgery"}), "avoids", LEFT, THIGH, False),
    ("unexplained_lump: no override", {"unexplained_lump": Answer(True, side=L, region=CALF)},
     frozenset(), "overridable", LEFT, CALF, False),
    ("unexplained_lump cleared", {"unexplained_lump": Answer(True, side=L, region=CALF)},
     frozenset({"unexplained_lump"}), "avoids", LEFT, CALF, False),
    ("skin_break: override allowed", {"skin_break": Answer(True, side=L, region=CALF)},
     frozenset(), "overridable", LEFT, CALF, True),
    # cancer: the clearance lifts the cap; the tumour area stays avoided.
    ("cancer cleared: cap lifts", {"cancer": YES, "tumour_site": Answer(True, side=L, region=THIGH)},
     frozenset({"cancer"}), "cap", RIGHT, CALF, None),
    ("cancer cleared: tumour avoided", {"cancer": YES, "tumour_site": Answer(True, side=L, region=THIGH)},
     frozenset({"cancer", "tumour_site"}), "avoids", LEFT, THIGH, True),
    ("cancer not cleared: medium", {"cancer": YES}, frozenset(), "cap", RIGHT, CALF, MEDIUM),
]  # fmt: skip


def _check(result: ScreeningResult, check: str, side: Side, region: Region) -> object:
    if check == "cap":
        return result.cap_for(side, region)
    if check == "calf_light":
        return result.keeps_calf_light(side)
    if check == "refuses":
        return result.refuses_treatment
    if check == "bans_heat":
        return result.bans_heat(side, region)
    if check == "bans_cold":
        return result.bans_cold(side, region)
    if check == "avoids":
        return result.avoids(side, region)
    if check == "overridable":
        # Every reader asks the same question: the finding, the result and the violation.
        (finding,) = [f for f in result.active_findings if f.tier is Tier.AVOID_LOCAL]
        target = {THIGH: Target.QUADRICEPS, CALF: Target.CALF, KNEE: Target.KNEE_JOINT}[region]
        planned = _planned(T.EFFLEURAGE, target, side, P.LIGHT)
        (violation,) = [
            v for v in check_technique(result, planned) if v.code is ViolationCode.AVOIDED_AREA
        ]
        assert finding.overridable is violation.overridable is result.overridable(finding.code)
        return violation.overridable
    raise AssertionError(check)


@pytest.mark.parametrize(
    ("answers", "cleared", "check", "side", "region", "expected"),
    [row[1:] for row in AFTER_CLEARANCE_ROWS],
    ids=[row[0] for row in AFTER_CLEARANCE_ROWS],
)
def test_after_clearance_row(
    answers: dict[str, Answer],
    cleared: frozenset[str],
    check: str,
    side: Side,
    region: Region,
    expected: object,
) -> None:
    result = apply_clearances(screen(**answers), cleared)
    assert _check(result, check, side, region) == expected
    # A stored result read back and cleared again says the same.
    stored = load_result(json.loads(json.dumps(dump_result(screen(**answers)))))
    assert _check(apply_clearances(stored, cleared), check, side, region) == expected


def test_a_cleared_clot_keeps_its_record_and_names_what_is_left() -> None:
    result = apply_clearances(screen(dvt_current=Answer(True, side=L)), {"dvt_current"})
    assert [f.code for f in result.cleared_findings] == ["dvt_current"]
    (left,) = result.active_findings
    assert (left.tier, left.after_clearance, left.urgency) == (MODIFY, True, None)
    assert "clot signs" in left.reason and "foam rolling" in left.reason
    assert left.label != FINDING_LABELS["dvt_current"]
    deep_calf = _planned(T.PETRISSAGE, Target.CALF, LEFT, P.MEDIUM)
    assert _refused(result, deep_calf) == {ViolationCode.PRESSURE_ABOVE_CAP}
    # Clearing twice adds nothing more.
    assert apply_clearances(result, {"dvt_current"}) == result


def test_a_cleared_hot_knee_refuses_heat_and_firm_pressure_there() -> None:
    result = apply_clearances(screen(hot_swollen_knee=Answer(True, side=R)), {"hot_swollen_knee"})
    heat = _planned(T.HEAT, Target.KNEE_JOINT, RIGHT, P.LIGHT)
    assert _refused(result, heat) == {ViolationCode.HEAT_ON_INFLAMED_KNEE}
    firm = _planned(T.PETRISSAGE, Target.QUADRICEPS_TENDON, RIGHT, P.FIRM)
    assert ViolationCode.PRESSURE_ABOVE_CAP in _refused(result, firm)


def test_a_later_screening_without_the_clot_ends_the_light_calf() -> None:
    later = apply_clearances(screen(), {"dvt_current"})
    assert later.cap_for(LEFT, CALF) is None


def test_clearance_only_codes_are_the_ones_domain_names() -> None:
    assert {"recent_fracture", "recent_surgery", "unexplained_lump"} == CLEARANCE_ONLY_CODES


# --- DOMAIN.md 8.2: more findings -------------------------------------------------------------

BAKER = {"baker_cyst": Answer(True, side=L)}
INJECTED = {"knee_injection": Answer(True, side=R, date=DAY)}
KNEE_OP = {"recent_surgery": Answer(True, side=L, region=KNEE, date=DAY)}
POOR_FLOW = {"circulation": Answer(True, side=R)}
LYMPH = {"lymphoedema": Answer(True, side=L)}

# case, yes answers, planned entry, violations expected
MORE_FINDING_ROWS: list[tuple[str, dict[str, Answer], PlannedTechnique, set[ViolationCode]]] = [
    ("baker_cyst: back of that knee avoided", BAKER,
     _planned(T.EFFLEURAGE, Target.BACK_OF_KNEE, LEFT, P.LIGHT), {ViolationCode.AVOIDED_AREA}),
    ("baker_cyst: popliteus avoided", BAKER,
     _planned(T.EFFLEURAGE, Target.POPLITEUS, LEFT, P.LIGHT), {ViolationCode.AVOIDED_AREA}),
    ("baker_cyst: front of that knee allowed", BAKER,
     _planned(T.EFFLEURAGE, Target.PATELLAR_TENDON, LEFT, P.LIGHT), set()),
    ("baker_cyst: other knee allowed", BAKER,
     _planned(T.EFFLEURAGE, Target.BACK_OF_KNEE, RIGHT, P.LIGHT), set()),
    ("baker_cyst_burst_signs: refer", {**BAKER, "baker_cyst_burst_signs": Answer(True, side=L)},
     _planned(T.EFFLEURAGE, Target.QUADRICEPS, RIGHT, P.LIGHT), {ViolationCode.REFER_NOT_CLEARED}),
    ("cold_pale_foot: refer", {"cold_pale_foot": Answer(True, side=R)},
     _planned(T.EFFLEURAGE, Target.QUADRICEPS, LEFT, P.LIGHT), {ViolationCode.REFER_NOT_CLEARED}),
    ("knee_injection: that knee avoided", INJECTED,
     _planned(T.EFFLEURAGE, Target.PATELLAR_TENDON, RIGHT, P.LIGHT), {ViolationCode.AVOIDED_AREA}),
    ("knee_injection: no heat", INJECTED,
     _planned(T.HEAT, Target.KNEE_JOINT, RIGHT, P.LIGHT),
     {ViolationCode.AVOIDED_AREA, ViolationCode.HEAT_ON_INFLAMED_KNEE}),
    ("knee_injection: thigh allowed", INJECTED,
     _planned(T.PETRISSAGE, Target.QUADRICEPS, RIGHT, P.FIRM), set()),
    ("knee surgery: that calf light", KNEE_OP,
     _planned(T.PETRISSAGE, Target.CALF, LEFT, P.MEDIUM), {ViolationCode.PRESSURE_ABOVE_CAP}),
    ("knee surgery: light calf allowed", KNEE_OP,
     _planned(T.EFFLEURAGE, Target.CALF, LEFT, P.LIGHT), set()),
    ("knee surgery: other calf free", KNEE_OP,
     _planned(T.PETRISSAGE, Target.CALF, RIGHT, P.FIRM), set()),
    ("thigh surgery: calf free", {"recent_surgery": Answer(True, side=L, region=THIGH)},
     _planned(T.PETRISSAGE, Target.CALF, LEFT, P.FIRM), set()),
    ("circulation: no cold on that leg", POOR_FLOW,
     _planned(T.COLD, Target.KNEE_JOINT, RIGHT, P.LIGHT), {ViolationCode.COLD_ON_POOR_CIRCULATION}),
    ("circulation: cold on other leg", POOR_FLOW,
     _planned(T.COLD, Target.KNEE_JOINT, LEFT, P.LIGHT), set()),
    ("circulation: medium at most", POOR_FLOW,
     _planned(T.PETRISSAGE, Target.QUADRICEPS, RIGHT, P.FIRM), {ViolationCode.PRESSURE_ABOVE_CAP}),
    ("lymphoedema: light on that leg", LYMPH,
     _planned(T.PETRISSAGE, Target.QUADRICEPS, LEFT, P.MEDIUM), {ViolationCode.PRESSURE_ABOVE_CAP}),
    ("lymphoedema: other leg free", LYMPH,
     _planned(T.PETRISSAGE, Target.QUADRICEPS, RIGHT, P.FIRM), set()),
    ("lymphoedema_new: refer", {**LYMPH, "lymphoedema_new": YES},
     _planned(T.EFFLEURAGE, Target.QUADRICEPS, RIGHT, P.LIGHT), {ViolationCode.REFER_NOT_CLEARED}),
    ("neuropathy: no heat in the clinic either", {"neuropathy": YES},
     _planned(T.HEAT, Target.KNEE_JOINT, RIGHT, P.LIGHT), {ViolationCode.HEAT_ON_NUMB_SKIN}),
    ("neuropathy: cold allowed", {"neuropathy": YES},
     _planned(T.COLD, Target.KNEE_JOINT, RIGHT, P.LIGHT), set()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "planned", "expected"),
    [row[1:] for row in MORE_FINDING_ROWS],
    ids=[row[0] for row in MORE_FINDING_ROWS],
)
def test_more_findings_row(
    answers: dict[str, Answer], planned: PlannedTechnique, expected: set[ViolationCode]
) -> None:
    assert _refused(screen(**answers), planned) == expected


@pytest.mark.parametrize(
    ("answers", "check", "side", "region", "expected"),
    [
        pytest.param(KNEE_OP, "calf_light", LEFT, CALF, True, id="knee surgery: no calf rolling"),
        pytest.param(KNEE_OP, "calf_light", RIGHT, CALF, False, id="knee surgery: other leg"),
        pytest.param(KNEE_OP, "avoids", LEFT, KNEE, True, id="knee surgery: knee avoided"),
        pytest.param(POOR_FLOW, "bans_cold", RIGHT, KNEE, True, id="circulation: bans cold"),
        pytest.param(POOR_FLOW, "bans_cold", LEFT, KNEE, False, id="circulation: other leg"),
        pytest.param(INJECTED, "bans_heat", RIGHT, KNEE, True, id="knee_injection: bans heat"),
        pytest.param(LYMPH, "cap", LEFT, THIGH, LIGHT, id="lymphoedema: cap"),
        pytest.param(BAKER, "avoids", LEFT, KNEE, True, id="baker_cyst: avoids (region)"),
    ],
)
def test_more_findings_for_home_care(
    answers: dict[str, Answer], check: str, side: Side, region: Region, expected: object
) -> None:
    assert _check(screen(**answers), check, side, region) == expected


def test_the_knee_surgery_calf_cap_outlasts_the_sites_clearance() -> None:
    result = apply_clearances(screen(**KNEE_OP), {"recent_surgery"})
    assert not result.avoids(LEFT, KNEE)
    assert result.keeps_calf_light(LEFT)
    finding = result.get_finding(KNEE_SURGERY_CALF)
    assert finding is not None and finding.label == FINDING_LABELS[KNEE_SURGERY_CALF]


def test_a_baker_cyst_is_stored_with_its_site() -> None:
    result = screen(**BAKER)
    assert result.findings[0].site is SiteRule.BACK_OF_KNEE
    assert load_result(json.loads(json.dumps(dump_result(result)))) == result


# --- Version 1 screenings read and evaluate as before ----------------------------------------

V1 = QUESTIONNAIRES[1]

# Stored version-1 answers (as dump_answers wrote them) and the findings they gave.
V1_ROWS: list[tuple[str, dict[str, Answer], list[tuple[str, Tier, Pressure | None, Region | None]]]] = [
    ("none", {}, []),
    ("knee surgery", {"recent_surgery": Answer(True, side=L, region=KNEE, date=DAY)},
     [("recent_surgery", AVOID, None, KNEE)]),
    ("numb foot", {"locked_or_numb": Answer(True, side=R)}, [("locked_or_numb", REFER, None, None)]),
    ("clot", {"dvt_current": Answer(True, side=L)}, [("dvt_current", REFER, None, None)]),
    ("cancer", {"cancer": YES}, [("cancer", MODIFY, MEDIUM, None)]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("yes", "expected"), [row[1:] for row in V1_ROWS], ids=[row[0] for row in V1_ROWS]
)
def test_version_1_screenings_read_and_evaluate_as_before(
    yes: dict[str, Answer], expected: list[tuple[str, Tier, Pressure | None, Region | None]]
) -> None:
    assert QUESTIONNAIRE_VERSION == 2
    answers = {**blank_answers(V1), **yes}
    stored = json.loads(json.dumps(dump_answers(answers, V1)))
    assert set(stored) == {q.code for q in V1.questions}
    loaded = load_answers(stored, 1)
    assert loaded == answers
    result = evaluate_screening(loaded, age=ADULT, questionnaire=V1)
    assert result.questionnaire_version == 1
    got = [(f.code, f.tier, f.max_pressure, f.region) for f in result.findings]
    assert got == expected
    assert load_result(json.loads(json.dumps(dump_result(result)))) == result
    # The version 2 questions are never asked of a version 1 screening.
    with pytest.raises(RuleViolations):
        load_answers(stored, 2)


def test_version_1_questions_are_unchanged() -> None:
    assert V1.questions[2].prompt.startswith("Has a doctor found a clot in a deep vein (DVT)")
    assert "not yet said that massage is safe" in V1.questions[2].prompt
    assert len(V1.questions) == 29
    assert not V1.asks("baker_cyst")


# --- DOMAIN.md 8.6: wording --------------------------------------------------------------------

NEGATIONS = re.compile(r"\b(not|never|no longer|n't|yet)\b", re.IGNORECASE)


@pytest.mark.parametrize("question", QUESTIONS_V2, ids=lambda q: q.code)
def test_each_question_reads_at_grade_8_or_below(question: Question) -> None:
    assert float(textstat.flesch_kincaid_grade(question.prompt)) <= 8, question.prompt


@pytest.mark.parametrize("question", QUESTIONS_V2, ids=lambda q: q.code)
def test_each_question_has_no_negation_inside(question: Question) -> None:
    assert NEGATIONS.search(question.prompt) is None, question.prompt
    assert question.prompt.count("?") == 1 and question.prompt.endswith("?")


def test_the_cold_foot_is_asked_on_its_own() -> None:
    prompt = QUESTIONS_BY_CODE["cold_pale_foot"].prompt
    assert "injury" not in prompt.lower()
    assert "cold" in prompt and "numb" in prompt


# --- Written reasons ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (". . .", False),
        ("x x x", False),
        ("1 2 3", False),
        ("ok ok", False),
        ("", False),
        ("Scab healed, light", True),
        ("Surgeon's note seen", True),
        ("ab cd ef", True),
        ("Cicatrice guérie, léger", True),
    ],
)
def test_is_written_reason(text: str, written: bool) -> None:
    assert is_written_reason(text) is written
