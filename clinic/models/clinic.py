"""A clinic: the tenant every account and client record belongs to."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.extensions import Base
from clinic.models.mixins import TimestampMixin


class Clinic(TimestampMixin, Base):
    """A practice with its contact details, accounts and clients."""

    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    # Demo clinics hold made-up people only; the interface labels them everywhere.
    is_demo: Mapped[bool] = mapped_column(default=False)
    # A full screening older than this must be taken again before the next visit.
    screening_valid_days: Mapped[int] = mapped_column(default=30, server_default="30")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
