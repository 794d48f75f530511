"""Tests for the technique and target catalogue and its closed vocabularies."""

from __future__ import annotations

import ast
import enum
import itertools
from pathlib import Path

import pytest

from clinic.domain import catalogue, screening
from clinic.domain.catalogue import (
    ALLOWED_TARGETS,
    BASIC_REGIONS,
    HELD_PRESSURE_SITES,
    Laterality,
    Pressure,
    Region,
    Side,
    SiteRule,
    Target,
    Technique,
)

# Typed in again from DOMAIN.md section 3 (stored values, not enum names), so a slip in the
# catalogue's own table does not hide behind itself.
_MUSCLES = {"quadriceps", "hamstrings", "calf", "tibialis_anterior", "adductors"}
EXPECTED_TARGETS: dict[str, set[str]] = {
    "effleurage": {t.value for t in Target},
    "petrissage": set(_MUSCLES),
    "cross_fibre_friction": {
        "quadriceps_tendon",
        "patellar_tendon",
        "hamstring_tendons",
        "mcl",
        "lcl",
        "iliotibial_band",
    },
    "circular_friction": {"around_kneecap", "knee_joint"},
    "trigger_point": set(_MUSCLES),
    "myofascial_release": {
        "around_kneecap",
        "quadriceps",
        "hamstrings",
        "adductors",
        "iliotibial_band",
        "calf",
    },
    "passive_stretch": {"hamstrings", "quadriceps", "calf"},
    "joint_mobilisation": {"knee_joint"},
    "heat": {"knee_joint"},
    "cold": {"knee_joint"},
}

EXPECTED_REGIONS: dict[str, str] = {
    "quadriceps": "thigh",
    "hamstrings": "thigh",
    "adductors": "thigh",
    "iliotibial_band": "thigh",
    "calf": "calf",
    "tibialis_anterior": "shin",
    "popliteus": "knee",
    "quadriceps_tendon": "knee",
    "patellar_tendon": "knee",
    "hamstring_tendons": "knee",
    "mcl": "knee",
    "lcl": "knee",
    "around_kneecap": "knee",
    "back_of_knee": "knee",
    "knee_joint": "knee",
}

ALL_PAIRS = list(itertools.product(Technique, Target))


@pytest.mark.parametrize(
    ("technique", "target"), ALL_PAIRS, ids=[f"{a.value}-{b.value}" for a, b in ALL_PAIRS]
)
def test_technique_target_table(technique: Technique, target: Target) -> None:
    expected = target.value in EXPECTED_TARGETS[technique.value]
    assert technique.allows(target) is expected
    assert (target in technique.targets) is expected
    assert (technique in target.techniques) is expected


def test_ten_techniques_and_fifteen_targets() -> None:
    assert len(Technique) == 10
    assert len(Target) == 15
    assert set(ALLOWED_TARGETS) == set(Technique)


@pytest.mark.parametrize("word", ["acl", "pcl", "cruciate"])
def test_cruciate_ligaments_are_never_targets(word: str) -> None:
    assert not any(word in t.value or word in t.label.lower() for t in Target)


def test_every_target_can_take_some_technique() -> None:
    assert all(target.techniques for target in Target)


@pytest.mark.parametrize("target", list(Target), ids=lambda t: t.value)
def test_target_region(target: Target) -> None:
    assert target.region.value == EXPECTED_REGIONS[target.value]
    assert target.region in BASIC_REGIONS


@pytest.mark.parametrize(
    ("target", "sites"),
    [
        (Target.AROUND_KNEECAP, {SiteRule.KNEECAP}),
        (Target.KNEE_JOINT, {SiteRule.KNEECAP}),
        (Target.BACK_OF_KNEE, {SiteRule.BACK_OF_KNEE}),
        (Target.POPLITEUS, {SiteRule.BACK_OF_KNEE}),
        (Target.LCL, {SiteRule.FIBULAR_HEAD}),
        (Target.HAMSTRING_TENDONS, {SiteRule.FIBULAR_HEAD}),
        (Target.MCL, set()),
        (Target.QUADRICEPS, set()),
        (Target.CALF, set()),
    ],
    ids=lambda value: getattr(value, "value", None),
)
def test_target_sites(target: Target, sites: set[SiteRule]) -> None:
    assert target.sites == sites


ENUMS: list[type[enum.Enum]] = [Side, Laterality, Pressure, Region, SiteRule, Target, Technique]


@pytest.mark.parametrize("enum_type", ENUMS, ids=lambda e: e.__name__)
def test_every_member_has_a_distinct_label(enum_type: type[enum.Enum]) -> None:
    labels = [member.label for member in enum_type]  # type: ignore[attr-defined]
    assert all(isinstance(label, str) and label.strip() for label in labels)
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("technique", list(Technique), ids=lambda t: t.value)
def test_every_technique_has_a_typical_dose(technique: Technique) -> None:
    assert technique.typical_dose.strip()


# Typed in again from DOMAIN.md section 8.3: (usual from, usual to, at most) in seconds, or None
# for a technique that does not hold; and whether the technique has a pressure level.
EXPECTED_DOSES: dict[str, tuple[tuple[int, int, int] | None, bool]] = {
    "effleurage": (None, True),
    "petrissage": (None, True),
    "cross_fibre_friction": (None, True),
    "circular_friction": (None, True),
    "trigger_point": ((30, 60, 90), True),
    "myofascial_release": ((30, 60, 90), True),
    "passive_stretch": ((15, 30, 60), True),
    "joint_mobilisation": (None, False),
    "heat": (None, False),
    "cold": (None, False),
}


@pytest.mark.parametrize("technique", list(Technique), ids=lambda t: t.value)
def test_hold_ranges_and_pressure_levels(technique: Technique) -> None:
    hold, has_pressure = EXPECTED_DOSES[technique.value]
    allowed = technique.hold_range
    assert (
        None if allowed is None else (allowed.usual_from, allowed.usual_to, allowed.most)
    ) == hold
    assert technique.has_pressure is has_pressure
    if allowed is not None:
        # The hint on the form gives the same range as the refusals.
        assert allowed.words in technique.typical_dose


@pytest.mark.parametrize(
    ("target", "held"),
    [(t, {"kneecap", "back_of_knee", "fibular_head"} & {s.value for s in t.sites}) for t in Target],
    ids=lambda v: getattr(v, "value", str(v)),
)
def test_held_pressure_sites(target: Target, held: set[str]) -> None:
    assert {s.value for s in target.sites & HELD_PRESSURE_SITES} == held
    assert {s.value for s in HELD_PRESSURE_SITES} == {"kneecap", "back_of_knee", "fibular_head"}


@pytest.mark.parametrize("rule", list(SiteRule), ids=lambda r: r.value)
def test_every_site_rule_has_words(rule: SiteRule) -> None:
    assert rule.rule.strip()


def test_pressure_is_an_ordered_ordinal() -> None:
    assert [p.value for p in Pressure] == [1, 2, 3, 4]
    assert Pressure.LIGHT < Pressure.MEDIUM < Pressure.FIRM < Pressure.DEEP
    assert max(Pressure.MEDIUM, Pressure.LIGHT) is Pressure.MEDIUM
    assert Pressure(3) is Pressure.FIRM


@pytest.mark.parametrize(
    ("laterality", "sides"),
    [
        (Laterality.LEFT, {Side.LEFT}),
        (Laterality.RIGHT, {Side.RIGHT}),
        (Laterality.BOTH, {Side.LEFT, Side.RIGHT}),
    ],
)
def test_laterality_sides(laterality: Laterality, sides: set[Side]) -> None:
    assert laterality.sides == sides


@pytest.mark.parametrize(
    ("region", "parts"),
    [
        (Region.THIGH, {Region.THIGH}),
        (Region.KNEE, {Region.KNEE}),
        (Region.CALF, {Region.CALF}),
        (Region.SHIN, {Region.SHIN}),
        (Region.LOWER_LEG, {Region.CALF, Region.SHIN}),
        (Region.WHOLE_LEG, {Region.THIGH, Region.KNEE, Region.CALF, Region.SHIN}),
    ],
)
def test_region_parts(region: Region, parts: set[Region]) -> None:
    assert region.parts == parts


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (Region.LOWER_LEG, Region.CALF, True),
        (Region.LOWER_LEG, Region.KNEE, False),
        (Region.WHOLE_LEG, Region.SHIN, True),
        (Region.THIGH, Region.KNEE, False),
        (Region.CALF, Region.SHIN, False),
    ],
)
def test_region_overlap_is_symmetric(a: Region, b: Region, overlap: bool) -> None:
    assert a.overlaps(b) is overlap
    assert b.overlaps(a) is overlap


FORBIDDEN_IMPORTS = ("flask", "sqlalchemy", "clinic.models", "clinic.extensions", "wtforms")


@pytest.mark.parametrize("module", [catalogue, screening], ids=lambda m: m.__name__)
def test_domain_modules_stay_pure(module: object) -> None:
    source = Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert ast.get_docstring(tree)
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    assert not [name for name in imported if name.startswith(FORBIDDEN_IMPORTS)]
