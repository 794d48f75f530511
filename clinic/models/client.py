"""A client of the clinic and their intake record."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clinic.database import UTCDateTime, enum_type
from clinic.domain.intake import AffectedKnee, KneeDiagnosis, KneePainCause, calculate_age
from clinic.domain.screening import Tier
from clinic.extensions import Base
from clinic.models.mixins import TimestampMixin


class Client(TimestampMixin, Base):
    """A person treated by the clinic, with what they told us at intake."""

    __tablename__ = "clients"
    __table_args__ = (
        Index("ix_clients_clinic_id_name", "clinic_id", "last_name", "first_name"),
        # Covers the home page's counts of active clients and of flagged tiers.
        Index(
            "ix_clients_clinic_id_archived_at_screening_tier",
            "clinic_id",
            "archived_at",
            "screening_tier",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date]
    gender: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(40))
    # Digits of the phone number only, so "555 0100" finds "(555) 010-0".
    phone_digits: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    emergency_contact_name: Mapped[str] = mapped_column(String(120))
    emergency_contact_phone: Mapped[str] = mapped_column(String(40))
    referring_clinician: Mapped[str] = mapped_column(String(200), default="")

    affected_knee: Mapped[AffectedKnee] = mapped_column(enum_type(AffectedKnee))
    main_complaint: Mapped[str] = mapped_column(Text)
    onset_date: Mapped[date | None]
    cause: Mapped[KneePainCause] = mapped_column(enum_type(KneePainCause))
    diagnosis: Mapped[KneeDiagnosis] = mapped_column(enum_type(KneeDiagnosis))
    diagnosis_detail: Mapped[str] = mapped_column(String(200), default="")
    medications: Mapped[str] = mapped_column(Text, default="")
    allergies: Mapped[str] = mapped_column(Text, default="")
    # Massage oils and lotions often contain nut oils; the warning must not depend on free text.
    allergic_to_oils_or_nuts: Mapped[bool] = mapped_column(default=False)
    goals: Mapped[str] = mapped_column(Text, default="")

    consent_to_treatment: Mapped[bool] = mapped_column(default=False)
    consent_date: Mapped[date | None]
    consent_name: Mapped[str] = mapped_column(String(200), default="")
    consent_to_keep_records: Mapped[bool] = mapped_column(default=False)

    # Denormalised from the latest screening and its clearances so the list can filter by
    # tier in SQL; clinic.screening.operations keeps them in step.
    screening_tier: Mapped[Tier | None] = mapped_column(enum_type(Tier), default=None)
    screened_on: Mapped[date | None] = mapped_column(default=None)
    screening_recheck_on: Mapped[date | None] = mapped_column(default=None)

    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def sort_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    @property
    def has_allergy_warning(self) -> bool:
        return self.allergic_to_oils_or_nuts or bool(self.allergies.strip())

    def age_on(self, on: date) -> int:
        """Return the client's age in whole years on a given day."""
        return calculate_age(self.date_of_birth, on)
