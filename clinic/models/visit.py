"""Visits: the note of one treatment, its technique entries, addenda and follow-ups."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, event, inspect, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.clock import utcnow
from clinic.database import IntEnumType, UTCDateTime, enum_type
from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.intake import AffectedKnee
from clinic.domain.visits import (
    ENTRY_FIELDS,
    AdverseResponse,
    EntryDetails,
    Swelling,
    VisitStatus,
    knee_pain_pairs,
)
from clinic.extensions import Base
from clinic.models.client import Client
from clinic.models.mixins import TimestampMixin
from clinic.models.user import User


class Visit(TimestampMixin, Base):
    """One treatment: SOAP note, pain before and after, techniques; signed, then locked."""

    __tablename__ = "visits"
    __table_args__ = (
        # A client's visits by date; with discarded_at and clinic_id in it, the client list's
        # "last visit" dates are read from the index alone, not from each visit's row.
        Index(
            "ix_visits_client_id_visit_on_covering",
            "client_id",
            "visit_on",
            "discarded_at",
            "clinic_id",
        ),
        # The unsigned notes, counted and listed in date order from the index alone: the whole
        # clinic's for its owner, and each therapist's own.
        Index(
            "ix_visits_clinic_id_status",
            "clinic_id",
            "status",
            "discarded_at",
            "visit_on",
            "start_time",
        ),
        Index(
            "ix_visits_therapist_id_status",
            "therapist_id",
            "status",
            "discarded_at",
            "clinic_id",
            "visit_on",
            "start_time",
        ),
        # A client's unsigned drafts, which the client page lists however old they are: found
        # through this index, without reading the rest of a long history.
        Index("ix_visits_client_id_status", "client_id", "status"),
        # The latest change, which tells the home page whether its pain figures are still up
        # to date. Not led by clinic_id, nor by a column lists are sorted on: SQLite would
        # then take it for one client's visits or for the unsigned notes, and read them all.
        Index("ix_visits_updated_at", "updated_at"),
        # A month's visits for the home page (queried with the clinic kept off the index).
        Index("ix_visits_visit_on", "visit_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    therapist_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The screening in force when the visit was started, for the record.
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("screenings.id"))
    # One per "new visit" form: a second press of save finds the first visit instead.
    creation_token: Mapped[str] = mapped_column(String(64), unique=True)

    visit_on: Mapped[date]
    start_time: Mapped[time]
    length_minutes: Mapped[int]
    knees: Mapped[AffectedKnee] = mapped_column(enum_type(AffectedKnee))
    pain_before_left: Mapped[int | None]
    pain_after_left: Mapped[int | None]
    pain_before_right: Mapped[int | None]
    pain_after_right: Mapped[int | None]

    subjective: Mapped[str] = mapped_column(Text, default="")
    swelling: Mapped[Swelling | None] = mapped_column(enum_type(Swelling), default=None)
    flexion_left_degrees: Mapped[int | None]
    flexion_right_degrees: Mapped[int | None]
    palpation: Mapped[str] = mapped_column(Text, default="")
    assessment: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    next_visit_on: Mapped[date | None]
    adverse_response: Mapped[AdverseResponse] = mapped_column(
        enum_type(AdverseResponse), default=AdverseResponse.NONE
    )
    adverse_note: Mapped[str] = mapped_column(Text, default="")
    # Derived from the pain scores and the adverse response when saved; kept for the list.
    adverse_flag: Mapped[bool] = mapped_column(default=False)

    status: Mapped[VisitStatus] = mapped_column(enum_type(VisitStatus), default=VisitStatus.DRAFT)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The limits in force when the note was signed (screening, findings, caps, clearances,
    # overrides, why each entry was allowed), so the signed note never changes afterwards.
    # None for a draft, and for notes signed before the limits were kept.
    limits_in_force: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    version: Mapped[int] = mapped_column(default=1)

    therapist: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    client: Mapped[Client] = relationship(lazy="joined", innerjoin=True)
    entries: Mapped[list[TechniqueEntry]] = relationship(
        order_by="TechniqueEntry.position",
        cascade="all, delete-orphan",
        back_populates="visit",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_signed(self) -> bool:
        return self.status is VisitStatus.SIGNED

    def mark_changed(self) -> None:
        """Count any change to the note, its entries included, as a new version of it."""
        # The version moves only when the visits row itself is written, and replacing the
        # entries alone would not write it: A could then sign B's entries with A's version.
        self.updated_at = utcnow()

    @property
    def pain_pairs(self) -> tuple[tuple[str, int | None, int | None], ...]:
        """Return (knee, before, after) for each treated knee."""
        return knee_pain_pairs(
            self.knees,
            self.pain_before_left,
            self.pain_after_left,
            self.pain_before_right,
            self.pain_after_right,
        )


class TechniqueEntry(Base):
    """One technique applied: what, where, which side, how firmly and for how long."""

    __tablename__ = "technique_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    position: Mapped[int]
    technique: Mapped[Technique] = mapped_column(enum_type(Technique))
    target: Mapped[Target] = mapped_column(enum_type(Target))
    side: Mapped[Side] = mapped_column(enum_type(Side))
    # None for a technique given without a pressure level (joint mobilisation, heat, cold).
    pressure: Mapped[Pressure | None] = mapped_column(IntEnumType(Pressure))
    minutes: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    repetitions: Mapped[int | None]
    hold_seconds: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")
    # The therapist's written reason for working on an area the screening says to avoid.
    override_reason: Mapped[str] = mapped_column(Text, default="")

    visit: Mapped[Visit] = relationship(back_populates="entries")

    @classmethod
    def from_details(
        cls, details: EntryDetails, *, clinic_id: int, position: int
    ) -> TechniqueEntry:
        """Return a new row holding an entry's values."""
        values = {name: getattr(details, name) for name in ENTRY_FIELDS}
        return cls(clinic_id=clinic_id, position=position, **values)

    def details(self) -> EntryDetails:
        """Return the stored entry's values."""
        return EntryDetails(**{name: getattr(self, name) for name in ENTRY_FIELDS})


class Addendum(Base):
    """A correction or addition to a signed note; the note itself never changes."""

    __tablename__ = "visit_addenda"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class VisitFollowUp(Base):
    """What was done about a visit flagged for an adverse response or a rise in pain."""

    __tablename__ = "visit_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class SignedVisitError(RuntimeError):
    """Raised when code tries to change a signed visit or its entries."""


def _refuse_if_signed(mapper: Any, connection: Any, target: Any) -> None:
    if isinstance(target, Visit):
        # The status as loaded, not as changed: the signing write itself turns a draft into
        # a signed visit, and that one write is allowed.
        history = inspect(target).attrs.status.history
        loaded = history.deleted[0] if history.deleted else target.status
    else:
        # An entry being replaced may already be detached from its visit: ask the database.
        loaded = connection.scalar(select(Visit.status).where(Visit.id == target.visit_id))
    if loaded == VisitStatus.SIGNED:
        raise SignedVisitError("A signed visit is locked; add an addendum instead")


def _refuse_always(mapper: Any, connection: Any, target: Any) -> None:
    raise SignedVisitError(f"{type(target).__name__} records are never changed or deleted")


for _locked in (Visit, TechniqueEntry):
    event.listen(_locked, "before_update", _refuse_if_signed)
    event.listen(_locked, "before_delete", _refuse_if_signed)
for _written_once in (Addendum, VisitFollowUp):
    event.listen(_written_once, "before_update", _refuse_always)
    event.listen(_written_once, "before_delete", _refuse_always)
