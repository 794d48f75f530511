"""Home-care items a therapist gives a client, and how a screening result limits each one.

Where the facts come from (DOMAIN.md section 5, drawn from the two seed documents; every
sentence below is the app's own wording):

| item | facts used | source |
| --- | --- | --- |
| self_massage | 14 steps made 12; 5 slow strokes per area, 5 circles each way | seed 004 |
| hamstring, front thigh, calf stretch | hold 15-30 s, 2-3 times on each leg | seed 000 (1) |
| straight_leg_raise | lift 6-12 in (15-30 cm), hold 3-5 s, 10-15 times, 2-3 sets | seed 000 (2) |
| glute_bridge | hold 3-5 s, 10-15 times, 2-3 sets | seed 000 (2) |
| clamshell | 10-15 times on each side, 2-3 sets | seed 000 (2) |
| heat_pack | 15-20 min, towel under the pack, before stretching or exercise | seed 000 (3) |
| cold_pack | 15-20 min, towel under the pack, after exercise, for pain or swelling | seed 000 (3) |
| foam_roller | calf, back and front of the thigh, 5-10 min per muscle group | seed 000 (routine) |

Seed 000 sections: (1) stretching, (2) strengthening, (3) heat and cold, all under
"Complementary Therapies"; (routine) is "Developing a Massage Routine".

Judgement calls, recorded so the lead can reverse them:

- Default doses start at the low end of each seed range (10 repetitions, 2 sets, 15 minutes)
  and at the top of the hold range (30 s stretches, 5 s holds): the therapist raises the
  amount, the client does not have to guess it down. Stretches and strengthening default to
  once a day (the seeds give no frequency; daily is usual for home exercise); self-massage and
  foam rolling to twice a week (seed 000: the full routine once or twice a week); heat and cold
  to once a day, around the exercises.
- Any refer finding not yet cleared leaves out every item, whatever its side: home care waits
  until a doctor has seen the client (DOMAIN.md 1.1, "do not treat today; refer"). Fever is
  lifted by recovery, not clearance, so it too keeps everything out until the client is
  rescreened.
- Only active findings count: a cleared finding changes nothing (apply_clearances decides
  which findings a clearance lifts).
- A fresh knee injury or a flare-up (and a hot, swollen knee) rules out heat on that knee
  (DOMAIN.md 3 and 5) and the knee steps of self-massage; it also leaves out the stretches and
  strengthening on that leg until the next screening, because seed 000 asks for a medical
  opinion first after a recent injury or inflammation. Cold stays: it is the usual choice.
- A broken bone or an operation site not yet cleared leaves out the stretches and
  strengthening on that whole leg, wherever the area: loading that leg is for the doctor or
  physiotherapist to set.
- Signs of a clot, a current clot or varicose veins over the calf rule out the calf stretch on
  that leg (DOMAIN.md 5, "calf stretch pressure"). A past clot or recent immobilisation caps
  the calf at light pressure (DOMAIN.md 1.3): self-massage stays with light strokes there,
  foam rolling of that calf is left out, and the calf stretch stays, since it puts no pressure
  on the calf.
- The foam roller presses with body weight and cannot be kept light, so any pressure cap on a
  rolled area (blood thinners, less feeling, weak bones, cancer, pregnancy on the calves, a
  past clot) leaves that area out.
- Less feeling in the legs (or diabetes) rules out heat, where a burn can go unnoticed; cold
  stays with a skin check.
- Pregnancy adds a note to the two exercises done lying on the back: ask the midwife or doctor.
- Heat is left out over any area to avoid at the knee (broken skin, a bruise, varicose veins,
  an unchecked lump, a break or operation not yet cleared); cold is left out over broken skin,
  an unchecked lump, or a break or operation not yet cleared, and kept over a bruise or veins.
- A cleared knee replacement adds a note to the front thigh stretch, the one deep knee bend
  (DOMAIN.md 1.4: never force deep bending).
- A cleared hot, swollen knee allows heat again: cleared findings change nothing, as in
  ScreeningResult.bans_heat (its module notes read as if the ban outlived the clearance).
- Side handling: an item done one leg at a time keeps the other leg when a finding names one
  leg; a finding with no side, or with both, counts for both legs. The glute bridge works both
  legs at once, so a finding on either leg leaves it out. A finding with no region counts as
  the whole leg.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from clinic.domain.catalogue import BASIC_REGIONS, Laterality, Pressure, Region, Side
from clinic.domain.errors import Problem, RuleViolations
from clinic.domain.screening import Finding, ScreeningResult, Tier

# --- Vocabularies ------------------------------------------------------------------------------


class ItemKind(enum.StrEnum):
    """What sort of home care an item is."""

    SELF_MASSAGE = "self_massage"
    STRETCH = "stretch"
    STRENGTHEN = "strengthen"
    HEAT = "heat"
    COLD = "cold"
    FOAM_ROLL = "foam_roll"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "self_massage": "Self-massage",
            "stretch": "Stretch",
            "strengthen": "Strengthening exercise",
            "heat": "Heat",
            "cold": "Cold",
            "foam_roll": "Foam roller",
        }[self.value]


class Each(enum.StrEnum):
    """What a dose's amount is counted per: each leg or each muscle worked."""

    LEG = "leg"
    MUSCLE = "muscle"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {"leg": "Each leg", "muscle": "Each muscle"}[self.value]


class Effect(enum.StrEnum):
    """What a rule does to an item when a matching finding is active."""

    EXCLUDE = "exclude"
    SKIP_PART = "skip_part"
    LIMIT_PRESSURE = "limit_pressure"
    CHANGE = "change"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "exclude": "Leave the item out on the finding's leg",
            "skip_part": "Leave out the steps over the finding's area",
            "limit_pressure": "Keep the pressure within the finding's limit",
            "change": "Add a change to the item",
        }[self.value]


# --- Dose -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dose:
    """How much and how often: every amount is optional; each says what it is counted per."""

    hold_seconds: int | None = None
    repetitions: int | None = None
    sets: int | None = None
    times_per_day: int | None = None
    times_per_week: int | None = None
    minutes: int | None = None
    each: Each | None = None

    @property
    def is_empty(self) -> bool:
        """Whether no amount at all is given."""
        return all(getattr(self, name) is None for name in DOSE_LIMITS)


# field -> (lowest, highest, message shown beside the field). The upper bounds catch typing
# slips (300 repetitions, 90 minutes of ice) rather than encode a clinical maximum.
DOSE_LIMITS: Mapping[str, tuple[int, int, str]] = MappingProxyType(
    {
        "hold_seconds": (1, 120, "Hold for 1 to 120 seconds."),
        "repetitions": (1, 50, "Give 1 to 50 repetitions."),
        "sets": (1, 10, "Give 1 to 10 sets."),
        "times_per_day": (1, 6, "Give 1 to 6 times a day."),
        "times_per_week": (1, 14, "Give 1 to 14 times a week."),
        "minutes": (1, 60, "Give 1 to 60 minutes."),
    }
)


@dataclass(frozen=True)
class DoseRange:
    """The safe range of one dose amount for one kind of item (DOMAIN.md 8.3)."""

    low: int
    high: int
    message: str


def _range(low: int, high: int, message: str) -> DoseRange:
    return DoseRange(low, high, message)


_TEMPERATURE = {
    "minutes": _range(10, 20, "Use cold or heat for 10 to 20 minutes at a time."),
    "times_per_day": _range(1, 4, "Use cold or heat 1 to 4 times a day."),
}
_RUBBING = {
    "minutes": _range(1, 15, "Give 1 to 15 minutes a session for self-massage or rolling."),
    "times_per_day": _range(1, 2, "Give once or twice a day (1 to 2) for self-massage or rolling."),
}

# DOMAIN.md 8.3: the home doses a therapist may print, per kind of item; an amount not listed
# for a kind keeps only the typing-slip limits above. NHS and NICE soft-tissue advice for cold
# and heat (15-20 minutes every 2-3 hours); seed 000 for the stretches and strengthening.
DOSE_RANGES: Mapping[ItemKind, Mapping[str, DoseRange]] = MappingProxyType(
    {
        ItemKind.HEAT: MappingProxyType(_TEMPERATURE),
        ItemKind.COLD: MappingProxyType(_TEMPERATURE),
        ItemKind.STRETCH: MappingProxyType(
            {
                "hold_seconds": _range(15, 60, "Hold a stretch for 15 to 60 seconds."),
                "repetitions": _range(2, 3, "Do a stretch 2 to 3 times."),
            }
        ),
        ItemKind.STRENGTHEN: MappingProxyType(
            {
                "repetitions": _range(5, 15, "Give 5 to 15 repetitions for strengthening."),
                "sets": _range(1, 3, "Give 1 to 3 sets for strengthening."),
                "hold_seconds": _range(1, 10, "Hold 1 to 10 seconds for strengthening."),
            }
        ),
        ItemKind.SELF_MASSAGE: MappingProxyType(_RUBBING),
        ItemKind.FOAM_ROLL: MappingProxyType(_RUBBING),
    }
)


def validate_dose(dose: Dose, kind: ItemKind | None = None) -> None:
    """Raise RuleViolations unless every amount is a whole number within its limits.

    With a kind, each amount must also lie in that kind's range (DOSE_RANGES), and the
    message gives the range. Each problem names the dose field it belongs to (None: the dose
    as a whole).
    """
    problems: list[Problem] = []
    ranges = DOSE_RANGES.get(kind, {}) if kind is not None else {}
    for name, (low, high, message) in DOSE_LIMITS.items():
        value: object = getattr(dose, name)
        if value is None:
            continue
        # bool is an int, so True would pass as 1 without this check.
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(Problem(name, message))
        elif name in ranges and not ranges[name].low <= value <= ranges[name].high:
            problems.append(Problem(name, ranges[name].message))
    if dose.times_per_day is not None and dose.times_per_week is not None:
        problems.append(Problem("times_per_week", "Give times a day or times a week, not both."))
    if dose.sets is not None and dose.repetitions is None:
        problems.append(Problem("repetitions", "Give how many times to do it in each set."))
    if dose.each is not None and not isinstance(dose.each, Each):
        problems.append(Problem("each", "Choose each leg or each muscle."))
    if dose.is_empty:
        problems.append(Problem(None, "Give at least one amount: a hold, a count or a time."))
    if problems:
        raise RuleViolations(problems)


def describe_dose(dose: Dose) -> str:
    """Return the dose in plain words for the printed plan, e.g. "Hold 30 seconds. Once a day."."""
    each = f" on each {dose.each.value}" if dose.each is not None else ""
    sentences: list[str] = []
    if dose.hold_seconds is not None:
        sentences.append(f"Hold {_count(dose.hold_seconds, 'second')}.")
    if dose.repetitions is not None:
        if dose.sets is not None and dose.sets > 1:
            sentences.append(f"Do {dose.sets} sets of {dose.repetitions}{each}.")
        elif dose.repetitions == 1:
            sentences.append(f"Do it once{each}.")
        else:
            sentences.append(f"Do it {dose.repetitions} times{each}.")
        each = ""
    if dose.minutes is not None:
        sentences.append(f"{_count(dose.minutes, 'minute')}{each or ' at a time'}.")
    if dose.times_per_day is not None:
        sentences.append(_how_often(dose.times_per_day, "day"))
    if dose.times_per_week is not None:
        sentences.append(
            "Every day." if dose.times_per_week == 7 else _how_often(dose.times_per_week, "week")
        )
    return " ".join(sentences)


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def _how_often(number: int, period: str) -> str:
    words = {1: "Once", 2: "Twice"}
    return f"{words.get(number, f'{number} times')} a {period}."


# --- Items and their rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A group of an item's steps that work one area, left out when that area must be avoided."""

    name: str
    regions: frozenset[Region]
    steps: tuple[int, ...]


@dataclass(frozen=True)
class ItemRule:
    """How findings with the given codes (or any pressure cap) limit an item.

    The rule fires when the finding's region (the whole leg when it has none) overlaps regions.
    change is the client's wording for Effect.CHANGE.
    """

    effect: Effect
    codes: frozenset[str] = frozenset()
    any_cap: bool = False
    regions: frozenset[Region] = frozenset(BASIC_REGIONS)
    change: str = ""
    # Only findings of these tiers (all by default).
    tiers: frozenset[Tier] = frozenset(Tier)
    # LIMIT_PRESSURE by code: the cap the rule sets, and where (instead of the finding's own).
    cap: Pressure | None = None
    cap_region: Region | None = None
    # Any finding at all (an own item that declares nothing), and why, for the therapist.
    any_finding: bool = False
    why: str = ""

    def matches(self, finding: Finding) -> bool:
        """Return whether the rule is about this finding, wherever it is."""
        if finding.tier not in self.tiers:
            return False
        if self.any_finding:
            return True
        return finding.code in self.codes or (self.any_cap and finding.max_pressure is not None)


@dataclass(frozen=True)
class HomeCareItem:
    """One piece of home care, with its default dose and the findings that limit it.

    per_leg items are done one leg at a time, so a finding on one leg leaves the other.
    skip_note is added to the client's change when parts are left out.
    """

    code: str
    version: int
    kind: ItemKind
    title: str
    purpose: str
    steps: tuple[str, ...]
    dose: Dose
    cautions: tuple[str, ...]
    rules: tuple[ItemRule, ...] = ()
    per_leg: bool = True
    parts: tuple[Part, ...] = ()
    skip_note: str = ""
    # DOMAIN.md 8.4. gentle_steps: (step number, the step's wording under a pressure cap).
    gentle_steps: tuple[tuple[int, str], ...] = ()
    # The steps for one leg only ({leg} names it), used when the other leg is left out: they
    # never mention the other leg. Same numbering as steps for the steps parts name.
    one_leg_steps: tuple[str, ...] = ()
    # Done one leg at a time, the other leg carries the weight (standing on it, lying on it):
    # with one leg left out and no one_leg_steps, the item is left out entirely.
    loads_other_leg: bool = False


_ALL = frozenset(BASIC_REGIONS)
_KNEE = frozenset({Region.KNEE})
_CALF = frozenset({Region.CALF})
_ROLLED = frozenset({Region.CALF, Region.THIGH})

# Signs of a clot, or a clot not yet cleared: both refer, so every item is out anyway; the rules
# below say which items stay out of that leg in their own words (DOMAIN.md 5).
_CLOT = frozenset({"dvt_signs", "dvt_current", "baker_cyst_burst_signs"})
# A knee to leave alone until it settles (screening _NO_HEAT_CODES; seed 000 safety step 1).
_SORE_KNEE = frozenset({"hot_swollen_knee", "acute_flare", "recent_knee_injury"})
# Areas with no contact or pressure (DOMAIN.md 1.2).
_AVOID_AREA = frozenset(
    {
        "skin_break",
        "bruise",
        "unexplained_lump",
        "varicose_veins",
        "recent_fracture",
        "recent_surgery",
        # DOMAIN.md 8.2: the back of a knee with a Baker's cyst; a knee injected in the last
        # 14 days (no work over the site, no heat).
        "baker_cyst",
        "knee_injection",
        # DOMAIN.md 8.1: a tumour area stays avoided after the oncologist's clearance.
        "tumour_site",
    }
)
_NOT_CLEARED = frozenset({"recent_fracture", "recent_surgery"})
# The screening's lasting calf cap after a knee operation (DOMAIN.md 8.2).
_KNEE_SURGERY_CALF = "knee_surgery_calf"

# Stretches and strengthening: out on a leg whose knee must settle or whose bone or wound is
# not yet cleared (see the judgement calls above).
_EXERCISE_RULES: tuple[ItemRule, ...] = (
    ItemRule(Effect.EXCLUDE, codes=_SORE_KNEE | _NOT_CLEARED | frozenset({"knee_injection"})),
    # A clot not yet seen by a doctor; once cleared, the calf cap below is enough (8.1).
    ItemRule(Effect.EXCLUDE, codes=_CLOT, tiers=frozenset({Tier.REFER})),
)
# Lying on the back late in pregnancy is a question for the midwife (DOMAIN.md 1.3 pregnancy:
# ask for the provider's advice).
_LYING_ON_BACK_IN_PREGNANCY = ItemRule(
    Effect.CHANGE,
    codes=frozenset({"pregnancy"}),
    change="Ask your midwife or doctor if it is fine for you to lie on your back.",
)


def _stretch(
    code: str,
    title: str,
    purpose: str,
    steps: tuple[str, ...],
    *extra: ItemRule,
    one_leg_steps: tuple[str, ...] = (),
    loads_other_leg: bool = False,
) -> HomeCareItem:
    # Seed 000: hold 15-30 s, 2-3 times on each leg; seed 000 "Stretch and Mobilize" holds 30 s.
    return HomeCareItem(
        code=code,
        version=1,
        kind=ItemKind.STRETCH,
        title=title,
        purpose=purpose,
        steps=steps,
        dose=Dose(hold_seconds=30, repetitions=3, times_per_day=1, each=Each.LEG),
        cautions=(
            "You should feel a gentle pull, never pain.",
            "Move slowly and do not bounce.",
        ),
        rules=(*_EXERCISE_RULES, *extra),
        one_leg_steps=one_leg_steps,
        loads_other_leg=loads_other_leg,
    )


_STRENGTH_CAUTIONS = (
    "Move slowly and with control.",
    "Stop if your knee or back hurts.",
)

SELF_MASSAGE = HomeCareItem(
    code="self_massage",
    version=1,
    kind=ItemKind.SELF_MASSAGE,
    title="Self-massage for the knee and leg",
    purpose=(
        "This warms and loosens the muscles around your knee. It can ease stiffness and soreness."
    ),
    # Seed 004 steps 3-14, in order; step 1 (stop at any pain) and 2 (around, not over, the
    # kneecap) become cautions and the wording of steps 8 to 10.
    steps=(
        "Warm up for a few minutes. March on the spot and roll your shoulders.",
        "Sit on a bed or a soft floor with your knees a little bent.",
        "Stroke your lower leg quickly and lightly, from the ankle up to just below the knee."
        " Cover the front, the sides and the back. Stop when the skin feels warm.",
        "Now switch to a fist or the base of your palm. Glide slowly up the calf from ankle to"
        " knee, pressing a little more. Give 5 strokes to each side, to the back, and to the"
        " muscle next to your shin bone.",
        "Stroke your thigh quickly and lightly, from just above the knee up to the hip. Cover"
        " the front, the sides and the back. Stop when the skin feels warm.",
        "Glide more slowly up the thigh, pressing deeper, with a fist, your forearm or the base"
        " of your palm. Give 5 strokes to the front, to each side, and to the back if you can"
        " reach.",
        "Rub the area around your kneecap with flat hands until it feels warm.",
        "Pinch up the skin around the kneecap gently, between finger and thumb. Work around the"
        " edge, but never on top of the kneecap.",
        "Put the edges of your hands on each side of the kneecap. Move them back and forth, like"
        " a saw. Work your way round the whole edge, not over it.",
        "With your fingertips or the base of your palm, draw small circles all around the knee."
        " Keep off the kneecap. Circle 5 times one way, then 5 times the other way.",
        "To finish, stroke your leg lightly from the ankle, past the knee, up to the thigh. Do"
        " this twice.",
        "Rest for a moment. Then get up slowly.",
    ),
    # Seed 000: the full routine once or twice a week.
    dose=Dose(times_per_week=2),
    cautions=(
        "Stop at once if it hurts anywhere, or if the way you sit feels wrong.",
        "Never press on the kneecap itself.",
        "Use only a light touch at the back of the knee.",
    ),
    parts=(
        Part("the lower leg", frozenset({Region.CALF, Region.SHIN}), (3, 4)),
        Part("the thigh", frozenset({Region.THIGH}), (5, 6)),
        Part("the knee", _KNEE, (7, 8, 9, 10)),
    ),
    skip_note="Keep your hands off that area in the last strokes too.",
    gentle_steps=(
        (
            4,
            "Now glide slowly up the calf from ankle to knee with a flat hand. Keep the pressure"
            " gentle. Give 5 strokes to each side, to the back, and to the muscle next to your"
            " shin bone.",
        ),
        (
            6,
            "Glide slowly up the thigh with a flat hand. Keep the pressure gentle. Give 5 strokes"
            " to the front, to each side, and to the back if you can reach.",
        ),
    ),
    rules=(
        ItemRule(Effect.SKIP_PART, codes=_CLOT | _AVOID_AREA | _SORE_KNEE),
        ItemRule(Effect.LIMIT_PRESSURE, any_cap=True),
        # DOMAIN.md 8.2: the weeks after knee surgery are the riskiest for a clot, so that
        # leg's calf stays light.
        ItemRule(
            Effect.LIMIT_PRESSURE,
            codes=frozenset({"recent_surgery"}),
            regions=_KNEE,
            cap=Pressure.LIGHT,
            cap_region=Region.CALF,
        ),
        ItemRule(
            Effect.CHANGE,
            codes=frozenset({"product_allergy"}),
            change="If you use a cream or oil, use only one your therapist has checked.",
        ),
    ),
)

HAMSTRING_STRETCH = _stretch(
    "hamstring_stretch",
    "Hamstring stretch",
    "This stretches the back of your thigh. More give in these muscles can ease knee pain.",
    (
        "Sit on the floor with both legs straight out in front of you.",
        "Keep your back long. Lean forward from your hips.",
        "Reach toward the toes of one foot. Stop when the back of that thigh feels a gentle pull.",
        "Hold, then sit up slowly.",
        "Do the same toward the other foot.",
    ),
    one_leg_steps=(
        "Sit on the floor with both legs straight out in front of you.",
        "Keep your back long. Lean forward from your hips.",
        "Reach toward the toes of your {leg} foot. Stop when the back of that thigh feels a"
        " gentle pull.",
        "Hold, then sit up slowly.",
    ),
)

QUADRICEPS_STRETCH = _stretch(
    "quadriceps_stretch",
    "Front thigh stretch",
    "This stretches the big muscles at the front of your thigh. It can help your knee move more"
    " freely.",
    (
        "Stand tall beside a wall or a sturdy chair. Hold on with one hand.",
        "Bend one knee and bring that heel up toward your bottom.",
        "Hold that ankle with your free hand. Ease it closer to your bottom until the front of"
        " the thigh feels a stretch.",
        "Hold, then lower your foot slowly.",
        "Do the same with the other leg.",
    ),
    # The site rule on joint positions (DOMAIN.md 1.4): this stretch bends the knee deeply.
    ItemRule(
        Effect.CHANGE,
        codes=frozenset({"post_replacement_cleared"}),
        regions=_KNEE,
        change="Bend your new knee only as far as your surgeon or physio has said.",
    ),
    # You stand on the other leg: with one leg left out, the stretch is left out (8.4).
    loads_other_leg=True,
)

CALF_STRETCH = _stretch(
    "calf_stretch",
    "Calf stretch",
    "This stretches the muscles at the back of your lower leg. It can make walking and stairs"
    " feel easier.",
    (
        "Stand facing a wall, about an arm's length away. Put your hands on the wall.",
        "Step one foot back. Keep that leg straight and the heel flat on the floor.",
        "Lean in and let the front knee bend. Stop when the calf of your back leg feels a stretch.",
        "Hold, then step your feet back together.",
        "Swap legs and do the same.",
    ),
    # DOMAIN.md 5: no calf stretch pressure on a leg with varicose veins over the calf.
    ItemRule(Effect.EXCLUDE, codes=frozenset({"varicose_veins"}), regions=_CALF),
    # Standing, the other leg would be the bending front leg; sitting with a towel, it rests.
    one_leg_steps=(
        "Sit on the floor or a bed with your legs straight out in front of you.",
        "Loop a towel or a belt around the ball of your {leg} foot. Hold one end in each hand.",
        "Gently pull your toes toward you. Stop when your {leg} calf feels a stretch.",
        "Hold, then let go slowly.",
    ),
    loads_other_leg=True,
)

STRAIGHT_LEG_RAISE = HomeCareItem(
    code="straight_leg_raise",
    version=1,
    kind=ItemKind.STRENGTHEN,
    title="Straight leg raise",
    purpose="This makes the muscle on the front of your thigh stronger, so it can better support"
    " your knee.",
    # Seed 000: lift 6-12 inches, hold 3-5 s, 10-15 times on each leg, 2-3 sets.
    steps=(
        "Lie on your back. Bend one knee and put that foot flat on the floor.",
        "Keep the other leg straight. Tighten the muscle on top of that thigh.",
        "Lift the straight leg 15 to 30 cm (6 to 12 inches) off the floor.",
        "Hold it there, then lower it slowly.",
        "When you finish the sets, swap legs.",
    ),
    dose=Dose(hold_seconds=5, repetitions=10, sets=2, times_per_day=1, each=Each.LEG),
    cautions=_STRENGTH_CAUTIONS,
    rules=(*_EXERCISE_RULES, _LYING_ON_BACK_IN_PREGNANCY),
    # The other leg rests straight instead of bent with its foot pushing on the floor.
    one_leg_steps=(
        "Lie on your back with both legs straight and relaxed on the floor.",
        "Keep your {leg} leg straight. Tighten the muscle on top of that thigh.",
        "Lift your {leg} leg 15 to 30 cm (6 to 12 inches) off the floor.",
        "Hold it there, then lower it slowly.",
    ),
)

GLUTE_BRIDGE = HomeCareItem(
    code="glute_bridge",
    version=1,
    kind=ItemKind.STRENGTHEN,
    title="Glute bridge",
    purpose="This makes the muscles of your bottom and hips stronger. Strong hips help keep your"
    " knees in line.",
    # Seed 000: hold 3-5 s, 10-15 times, 2-3 sets.
    steps=(
        "Lie on your back with your knees bent and your feet flat on the floor.",
        "Squeeze the muscles of your bottom and lift your hips.",
        "Stop when your knees, hips and shoulders make a straight line.",
        "Hold, then lower your hips slowly to the floor.",
    ),
    dose=Dose(hold_seconds=5, repetitions=10, sets=2, times_per_day=1),
    cautions=_STRENGTH_CAUTIONS,
    rules=(*_EXERCISE_RULES, _LYING_ON_BACK_IN_PREGNANCY),
    # Both legs carry the lift, so neither can be left out on its own.
    per_leg=False,
)

CLAMSHELL = HomeCareItem(
    code="clamshell",
    version=1,
    kind=ItemKind.STRENGTHEN,
    title="Clamshell",
    purpose="This makes the muscles on the side of your hip stronger. They help keep your knee"
    " steady.",
    # Seed 000: legs bent to 90 degrees, feet together, 10-15 times on each side, 2-3 sets.
    steps=(
        "Lie on your side. Stack your legs and bend both knees to a right angle.",
        "Keep your heels touching. Open your top knee like a clam shell, as far as it goes while"
        " your hips stay still.",
        "Lower the knee slowly.",
        "When you finish the sets, turn over and work the other leg.",
    ),
    dose=Dose(repetitions=10, sets=2, times_per_day=1, each=Each.LEG),
    cautions=_STRENGTH_CAUTIONS,
    rules=_EXERCISE_RULES,
    # You lie on the other leg: with one leg left out, the exercise is left out (8.4).
    loads_other_leg=True,
)

HEAT_PACK = HomeCareItem(
    code="heat_pack",
    version=1,
    kind=ItemKind.HEAT,
    title="Heat pack",
    purpose="Warmth helps the muscles relax and brings blood to the area. Use it before you"
    " stretch or exercise.",
    # Seed 000: 15-20 minutes, a barrier such as a towel, before stretching or exercise.
    steps=(
        "Wrap a warm pack or a heat pad in a towel.",
        "Sit or lie down so you are comfortable.",
        "Rest the wrapped pack on your knee.",
        "Take it off when the time is up. Then do your stretches or exercises.",
    ),
    dose=Dose(minutes=15, times_per_day=1),
    cautions=(
        "Always keep a towel between the pack and your skin.",
        "Do not use heat on a knee that is hot, swollen or flared up. Use cold instead.",
        "Take the pack off if your skin gets very red or sore.",
    ),
    rules=(
        # DOMAIN.md 3 and 5: no heat on an acutely inflamed knee.
        ItemRule(Effect.EXCLUDE, codes=_SORE_KNEE | _CLOT | _AVOID_AREA, regions=_KNEE),
        # Less feeling means a burn can go unnoticed (DOMAIN.md 1.3 neuropathy: check the skin).
        ItemRule(Effect.EXCLUDE, codes=frozenset({"neuropathy"}), regions=_KNEE),
    ),
)

COLD_PACK = HomeCareItem(
    code="cold_pack",
    version=1,
    kind=ItemKind.COLD,
    title="Cold pack",
    purpose="Cold can calm pain and swelling. Use it after exercise, or when your knee is sore"
    " or swollen.",
    # Seed 000: 15-20 minutes, a towel between, after exercise or for acute pain and swelling.
    steps=(
        "Wrap an ice pack or a cold pack in a towel.",
        "Sit or lie down and rest your leg.",
        "Rest the wrapped pack on your knee.",
        "Take it off when the time is up.",
    ),
    dose=Dose(minutes=15, times_per_day=1),
    cautions=(
        "Always keep a towel between the pack and your skin. Never put ice right on the skin.",
        "Take the pack off if your skin turns white or starts to hurt.",
    ),
    rules=(
        # Nothing on broken skin, an unchecked lump, or an area not yet cleared (DOMAIN.md 1.2).
        ItemRule(
            Effect.EXCLUDE,
            codes=_CLOT | frozenset({"skin_break", "unexplained_lump"}) | _NOT_CLEARED,
            regions=_KNEE,
        ),
        # DOMAIN.md 8.2: no cold packs on a leg with poor circulation.
        ItemRule(Effect.EXCLUDE, codes=frozenset({"circulation"})),
        ItemRule(
            Effect.CHANGE,
            codes=frozenset({"neuropathy"}),
            regions=_KNEE,
            change="Look at your skin every 5 minutes, since you may not feel the cold.",
        ),
    ),
)

FOAM_ROLLER = HomeCareItem(
    code="foam_roller",
    version=1,
    kind=ItemKind.FOAM_ROLL,
    title="Foam roller",
    purpose="Rolling eases tight muscles in your calf and thigh. It works like a massage.",
    # Seed 000 "Developing a Massage Routine": calf, thigh and hamstrings, 5-10 min each.
    steps=(
        "Sit on the floor with your legs out in front of you.",
        "Put the roller under one calf. Lift your hips a little with your hands. Roll slowly"
        " from below the knee to above the ankle.",
        "Move the roller under the back of that thigh. Roll slowly from above the knee to below"
        " your bottom.",
        "Turn onto your front with the roller under the front of that thigh. Lean on your"
        " forearms. Roll from above the knee to below the hip.",
        "Do the same on the other leg.",
    ),
    # Seed 000: part of the full routine, once or twice a week.
    dose=Dose(minutes=5, times_per_week=2, each=Each.MUSCLE),
    cautions=(
        "Keep the roller off the kneecap and the back of the knee.",
        "Roll slowly. It may feel strong, but it should not hurt.",
    ),
    one_leg_steps=(
        "Sit on the floor with your legs out in front of you.",
        "Put the roller under your {leg} calf. Lift your hips a little with your hands. Roll"
        " slowly from below the knee to above the ankle.",
        "Move the roller under the back of your {leg} thigh. Roll slowly from above the knee to"
        " below your bottom.",
        "Turn onto your front with the roller under the front of your {leg} thigh. Lean on your"
        " forearms. Roll from above the knee to below the hip.",
    ),
    parts=(
        Part("the calf", _CALF, (2,)),
        Part("the thigh", frozenset({Region.THIGH}), (3, 4)),
    ),
    rules=(
        ItemRule(Effect.SKIP_PART, codes=_CLOT | _AVOID_AREA, regions=_ROLLED),
        # Body weight on a roller cannot be kept light: any cap leaves that area out.
        ItemRule(Effect.SKIP_PART, any_cap=True, regions=_ROLLED),
        # DOMAIN.md 8.2: no rolling on the leg of a knee operated on recently (clot risk),
        # also once the site is cleared, while the calf cap holds.
        ItemRule(Effect.EXCLUDE, codes=frozenset({"recent_surgery"}), regions=_KNEE),
        ItemRule(Effect.EXCLUDE, codes=frozenset({_KNEE_SURGERY_CALF})),
    ),
)

# --- The clinic's own items: what they declare, and the rules that follow -----------------------


@dataclass(frozen=True)
class Declaration:
    """What a clinic's own item involves (DOMAIN.md 8.4), as built-in items say by their rules.

    areas: the parts of the leg it touches or works; uses_pressure: hands, a tool or body
    weight press on those areas; weight_bearing: the legs carry weight (standing, kneeling,
    lying on a leg). Heat and cold are declared by the item's kind.
    """

    areas: frozenset[Region]
    uses_pressure: bool
    weight_bearing: bool


# Words that ask for more pressure than a cap allows; own text cannot be softened, so an own
# item saying them is left out under any cap on its areas.
PRESSING_WORDS = re.compile(r"\b(deep\w*|firm\w*|hard\w*|strong\w*)\b", re.IGNORECASE)

UNDECLARED_WHY = (
    "the clinic has not yet said what it involves (areas, pressure, heat or cold, weight)."
    " The owner can add that in the library"
)


def own_item_rules(
    kind: ItemKind, declaration: Declaration | None, text: str
) -> tuple[ItemRule, ...]:
    """Return the screening rules for a clinic's own item, from what it declares.

    The same exclusions and caps as the built-in items of its kind; an item that declares
    nothing is left out for a client with any finding at all.
    """
    if declaration is None:
        return (ItemRule(Effect.EXCLUDE, any_finding=True, why=UNDECLARED_WHY),)
    areas = declaration.areas
    rules: list[ItemRule] = []
    if declaration.uses_pressure and areas:
        rules.append(
            ItemRule(Effect.EXCLUDE, codes=_CLOT | _AVOID_AREA | _SORE_KNEE, regions=areas)
        )
        if kind is ItemKind.FOAM_ROLL or PRESSING_WORDS.search(text):
            rules.append(ItemRule(Effect.EXCLUDE, any_cap=True, regions=areas))
        else:
            rules.append(ItemRule(Effect.LIMIT_PRESSURE, any_cap=True, regions=areas))
            if areas & _CALF:
                rules.append(
                    ItemRule(
                        Effect.LIMIT_PRESSURE,
                        codes=frozenset({"recent_surgery"}),
                        regions=_KNEE,
                        cap=Pressure.LIGHT,
                        cap_region=Region.CALF,
                    )
                )
        if kind is ItemKind.FOAM_ROLL:
            rules.append(
                ItemRule(Effect.EXCLUDE, codes=frozenset({"recent_surgery"}), regions=_KNEE)
            )
            rules.append(ItemRule(Effect.EXCLUDE, codes=frozenset({_KNEE_SURGERY_CALF})))
        rules.append(
            ItemRule(
                Effect.CHANGE,
                codes=frozenset({"product_allergy"}),
                change="If you use a cream or oil, use only one your therapist has checked.",
            )
        )
    if declaration.weight_bearing or kind in (ItemKind.STRETCH, ItemKind.STRENGTHEN):
        rules.extend(_EXERCISE_RULES)
    where = areas or _KNEE
    if kind is ItemKind.HEAT:
        no_heat = _SORE_KNEE | _CLOT | _AVOID_AREA | frozenset({"neuropathy"})
        rules.append(ItemRule(Effect.EXCLUDE, codes=no_heat, regions=where))
    if kind is ItemKind.COLD:
        no_cold = _CLOT | frozenset({"skin_break", "unexplained_lump"}) | _NOT_CLEARED
        rules.append(ItemRule(Effect.EXCLUDE, codes=no_cold, regions=where))
        rules.append(ItemRule(Effect.EXCLUDE, codes=frozenset({"circulation"})))
    return tuple(rules)


ITEMS: tuple[HomeCareItem, ...] = (
    SELF_MASSAGE,
    HAMSTRING_STRETCH,
    QUADRICEPS_STRETCH,
    CALF_STRETCH,
    STRAIGHT_LEG_RAISE,
    GLUTE_BRIDGE,
    CLAMSHELL,
    HEAT_PACK,
    COLD_PACK,
    FOAM_ROLLER,
)
ITEMS_BY_CODE: Mapping[str, HomeCareItem] = MappingProxyType({i.code: i for i in ITEMS})


def get_item(code: str) -> HomeCareItem:
    """Return the library item with that code, or raise RuleViolations on the item field."""
    try:
        return ITEMS_BY_CODE[code]
    except KeyError:
        raise RuleViolations.one("item", "There is no home-care item with this code.") from None


def item_text(item: HomeCareItem) -> str:
    """Join the item's title, purpose, steps and cautions into the text the client reads."""
    title = item.title if item.title.endswith((".", "?", "!")) else f"{item.title}."
    return "\n".join((title, item.purpose, *item.steps, *item.cautions))


# --- Assessing an item against a screening ----------------------------------------------------


@dataclass(frozen=True)
class ItemAssessment:
    """What a screening result means for one item.

    reasons are for the therapist; changes are for the client and go on the printed plan.
    sides are the legs the item may still be done on (empty when excluded); skipped_steps lists,
    per leg, the step numbers to leave out.
    """

    item: HomeCareItem
    excluded: bool
    reasons: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    sides: frozenset[Side] = frozenset(Side)
    skipped_steps: tuple[tuple[Side, tuple[int, ...]], ...] = ()
    finding_codes: tuple[str, ...] = ()
    # The step numbers whose wording is softened under a pressure cap (item.gentle_steps).
    softened_steps: tuple[int, ...] = ()

    @property
    def reasons_here(self) -> tuple[str, ...]:
        """Return the reasons as read beside the item itself, without its name before each
        ("Light pressure at most on the left knee (...)", not "Self-massage: light ...")."""
        title = self.item.title
        shown = []
        for reason in self.reasons:
            rest = reason.removeprefix(f"{title}: ").removeprefix(f"{title} is ")
            shown.append(reason if rest == reason else rest[:1].upper() + rest[1:])
        return tuple(shown)

    @property
    def steps(self) -> tuple[str, ...]:
        """Return the steps as the client reads them, changed where they stand (DOMAIN.md 8.4).

        Under a cap, a step that presses harder gets its gentle wording; a step left out on
        one leg says so in its own text; with one leg left, the steps name that leg and never
        send the client to the other one.
        """
        return client_steps(self)

    @property
    def changed(self) -> bool:
        """Whether the item stays in the plan with changes."""
        return not self.excluded and bool(self.changes)


@dataclass
class _Tally:
    reasons: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    dropped: set[Side] = field(default_factory=set)
    skipped: dict[Side, set[int]] = field(default_factory=lambda: {side: set() for side in Side})
    softened: set[int] = field(default_factory=set)
    whole: bool = False


# DOMAIN.md 8.1: what a clearance leaves behind. A cleared clot keeps its calf light (as a
# resolved one does); a cleared hot, swollen knee keeps no heat and medium at most there.
_RESIDUES: Mapping[str, tuple[Region, Pressure]] = MappingProxyType(
    {
        "dvt_current": (Region.CALF, Pressure.LIGHT),
        "hot_swollen_knee": (Region.KNEE, Pressure.MEDIUM),
    }
)


def active_with_residues(result: ScreeningResult) -> tuple[Finding, ...]:
    """Return the active findings plus what a clearance leaves of some findings (DOMAIN.md 8.1).

    A cleared finding listed in _RESIDUES counts as a modify finding with its lasting cap,
    unless the screening already reports an active finding with that code.
    """
    active = list(result.active_findings)
    codes = {f.code for f in active}
    for finding in result.cleared_findings:
        if finding.code in _RESIDUES and finding.code not in codes:
            region, cap = _RESIDUES[finding.code]
            # A named region on the finding stays where it is more precise than the residue's.
            kept = (
                finding.region
                if finding.region is not None and finding.region.parts <= region.parts
                else region
            )
            active.append(
                replace(
                    finding,
                    tier=Tier.MODIFY,
                    cleared=False,
                    region=kept,
                    max_pressure=cap,
                    urgency=None,
                )
            )
            codes.add(finding.code)
    return tuple(active)


def assess_item(item: HomeCareItem, result: ScreeningResult) -> ItemAssessment:
    """Decide whether the item stays in a plan under the screening result, and with what changes."""
    tally = _Tally()
    active = active_with_residues(result)
    refer = [f for f in active if f.tier is Tier.REFER]
    for finding in refer:
        tally.codes.append(finding.code)
        tally.reasons.append(
            f"{item.title} is left out: the client sees a doctor before starting home care"
            f" ({finding.label.lower()})."
        )
    for rule in item.rules:
        for finding in active:
            if rule.matches(finding):
                _apply(item, rule, finding, tally)
    return _finish(item, tally, refused=bool(refer))


def assess_items(
    result: ScreeningResult, items: Iterable[HomeCareItem] = ITEMS
) -> tuple[ItemAssessment, ...]:
    """Assess each item (the whole library by default) under the screening result."""
    return tuple(assess_item(item, result) for item in items)


def _apply(item: HomeCareItem, rule: ItemRule, finding: Finding, tally: _Tally) -> None:
    hit = _finding_regions(finding) & rule.regions
    if not hit:
        return
    sides = _finding_sides(finding)
    why = finding.label.lower()
    leg = _legs(finding.side)
    effect = rule.effect
    parts = [part for part in item.parts if part.regions & hit]
    if effect is Effect.SKIP_PART and item.parts and not parts:
        return
    if effect is Effect.SKIP_PART and 0 < len(parts) < len(item.parts):
        for side in sides:
            tally.skipped[side].update(step for part in parts for step in part.steps)
        names = " and ".join(part.name for part in parts)
        tally.reasons.append(f"{item.title}: {names} left out on {leg} ({why}).")
    elif effect in (Effect.EXCLUDE, Effect.SKIP_PART):
        if item.per_leg:
            tally.dropped |= sides
            tally.reasons.append(f"{item.title} is left out on {leg}: {why}.")
        else:
            tally.whole = True
            because = rule.why or f"{why} on {leg}"
            tally.reasons.append(f"{item.title} is left out: {because}.")
    elif effect is Effect.LIMIT_PRESSURE:
        cap = rule.cap or finding.max_pressure
        if cap is None:
            return
        region = rule.cap_region if rule.cap is not None else finding.region
        # Any cap softens every pressing step, wherever the cap holds: a handout that says
        # "press deeper" anywhere reads as leave to press there too.
        tally.softened.update(number for number, _ in item.gentle_steps)
        place = _place(finding.side, region, "your")
        where = f" on {place}" if place else ""
        if cap is Pressure.LIGHT:
            tally.changes.append(f"Use light pressure only{where}: stroke, do not press.")
        else:
            tally.changes.append(f"Keep the pressure gentle{where}: do not dig in.")
        there = _place(finding.side, region, "the")
        tally.reasons.append(
            f"{item.title}: {cap.label.lower()} pressure at most"
            f"{f' on {there}' if there else ''} ({why})."
        )
    else:
        tally.changes.append(rule.change)
        tally.reasons.append(f"{item.title}: changed for {why}.")
    tally.codes.append(finding.code)


def _finish(item: HomeCareItem, tally: _Tally, *, refused: bool) -> ItemAssessment:
    all_steps = {step for part in item.parts for step in part.steps}
    for side in Side:
        if all_steps and tally.skipped[side] >= all_steps:
            tally.dropped.add(side)
    sides = frozenset() if tally.whole else frozenset(Side) - tally.dropped
    if item.loads_other_leg and not item.one_leg_steps and len(sides) == 1:
        # DOMAIN.md 8.4: the leg left out would carry the weight, so the item goes.
        (left_out,) = frozenset(Side) - sides
        tally.reasons.append(
            f"{item.title} is left out: it would put weight on the {left_out.value} leg."
        )
        sides = frozenset()
    excluded = refused or not sides
    skipped = tuple(
        (side, tuple(sorted(tally.skipped[side])))
        for side in Side
        if side in sides and tally.skipped[side]
    )
    changes: list[str] = []
    if not excluded:
        if sides != frozenset(Side):
            (only,) = sides
            changes.append(_one_side(item, only))
        changes.extend(_skip_changes(item, skipped))
        changes.extend(tally.changes)
    return ItemAssessment(
        item=item,
        excluded=excluded,
        reasons=_unique(tally.reasons),
        changes=_unique(changes),
        sides=frozenset() if excluded else sides,
        skipped_steps=() if excluded else skipped,
        finding_codes=_unique(tally.codes),
        softened_steps=() if excluded else tuple(sorted(tally.softened)),
    )


def client_steps(assessment: ItemAssessment) -> tuple[str, ...]:
    """Return the item's steps as the client reads them under the assessment (DOMAIN.md 8.4)."""
    item = assessment.item
    if assessment.excluded:
        return item.steps
    steps = list(item.steps)
    if len(assessment.sides) == 1:
        (leg,) = assessment.sides
        if item.one_leg_steps:
            steps = [step.format(leg=leg.value) for step in item.one_leg_steps]
    gentle = dict(item.gentle_steps)
    for number in assessment.softened_steps:
        if number <= len(steps) and number in gentle:
            steps[number - 1] = gentle[number]
    skipped_on: dict[int, set[Side]] = {}
    for side, numbers in assessment.skipped_steps:
        for number in numbers:
            skipped_on.setdefault(number, set()).add(side)
    for number, legs in skipped_on.items():
        if number > len(steps):
            continue
        if legs >= assessment.sides:
            steps[number - 1] = "Skip this step. It is not for you for now."
        else:
            (skip,) = legs
            (keep,) = assessment.sides - legs
            steps[number - 1] = (
                f"Do this step on your {keep.value} leg only. Skip it on your {skip.value}"
                f" leg. {steps[number - 1]}"
            )
    return tuple(steps)


def _one_side(item: HomeCareItem, side: Side) -> str:
    if item.kind in (ItemKind.HEAT, ItemKind.COLD):
        return f"Use it on your {side.value} knee only."
    return f"Do this with your {side.value} leg only."


def _skip_changes(
    item: HomeCareItem, skipped: tuple[tuple[Side, tuple[int, ...]], ...]
) -> list[str]:
    note = f" {item.skip_note}" if item.skip_note else ""
    if len(skipped) == 2 and skipped[0][1] == skipped[1][1]:
        return [f"On both legs, skip {_steps_words(skipped[0][1])}.{note}"]
    return [
        f"On your {side.value} leg, skip {_steps_words(steps)}.{note}" for side, steps in skipped
    ]


def _steps_words(steps: tuple[int, ...]) -> str:
    numbers = [str(step) for step in steps]
    if len(numbers) == 1:
        return f"step {numbers[0]}"
    return f"steps {', '.join(numbers[:-1])} and {numbers[-1]}"


def _finding_regions(finding: Finding) -> frozenset[Region]:
    # No region means anywhere on the leg.
    return _ALL if finding.region is None else finding.region.parts


def _finding_sides(finding: Finding) -> frozenset[Side]:
    # No side means either leg: count it for both, to be safe.
    return frozenset(Side) if finding.side is None else finding.side.sides


def _legs(side: Laterality | None) -> str:
    if side is None or side is Laterality.BOTH:
        return "both legs"
    return f"the {side.value} leg"


_SINGULAR: Mapping[Region, str] = MappingProxyType(
    {
        Region.THIGH: "thigh",
        Region.KNEE: "knee",
        Region.CALF: "calf",
        Region.SHIN: "shin",
        Region.LOWER_LEG: "lower leg",
        Region.WHOLE_LEG: "leg",
    }
)
_PLURAL: Mapping[Region, str] = MappingProxyType(
    {
        Region.THIGH: "thighs",
        Region.KNEE: "knees",
        Region.CALF: "calves",
        Region.SHIN: "shins",
        Region.LOWER_LEG: "lower legs",
        Region.WHOLE_LEG: "legs",
    }
)


def _place(side: Laterality | None, region: Region | None, owner: str) -> str:
    """Name a side and region in words ("your left calf", "the calves"); "" for anywhere."""
    if side is None or side is Laterality.BOTH:
        if region is None:
            return "" if side is None else "both legs"
        return f"{owner} {_PLURAL[region]}"
    return f"{owner} {side.value} {'leg' if region is None else _SINGULAR[region]}"


def _unique(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(texts))


# --- Safety notes for the client --------------------------------------------------------------

KNEECAP_NOTE = "Do not press on your kneecap."
# DOMAIN.md 1.4: never force the knee into deep bending or twisting (seed 000 safety step 4).
JOINT_NOTE = "Never force your knee into a deep bend or a twist."
# Seed 000 (several sections) and seed 004 step 1: massage should not cause pain.
STOP_NOTE = (
    "Stop if it hurts. Home care should ease pain, not cause it. Tell your therapist if the pain"
    " gets worse."
)
# DOMAIN.md 1.1 dvt_signs (NHS): same day; with breathlessness or chest pain, emergency services.
SAME_DAY_NOTE = (
    "Call a doctor the same day if one calf or thigh turns painful, swollen, warm, red or"
    " darker, or if a vein there feels hard and sore."
)
EMERGENCY_NOTE = (
    "If you also feel short of breath or have chest pain, call emergency services at once."
)
REFER_NOTE = "Do not start this plan until a doctor has checked you."


def safety_notes(result: ScreeningResult) -> tuple[str, ...]:
    """List the client's safety notes for a plan: always-on notes plus one per active finding."""
    active = active_with_residues(result)
    notes: list[str] = []
    if any(f.tier is Tier.REFER for f in active):
        notes.append(REFER_NOTE)
    notes.extend((KNEECAP_NOTE, JOINT_NOTE))
    for finding in active:
        note = _finding_note(finding)
        if note:
            notes.append(note)
    notes.extend((STOP_NOTE, SAME_DAY_NOTE, EMERGENCY_NOTE))
    return _unique(notes)


def _finding_note(finding: Finding) -> str:
    # The client's own voice: what to do, never a name for what they might have.
    if finding.code in _RESIDUES and finding.tier is Tier.REFER:
        return ""  # the referral note says it all until the clearance
    place = _place(finding.side, finding.region, "your")
    on = f" on {place}" if place else ""
    knee = _place(finding.side, Region.KNEE, "your")
    calf = _place(finding.side, Region.CALF, "your")
    notes: Mapping[str, str] = {
        "anticoagulants": (
            "Keep the pressure gentle: blood thinners or easy bleeding can make you bruise."
        ),
        "neuropathy": (
            "Keep the pressure gentle, and look at your skin when you finish. You may not feel a"
            " sore spot."
        ),
        "osteoporosis": "Keep the pressure gentle, and do not press on bone.",
        "pregnancy": (
            "Keep the pressure gentle on your calves. Ask your midwife or doctor which exercises"
            " suit you."
        ),
        "cancer": (
            "Keep the pressure gentle. Keep off any area your cancer team has told you to avoid."
        ),
        "previous_dvt": (
            f"Use only light strokes on {calf}. Watch closely for the warning signs below."
        ),
        "immobilisation": (
            f"Use only light strokes on {calf} for now. Watch closely for the warning signs below."
        ),
        "post_replacement_cleared": f"Use only light pressure around {knee}.",
        "product_allergy": "Use only creams or oils your therapist has checked for you.",
        "varicose_veins": f"Do not press on the varicose veins{on}.",
        "skin_break": f"Keep off the broken or sore skin{on} until it heals.",
        "bruise": f"Do not press on the bruise{on}.",
        "unexplained_lump": f"Do not press on the lump{on}. Ask a doctor to check it.",
        "recent_fracture": (
            f"Leave {place or 'the broken bone'} alone until a doctor says the bone has healed."
        ),
        "recent_surgery": (
            f"Leave {place or 'the area of your operation'} alone until your surgeon or physio"
            " says it is fine."
        ),
        "acute_flare": f"Rest {knee} until the flare-up settles. Use cold there, not heat.",
        "dvt_current": (
            f"Use only light strokes on {calf}, and do not roll it. Watch closely for the"
            " warning signs below."
        ),
        "hot_swollen_knee": f"Use cold on {knee}, not heat, and keep the pressure gentle there.",
        "baker_cyst": f"Keep off the back of {knee}.",
        "tumour_site": f"Keep all pressure off {place or 'the area your cancer team named'}.",
        "knee_surgery_calf": (
            f"Use only light strokes on {calf}, and do not use a foam roller on that leg. Watch"
            " closely for the warning signs below."
        ),
        "knee_injection": (
            f"Keep off {knee} where the needle went in. Use cold there, not heat, for now."
        ),
        "circulation": (
            f"Do not use cold packs on {place or 'your legs'}. Keep the pressure gentle."
        ),
        "lymphoedema": f"Use only light strokes on {place or 'your legs'}.",
        "recent_knee_injury": f"Rest {knee} while the injury heals. Use cold there, not heat.",
    }
    return notes.get(finding.code, "")
