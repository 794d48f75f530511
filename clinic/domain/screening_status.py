"""Whether a client's screening is current enough to treat today."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_VALID_DAYS = 30


class ScreeningState(enum.StrEnum):
    """Where a client stands with screening on a given day."""

    NONE = "none"
    EXPIRED = "expired"
    DVT_NOT_ASKED_TODAY = "dvt_not_asked_today"
    READY = "ready"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {
            "none": "Not screened",
            "expired": "Screening out of date",
            "dvt_not_asked_today": "Ask about clot signs today",
            "ready": "Screening current",
        }[self.value]


@dataclass(frozen=True)
class ScreeningStatus:
    """A client's screening state with the dates behind it."""

    state: ScreeningState
    taken_on: date | None
    valid_until: date | None
    dvt_last_asked_on: date | None

    @property
    def is_ready(self) -> bool:
        """Whether a visit may start as far as screening currency goes."""
        return self.state is ScreeningState.READY

    @property
    def has_current_screening(self) -> bool:
        """Whether a full screening exists and is not out of date."""
        return self.state in (ScreeningState.READY, ScreeningState.DVT_NOT_ASKED_TODAY)

    @property
    def explanation(self) -> str:
        """Say in plain words what the therapist must do before treating."""
        if self.state is ScreeningState.NONE:
            return "This client has no screening yet. Take one before any treatment."
        if self.state is ScreeningState.EXPIRED:
            return (
                f"The last screening ({_day(self.taken_on)}) is out of date. "
                "Take a new screening before treating."
            )
        if self.state is ScreeningState.DVT_NOT_ASKED_TODAY:
            return (
                "The signs of a clot in the leg have not been asked about today. Confirm "
                "“no changes” after asking, or take a new screening."
            )
        return f"Screening current until {_day(self.valid_until)}; clot signs asked today."


def _day(value: date | None) -> str:
    return "" if value is None else f"{value.day} {value:%b %Y}"


def assess_screening_status(
    *, taken_on: date | None, dvt_last_asked_on: date | None, today: date, valid_days: int
) -> ScreeningStatus:
    """Return whether the latest screening is current and the clot question was asked today.

    A screening is out of date once it is older than valid_days. Clot (DVT) signs can appear
    between visits, so they must also have been asked on the day itself, by a full screening
    or a "no changes" confirmation.
    """
    if taken_on is None:
        return ScreeningStatus(ScreeningState.NONE, None, None, dvt_last_asked_on)
    valid_until = taken_on + timedelta(days=valid_days)
    if today > valid_until:
        state = ScreeningState.EXPIRED
    elif dvt_last_asked_on != today:
        state = ScreeningState.DVT_NOT_ASKED_TODAY
    else:
        state = ScreeningState.READY
    return ScreeningStatus(state, taken_on, valid_until, dvt_last_asked_on)
