"""Screen a client for contraindications and check planned techniques against the result.

Where each rule comes from (DOMAIN.md section, with its own sources):

| code | tier | limit | urgency | lifted by | DOMAIN.md |
| --- | --- | --- | --- | --- | --- |
| breathless_chest_pain | refer | - | emergency | clearance | 1.1 dvt_signs urgency note |
| dvt_signs | refer | - | same day | clearance | 1.1 dvt_signs (NHS) |
| dvt_current | refer | - | before treatment | clearance | 1.1 dvt_current (Werner) |
| hot_swollen_knee | refer (no heat) | - | urgent | clearance | 1.1 (patient.info) |
| locked_or_numb | refer | - | urgent | clearance | 1.1 (clinical red flag) |
| fever_infection | refer | - | reschedule | healing | 1.1 (NCCIH, Mayo) |
| unexplained_pain | refer | - | before treatment | clearance | 1.1 (NCCIH) |
| hypertension_uncontrolled | refer | - | before treatment | clearance | 1.1 (weak source) |
| acute_injury_ottawa | refer | - | before treatment | clearance | 1.1 (Stiell 1995/1996) |
| recent_knee_injury | avoid knee (no heat) | - | - | healing | seed 000 step 1 |
| skin_break | avoid area | - | - | healing | 1.2 (seed 000, NCCIH) |
| recent_fracture | avoid area | - | - | clearance | 1.2 (seed 000, NCCIH) |
| acute_flare | avoid knee (no heat) | - | - | healing | 1.2, 3 heat row |
| recent_surgery | avoid area | - | - | clearance | 1.2 (NCCIH) |
| varicose_veins | avoid area | - | - | nothing | 1.2 |
| bruise | avoid area | - | - | healing | 1.2 bruise_or_lump |
| unexplained_lump | avoid area | - | routine | clearance | 1.2 bruise_or_lump (NCCIH) |
| anticoagulants | modify | medium | - | nothing | 1.3 (NCCIH) |
| neuropathy | modify | medium | - | nothing | 1.3 |
| osteoporosis | modify | medium | - | nothing | 1.3 (NCCIH) |
| pregnancy | modify | medium, calves | - | nothing | 1.3 (NCCIH) |
| cancer | modify | medium | - | clearance | 1.3 (NCCIH), Wells history |
| previous_dvt | modify | light, calf of that leg | - | nothing | 1.3, Wells history |
| post_replacement_cleared | modify | light, that knee | - | nothing | 1.3 |
| product_allergy | modify | - | - | nothing | 1.3 (seed 000) |
| immobilisation | modify | light, calf | - | healing | 1.1 Wells note |
| cold_pale_foot | refer | - | urgent | clearance | 1.1 locked_or_numb, 8.6 (asked alone) |
| baker_cyst | avoid back of that knee | - | - | nothing | 8.2 (Werner) |
| baker_cyst_burst_signs | refer | - | same day | clearance | 8.2 (Werner) |
| knee_injection | avoid that knee (no heat) | - | - | healing | 8.2 (weak source) |
| knee_surgery_calf | modify | light, calf of that leg | - | healing | 8.2 recent knee surgery |
| circulation | modify (no cold on that leg) | medium | - | nothing | 8.2 (NICE) |
| lymphoedema | modify | light, that leg | - | nothing | 8.2 (weak source) |
| lymphoedema_new | refer | - | before treatment | clearance | 8.2 (weak source) |
| tumour_site | avoid area | - | - | nothing | 8.1 cancer (NCCIH) |
| after a clearance | see apply_clearances | - | - | - | 8.1 |
| site rules (every result) | - | see catalogue.SiteRule | - | - | 1.4 |

Judgement calls where this module differs from, or adds to, DOMAIN.md:

- breathless_chest_pain is a question of its own, so the "call emergency services" branch of
  dvt_signs can be recorded and shown as an emergency rather than left inside a label.
- bruise_or_lump is split in two: a bruise heals by itself, while a lump no doctor has checked
  needs one, so only the lump carries a (routine) referral and is lifted by a clearance.
- A recent knee injury with no Ottawa criterion still means "leave that knee alone until it
  settles" (seed 000: recent injury or inflammation, consult first); with any criterion it refers.
- Unknown age counts as meeting the Ottawa age criterion (55 or over): a missing date of birth
  must not let an injured knee through.
- Wells history prompts: cancer and previous DVT are the 1.3 items; recent surgery is the 1.2
  item; recent bed rest, major surgery or a leg in a cast (immobilisation) has no DOMAIN row, so
  it caps the calf at light, like a previous DVT, until the client is moving normally again.
  None of them ever lowers the tier another answer gives.
- No heat on an acutely inflamed knee (section 3) also covers a recently injured knee and a hot,
  swollen knee once cleared otherwise; cold is the usual choice for both.
- Fever is lifted by recovery (rescreen when well), not by a clearance: it is "reschedule".
- Around the kneecap, friction and skin lifting stay at medium pressure or less (seed 004 steps
  11 and 12 and seed 000 use medium or moderate pressure there), and effleurage over the knee
  joint or around the kneecap stays light (section 3 effleurage row).
- Joint positions and "stop if pain rises" are shown on every result; a logged pressure says
  nothing about joint range, so check_technique cannot test them.
- A later screening never lifts a referral by no longer reporting it (find_open_referrals):
  one lifted by a clearance waits for the clearance, and fever ends with a screening on a
  later day, not with a second one the same day.

- Version 2 (DOMAIN.md 8.2, 8.6): "Has the surgeon or physio cleared massage there?" is its
  own question and makes no finding: only a recorded clearance lifts an operation site (8.1),
  so a yes prompts recording it. The tumour area is a question of its own (tumour_site), so a
  cancer elsewhere in the body needs no leg; it is avoided whether or not the cancer's cap is
  cleared. The cold, pale or numb foot is asked on its own (cold_pale_foot) and refers urgently
  whatever the cause; it also covers the cold, clammy foot of a burst Baker's cyst.
- Recent knee surgery caps that leg's calf at light through a finding of its own
  (knee_surgery_calf, version 2 on): it outlasts the operation site's clearance and ends when a
  screening no longer reports the operation. Version 1 results are left as they were taken.
- A Baker's cyst avoids the back-of-knee site only (Finding.site): the front of that knee can
  be worked; readers that work by region (avoids, home care) treat the whole knee as avoided.
- Circulation caps and bans cold on the leg answered (both legs when the client says both);
  a knee injection bans heat for the whole 14 days, not only the first 48 hours.
- Lymphoedema that is new or one-sided refers before treatment (no urgency is given in
  DOMAIN.md 8.2; one-sided swelling is also a clot sign).
- After a clearance (apply_clearances, 8.1): a cleared current clot leaves its calf light and a
  cleared hot, swollen knee leaves no heat and medium at most, as active findings with
  after_clearance set; recent_fracture, recent_surgery and unexplained_lump cannot be
  overridden for a visit (Finding.overridable). A refer finding not cleared is stricter than
  any cap, so is_at_least_as_strict does not compare caps under it.

Stored answers are read with the questionnaire version they were taken with (QUESTIONNAIRES):
a question is added, reworded or retired by adding a version, never by changing one.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import NoReturn, TypeVar

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
from clinic.domain.errors import Problem, RuleViolations

# The version new screenings are taken with; every version ever used stays in QUESTIONNAIRES.
QUESTIONNAIRE_VERSION = 2
MAX_DETAIL_LENGTH = 1000
OTTAWA_AGE = 55


# --- Vocabularies ------------------------------------------------------------------------------


class Tier(enum.StrEnum):
    """How a screening finding limits treatment; compares by strictness (refer is strictest)."""

    CLEAR = "clear"
    MODIFY = "modify"
    AVOID_LOCAL = "avoid_local"
    REFER = "refer"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return _TIER_LABELS[self]

    @property
    def rank(self) -> int:
        """Strictness: 0 for clear up to 3 for refer."""
        return _TIER_RANKS[self]

    # The stored value is a string, so comparisons must be by rank, not alphabetical.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank >= other.rank


# Looked up for every row of a client list: one dict, not one built per call.
_TIER_LABELS = {
    Tier.CLEAR: "Clear",
    Tier.MODIFY: "Treat with changes",
    Tier.AVOID_LOCAL: "Treat, but not the named area",
    Tier.REFER: "Refer: no treatment today",
}
_TIER_RANKS: Mapping[Tier, int] = {tier: rank for rank, tier in enumerate(Tier)}


class Urgency(enum.StrEnum):
    """How soon a client should see a medical provider, most urgent first."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    SAME_DAY = "same_day"
    BEFORE_TREATMENT = "before_treatment"
    RESCHEDULE = "reschedule"
    ROUTINE = "routine"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "emergency": "Now: call emergency services",
            "urgent": "Urgent: a doctor's check today",
            "same_day": ("Same day; with breathlessness or chest pain: call emergency services"),
            "before_treatment": "Before any treatment: a doctor's check or go-ahead first",
            "reschedule": "Rebook for when the client is well",
            "routine": "Suggest a doctor's check at a routine appointment",
        }[self.value]

    @property
    def rank(self) -> int:
        """Urgency: higher is more urgent."""
        return _URGENCY_RANKS[self]


_URGENCY_RANKS: Mapping[Urgency, int] = {
    urgency: len(Urgency) - index for index, urgency in enumerate(Urgency)
}


class LiftedBy(enum.StrEnum):
    """What lifts a finding."""

    MEDICAL_CLEARANCE = "medical_clearance"
    HEALING = "healing"
    NOTHING = "nothing"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "medical_clearance": "A medical provider's clearance, recorded in the app",
            "healing": "Healing or recovery: answer the question again at the next screening",
            "nothing": "Stays in place while the answer is yes",
        }[self.value]


class Section(enum.StrEnum):
    """A group of questions shown together on the screening form."""

    WARNING_SIGNS = "warning_signs"
    KNEE_INJURY = "knee_injury"
    LOCAL_AREAS = "local_areas"
    CONDITIONS = "conditions"
    HISTORY = "history"

    @property
    def label(self) -> str:
        """Heading shown to the user."""
        return {
            "warning_signs": "Signs that need a doctor's check",
            "knee_injury": "A recent knee injury",
            "local_areas": "Skin and areas of the legs",
            "conditions": "Health conditions, medicines and allergies",
            "history": "Operations, clots and other history",
        }[self.value]


# --- The questionnaire ------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One yes/no screening question and the extra details a yes needs."""

    code: str
    section: Section
    prompt: str
    help_text: str = ""
    asks_side: bool = False
    asks_region: bool = False
    asks_date: bool = False
    date_label: str = ""


# The questions of version 1. Stored answers are read through get_questionnaire(version), so
# a new version (see QUESTIONNAIRES) never changes how an older screening reads.
QUESTIONS_V1: tuple[Question, ...] = (
    Question(
        "breathless_chest_pain",
        Section.WARNING_SIGNS,
        "Are you suddenly short of breath today, or do you have chest pain?",
        help_text="Call emergency services now. Do not start the massage.",
    ),
    Question(
        "dvt_signs",
        Section.WARNING_SIGNS,
        "In one calf or thigh, is there pain, swelling, warmth, or red or darker skin, or are"
        " the veins there hard or sore?",
        help_text=(
            "Signs like these need a doctor's check the same day, before any massage. If the"
            " client is also short of breath or has chest pain, call emergency services."
        ),
        asks_side=True,
    ),
    Question(
        "dvt_current",
        Section.WARNING_SIGNS,
        "Has a doctor found a clot in a deep vein (DVT) or an inflamed vein (thrombophlebitis)"
        " and not yet said that massage is safe?",
        help_text="No massage until the doctor's go-ahead is recorded.",
        asks_side=True,
    ),
    Question(
        "hot_swollen_knee",
        Section.WARNING_SIGNS,
        "Is a knee hot, swollen and painful, so that you would rather not move it or stand on it?",
        help_text="This needs a doctor's check today, before any massage.",
        asks_side=True,
    ),
    Question(
        "locked_or_numb",
        Section.WARNING_SIGNS,
        "After an injury, has a knee locked so that it will not straighten, or is a foot numb,"
        " cold or pale?",
        help_text="This needs a doctor's check today, before any massage.",
        asks_side=True,
    ),
    Question(
        "fever_infection",
        Section.WARNING_SIGNS,
        "Do you have a fever, feel unwell all over, or have an infection others could catch?",
        help_text="Rebook for when the client is well again.",
    ),
    Question(
        "unexplained_pain",
        Section.WARNING_SIGNS,
        "Do you have new pain with no known cause, pain that wakes you at night, or weight loss"
        " you cannot explain?",
        help_text="The client sees a doctor first: massage must not put off that visit.",
    ),
    Question(
        "hypertension_uncontrolled",
        Section.WARNING_SIGNS,
        "Do you know that your blood pressure is high and not under control?",
        help_text="Ask for the doctor's go-ahead before treatment.",
    ),
    Question(
        "recent_knee_injury",
        Section.KNEE_INJURY,
        "Have you hurt a knee recently, for example in a fall, a twist or a knock?",
        help_text=(
            "If yes, ask the four questions that follow. Age 55 or over also counts; it is"
            " taken from the date of birth."
        ),
        asks_side=True,
        asks_date=True,
        date_label="Date of the injury",
    ),
    Question(
        "ottawa_kneecap_tender",
        Section.KNEE_INJURY,
        "Since that injury, is the kneecap itself sore to touch, with no other sore spot on the"
        " bones around the knee?",
    ),
    Question(
        "ottawa_fibular_head_tender",
        Section.KNEE_INJURY,
        "Is the bony bump on the outer side of the leg, just below the knee, sore to touch?",
    ),
    Question(
        "ottawa_cannot_bend_90",
        Section.KNEE_INJURY,
        "Is that knee unable to bend as far as a right angle (90 degrees)?",
    ),
    Question(
        "ottawa_cannot_take_4_steps",
        Section.KNEE_INJURY,
        "Right after the injury, and again now, were you unable to take four steps on that leg,"
        " even with a limp?",
    ),
    Question(
        "skin_break",
        Section.LOCAL_AREAS,
        "On either leg, is there an open or healing wound, a burn, a skin infection, a rash or"
        " weeping eczema?",
        help_text="No contact on that area until the skin has healed.",
        asks_side=True,
        asks_region=True,
    ),
    Question(
        "recent_fracture",
        Section.LOCAL_AREAS,
        "Have you broken a bone in either leg that has not fully healed, or that a doctor has"
        " not yet cleared for massage?",
        asks_side=True,
        asks_region=True,
        asks_date=True,
        date_label="Date of the break",
    ),
    Question(
        "acute_flare",
        Section.LOCAL_AREAS,
        "Is a knee flared up right now, more swollen or sore than usual, for example with"
        " arthritis or bursitis?",
        help_text="If it is also hot and hard to move or stand on, answer the warning sign too.",
        asks_side=True,
    ),
    Question(
        "varicose_veins",
        Section.LOCAL_AREAS,
        "Do you have varicose veins (swollen, twisting veins) on either leg?",
        asks_side=True,
        asks_region=True,
    ),
    Question(
        "bruise",
        Section.LOCAL_AREAS,
        "Is there a bruise on either leg?",
        asks_side=True,
        asks_region=True,
    ),
    Question(
        "unexplained_lump",
        Section.LOCAL_AREAS,
        "Is there a lump on either leg that a doctor has not checked?",
        help_text="Keep pressure off it and suggest a doctor's check.",
        asks_side=True,
        asks_region=True,
    ),
    Question(
        "anticoagulants",
        Section.CONDITIONS,
        "Do you take blood thinners, or do you bleed or bruise easily (for example a bleeding"
        " disorder or low platelets)?",
    ),
    Question(
        "neuropathy",
        Section.CONDITIONS,
        "Do you have diabetes, or less feeling than usual in your legs or feet?",
    ),
    Question(
        "osteoporosis",
        Section.CONDITIONS,
        "Have you been told that your bones are thin or weak (osteoporosis)?",
    ),
    Question(
        "pregnancy",
        Section.CONDITIONS,
        "Are you pregnant?",
        help_text="Ask what the client's midwife or doctor advises about massage.",
    ),
    Question(
        "product_allergy",
        Section.CONDITIONS,
        "Are you allergic to massage oils, lotions or nuts?",
    ),
    Question(
        "recent_surgery",
        Section.HISTORY,
        "Have you had an operation on a leg or knee (a knee replacement included) where the"
        " surgeon or physiotherapist has not yet cleared massage on that area?",
        asks_side=True,
        asks_region=True,
        asks_date=True,
        date_label="Date of the operation",
    ),
    Question(
        "post_replacement_cleared",
        Section.HISTORY,
        "Have you had a knee replacement that the surgeon has cleared for massage?",
        asks_side=True,
        asks_date=True,
        date_label="Date of the operation",
    ),
    Question(
        "previous_dvt",
        Section.HISTORY,
        "Have you had a clot in a deep vein (DVT) in the past, now treated?",
        help_text=(
            "Choose the leg it was in (both if unsure or if it was not in a leg). Ask the"
            " warning-sign questions again at every visit."
        ),
        asks_side=True,
    ),
    Question(
        "cancer",
        Section.HISTORY,
        "Do you have cancer, or have you had cancer treatment in the last six months?",
        help_text="Keep pressure off any tumour site; the oncologist's go-ahead lifts the limit.",
    ),
    Question(
        "immobilisation",
        Section.HISTORY,
        "In the last four weeks, have you had a major operation, stayed in bed for more than"
        " three days, or had a leg in a cast or brace?",
        help_text="Choose the leg that was in a cast, or both legs after bed rest or an operation.",
        asks_side=True,
    ),
)

# The questions of version 2 (DOMAIN.md 8.2 and 8.6): the new items, one thing per question,
# no negation inside and at grade 8 or below (tests/domain/test_screening.py measures each).
# Questions version 2 asks exactly as version 1 did: the same objects, not copies.
_UNCHANGED_FROM_V1 = {question.code: question for question in QUESTIONS_V1}

QUESTIONS_V2: tuple[Question, ...] = (
    Question(
        "breathless_chest_pain",
        Section.WARNING_SIGNS,
        "Are you short of breath all of a sudden today, or do you have chest pain?",
        help_text="Call emergency services now. Do not start the massage.",
    ),
    Question(
        "dvt_signs",
        Section.WARNING_SIGNS,
        "Is one calf or thigh painful, swollen, warm or red, or are its veins hard or sore?",
        help_text=(
            "Darker skin counts too. Signs like these need a doctor's check the same day, before"
            " any massage. If the client is also short of breath or has chest pain, call"
            " emergency services."
        ),
        asks_side=True,
    ),
    Question(
        "dvt_current",
        Section.WARNING_SIGNS,
        "Has a doctor found a clot in a deep vein (DVT) or an inflamed vein that is still"
        " being treated?",
        help_text=(
            "No massage until the doctor's go-ahead is recorded. After it, the calf of that leg"
            " stays at light pressure until a screening answers no here."
        ),
        asks_side=True,
    ),
    Question(
        "hot_swollen_knee",
        Section.WARNING_SIGNS,
        "Is a knee hot, swollen and painful, so that it is hard to move it or stand on it?",
        help_text="This needs a doctor's check today, before any massage.",
        asks_side=True,
    ),
    Question(
        "locked_or_numb",
        Section.WARNING_SIGNS,
        "After an injury, has a knee got stuck so that it stays bent?",
        help_text="This needs a doctor's check today, before any massage.",
        asks_side=True,
    ),
    Question(
        "cold_pale_foot",
        Section.WARNING_SIGNS,
        "Has a foot become cold, pale or numb?",
        help_text=(
            "Ask whatever the cause. This needs a doctor's check today, before any massage."
            " A cold, clammy foot below a Baker's cyst counts too."
        ),
        asks_side=True,
    ),
    Question(
        "fever_infection",
        Section.WARNING_SIGNS,
        "Do you have a fever or an infection that others could catch, or feel unwell all over?",
        help_text="Rebook for when the client is well again.",
    ),
    Question(
        "unexplained_pain",
        Section.WARNING_SIGNS,
        "Have you got new pain from no clear cause, pain at night, or sudden weight loss?",
        help_text="The client sees a doctor first: massage must not put off that visit.",
    ),
    Question(
        "hypertension_uncontrolled",
        Section.WARNING_SIGNS,
        "Has a doctor said your blood pressure is too high right now?",
        help_text="Ask for the doctor's go-ahead before treatment.",
    ),
    Question(
        "recent_knee_injury",
        Section.KNEE_INJURY,
        "Have you hurt a knee lately, for example in a fall, a twist or a knock?",
        help_text=(
            "If yes, ask the four questions that follow. Age 55 or over also counts; it is"
            " taken from the date of birth."
        ),
        asks_side=True,
        asks_date=True,
        date_label="Date of the injury",
    ),
    Question(
        "ottawa_kneecap_tender",
        Section.KNEE_INJURY,
        "Since that injury, is the kneecap itself the only sore spot on the bones of the knee?",
    ),
    _UNCHANGED_FROM_V1["ottawa_fibular_head_tender"],
    Question(
        "ottawa_cannot_bend_90",
        Section.KNEE_INJURY,
        "Does that knee stop short of a right angle (90 degrees) when it bends?",
    ),
    Question(
        "ottawa_cannot_take_4_steps",
        Section.KNEE_INJURY,
        "Right after the injury, and again now, was it too sore to take four steps on that leg,"
        " even with a limp?",
    ),
    Question(
        "skin_break",
        Section.LOCAL_AREAS,
        "Is there a wound, burn, rash, skin infection or weeping eczema on a leg?",
        help_text="A healing wound counts too. No contact on that area until the skin has healed.",
        asks_side=True,
        asks_region=True,
    ),
    Question(
        "recent_fracture",
        Section.LOCAL_AREAS,
        "Are you still healing from a broken bone in a leg?",
        help_text="Keep off that area until a doctor's clearance is recorded.",
        asks_side=True,
        asks_region=True,
        asks_date=True,
        date_label="Date of the break",
    ),
    Question(
        "acute_flare",
        Section.LOCAL_AREAS,
        "Is a knee more swollen or sore than usual right now, as in a flare-up of arthritis?",
        help_text=(
            "Bursitis counts too. If the knee is also hot and hard to move or stand on, answer"
            " the warning sign too."
        ),
        asks_side=True,
    ),
    _UNCHANGED_FROM_V1["varicose_veins"],
    _UNCHANGED_FROM_V1["bruise"],
    Question(
        "unexplained_lump",
        Section.LOCAL_AREAS,
        "Is there a new lump on a leg that a doctor should check?",
        help_text="Keep pressure off it and suggest a doctor's check.",
        asks_side=True,
        asks_region=True,
    ),
    Question(
        "baker_cyst",
        Section.LOCAL_AREAS,
        "Is there a lump or swelling at the back of a knee that may be a Baker's cyst?",
        help_text="Keep off the back of that knee.",
        asks_side=True,
    ),
    Question(
        "baker_cyst_burst_signs",
        Section.LOCAL_AREAS,
        "Is the calf below that lump suddenly painful, swollen or red?",
        help_text=(
            "A burst cyst can look like a clot: the client needs a doctor's check the same day."
        ),
        asks_side=True,
    ),
    Question(
        "knee_injection",
        Section.LOCAL_AREAS,
        "Have you had a shot (an injection) into a knee in the last 14 days?",
        help_text="Keep off that knee and use no heat on it.",
        asks_side=True,
        asks_date=True,
        date_label="Date of the injection",
    ),
    Question(
        "anticoagulants",
        Section.CONDITIONS,
        "Do you take blood thinners, or do you bleed or bruise easily?",
        help_text="A bleeding disorder or low platelets count too.",
    ),
    _UNCHANGED_FROM_V1["neuropathy"],
    Question(
        "circulation",
        Section.CONDITIONS,
        "Has a doctor said the blood flow to your legs or feet is poor (such as Raynaud's)?",
        help_text="Artery disease in the legs counts too. No cold packs on that leg.",
        asks_side=True,
    ),
    Question(
        "lymphoedema",
        Section.CONDITIONS,
        "Do you have lymphoedema, a long-term swelling, in a leg?",
        help_text="Light pressure only on that leg.",
        asks_side=True,
    ),
    Question(
        "lymphoedema_new",
        Section.CONDITIONS,
        "Is that swelling new, or in one leg only?",
        help_text="New or one-sided swelling needs a doctor's check before any massage.",
    ),
    _UNCHANGED_FROM_V1["osteoporosis"],
    _UNCHANGED_FROM_V1["pregnancy"],
    _UNCHANGED_FROM_V1["product_allergy"],
    Question(
        "recent_surgery",
        Section.HISTORY,
        "Are you still healing from an operation on a leg or knee, such as a new knee joint?",
        help_text=(
            "Keep off that area until the surgeon's or physiotherapist's clearance is recorded."
            " After a knee operation the calf of that leg stays at light pressure."
        ),
        asks_side=True,
        asks_region=True,
        asks_date=True,
        date_label="Date of the operation",
    ),
    Question(
        "surgery_cleared",
        Section.HISTORY,
        "Has the surgeon or physio cleared massage there?",
        help_text="If yes, record their go-ahead as a clearance: that lifts the area to avoid.",
    ),
    Question(
        "post_replacement_cleared",
        Section.HISTORY,
        "Do you have a knee replacement that the surgeon has cleared for massage?",
        asks_side=True,
        asks_date=True,
        date_label="Date of the operation",
    ),
    Question(
        "previous_dvt",
        Section.HISTORY,
        "Have you had a clot in a deep vein (DVT) in the past that has now been treated?",
        help_text=(
            "Choose the leg it was in (both if unsure or if it was not in a leg). Ask the"
            " warning-sign questions again at every visit."
        ),
        asks_side=True,
    ),
    Question(
        "cancer",
        Section.HISTORY,
        "Do you have cancer, or have you had cancer treatment in the last six months?",
        help_text="The oncologist's go-ahead lifts the pressure limit.",
    ),
    Question(
        "tumour_site",
        Section.HISTORY,
        "Is the cancer, or the place it was treated, in one of your legs?",
        help_text="Keep all pressure off that area, even after the oncologist's go-ahead.",
        asks_side=True,
        asks_region=True,
    ),
    Question(
        "immobilisation",
        Section.HISTORY,
        "In the last four weeks, have you had a big operation, been in bed for over three days,"
        " or had a leg in a cast?",
        help_text=(
            "A brace counts too. Choose the leg that was in a cast, or both legs after bed rest"
            " or an operation."
        ),
        asks_side=True,
    ),
)

# The questions new screenings ask (the current version), for forms and tests.
QUESTIONS: tuple[Question, ...] = QUESTIONS_V2
QUESTIONS_BY_CODE: Mapping[str, Question] = {q.code: q for q in QUESTIONS}


@dataclass(frozen=True)
class Questionnaire:
    """One version of the questions, as screenings taken with it asked them.

    A version never changes once screenings were taken with it: adding, rewording or retiring
    a question makes a new version, and stored answers are read with their own version.
    """

    version: int
    questions: tuple[Question, ...]

    @property
    def by_code(self) -> Mapping[str, Question]:
        """The questions keyed by code."""
        return {q.code: q for q in self.questions}

    def asks(self, code: str) -> bool:
        """Return whether this version asks the question with that code."""
        return any(q.code == code for q in self.questions)

    @property
    def sections(self) -> tuple[tuple[Section, tuple[Question, ...]], ...]:
        """The questions grouped by section, in the order they are asked."""
        grouped: dict[Section, list[Question]] = {}
        for question in self.questions:
            grouped.setdefault(question.section, []).append(question)
        return tuple((section, tuple(questions)) for section, questions in grouped.items())


# Every version screenings were ever taken with. Add new versions; never change or remove one.
QUESTIONNAIRES: dict[int, Questionnaire] = {
    1: Questionnaire(1, QUESTIONS_V1),
    2: Questionnaire(2, QUESTIONS_V2),
}


def current_questionnaire() -> Questionnaire:
    """Return the questionnaire new screenings are taken with."""
    return QUESTIONNAIRES[QUESTIONNAIRE_VERSION]


def get_questionnaire(version: int) -> Questionnaire:
    """Return the questionnaire of a version, refusing a version that was never used."""
    found = QUESTIONNAIRES.get(version)
    if found is None:
        _fail("questionnaire_version", f"There is no questionnaire version {version!r}.")
    return found


def answer_key(code: str) -> str:
    """Return the key of a question's yes/no answer, as the form names its field."""
    return f"{code}-answer"


OTTAWA_CRITERIA: tuple[str, ...] = (
    "ottawa_kneecap_tender",
    "ottawa_fibular_head_tender",
    "ottawa_cannot_bend_90",
    "ottawa_cannot_take_4_steps",
)


# --- Answers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The answer to one question; side, region and date only with a yes to a question asking."""

    yes: bool
    detail: str = ""
    side: Laterality | None = None
    region: Region | None = None
    date: datetime.date | None = None


def blank_answers(questionnaire: Questionnaire | None = None) -> dict[str, Answer]:
    """Return a "no" answer to every question, to start a form or build test data from."""
    asked = questionnaire or current_questionnaire()
    return {question.code: Answer(yes=False) for question in asked.questions}


def validate_answers(
    answers: Mapping[str, Answer], questionnaire: Questionnaire | None = None
) -> None:
    """Refuse (RuleViolations) unless every question has exactly one well-formed answer.

    The questions are those of the questionnaire given, the current one by default.
    """
    asked = questionnaire or current_questionnaire()
    problems = [
        Problem(answer_key(code), "This is not a question on the screening form.")
        for code in answers
        if not asked.asks(code)
    ]
    for question in asked.questions:
        answer = answers.get(question.code)
        if answer is None:
            problems.append(Problem(answer_key(question.code), "Answer yes or no."))
            continue
        problems.extend(_check_answer(question, answer))
    if problems:
        raise RuleViolations(problems)


def _check_answer(question: Question, answer: Answer) -> list[Problem]:
    code = question.code
    problems: list[Problem] = []
    if len(answer.detail) > MAX_DETAIL_LENGTH:
        problems.append(
            Problem(f"{code}-detail", f"Keep the note to {MAX_DETAIL_LENGTH} characters or fewer.")
        )
    parts: tuple[tuple[str, bool, object, str], ...] = (
        ("side", question.asks_side, answer.side, "Choose which leg."),
        ("region", question.asks_region, answer.region, "Choose which area."),
        ("date", question.asks_date, answer.date, ""),
    )
    for part, asked, value, missing_message in parts:
        if value is None:
            if asked and answer.yes and missing_message:
                problems.append(Problem(f"{code}-{part}", missing_message))
        elif not asked:
            problems.append(Problem(f"{code}-{part}", f"This question has no {part}."))
        elif not answer.yes:
            # A leg or date beside a "no" is ambiguous in the record, so it is refused.
            problems.append(Problem(f"{code}-{part}", f"Leave the {part} empty for a no."))
    return problems


def dump_answers(
    answers: Mapping[str, Answer], questionnaire: Questionnaire | None = None
) -> dict[str, dict[str, object]]:
    """Convert validated answers to a JSON-able dict, leaving out empty details."""
    asked = questionnaire or current_questionnaire()
    validate_answers(answers, asked)
    dumped: dict[str, dict[str, object]] = {}
    for question in asked.questions:
        answer = answers[question.code]
        item: dict[str, object] = {"yes": answer.yes}
        if answer.detail:
            item["detail"] = answer.detail
        if answer.side is not None:
            item["side"] = answer.side.value
        if answer.region is not None:
            item["region"] = answer.region.value
        if answer.date is not None:
            item["date"] = answer.date.isoformat()
        dumped[question.code] = item
    return dumped


def load_answers(data: object, version: int) -> dict[str, Answer]:
    """Build validated answers from what dump_answers made with that questionnaire version.

    The answers are checked against the questions of their own version, never the current
    one, so a question added, reworded or retired later changes nothing about them.
    """
    asked = get_questionnaire(version)
    items = _as_mapping(data, "answers")
    answers: dict[str, Answer] = {}
    for code, raw in items.items():
        item = _as_mapping(raw, answer_key(code))
        unknown = set(item) - {"yes", "detail", "side", "region", "date"}
        if unknown:
            _fail(
                answer_key(code),
                f"Unknown keys in a stored answer: {', '.join(sorted(unknown))}.",
            )
        yes = item.get("yes")
        if not isinstance(yes, bool):
            _fail(answer_key(code), "A stored answer needs yes set to true or false.")
        detail = item.get("detail", "")
        if not isinstance(detail, str):
            _fail(f"{code}-detail", "A stored note must be text.")
        raw_date = item.get("date")
        answers[code] = Answer(
            yes=yes,
            detail=detail,
            side=_load_optional_enum(Laterality, item.get("side"), f"{code}-side"),
            region=_load_optional_enum(Region, item.get("region"), f"{code}-region"),
            date=None if raw_date is None else _load_date(raw_date, f"{code}-date"),
        )
    validate_answers(answers, asked)
    return answers


# --- Findings and results --------------------------------------------------------------------


_REGION_WORDS: Mapping[Region, str] = {
    Region.THIGH: "thigh",
    Region.KNEE: "knee",
    Region.CALF: "calf",
    Region.SHIN: "shin",
    Region.LOWER_LEG: "lower leg",
    Region.WHOLE_LEG: "leg",
}


@dataclass(frozen=True)
class Finding:
    """What one answer (or the Ottawa rule) means for treatment, and whether it is cleared.

    side None means either leg; region None means anywhere. For avoid_local findings side and
    region name the area to leave alone; for a cap they name where the cap holds.
    """

    code: str
    tier: Tier
    reason: str
    lifted_by: LiftedBy
    side: Laterality | None = None
    region: Region | None = None
    max_pressure: Pressure | None = None
    urgency: Urgency | None = None
    cleared: bool = False
    # A site within the region the finding is limited to (the back of the knee for a cyst).
    site: SiteRule | None = None
    # What a clearance leaves of a finding (DOMAIN.md 8.1), added by apply_clearances.
    after_clearance: bool = False

    @property
    def label(self) -> str:
        """Short name shown in lists and on the visit form."""
        if self.after_clearance:
            return AFTER_CLEARANCE_LABELS.get(self.code, self.code)
        return FINDING_LABELS.get(self.code, self.code)

    @property
    def overridable(self) -> bool:
        """Whether a written reason may allow work on the area for one visit.

        Only an area to avoid can be overridden, and a break, an operation site or an
        unchecked lump only by a recorded clearance (DOMAIN.md 8.1).
        """
        return self.tier is Tier.AVOID_LOCAL and self.code not in CLEARANCE_ONLY_CODES

    @property
    def area_label(self) -> str:
        """Where the finding holds, in words."""
        side = self.side.label if self.side is not None else "Both legs"
        region = self.region.label.lower() if self.region is not None else "anywhere"
        return f"{side}, {region}"

    @property
    def area_phrase(self) -> str:
        """Where the finding holds in a few plain words, e.g. "left lower leg"."""
        region = _REGION_WORDS[self.region] if self.region is not None else "leg"
        if self.side in (Laterality.LEFT, Laterality.RIGHT):
            return f"{self.side.value} {region}"
        if self.region is None or region == "leg":
            return "both legs"
        return f"both legs ({region})"

    @property
    def next_step(self) -> str:
        """What lifts the finding, as an instruction: the end of "Before treating, ..."."""
        if self.lifted_by is LiftedBy.MEDICAL_CLEARANCE:
            return "record the medical provider's clearance"
        if self.tier is Tier.REFER:
            return "take a new screening on a later day, once the client is well"
        return "answer the question again at the next screening"

    @property
    def urgency_rank(self) -> int:
        """How urgent the finding is (0 without an urgency), for ordering."""
        return 0 if self.urgency is None else self.urgency.rank

    def concerns(self, side: Side, region: Region) -> bool:
        """Return whether the finding holds on that side and region (any site within it)."""
        on_side = self.side is None or side in self.side.sides
        in_region = self.region is None or self.region.overlaps(region)
        return on_side and in_region

    def concerns_target(self, side: Side, target: Target) -> bool:
        """Return whether the finding holds on that side and target, its site included."""
        in_site = self.site is None or self.site in target.sites
        return in_site and self.concerns(side, target.region)


@dataclass(frozen=True)
class ScreeningResult:
    """The findings of one screening, strictest first, with the always-on site rules."""

    findings: tuple[Finding, ...] = ()
    questionnaire_version: int = QUESTIONNAIRE_VERSION
    site_rules: tuple[SiteRule, ...] = tuple(SiteRule)

    @property
    def tier(self) -> Tier:
        """The strictest finding's tier, cleared or not."""
        return max((f.tier for f in self.findings), default=Tier.CLEAR)

    @property
    def effective_tier(self) -> Tier:
        """The strictest tier of the findings not cleared: what limits treatment now."""
        return max((f.tier for f in self.active_findings), default=Tier.CLEAR)

    @property
    def active_findings(self) -> tuple[Finding, ...]:
        """The findings that still restrict treatment."""
        return tuple(f for f in self.findings if not f.cleared)

    @property
    def cleared_findings(self) -> tuple[Finding, ...]:
        """The findings lifted by a recorded medical clearance, kept for the record."""
        return tuple(f for f in self.findings if f.cleared)

    @property
    def refuses_treatment(self) -> bool:
        """Whether a referral not yet cleared rules out any treatment."""
        return self.effective_tier is Tier.REFER

    @property
    def urgency(self) -> Urgency | None:
        """The most urgent referral among the findings not cleared, if any."""
        urgencies = [f.urgency for f in self.active_findings if f.urgency is not None]
        return max(urgencies, key=lambda u: u.rank, default=None)

    def get_finding(self, code: str) -> Finding | None:
        """Return the finding with that code, if the screening found it."""
        return next((f for f in self.findings if f.code == code), None)

    def cap_for(self, side: Side, region: Region) -> Pressure | None:
        """Return the highest pressure allowed on that side and region, or None for no cap."""
        caps = [
            f.max_pressure
            for f in self.active_findings
            if f.max_pressure is not None and f.concerns(side, region)
        ]
        return min(caps, default=None)

    def avoids(self, side: Side, region: Region) -> bool:
        """Return whether an active finding puts that side and region off limits."""
        return any(
            f.tier is Tier.AVOID_LOCAL and f.concerns(side, region) for f in self.active_findings
        )

    def bans_heat(self, side: Side, region: Region) -> bool:
        """Return whether heat is ruled out on that side and region."""
        return any(
            f.code in _NO_HEAT_CODES and f.concerns(side, region) for f in self.active_findings
        )

    def bans_cold(self, side: Side, region: Region) -> bool:
        """Return whether cold packs are ruled out on that side and region (poor blood flow)."""
        return any(
            f.code in _NO_COLD_CODES and f.concerns(side, region) for f in self.active_findings
        )

    def keeps_calf_light(self, side: Side) -> bool:
        """Return whether the calf of that leg is capped at light (no calf rolling at home).

        A past or cleared clot, recent immobilisation and a recent knee operation all do.
        """
        cap = self.cap_for(side, Region.CALF)
        return cap is not None and cap <= Pressure.LIGHT

    def overridable(self, code: str) -> bool:
        """Return whether the finding with that code may be overridden for one visit."""
        finding = self.get_finding(code)
        return finding is not None and finding.overridable


@dataclass(frozen=True)
class _Rule:
    tier: Tier
    reason: str
    lifted_by: LiftedBy
    urgency: Urgency | None = None
    max_pressure: Pressure | None = None
    # Used when the question does not ask where: the area a cap or an avoid-local rule covers.
    region: Region | None = None


_RULES: Mapping[str, _Rule] = {
    "breathless_chest_pain": _Rule(
        Tier.REFER,
        "Sudden breathlessness or chest pain: call emergency services now. No massage.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.EMERGENCY,
    ),
    "dvt_signs": _Rule(
        Tier.REFER,
        "Pain, swelling, warmth or colour change in one calf or thigh, or hard, sore veins,"
        " need a doctor's check the same day. No massage until a doctor has cleared it.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.SAME_DAY,
    ),
    "dvt_current": _Rule(
        Tier.REFER,
        "A clot in a deep vein, or an inflamed vein, that a doctor has not yet cleared: no"
        " massage until the doctor's go-ahead is recorded.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.BEFORE_TREATMENT,
    ),
    "hot_swollen_knee": _Rule(
        Tier.REFER,
        "A hot, swollen, painful knee that is hard to move or stand on needs a doctor's check"
        " today. No massage until it is cleared.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.URGENT,
        region=Region.KNEE,
    ),
    "cold_pale_foot": _Rule(
        Tier.REFER,
        "A cold, pale or numb foot needs a doctor's check today. No massage until it is cleared.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.URGENT,
    ),
    "baker_cyst": _Rule(
        Tier.AVOID_LOCAL,
        "A lump at the back of the knee that may be a Baker's cyst: keep off the back of that"
        " knee.",
        LiftedBy.NOTHING,
        region=Region.KNEE,
    ),
    "baker_cyst_burst_signs": _Rule(
        Tier.REFER,
        "A calf that is suddenly painful, swollen or red below a Baker's cyst may mean the cyst"
        " has burst, which looks like a clot: a doctor's check the same day, and no massage"
        " until it is cleared.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.SAME_DAY,
        region=Region.CALF,
    ),
    "knee_injection": _Rule(
        Tier.AVOID_LOCAL,
        "An injection into the knee in the last 14 days: no work over that knee and no heat on it.",
        LiftedBy.HEALING,
        region=Region.KNEE,
    ),
    "circulation": _Rule(
        Tier.MODIFY,
        "Poor blood flow to the legs: no cold packs on that leg, and nothing above medium"
        " pressure.",
        LiftedBy.NOTHING,
        max_pressure=Pressure.MEDIUM,
    ),
    "lymphoedema": _Rule(
        Tier.MODIFY,
        "Lymphoedema: light pressure only on that leg.",
        LiftedBy.NOTHING,
        max_pressure=Pressure.LIGHT,
    ),
    "lymphoedema_new": _Rule(
        Tier.REFER,
        "Leg swelling that is new or in one leg only needs a doctor's check before any massage.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.BEFORE_TREATMENT,
    ),
    "tumour_site": _Rule(
        Tier.AVOID_LOCAL,
        "A tumour, or the area where it was treated: no pressure there, even after the"
        " oncologist's go-ahead.",
        LiftedBy.NOTHING,
    ),
    "locked_or_numb": _Rule(
        Tier.REFER,
        "A knee that locked after an injury, or a numb, cold or pale foot, needs a doctor's"
        " check today. No massage until it is cleared.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.URGENT,
    ),
    "fever_infection": _Rule(
        Tier.REFER,
        "Fever, feeling unwell or an infection others could catch: rebook for when the client"
        " has recovered.",
        LiftedBy.HEALING,
        urgency=Urgency.RESCHEDULE,
    ),
    "unexplained_pain": _Rule(
        Tier.REFER,
        "New pain with no known cause, night pain or unexplained weight loss: the client sees a"
        " doctor first, and massage must not put that off.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.BEFORE_TREATMENT,
    ),
    "hypertension_uncontrolled": _Rule(
        Tier.REFER,
        "Blood pressure known to be high and not under control: the doctor's go-ahead comes"
        " before treatment.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.BEFORE_TREATMENT,
    ),
    "recent_knee_injury": _Rule(
        Tier.AVOID_LOCAL,
        "A recently injured knee: leave it alone until it settles, and use cold, not heat.",
        LiftedBy.HEALING,
        region=Region.KNEE,
    ),
    "skin_break": _Rule(
        Tier.AVOID_LOCAL,
        "Broken or irritated skin: no contact there until it has healed.",
        LiftedBy.HEALING,
    ),
    "recent_fracture": _Rule(
        Tier.AVOID_LOCAL,
        "A broken bone not yet healed and cleared: keep off that area.",
        LiftedBy.MEDICAL_CLEARANCE,
    ),
    "acute_flare": _Rule(
        Tier.AVOID_LOCAL,
        "A knee in an active flare-up: work around it, not on it, and no heat until it settles.",
        LiftedBy.HEALING,
        region=Region.KNEE,
    ),
    "varicose_veins": _Rule(
        Tier.AVOID_LOCAL,
        "Varicose veins: no pressure over them.",
        LiftedBy.NOTHING,
    ),
    "bruise": _Rule(
        Tier.AVOID_LOCAL,
        "A bruise: no pressure on it until it fades.",
        LiftedBy.HEALING,
    ),
    "unexplained_lump": _Rule(
        Tier.AVOID_LOCAL,
        "A lump no doctor has checked: no pressure on it, and suggest a doctor's check.",
        LiftedBy.MEDICAL_CLEARANCE,
        urgency=Urgency.ROUTINE,
    ),
    "anticoagulants": _Rule(
        Tier.MODIFY,
        "Blood thinners or easy bleeding: no firm or deep pressure, to avoid bruising.",
        LiftedBy.NOTHING,
        max_pressure=Pressure.MEDIUM,
    ),
    "neuropathy": _Rule(
        Tier.MODIFY,
        "Diabetes or less feeling in the legs: the client may not notice too much pressure, so"
        " nothing above medium; look at the skin before and after.",
        LiftedBy.NOTHING,
        max_pressure=Pressure.MEDIUM,
    ),
    "osteoporosis": _Rule(
        Tier.MODIFY,
        "Thin or weak bones: nothing above medium pressure, and no deep work over bone.",
        LiftedBy.NOTHING,
        max_pressure=Pressure.MEDIUM,
    ),
    "pregnancy": _Rule(
        Tier.MODIFY,
        "Pregnancy: no deep work on the calves (medium at most there); follow the midwife's or"
        " doctor's advice.",
        LiftedBy.NOTHING,
        max_pressure=Pressure.MEDIUM,
        region=Region.CALF,
    ),
    "product_allergy": _Rule(
        Tier.MODIFY,
        "Allergy to oils, lotions or nuts: use a hypoallergenic product.",
        LiftedBy.NOTHING,
    ),
    "recent_surgery": _Rule(
        Tier.AVOID_LOCAL,
        "An operation site not yet cleared by the surgeon or physiotherapist: keep off that"
        " area until they clear it.",
        LiftedBy.MEDICAL_CLEARANCE,
    ),
    "post_replacement_cleared": _Rule(
        Tier.MODIFY,
        "A knee replacement cleared for massage: light pressure only around that knee.",
        LiftedBy.NOTHING,
        max_pressure=Pressure.LIGHT,
        region=Region.KNEE,
    ),
    "previous_dvt": _Rule(
        Tier.MODIFY,
        "A past clot in a deep vein: light pressure only on the calf of that leg, and ask the"
        " warning-sign questions again at every visit.",
        LiftedBy.NOTHING,
        max_pressure=Pressure.LIGHT,
        region=Region.CALF,
    ),
    "cancer": _Rule(
        Tier.MODIFY,
        "Cancer: no pressure over a tumour site, and nothing above medium until the oncologist"
        " clears firmer work.",
        LiftedBy.MEDICAL_CLEARANCE,
        max_pressure=Pressure.MEDIUM,
    ),
    "immobilisation": _Rule(
        Tier.MODIFY,
        "A recent major operation, bed rest or a leg in a cast makes a clot more likely: light"
        " pressure only on the calf, and watch for the warning signs.",
        LiftedBy.HEALING,
        max_pressure=Pressure.LIGHT,
        region=Region.CALF,
    ),
}

# The calf cap a recent knee operation adds (DOMAIN.md 8.2), a finding of its own so that it
# outlasts the operation site's clearance: it holds while the client is still healing.
KNEE_SURGERY_CALF = "knee_surgery_calf"

FINDING_LABELS: Mapping[str, str] = {
    "breathless_chest_pain": "Sudden breathlessness or chest pain",
    "dvt_signs": "Calf or thigh signs that need a same-day check",
    "dvt_current": "Deep vein clot not yet cleared",
    "hot_swollen_knee": "Hot, swollen, painful knee",
    "locked_or_numb": "Locked knee, or numb, cold or pale foot",
    "fever_infection": "Fever or infection",
    "unexplained_pain": "Unexplained pain, night pain or weight loss",
    "hypertension_uncontrolled": "High blood pressure not under control",
    "acute_injury_ottawa": "Knee injury that needs a doctor's check",
    "recent_knee_injury": "Recent knee injury",
    "skin_break": "Broken or irritated skin",
    "recent_fracture": "Broken bone not yet cleared",
    "acute_flare": "Knee flare-up",
    "varicose_veins": "Varicose veins",
    "bruise": "Bruise",
    "unexplained_lump": "Lump not yet checked",
    "anticoagulants": "Blood thinners or easy bleeding",
    "neuropathy": "Diabetes or less feeling in the legs",
    "osteoporosis": "Thin or weak bones",
    "pregnancy": "Pregnancy",
    "product_allergy": "Allergy to oils, lotions or nuts",
    "recent_surgery": "Operation site not yet cleared",
    "post_replacement_cleared": "Knee replacement, cleared for massage",
    "previous_dvt": "Past deep vein clot",
    "cancer": "Cancer",
    "immobilisation": "Recent operation, bed rest or cast",
    "cold_pale_foot": "Cold, pale or numb foot",
    "baker_cyst": "Baker's cyst",
    "baker_cyst_burst_signs": "Signs of a burst Baker's cyst",
    "knee_injection": "Knee injection in the last 14 days",
    "circulation": "Poor blood flow to the legs",
    "lymphoedema": "Lymphoedema",
    "lymphoedema_new": "New or one-sided leg swelling",
    "tumour_site": "Tumour site",
    KNEE_SURGERY_CALF: "Recent knee operation: calf kept light",
}

# What a clearance leaves behind (DOMAIN.md 8.1), by the code of the cleared finding.
AFTER_CLEARANCE_LABELS: Mapping[str, str] = {
    "dvt_current": "Deep vein clot, cleared: calf kept light",
    "hot_swollen_knee": "Hot, swollen knee, cleared: no heat, medium at most",
}

# Lifted only by a recorded clearance: a written override for one visit is refused (8.1).
CLEARANCE_ONLY_CODES = frozenset({"recent_fracture", "recent_surgery", "unexplained_lump"})

_NO_HEAT_CODES = frozenset(
    {"hot_swollen_knee", "recent_knee_injury", "acute_flare", "knee_injection"}
)
_NO_COLD_CODES = frozenset({"circulation"})
_NO_HEAT_NUMB_CODES = frozenset({"neuropathy"})

_OTTAWA_WORDS: Mapping[str, str] = {
    "ottawa_kneecap_tender": "the kneecap alone is sore to touch",
    "ottawa_fibular_head_tender": "the bony bump below the outer knee is sore to touch",
    "ottawa_cannot_bend_90": "the knee will not bend to a right angle",
    "ottawa_cannot_take_4_steps": "four steps were not possible then or now",
}


def evaluate_screening(
    answers: Mapping[str, Answer],
    *,
    age: int | None,
    questionnaire: Questionnaire | None = None,
) -> ScreeningResult:
    """Turn a complete set of answers into findings, strictest first.

    age is the client's age in whole years on the screening day, or None when unknown;
    questionnaire is the version the answers were given to (the current one by default).
    """
    asked = questionnaire or current_questionnaire()
    validate_answers(answers, asked)
    if age is not None and age < 0:
        raise RuleViolations.one("age", "An age cannot be negative.")
    findings: list[Finding] = []
    for question in asked.questions:
        answer = answers[question.code]
        rule = _RULES.get(question.code)
        if not answer.yes or rule is None:
            continue
        findings.append(
            Finding(
                code=question.code,
                tier=rule.tier,
                reason=rule.reason,
                lifted_by=rule.lifted_by,
                side=answer.side,
                region=answer.region if question.asks_region else rule.region,
                max_pressure=rule.max_pressure,
                urgency=rule.urgency,
                site=_SITES.get(question.code),
            )
        )
        if question.code == "recent_surgery" and asked.version >= _KNEE_SURGERY_CALF_FROM:
            calf = _knee_surgery_calf(answer)
            if calf is not None:
                findings.append(calf)
        if question.code == "recent_knee_injury":
            ottawa = _evaluate_ottawa(answers, age, side=answer.side)
            if ottawa is not None:
                findings.append(ottawa)
    # Stable sort: strictest first, questionnaire order within a tier.
    findings.sort(key=lambda f: -f.tier.rank)
    return ScreeningResult(findings=tuple(findings), questionnaire_version=asked.version)


# Version 1 results were stored without it; evaluating them stays as it was.
_KNEE_SURGERY_CALF_FROM = 2
_SITES: Mapping[str, SiteRule] = {"baker_cyst": SiteRule.BACK_OF_KNEE}


def _knee_surgery_calf(answer: Answer) -> Finding | None:
    if answer.region is None or not answer.region.overlaps(Region.KNEE):
        return None
    return Finding(
        code=KNEE_SURGERY_CALF,
        tier=Tier.MODIFY,
        reason=(
            "The weeks after a knee operation are when a clot is most likely: light pressure"
            " only on the calf of that leg, no foam rolling on that leg, and ask the clot"
            " signs at every visit."
        ),
        lifted_by=LiftedBy.HEALING,
        side=answer.side,
        region=Region.CALF,
        max_pressure=Pressure.LIGHT,
    )


def _evaluate_ottawa(
    answers: Mapping[str, Answer], age: int | None, *, side: Laterality | None
) -> Finding | None:
    # A version that no longer asks a criterion counts it as not met.
    met = [_OTTAWA_WORDS[code] for code in OTTAWA_CRITERIA if code in answers and answers[code].yes]
    if age is None:
        met.insert(0, "the age is not recorded, so 55 or over cannot be ruled out")
    elif age >= OTTAWA_AGE:
        met.insert(0, f"the client is {OTTAWA_AGE} or over")
    if not met:
        return None
    return Finding(
        code="acute_injury_ottawa",
        tier=Tier.REFER,
        reason=(
            "After a recent knee injury, a doctor's check (an X-ray may be needed) comes before"
            f" any massage, because {'; '.join(met)}."
        ),
        lifted_by=LiftedBy.MEDICAL_CLEARANCE,
        side=side,
        region=Region.KNEE,
        urgency=Urgency.BEFORE_TREATMENT,
    )


def apply_clearances(result: ScreeningResult, cleared_codes: Iterable[str]) -> ScreeningResult:
    """Mark findings with a recorded medical clearance as cleared; they stay on the record.

    Only findings lifted by a medical clearance can be cleared; codes of other findings, or of
    findings this screening did not make, are ignored. Pass the codes of clearances given on
    or after this screening's day and in force: an older clearance says nothing about the
    signs this screening found.
    """
    codes = frozenset(cleared_codes)
    findings: list[Finding] = []
    left: list[Finding] = []
    for f in result.findings:
        if f.code in codes and f.lifted_by is LiftedBy.MEDICAL_CLEARANCE and not f.cleared:
            findings.append(replace(f, cleared=True))
            after = _after_clearance(f)
            if after is not None:
                left.append(after)
        else:
            findings.append(f)
    findings.extend(left)
    findings.sort(key=lambda f: -f.tier.rank)
    return replace(result, findings=tuple(findings))


def _after_clearance(finding: Finding) -> Finding | None:
    """What a clearance leaves of a finding (DOMAIN.md 8.1), as an active finding.

    It holds while that screening is the one in force: a later screening that no longer
    reports the finding ends it, one that does report it refers again.
    """
    if finding.code == "dvt_current":
        return replace(
            finding,
            tier=Tier.MODIFY,
            reason=(
                "A clot in a deep vein, cleared by a doctor: light pressure only on the calf of"
                " that leg, no calf foam rolling or calf self-massage at home, and ask the clot"
                " signs again at every visit."
            ),
            lifted_by=LiftedBy.HEALING,
            region=Region.CALF,
            max_pressure=Pressure.LIGHT,
            urgency=None,
            after_clearance=True,
        )
    if finding.code == "hot_swollen_knee":
        return replace(
            finding,
            tier=Tier.MODIFY,
            reason=(
                "A hot, swollen knee, cleared by a doctor: the clearance rules out infection,"
                " not inflammation, so no heat on that knee and nothing above medium there."
            ),
            lifted_by=LiftedBy.HEALING,
            region=Region.KNEE,
            max_pressure=Pressure.MEDIUM,
            urgency=None,
            after_clearance=True,
        )
    return None


@dataclass(frozen=True)
class PastResult:
    """An earlier screening's result, with the clearances in force applied; key names it."""

    key: int
    taken_on: datetime.date
    result: ScreeningResult


@dataclass(frozen=True)
class OpenReferral:
    """A referral an earlier screening found that is still in force at a later screening."""

    finding: Finding
    found_by: PastResult

    @property
    def needs_clearance(self) -> bool:
        """Whether only a recorded clearance ends it (else a screening on a later day does)."""
        return self.finding.lifted_by is LiftedBy.MEDICAL_CLEARANCE


def find_open_referrals(
    taken_on: datetime.date, result: ScreeningResult, earlier: Iterable[PastResult]
) -> tuple[OpenReferral, ...]:
    """Return the referrals of earlier screenings that a screening on taken_on leaves open.

    A later screening that no longer reports a sign does not lift a referral: one lifted by a
    clearance stays until a clearance is recorded, and any other (fever, lifted by recovery)
    ends only with a screening on a later day, not with another on the same day. earlier
    holds the screenings taken before this one. Codes this screening found itself are left
    out (its own finding stands for them: a clearance that lifts it lifts the older ones
    too); of the rest, one per code, from the latest screening that found it, so that a
    clearance recorded against that screening lifts every older one as well.
    """
    own = {f.code for f in result.findings}
    latest: dict[str, OpenReferral] = {}
    for past in sorted(earlier, key=lambda p: (p.taken_on, p.key)):
        if past.taken_on > taken_on:
            continue
        for finding in past.result.active_findings:
            if finding.tier is not Tier.REFER or finding.code in own:
                continue
            ended_by_a_later_day = finding.lifted_by is not LiftedBy.MEDICAL_CLEARANCE
            if ended_by_a_later_day and past.taken_on < taken_on:
                continue
            latest[finding.code] = OpenReferral(finding, past)
    return tuple(sorted(latest.values(), key=lambda r: -(r.finding.urgency_rank)))


def with_open_referrals(
    result: ScreeningResult, referrals: Iterable[OpenReferral]
) -> ScreeningResult:
    """Return the result with the open referrals added as active findings, strictest first."""
    carried = tuple(replace(r.finding, cleared=False) for r in referrals)
    if not carried:
        return result
    findings = sorted((*result.findings, *carried), key=lambda f: -f.tier.rank)
    return replace(result, findings=tuple(findings))


def is_at_least_as_strict(a: ScreeningResult, b: ScreeningResult) -> bool:
    """Return whether result a restricts treatment at least as much as result b.

    Compared: the effective tier; every active finding of b is active in a; and, unless a
    refuses treatment altogether, on every side and basic region a's cap is no looser, and
    every area b avoids or keeps heat or cold off, a does too.
    """
    if a.effective_tier < b.effective_tier:
        return False
    if not {f.code for f in b.active_findings} <= {f.code for f in a.active_findings}:
        return False
    if a.refuses_treatment:
        # No treatment at all is stricter than any cap or area b leaves (a cleared clot's
        # light calf included).
        return True
    for side in Side:
        for region in BASIC_REGIONS:
            cap_a, cap_b = a.cap_for(side, region), b.cap_for(side, region)
            if cap_b is not None and (cap_a is None or cap_a > cap_b):
                return False
            if b.avoids(side, region) and not a.avoids(side, region):
                return False
            if b.bans_heat(side, region) and not a.bans_heat(side, region):
                return False
            if b.bans_cold(side, region) and not a.bans_cold(side, region):
                return False
    return True


def dump_result(result: ScreeningResult) -> dict[str, object]:
    """Convert a result to a JSON-able dict (tiers included for queries; they are derived)."""
    return {
        "questionnaire_version": result.questionnaire_version,
        "tier": result.tier.value,
        "effective_tier": result.effective_tier.value,
        "findings": [_dump_finding(f) for f in result.findings],
        "site_rules": [rule.value for rule in result.site_rules],
    }


def _dump_finding(finding: Finding) -> dict[str, object]:
    return {
        "code": finding.code,
        "tier": finding.tier.value,
        "reason": finding.reason,
        "lifted_by": finding.lifted_by.value,
        "side": None if finding.side is None else finding.side.value,
        "region": None if finding.region is None else finding.region.value,
        "max_pressure": None if finding.max_pressure is None else finding.max_pressure.value,
        "urgency": None if finding.urgency is None else finding.urgency.value,
        "cleared": finding.cleared,
        **({"site": finding.site.value} if finding.site is not None else {}),
        **({"after_clearance": True} if finding.after_clearance else {}),
    }


def load_result(data: object) -> ScreeningResult:
    """Build a result from the dict dump_result made, refusing anything malformed."""
    item = _as_mapping(data, "result")
    version = item.get("questionnaire_version")
    if not isinstance(version, int) or isinstance(version, bool):
        _fail("result", "The stored result has no questionnaire version.")
    raw_findings = item.get("findings")
    raw_rules = item.get("site_rules")
    if not isinstance(raw_findings, list) or not isinstance(raw_rules, list):
        _fail("result", "The stored result needs lists of findings and site rules.")
    result = ScreeningResult(
        findings=tuple(_load_finding(raw) for raw in raw_findings),
        questionnaire_version=version,
        site_rules=tuple(_load_enum(SiteRule, raw, "result-site_rules") for raw in raw_rules),
    )
    for key, derived in (("tier", result.tier), ("effective_tier", result.effective_tier)):
        if key in item and item[key] != derived.value:
            _fail("result", f"The stored {key} does not match the stored findings.")
    return result


def _load_finding(data: object) -> Finding:
    item = _as_mapping(data, "result-findings")
    code, reason, cleared = item.get("code"), item.get("reason"), item.get("cleared")
    if not isinstance(code, str) or not isinstance(reason, str) or not isinstance(cleared, bool):
        _fail("result-findings", "A stored finding needs a code, a reason and a cleared flag.")
    raw_pressure = item.get("max_pressure")
    if raw_pressure is not None and (
        not isinstance(raw_pressure, int) or isinstance(raw_pressure, bool)
    ):
        _fail(f"{code}-max_pressure", "A stored pressure is a whole number from 1 to 4.")
    after_clearance = item.get("after_clearance", False)
    if not isinstance(after_clearance, bool):
        _fail(f"{code}-after_clearance", "A stored flag is true or false.")
    return Finding(
        code=code,
        tier=_load_enum(Tier, item.get("tier"), f"{code}-tier"),
        reason=reason,
        lifted_by=_load_enum(LiftedBy, item.get("lifted_by"), f"{code}-lifted_by"),
        side=_load_optional_enum(Laterality, item.get("side"), f"{code}-side"),
        region=_load_optional_enum(Region, item.get("region"), f"{code}-region"),
        max_pressure=_load_optional_enum(Pressure, raw_pressure, f"{code}-max_pressure"),
        urgency=_load_optional_enum(Urgency, item.get("urgency"), f"{code}-urgency"),
        cleared=cleared,
        site=_load_optional_enum(SiteRule, item.get("site"), f"{code}-site"),
        after_clearance=after_clearance,
    )


# --- Checking a planned technique -------------------------------------------------------------


@dataclass(frozen=True)
class PlannedTechnique:
    """A technique entry a therapist is about to log on a visit."""

    technique: Technique
    target: Target
    side: Side
    pressure: Pressure


class ViolationCode(enum.StrEnum):
    """Why a planned technique entry is refused."""

    REFER_NOT_CLEARED = "refer_not_cleared"
    TECHNIQUE_NOT_FOR_TARGET = "technique_not_for_target"
    AVOIDED_AREA = "avoided_area"
    PRESSURE_ABOVE_CAP = "pressure_above_cap"
    KNEECAP = "kneecap"
    BACK_OF_KNEE = "back_of_knee"
    FIBULAR_HEAD = "fibular_head"
    HEAT_ON_INFLAMED_KNEE = "heat_on_inflamed_knee"
    COLD_ON_POOR_CIRCULATION = "cold_on_poor_circulation"
    HEAT_ON_NUMB_SKIN = "heat_on_numb_skin"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "refer_not_cleared": "Referral not yet cleared",
            "technique_not_for_target": "Technique not used on this target",
            "avoided_area": "Area to leave alone",
            "pressure_above_cap": "Pressure above the limit",
            "kneecap": "Kneecap",
            "back_of_knee": "Back of the knee",
            "fibular_head": "Outer knee, top of the fibula",
            "heat_on_inflamed_knee": "No heat on this knee",
            "cold_on_poor_circulation": "No cold on this leg",
            "heat_on_numb_skin": "No heat with less feeling",
        }[self.value]


@dataclass(frozen=True)
class Violation:
    """One reason a planned entry is refused, shown beside the entry.

    Only an avoided-area violation may be overridden, and then only with a written reason;
    a break, an operation site or an unchecked lump not even then (Finding.overridable).
    field names the entry's form field it concerns, or "" for the entry as a whole.
    """

    code: ViolationCode
    reason: str
    finding_code: str | None = None
    overridable: bool = False
    field: str = ""


# Held point pressure is what the back-of-knee and fibular-head rules forbid; myofascial holds
# count too, because they pin tissue in place.
_HELD_PRESSURE = frozenset({Technique.TRIGGER_POINT, Technique.MYOFASCIAL_RELEASE})
_KNEECAP_EDGE_WORK = frozenset(
    {Technique.CIRCULAR_FRICTION, Technique.CROSS_FIBRE_FRICTION, Technique.MYOFASCIAL_RELEASE}
)


def check_technique(result: ScreeningResult, planned: PlannedTechnique) -> list[Violation]:
    """List every reason the planned entry is refused under the screening result."""
    violations: list[Violation] = [
        Violation(
            ViolationCode.REFER_NOT_CLEARED,
            f"No treatment until this is resolved: {f.reason}",
            finding_code=f.code,
        )
        for f in result.active_findings
        if f.tier is Tier.REFER
    ]
    technique, target, side, pressure = (
        planned.technique,
        planned.target,
        planned.side,
        planned.pressure,
    )
    if not technique.allows(target):
        violations.append(
            Violation(
                ViolationCode.TECHNIQUE_NOT_FOR_TARGET,
                f"{technique.label} is not used on this target ({target.label}).",
                field="technique",
            )
        )
    violations.extend(_check_sites(planned))
    region = target.region
    for f in result.active_findings:
        if f.tier is Tier.AVOID_LOCAL and f.concerns_target(side, target):
            then = (
                "To go ahead anyway, write down why."
                if f.overridable
                else "Only a recorded clearance lifts this; a written reason is not enough."
            )
            violations.append(
                Violation(
                    ViolationCode.AVOIDED_AREA,
                    f"This area is to be left alone ({f.area_phrase}). {f.reason} {then}",
                    finding_code=f.code,
                    overridable=f.overridable,
                    field="target",
                )
            )
    for f in result.active_findings:
        if f.max_pressure is not None and f.concerns(side, region) and pressure > f.max_pressure:
            violations.append(
                Violation(
                    ViolationCode.PRESSURE_ABOVE_CAP,
                    f"{pressure.label} pressure is above the limit here"
                    f" ({f.max_pressure.label.lower()} at most). {f.reason}",
                    finding_code=f.code,
                    field="pressure",
                )
            )
    if technique is Technique.HEAT:
        for f in result.active_findings:
            if f.code in _NO_HEAT_CODES and f.concerns(side, region):
                violations.append(
                    Violation(
                        ViolationCode.HEAT_ON_INFLAMED_KNEE,
                        "No heat on a knee that is inflamed, recently injured or recently"
                        " injected; cold is the usual choice.",
                        finding_code=f.code,
                        field="technique",
                    )
                )
            elif f.code in _NO_HEAT_NUMB_CODES and f.concerns(side, region):
                # The same rule as at home: with less feeling, a burn can go unnoticed.
                violations.append(
                    Violation(
                        ViolationCode.HEAT_ON_NUMB_SKIN,
                        "No heat on a leg with less feeling: a burn could go unnoticed.",
                        finding_code=f.code,
                        field="technique",
                    )
                )
    if technique is Technique.COLD:
        for f in result.active_findings:
            if f.code in _NO_COLD_CODES and f.concerns(side, region):
                violations.append(
                    Violation(
                        ViolationCode.COLD_ON_POOR_CIRCULATION,
                        "No cold packs on a leg with poor blood flow.",
                        finding_code=f.code,
                        field="technique",
                    )
                )
    return violations


def _check_sites(planned: PlannedTechnique) -> list[Violation]:
    sites = planned.target.sites
    technique, pressure = planned.technique, planned.pressure
    found: list[Violation] = []
    if SiteRule.KNEECAP in sites:
        if technique is Technique.EFFLEURAGE and pressure > Pressure.LIGHT:
            found.append(
                Violation(
                    ViolationCode.KNEECAP,
                    "Gliding strokes over and around the kneecap stay light; never press on the"
                    " kneecap itself.",
                    field="pressure",
                )
            )
        if technique in _KNEECAP_EDGE_WORK and pressure > Pressure.MEDIUM:
            found.append(
                Violation(
                    ViolationCode.KNEECAP,
                    "Friction and skin lifting go around the edge of the kneecap, never over it,"
                    " at medium pressure or less.",
                    field="pressure",
                )
            )
        if technique is Technique.TRIGGER_POINT:
            found.append(
                Violation(
                    ViolationCode.KNEECAP,
                    "No held pressure on the kneecap.",
                    field="technique",
                )
            )
    if SiteRule.BACK_OF_KNEE in sites:
        if pressure > Pressure.LIGHT:
            found.append(
                Violation(
                    ViolationCode.BACK_OF_KNEE,
                    "The back of the knee takes broad, light contact only: nerves and blood"
                    " vessels lie close to the surface.",
                    field="pressure",
                )
            )
        if technique in _HELD_PRESSURE:
            found.append(
                Violation(
                    ViolationCode.BACK_OF_KNEE,
                    "No trigger-point or held pressure at the back of the knee.",
                    field="technique",
                )
            )
    if SiteRule.FIBULAR_HEAD in sites and technique in _HELD_PRESSURE:
        found.append(
            Violation(
                ViolationCode.FIBULAR_HEAD,
                "No pinning or held pressure near the bony bump below the outer knee: a nerve"
                " runs close to the surface there.",
                field="technique",
            )
        )
    return found


# --- Written reasons --------------------------------------------------------------------------

MIN_REASON_WORDS = 3
_WORD = re.compile(r"[^\W\d_]{2,}")


def is_written_reason(text: str) -> bool:
    """Return whether a text is a written reason: at least 3 words of 2 or more letters.

    ". . ." and "x x x" are not reasons.
    """
    return len(_WORD.findall(text)) >= MIN_REASON_WORDS


# --- Loading helpers -------------------------------------------------------------------------

_E = TypeVar("_E", bound=enum.Enum)


def _fail(field_name: str, message: str) -> NoReturn:
    raise RuleViolations.one(field_name, message)


def _as_mapping(value: object, field_name: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        _fail(field_name, "Expected a JSON object with text keys.")
    return value


def _load_enum(enum_type: type[_E], value: object, field_name: str) -> _E:
    # bool is an int, so True would pass as Pressure.LIGHT without this check.
    if not isinstance(value, str | int) or isinstance(value, bool):
        _fail(field_name, "Not a value this field can hold.")
    try:
        return enum_type(value)
    except ValueError:
        _fail(field_name, f"{value!r} is not a value this field can hold.")


def _load_optional_enum(enum_type: type[_E], value: object, field_name: str) -> _E | None:
    return None if value is None else _load_enum(enum_type, value, field_name)


def _load_date(value: object, field_name: str) -> datetime.date:
    if not isinstance(value, str):
        _fail(field_name, "A stored date is text in the form YYYY-MM-DD.")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        _fail(field_name, "A stored date is text in the form YYYY-MM-DD.")
