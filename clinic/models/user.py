"""Accounts and their server-side sign-in records."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.clock import utcnow
from clinic.database import UTCDateTime, enum_type
from clinic.extensions import Base
from clinic.models.clinic import Clinic
from clinic.models.mixins import TimestampMixin


class Role(enum.StrEnum):
    """What an account may do in its clinic."""

    OWNER = "owner"
    THERAPIST = "therapist"

    @property
    def label(self) -> str:
        return {"owner": "Owner", "therapist": "Therapist"}[self.value]


class User(TimestampMixin, Base):
    """A person who signs in: the clinic's owner or one of its therapists."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Set for one-time passwords the owner hands out: the next sign-in must replace it.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # A one-time password stops working after this (None: the password is the person's own).
    one_time_password_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), default=None
    )
    # An owner without two-step sign-in may postpone setting it up until this moment.
    two_step_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Two-step sign-in: a TOTP secret, encrypted with a key derived from SECRET_KEY ("v1:" and
    # a Fernet token, clinic.auth.two_factor.encrypt_secret), in use once the person has
    # confirmed a first code; and the last time step accepted, so no code is accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)

    clinic: Mapped[Clinic] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}

    # Flask-Login's user protocol.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None and self.totp_enabled_at is not None


class LoginSession(Base):
    """One browser's sign-in, so that logout and password changes can end it on the server."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the token in the cookie: a copy of the database opens no sessions.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_reason: Mapped[str] = mapped_column(String(40), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class RecoveryCode(Base):
    """A one-use code that stands in for the authenticator app when the phone is lost."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # argon2id (salted) of an HMAC-SHA256 of the normalised code keyed by a key derived from
    # SECRET_KEY: without the key a copy of the database cannot test guesses at all.
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
