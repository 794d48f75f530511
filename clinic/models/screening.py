"""Screening records, "no changes" confirmations, medical clearances and one-visit overrides.

All four are written once and never changed: a correction is a new record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.clock import utcnow
from clinic.database import UTCDateTime, enum_type
from clinic.domain.screening import Tier
from clinic.extensions import Base
from clinic.models.user import User


class Screening(Base):
    """One contraindication screening: the answers, the rules version and the result."""

    __tablename__ = "screenings"
    __table_args__ = (Index("ix_screenings_client_id_taken_on", "client_id", "taken_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    taken_on: Mapped[date]
    questionnaire_version: Mapped[int]
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The strictest finding, before clearances: stored for reports, derived from result.
    tier: Mapped[Tier] = mapped_column(enum_type(Tier))
    client_age: Mapped[int | None]
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    signed_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class ScreeningConfirmation(Base):
    """A therapist's record that nothing changed since a screening, DVT signs asked that day."""

    __tablename__ = "screening_confirmations"
    __table_args__ = (
        Index("ix_screening_confirmations_client_id_confirmed_on", "client_id", "confirmed_on"),
        # The screening in force asks for its latest confirmation on every client page.
        Index(
            "ix_screening_confirmations_screening_id_confirmed_on", "screening_id", "confirmed_on"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id"))
    confirmed_on: Mapped[date]
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    confirmed_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Clearance(Base):
    """A medical provider's go-ahead for one finding of one screening."""

    __tablename__ = "clearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id"), index=True)
    finding_code: Mapped[str] = mapped_column(String(60))
    given_by: Mapped[str] = mapped_column(String(200))
    given_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    expires_on: Mapped[date | None]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def is_in_force(self, on: date) -> bool:
        """Return whether the clearance holds on a given day."""
        return self.given_on <= on and (self.expires_on is None or on <= self.expires_on)


class FindingOverride(Base):
    """Permission, with a written reason, to work on an avoided area during one visit day."""

    __tablename__ = "finding_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id"), index=True)
    finding_code: Mapped[str] = mapped_column(String(60))
    visit_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class ImmutableRecordError(RuntimeError):
    """Raised when code tries to change or delete a record that is written once."""


def _refuse_change(mapper: Any, connection: Any, target: Any) -> None:
    raise ImmutableRecordError(f"{type(target).__name__} records are never changed or deleted")


for _model in (Screening, ScreeningConfirmation, Clearance, FindingOverride):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
