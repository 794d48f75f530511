"""Closed vocabularies for knee massage: sides, pressures, techniques, targets, regions, sites.

Sources (DOMAIN.md):

| table | source |
| --- | --- |
| Pressure ordinal light=1 < medium=2 < firm=3 < deep=4 | DOMAIN.md section 2 |
| Technique, Target, ALLOWED_TARGETS, typical doses | DOMAIN.md section 3 (seeds 000 and 004) |
| SiteRule and TARGET_SITES | DOMAIN.md section 1.4 |
| HOLD_RANGES, HELD_PRESSURE_SITES, techniques without a pressure level | DOMAIN.md section 8.3 |

Judgement calls on the section 3 table, recorded so the lead can reverse them:

- Effleurage is allowed on every target: "any muscle group; the whole knee area" covers the
  tendons, ligaments, the iliotibial band and the back of the knee (pressure there is limited by
  the site rules, not by this table).
- Trigger-point pressure is not allowed on the popliteus: it is a muscle belly, but it lies in the
  back of the knee, which the table excludes.
- Myofascial release "thigh" means quadriceps, hamstrings, adductors and iliotibial band; "calf"
  means the gastrocnemius only (tibialis anterior is the shin).
- Circular friction "around the joint line" is logged on the knee joint target.
- Heat and cold "knee area" is logged on the knee joint target (the whole knee).
- The knee joint target counts as including the kneecap (it is the whole knee), so the kneecap
  rule applies to it as well as to the tissue around the kneecap.
- The popliteus sits in the back of the knee, so the back-of-knee rule applies to it; the
  hamstring tendons (biceps femoris) and the LCL attach at the fibular head, so the fibular-head
  rule applies to them.
- A myofascial hold is held pressure (DOMAIN.md 8.3) but no source gives its length: it takes
  the trigger-point range (30 to 60 seconds, 90 at most). Joint mobilisation, heat and cold do
  not hold either: a hold time is refused on them, as on gliding, kneading and friction.
- The great saphenous vein rule is shown on every visit but tied to no target: the vein runs
  behind the MCL and across the inner hamstring tendons, so tying it to either would cap classic
  MCL friction at light, which no source asks for.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class Side(enum.StrEnum):
    """The leg a technique is applied to; every target has one."""

    LEFT = "left"
    RIGHT = "right"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {"left": "Left", "right": "Right"}[self.value]


class Laterality(enum.StrEnum):
    """Which leg an answer or finding concerns: one of them, or both."""

    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {"left": "Left leg", "right": "Right leg", "both": "Both legs"}[self.value]

    @property
    def sides(self) -> frozenset[Side]:
        """The sides this covers."""
        if self is Laterality.BOTH:
            return frozenset(Side)
        return frozenset({Side(self.value)})


class Pressure(enum.IntEnum):
    """Pressure on the industry's four-step scale, stored as its ordinal."""

    LIGHT = 1
    MEDIUM = 2
    FIRM = 3
    DEEP = 4

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {1: "Light", 2: "Medium", 3: "Firm", 4: "Deep"}[self.value]


class Region(enum.StrEnum):
    """An area of a leg: four basic regions and two wider ones made of them."""

    THIGH = "thigh"
    KNEE = "knee"
    CALF = "calf"
    SHIN = "shin"
    LOWER_LEG = "lower_leg"
    WHOLE_LEG = "whole_leg"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "thigh": "Thigh",
            "knee": "Knee",
            "calf": "Calf (back of the lower leg)",
            "shin": "Shin (front of the lower leg)",
            "lower_leg": "Lower leg (calf and shin)",
            "whole_leg": "Whole leg",
        }[self.value]

    @property
    def parts(self) -> frozenset[Region]:
        """The basic regions this region is made of."""
        return _REGION_PARTS[self]

    def overlaps(self, other: Region) -> bool:
        """Return whether the two regions share any basic region."""
        return not self.parts.isdisjoint(other.parts)


BASIC_REGIONS: tuple[Region, ...] = (Region.THIGH, Region.KNEE, Region.CALF, Region.SHIN)

_REGION_PARTS: Mapping[Region, frozenset[Region]] = MappingProxyType(
    {
        **{region: frozenset({region}) for region in BASIC_REGIONS},
        Region.LOWER_LEG: frozenset({Region.CALF, Region.SHIN}),
        Region.WHOLE_LEG: frozenset(BASIC_REGIONS),
    }
)


class SiteRule(enum.StrEnum):
    """A rule for the sites around the knee that holds on every visit, whatever the screening."""

    KNEECAP = "kneecap"
    BACK_OF_KNEE = "back_of_knee"
    FIBULAR_HEAD = "fibular_head"
    SAPHENOUS_VEIN = "saphenous_vein"
    JOINT_POSITIONS = "joint_positions"
    PAIN_RESPONSE = "pain_response"

    @property
    def label(self) -> str:
        """Name of the site or topic shown to the user."""
        return {
            "kneecap": "Kneecap",
            "back_of_knee": "Back of the knee",
            "fibular_head": "Outer knee, at the top of the fibula",
            "saphenous_vein": "Inner knee, over the long surface vein",
            "joint_positions": "Knee positions",
            "pain_response": "Pain during treatment",
        }[self.value]

    @property
    def rule(self) -> str:
        """What the therapist does there, in plain words."""
        return {
            "kneecap": (
                "Never press on the kneecap itself. Friction and skin lifting go around its edge,"
                " not over it, and gliding strokes stay light there."
            ),
            "back_of_knee": (
                "Broad, light contact only: nerves and blood vessels lie close to the surface."
                " No trigger-point or held pressure."
            ),
            "fibular_head": (
                "No pinning or held pressure on the bony bump below the outer knee: a nerve runs"
                " close to the surface there."
            ),
            "saphenous_vein": "Light pressure only over the vein on the inner side of the knee.",
            "joint_positions": "Never force the knee into deep bending or twisting.",
            "pain_response": "Massage should not hurt: stop if the pain rises.",
        }[self.value]


class Target(enum.StrEnum):
    """A structure a technique can be logged on. The cruciate ligaments are never targets."""

    QUADRICEPS = "quadriceps"
    HAMSTRINGS = "hamstrings"
    CALF = "calf"
    TIBIALIS_ANTERIOR = "tibialis_anterior"
    POPLITEUS = "popliteus"
    ADDUCTORS = "adductors"
    ILIOTIBIAL_BAND = "iliotibial_band"
    QUADRICEPS_TENDON = "quadriceps_tendon"
    PATELLAR_TENDON = "patellar_tendon"
    HAMSTRING_TENDONS = "hamstring_tendons"
    MCL = "mcl"
    LCL = "lcl"
    AROUND_KNEECAP = "around_kneecap"
    BACK_OF_KNEE = "back_of_knee"
    KNEE_JOINT = "knee_joint"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "quadriceps": "Quadriceps",
            "hamstrings": "Hamstrings",
            "calf": "Calf (gastrocnemius)",
            "tibialis_anterior": "Tibialis anterior",
            "popliteus": "Popliteus",
            "adductors": "Adductors",
            "iliotibial_band": "Iliotibial band",
            "quadriceps_tendon": "Quadriceps tendon",
            "patellar_tendon": "Patellar tendon",
            "hamstring_tendons": "Hamstring tendons",
            "mcl": "Medial collateral ligament (MCL)",
            "lcl": "Lateral collateral ligament (LCL)",
            "around_kneecap": "Tissue around the kneecap",
            "back_of_knee": "Back of the knee",
            "knee_joint": "Knee joint",
        }[self.value]

    @property
    def region(self) -> Region:
        """The basic region the target lies in."""
        return TARGET_REGIONS[self]

    @property
    def sites(self) -> frozenset[SiteRule]:
        """The always-on site rules that apply to work on this target."""
        return TARGET_SITES.get(self, frozenset())

    @property
    def techniques(self) -> tuple[Technique, ...]:
        """The techniques that may be logged on this target, in catalogue order."""
        return tuple(technique for technique in Technique if technique.allows(self))


class Technique(enum.StrEnum):
    """A massage technique or application a therapist logs on a visit."""

    EFFLEURAGE = "effleurage"
    PETRISSAGE = "petrissage"
    CROSS_FIBRE_FRICTION = "cross_fibre_friction"
    CIRCULAR_FRICTION = "circular_friction"
    TRIGGER_POINT = "trigger_point"
    MYOFASCIAL_RELEASE = "myofascial_release"
    PASSIVE_STRETCH = "passive_stretch"
    JOINT_MOBILISATION = "joint_mobilisation"
    HEAT = "heat"
    COLD = "cold"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "effleurage": "Effleurage (long gliding strokes)",
            "petrissage": "Petrissage (kneading)",
            "cross_fibre_friction": "Cross-fibre friction",
            "circular_friction": "Circular friction",
            "trigger_point": "Trigger-point pressure",
            "myofascial_release": "Myofascial release and skin lifting",
            "passive_stretch": "Passive stretch",
            "joint_mobilisation": "Joint mobilisation (gentle bending and straightening)",
            "heat": "Heat pack",
            "cold": "Cold pack",
        }[self.value]

    @property
    def typical_dose(self) -> str:
        """How long or how often the technique is usually given, for the visit form's hint.

        The hold of a technique that holds comes from HOLD_RANGES, the one place for it.
        """
        dose = {
            "effleurage": "A few minutes; about ten strokes to warm up.",
            "petrissage": "3 to 5 minutes for each muscle group.",
            "cross_fibre_friction": "About 2 minutes for each tendon or ligament.",
            "circular_friction": "3 to 5 minutes.",
            "trigger_point": "Firm but not painful; 5 to 10 minutes in all.",
            "myofascial_release": "A few minutes.",
            "passive_stretch": "2 or 3 times.",
            "joint_mobilisation": "A few slow repetitions, within comfort.",
            "heat": "15 to 20 minutes (10 to 15 within a full routine), a towel under the pack.",
            "cold": "15 to 20 minutes (10 to 15 within a full routine), a towel under the pack.",
        }[self.value]
        held = self.hold_range
        return dose if held is None else f"{dose} Hold: {held.words}."

    @property
    def has_pressure(self) -> bool:
        """Whether the technique is given at a pressure level (heat, cold and mobilisation not)."""
        return self not in NO_PRESSURE_TECHNIQUES

    @property
    def hold_range(self) -> HoldRange | None:
        """How long one hold lasts, or None for a technique that does not hold."""
        return HOLD_RANGES.get(self)

    @property
    def targets(self) -> frozenset[Target]:
        """The targets this technique may be logged on."""
        return ALLOWED_TARGETS[self]

    def allows(self, target: Target) -> bool:
        """Return whether this technique may be logged on the target."""
        return target in ALLOWED_TARGETS[self]


_MUSCLE_BELLIES = frozenset(
    {
        Target.QUADRICEPS,
        Target.HAMSTRINGS,
        Target.CALF,
        Target.TIBIALIS_ANTERIOR,
        Target.ADDUCTORS,
    }
)

ALLOWED_TARGETS: Mapping[Technique, frozenset[Target]] = MappingProxyType(
    {
        Technique.EFFLEURAGE: frozenset(Target),
        Technique.PETRISSAGE: _MUSCLE_BELLIES,
        Technique.CROSS_FIBRE_FRICTION: frozenset(
            {
                Target.QUADRICEPS_TENDON,
                Target.PATELLAR_TENDON,
                Target.HAMSTRING_TENDONS,
                Target.MCL,
                Target.LCL,
                Target.ILIOTIBIAL_BAND,
            }
        ),
        Technique.CIRCULAR_FRICTION: frozenset({Target.AROUND_KNEECAP, Target.KNEE_JOINT}),
        Technique.TRIGGER_POINT: _MUSCLE_BELLIES,
        Technique.MYOFASCIAL_RELEASE: frozenset(
            {
                Target.AROUND_KNEECAP,
                Target.QUADRICEPS,
                Target.HAMSTRINGS,
                Target.ADDUCTORS,
                Target.ILIOTIBIAL_BAND,
                Target.CALF,
            }
        ),
        Technique.PASSIVE_STRETCH: frozenset({Target.HAMSTRINGS, Target.QUADRICEPS, Target.CALF}),
        Technique.JOINT_MOBILISATION: frozenset({Target.KNEE_JOINT}),
        Technique.HEAT: frozenset({Target.KNEE_JOINT}),
        Technique.COLD: frozenset({Target.KNEE_JOINT}),
    }
)

TARGET_REGIONS: Mapping[Target, Region] = MappingProxyType(
    {
        Target.QUADRICEPS: Region.THIGH,
        Target.HAMSTRINGS: Region.THIGH,
        Target.ADDUCTORS: Region.THIGH,
        Target.ILIOTIBIAL_BAND: Region.THIGH,
        Target.CALF: Region.CALF,
        Target.TIBIALIS_ANTERIOR: Region.SHIN,
        Target.POPLITEUS: Region.KNEE,
        Target.QUADRICEPS_TENDON: Region.KNEE,
        Target.PATELLAR_TENDON: Region.KNEE,
        Target.HAMSTRING_TENDONS: Region.KNEE,
        Target.MCL: Region.KNEE,
        Target.LCL: Region.KNEE,
        Target.AROUND_KNEECAP: Region.KNEE,
        Target.BACK_OF_KNEE: Region.KNEE,
        Target.KNEE_JOINT: Region.KNEE,
    }
)

TARGET_SITES: Mapping[Target, frozenset[SiteRule]] = MappingProxyType(
    {
        Target.AROUND_KNEECAP: frozenset({SiteRule.KNEECAP}),
        Target.KNEE_JOINT: frozenset({SiteRule.KNEECAP}),
        Target.BACK_OF_KNEE: frozenset({SiteRule.BACK_OF_KNEE}),
        Target.POPLITEUS: frozenset({SiteRule.BACK_OF_KNEE}),
        Target.LCL: frozenset({SiteRule.FIBULAR_HEAD}),
        Target.HAMSTRING_TENDONS: frozenset({SiteRule.FIBULAR_HEAD}),
    }
)


@dataclass(frozen=True)
class HoldRange:
    """How long one hold of a technique lasts: the usual range and the most allowed."""

    usual_from: int
    usual_to: int
    most: int

    @property
    def words(self) -> str:
        """The range in words, for hints and refusals."""
        return f"{self.usual_from} to {self.usual_to} seconds a hold, {self.most} seconds at most"


# The one place for hold lengths (DOMAIN.md 8.3; seed 000: trigger points 30-60 s, stretch 30 s).
HOLD_RANGES: Mapping[Technique, HoldRange] = MappingProxyType(
    {
        Technique.TRIGGER_POINT: HoldRange(30, 60, 90),
        Technique.MYOFASCIAL_RELEASE: HoldRange(30, 60, 90),
        Technique.PASSIVE_STRETCH: HoldRange(15, 30, 60),
    }
)

# Given without a pressure level: the form asks for none and the note prints none.
NO_PRESSURE_TECHNIQUES = frozenset({Technique.JOINT_MOBILISATION, Technique.HEAT, Technique.COLD})

# The site rules that forbid held pressure: every entry with a hold time is refused there.
HELD_PRESSURE_SITES = frozenset({SiteRule.KNEECAP, SiteRule.BACK_OF_KNEE, SiteRule.FIBULAR_HEAD})
