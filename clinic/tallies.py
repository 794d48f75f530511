"""Reading the running counts of clients and visits (clinic.models.tally keeps them)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from clinic.domain.screening import Tier
from clinic.extensions import db
from clinic.models.tally import TIER_COLUMNS, ClinicTally, VisitMonthTally


def client_tally(clinic_id: int) -> ClinicTally:
    """Return a clinic's client counts; all zero for a clinic that never had a client."""
    found = db.session.get(ClinicTally, clinic_id)
    if found is not None:
        return found
    zero = dict.fromkeys(("active_clients", "archived_clients", *TIER_COLUMNS.values()), 0)
    return ClinicTally(clinic_id=clinic_id, **zero)


def active_clients_with_tier(tally: ClinicTally, tier: Tier | None) -> int:
    """Return how many active clients have a stored tier (None: not screened)."""
    column = TIER_COLUMNS[None if tier is None else tier.value]
    return int(getattr(tally, column))


def visits_in_month(clinic_id: int, day: date) -> int:
    """Return how many visits (not discarded) a clinic has in the calendar month of a day."""
    count = db.session.scalar(
        select(VisitMonthTally.visits).where(
            VisitMonthTally.clinic_id == clinic_id,
            VisitMonthTally.month == day.replace(day=1),
        )
    )
    return int(count or 0)
