"""Outcome records: the client's home pain log and the knee questionnaires (KOOS JR, LEFS)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.clock import utcnow
from clinic.database import UTCDateTime, enum_type
from clinic.domain.catalogue import Side
from clinic.domain.outcomes import Measure
from clinic.extensions import Base
from clinic.models.user import User


class PainLogEntry(Base):
    """One line of the client's home pain log, typed in from their tracking sheet."""

    __tablename__ = "pain_log_entries"
    __table_args__ = (Index("ix_pain_log_entries_client_id_logged_on", "client_id", "logged_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    logged_on: Mapped[date]
    knee: Mapped[Side] = mapped_column(enum_type(Side))
    score: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutcomeAssessment(Base):
    """A completed KOOS JR or LEFS questionnaire with its answers and score."""

    __tablename__ = "outcome_assessments"
    __table_args__ = (Index("ix_outcome_assessments_client_id_taken_on", "client_id", "taken_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    measure: Mapped[Measure] = mapped_column(enum_type(Measure))
    taken_on: Mapped[date]
    # KOOS JR is about one knee; LEFS about the lower limbs as a whole (None).
    knee: Mapped[Side | None] = mapped_column(enum_type(Side), default=None)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    raw_score: Mapped[int]
    # KOOS JR: the interval score (0-100); LEFS: the sum (0-80).
    score: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class OutcomeRecordChangeError(RuntimeError):
    """Raised when code tries to change a recorded questionnaire."""


def _refuse(mapper: Any, connection: Any, target: Any) -> None:
    raise OutcomeRecordChangeError("questionnaire records are never changed")


event.listen(OutcomeAssessment, "before_update", _refuse)
