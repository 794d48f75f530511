"""When a screening is current: its age and the clot question asked on the day."""

from datetime import date

import pytest

from clinic.domain.screening_status import ScreeningState, assess_screening_status

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("taken_on", "dvt_asked", "valid_days", "state"),
    [
        (None, None, 30, ScreeningState.NONE),
        (None, TODAY, 30, ScreeningState.NONE),
        (TODAY, TODAY, 30, ScreeningState.READY),
        (date(2026, 10, 23), TODAY, 30, ScreeningState.READY),  # exactly 30 days old
        (date(2026, 10, 22), TODAY, 30, ScreeningState.EXPIRED),  # 31 days old
        (date(2026, 10, 22), TODAY, 31, ScreeningState.READY),
        (date(2026, 11, 20), date(2026, 11, 21), 30, ScreeningState.DVT_NOT_ASKED_TODAY),
        (date(2026, 11, 20), None, 30, ScreeningState.DVT_NOT_ASKED_TODAY),
        (date(2026, 9, 1), date(2026, 11, 21), 30, ScreeningState.EXPIRED),
        (TODAY, TODAY, 1, ScreeningState.READY),
    ],
)
def test_states(taken_on, dvt_asked, valid_days, state):
    status = assess_screening_status(
        taken_on=taken_on, dvt_last_asked_on=dvt_asked, today=TODAY, valid_days=valid_days
    )
    assert status.state is state
    assert status.is_ready is (state is ScreeningState.READY)
    assert status.explanation


def test_current_screening_needs_age_only():
    status = assess_screening_status(
        taken_on=date(2026, 11, 1), dvt_last_asked_on=None, today=TODAY, valid_days=30
    )
    assert status.has_current_screening
    assert not status.is_ready
    assert status.valid_until == date(2026, 12, 1)
