"""Intake vocabularies and rules for a client's record."""

from __future__ import annotations

import enum
import re
from datetime import date

from clinic.domain.catalogue import Side

MAX_AGE_YEARS = 120


class AffectedKnee(enum.StrEnum):
    """Which knee brings the client in."""

    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"

    @property
    def label(self) -> str:
        return {"left": "Left knee", "right": "Right knee", "both": "Both knees"}[self.value]

    @property
    def side(self) -> Side | None:
        """The one knee, when it is one: what a form about a single knee starts on."""
        return None if self is AffectedKnee.BOTH else Side(self.value)


class KneePainCause(enum.StrEnum):
    """What started the knee pain, as the client describes it."""

    INJURY = "injury"
    OVERUSE = "overuse"
    ARTHRITIS = "arthritis"
    INFLAMMATION = "inflammation"
    AFTER_SURGERY = "after_surgery"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {
            "injury": "Injury (a fall, knock or awkward movement)",
            "overuse": "Overuse (repeated running, jumping, kneeling or squatting)",
            "arthritis": "Arthritis",
            "inflammation": "Inflammation (such as bursitis or tendinitis)",
            "after_surgery": "After surgery",
            "unknown": "Not known",
        }[self.value]


class KneeDiagnosis(enum.StrEnum):
    """A diagnosis the client already has from a medical provider."""

    NONE_KNOWN = "none_known"
    OSTEOARTHRITIS = "osteoarthritis"
    PATELLOFEMORAL_PAIN = "patellofemoral_pain"
    ITB_SYNDROME = "itb_syndrome"
    PATELLAR_TENDINOPATHY = "patellar_tendinopathy"
    LIGAMENT_INJURY = "ligament_injury"
    MENISCUS_TEAR = "meniscus_tear"
    KNEE_REPLACEMENT = "knee_replacement"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "none_known": "None known",
            "osteoarthritis": "Knee osteoarthritis",
            "patellofemoral_pain": "Patellofemoral pain",
            "itb_syndrome": "Iliotibial band syndrome",
            "patellar_tendinopathy": "Patellar tendinopathy",
            "ligament_injury": "Ligament injury (such as ACL or MCL)",
            "meniscus_tear": "Meniscus tear",
            "knee_replacement": "Knee replacement",
            "other": "Other (say which below)",
        }[self.value]


def calculate_age(date_of_birth: date, on: date) -> int:
    """Return the age in whole years on a given day."""
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)


def check_date_of_birth(date_of_birth: date, today: date) -> str | None:
    """Return why a date of birth cannot be right, or None when it can."""
    if date_of_birth > today:
        return "The date of birth cannot be in the future."
    if calculate_age(date_of_birth, today) > MAX_AGE_YEARS:
        return f"That makes the client older than {MAX_AGE_YEARS}; check the year."
    return None


def phone_digits(phone: str) -> str:
    """Return only the digits of a phone number, for searching however it was typed."""
    return re.sub(r"\D", "", phone)
