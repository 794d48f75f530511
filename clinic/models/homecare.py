"""Home-care records: a clinic's own items (every edit a new version), plans and handouts.

Item versions, plans, plan items and issued handouts are written once and never changed: an
edit makes a new version, a change of plan makes a new plan, a reprint returns stored bytes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.clock import utcnow
from clinic.database import UTCDateTime, enum_type
from clinic.domain.homecare import Each, ItemKind
from clinic.extensions import Base
from clinic.models.mixins import TimestampMixin
from clinic.models.screening import ImmutableRecordError
from clinic.models.user import User


class DoseColumns:
    """The amounts of a dose, each optional, as the domain's Dose has them."""

    hold_seconds: Mapped[int | None] = mapped_column(default=None)
    repetitions: Mapped[int | None] = mapped_column(default=None)
    sets: Mapped[int | None] = mapped_column(default=None)
    times_per_day: Mapped[int | None] = mapped_column(default=None)
    times_per_week: Mapped[int | None] = mapped_column(default=None)
    minutes: Mapped[int | None] = mapped_column(default=None)
    each: Mapped[Each | None] = mapped_column(enum_type(Each), default=None)


class LibraryItem(TimestampMixin, Base):
    """One of the clinic's own home-care items; its text lives in its versions."""

    __tablename__ = "homecare_library_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    # The number of the newest LibraryItemVersion: the one new plans use.
    current_number: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Retired items leave the plan builder; plans that used them keep their copy.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    version: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list[LibraryItemVersion]] = relationship(
        order_by="LibraryItemVersion.number", back_populates="item", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def current(self) -> LibraryItemVersion:
        """The newest version."""
        return next(v for v in self.versions if v.number == self.current_number)


class LibraryItemVersion(DoseColumns, Base):
    """The full text of one version of a clinic's own item, as plans copy it."""

    __tablename__ = "homecare_library_item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("homecare_library_items.id"), index=True)
    number: Mapped[int]
    kind: Mapped[ItemKind] = mapped_column(enum_type(ItemKind))
    title: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(Text)
    steps: Mapped[list[str]] = mapped_column(JSON)
    cautions: Mapped[list[str]] = mapped_column(JSON)
    # Screening finding codes that leave the item out of a plan while they are active.
    excluded_by: Mapped[list[str]] = mapped_column(JSON)
    # What the item involves (DOMAIN.md 8.4): the leg regions it works, whether it presses
    # on them, whether the legs carry weight. All None on versions saved before the owner
    # was asked: such an item stays out of plans for clients with any finding.
    areas: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    uses_pressure: Mapped[bool | None] = mapped_column(default=None)
    weight_bearing: Mapped[bool | None] = mapped_column(default=None)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[LibraryItem] = relationship(back_populates="versions")
    created_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class HomeCarePlan(Base):
    """The items, doses and notes a therapist chose for one client, checked by a screening."""

    __tablename__ = "homecare_plans"
    __table_args__ = (Index("ix_homecare_plans_client_id_created_at", "client_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    # The screening whose result (with the clearances then in force) chose and changed the items.
    screening_id: Mapped[int] = mapped_column(ForeignKey("screenings.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # One per builder form: a second press of save finds the first plan instead.
    creation_token: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    # The client's safety notes as worded when the plan was made.
    safety_notes: Mapped[list[str]] = mapped_column(JSON)

    created_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    items: Mapped[list[HomeCarePlanItem]] = relationship(
        order_by="HomeCarePlanItem.position", back_populates="plan", lazy="selectin"
    )


class HomeCarePlanItem(DoseColumns, Base):
    """One item of a plan: a copy of the item's text as used, its dose and the therapist's note."""

    __tablename__ = "homecare_plan_items"
    __table_args__ = (UniqueConstraint("plan_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("homecare_plans.id"))
    position: Mapped[int]
    # Exactly one of the two: a built-in item's code, or a clinic item's version row.
    builtin_code: Mapped[str | None] = mapped_column(String(60), default=None)
    library_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("homecare_library_item_versions.id"), default=None
    )
    # The version number of the item as used (built-in or the clinic's own).
    item_version: Mapped[int]
    kind: Mapped[ItemKind] = mapped_column(enum_type(ItemKind))
    title: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(Text)
    steps: Mapped[list[str]] = mapped_column(JSON)
    cautions: Mapped[list[str]] = mapped_column(JSON)
    # What the screening changed, in the client's words (e.g. "Use light pressure only...").
    changes: Mapped[list[str]] = mapped_column(JSON)
    dose_text: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[HomeCarePlan] = relationship(back_populates="items")


class IssuedHandout(Base):
    """A plan's PDF as given to the client: the exact bytes, their SHA-256, who, whom, when."""

    __tablename__ = "issued_handouts"
    __table_args__ = (Index("ix_issued_handouts_plan_id_issued_at", "plan_id", "issued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("homecare_plans.id"))
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    page_size: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64))
    byte_size: Mapped[int]
    # Deferred: lists of handouts must not pull every PDF out of the database.
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    issued_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)


def _refuse_change(mapper: Any, connection: Any, target: Any) -> None:
    raise ImmutableRecordError(f"{type(target).__name__} records are never changed or deleted")


for _model in (LibraryItemVersion, HomeCarePlan, HomeCarePlanItem, IssuedHandout):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
