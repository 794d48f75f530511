"""A clinic: the tenant every account and client record belongs to."""

from __future__ import annotations

from sqlalchemy import LargeBinary, String, true
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
    # Paper for printed handouts: "A4" or "Letter" (clinic.pdf.PAGE_SIZES).
    paper_size: Mapped[str] = mapped_column(String(10), default="A4", server_default="A4")
    # Optional logo printed on handouts, checked on upload (clinic.homecare.logo). Deferred so
    # loading the clinic on every request does not load the image too.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    logo_media_type: Mapped[str | None] = mapped_column(String(20), default=None)
    logo_width: Mapped[int | None] = mapped_column(default=None)
    logo_height: Mapped[int | None] = mapped_column(default=None)
    # Every account must use two-step sign-in (an authenticator app) when this is on; owners
    # must in any case (User.two_step_due_at). On for new clinics; the owner may lift it.
    require_two_factor: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Records are kept at least this many years after a client's last visit; nothing is
    # purged automatically, the retention report only lists what is past it.
    retention_years: Mapped[int] = mapped_column(default=10, server_default="10")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
