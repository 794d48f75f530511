"""Accounts, passwords and server-side sign-in records."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy import bindparam, func, select, update
from zxcvbn import zxcvbn

from clinic import clock
from clinic.audit.trail import Actor, record_account_event, record_event
from clinic.clock import utcnow
from clinic.domain.errors import RuleViolations
from clinic.extensions import db
from clinic.models import AuditAction, Clinic, LoginSession, Role, User
from clinic.transaction import operation

# argon2-cffi's defaults (RFC 9106's second, low-memory profile: 64 MiB, 3 passes, 4 lanes),
# and the cheapest parameters for the test suite alone, which makes thousands of accounts.
_HASHERS = {
    "default": PasswordHasher(),
    "cheapest": PasswordHasher.from_parameters(profiles.CHEAPEST),
}
# Letters and digits that cannot be confused when read aloud or copied from a screen.
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# How often a sign-in's last-seen time is written; the idle timeout tolerates this much slack.
TOUCH_INTERVAL = timedelta(seconds=60)
# Request headers hold whatever a browser sent; PostgreSQL refuses NUL in text columns.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


# Characters that change nothing a person sees: control characters (Cc) and format
# characters (Cf: zero-width spaces and joiners, bidi marks and overrides, the BOM).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})
# The password checker reads this many characters; anything longer is long enough anyway.
_CHECKED_PASSWORD_CHARACTERS = 72
WHAT_WORKS_TIP = "Try three or four unrelated words, like 'maple river lantern spoon'."


def normalise_email(email: str) -> str:
    """Return an email address in the one form it is stored, looked up and rate-limited by.

    NFKC folds look-alike forms (full-width letters); control and format characters (NUL,
    zero-width spaces, bidi marks) are dropped; spaces around it go; letters go lower case.
    """
    folded = unicodedata.normalize("NFKC", email)
    visible = "".join(ch for ch in folded if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
    return visible.strip().lower()


def find_account_by_email(email: str) -> User | None:
    """Return the account an email address (typed in any variant) belongs to, if any."""
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).first()


def password_hash_profile() -> str:
    """Return the argon2 parameters in use: "default", or "cheapest" while testing only."""
    if not has_app_context():
        return "default"
    profile = str(current_app.config.get("ARGON2_PROFILE", "default"))
    if profile not in _HASHERS or (profile != "default" and not current_app.testing):
        raise RuntimeError(f"ARGON2_PROFILE {profile!r} is for the test suite only.")
    return profile


def _hasher() -> PasswordHasher:
    return _HASHERS[password_hash_profile()]


def hash_password(password: str) -> str:
    """Return an argon2id hash of a password."""
    return _hasher().hash(password)


@lru_cache(maxsize=2)
def _dummy_hash(profile: str) -> str:
    return _HASHERS[profile].hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Return whether a password matches a hash, spending the same time when there is none."""
    try:
        hasher = _hasher()
        stored = password_hash or _dummy_hash(password_hash_profile())
        return hasher.verify(stored, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def generate_one_time_password() -> str:
    """Return a random password of four groups of four characters for a first sign-in."""
    groups = ("".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def has_any_account() -> bool:
    """Return whether any account exists yet (before that, only setup is open)."""
    return db.session.scalar(select(User.id).limit(1)) is not None


def open_clinic(name: str, *, address: str = "", phone: str = "", is_demo: bool = False) -> Clinic:
    """Add a clinic (no account yet)."""
    clinic = Clinic(name=name, address=address, phone=phone, is_demo=is_demo)
    db.session.add(clinic)
    db.session.flush()
    return clinic


@operation
def create_clinic_with_owner(
    *,
    clinic_name: str,
    address: str,
    phone: str,
    owner_name: str,
    email: str,
    password: str,
    min_length: int,
    min_score: int = 3,
) -> User:
    """Create the first clinic and its owner; refuse once any account exists."""
    if has_any_account():
        raise RuleViolations.one(None, "This app has been set up already. Sign in instead.")
    check_new_password(
        None,
        password,
        min_length,
        min_score=min_score,
        user_inputs=(clinic_name, owner_name, email, address, phone),
    )
    clinic = open_clinic(clinic_name, address=address, phone=phone)
    return create_user(
        clinic, full_name=owner_name, email=email, role=Role.OWNER, password=password
    )


def create_user(
    clinic: Clinic,
    *,
    full_name: str,
    email: str,
    role: Role,
    password: str,
    must_change_password: bool = False,
) -> User:
    """Add an account to a clinic; the email must not be in use by any account."""
    email = normalise_email(email)
    taken = db.session.scalar(select(func.count()).where(User.email == email))
    if taken:
        raise RuleViolations.one("email", "An account with this email address exists already.")
    user = User(
        clinic=clinic,
        full_name=full_name,
        email=email,
        role=role,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        two_step_due_at=owner_two_step_due_at() if role is Role.OWNER else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def owner_two_step_due_at() -> datetime:
    """Return when a new owner must have two-step sign-in: TWO_STEP_GRACE_DAYS from now."""
    return utcnow() + timedelta(days=int(current_app.config["TWO_STEP_GRACE_DAYS"]))


def authenticate(email: str, password: str, *, remote_addr: str) -> User:
    """Return the account these credentials open, or refuse in words that reveal little.

    A refusal of an existing account is recorded as a failed sign-in. Not run in a savepoint
    (operation()): a refusal changes nothing else, and its entry must outlive the refusal.
    """
    user = find_account_by_email(email)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        record_failed_sign_in(user, "Wrong password", remote_addr=remote_addr)
        raise RuleViolations.one(None, "The email address or password is not right.")
    if not user.active:
        record_failed_sign_in(user, "Refused: the account is deactivated", remote_addr=remote_addr)
        raise RuleViolations.one(
            None, "This account has been deactivated. Ask the clinic's owner to reactivate it."
        )
    if one_time_password_expired(user):
        record_failed_sign_in(
            user, "Refused: the one-time password has expired", remote_addr=remote_addr
        )
        raise RuleViolations.one(
            None, "This one-time password has expired. Ask the clinic's owner for a new one."
        )
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def record_failed_sign_in(user: User | None, reason: str, *, remote_addr: str) -> None:
    """Add a failed sign-in entry against the account tried; nothing when there is none."""
    # No account, no clinic to file it under; the rate limits still count the attempt.
    if user is not None:
        record_account_event(AuditAction.SIGN_IN_FAILED, user, reason, remote_addr=remote_addr)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_login_session(user: User, *, remote_addr: str, user_agent: str) -> str:
    """Record a new sign-in for a browser and return the token its cookie will carry."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            user=user,
            token_hash=_hash_token(token),
            remote_addr=_CONTROL_CHARACTERS.sub("", remote_addr)[:64],
            user_agent=_CONTROL_CHARACTERS.sub("", user_agent)[:300],
        )
    )
    db.session.flush()
    return token


@operation
def sign_in(user: User, *, remote_addr: str, user_agent: str, how: str = "") -> str:
    """Start a sign-in whose credentials were checked, record it, and return its token."""
    token = start_login_session(user, remote_addr=remote_addr, user_agent=user_agent)
    record_account_event(AuditAction.SIGN_IN, user, how, remote_addr=remote_addr)
    db.session.flush()
    return token


@operation
def sign_out(login_session: LoginSession, *, remote_addr: str) -> None:
    """End one browser's sign-in at the person's request, and record it."""
    end_login_session(login_session, "signed out")
    record_account_event(AuditAction.SIGN_OUT, login_session.user, remote_addr=remote_addr)
    db.session.flush()


# Every page asks it: built once, so SQLAlchemy works out its cache key once.
_OPEN_LOGIN_SESSION = select(LoginSession).where(
    LoginSession.token_hash == bindparam("token_hash"), LoginSession.ended_at.is_(None)
)


def find_login_session(token: str) -> LoginSession | None:
    """Return the open sign-in a cookie token belongs to, if any."""
    return db.session.scalars(_OPEN_LOGIN_SESSION, {"token_hash": _hash_token(token)}).one_or_none()


def end_login_session(login_session: LoginSession, reason: str) -> None:
    """Close one sign-in so that its cookie no longer opens anything."""
    login_session.ended_at = utcnow()
    login_session.ended_reason = reason


def end_all_login_sessions(user: User, reason: str) -> None:
    """Close every open sign-in of an account, on every device."""
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
        .execution_options(synchronize_session=False)
    )


def is_idle(login_session: LoginSession, idle_timeout: timedelta) -> bool:
    """Return whether a sign-in has gone unused for longer than the idle timeout."""
    return utcnow() - login_session.last_seen_at > idle_timeout


def touch_login_session(login_session: LoginSession) -> bool:
    """Note that a sign-in is in use; return whether a write was needed."""
    now = utcnow()
    if now - login_session.last_seen_at < TOUCH_INTERVAL:
        return False
    login_session.last_seen_at = now
    return True


def password_weakness(
    password: str, *, min_score: int = 3, user_inputs: Iterable[str] = ()
) -> str | None:
    """Return why a password is easy to guess (with what works instead), or None if it is not.

    zxcvbn checks it offline against lists of common and leaked passwords, names and words,
    keyboard patterns, dates, and what the person typed elsewhere (their name, email, clinic).
    """
    inputs = [text for text in user_inputs if text]
    words = [part for text in inputs for part in re.split(r"[\s@.,]+", text) if part]
    result = zxcvbn(password[:_CHECKED_PASSWORD_CHARACTERS], user_inputs=inputs + words)
    # Made of nothing but the person's or the clinic's own names ("olive owner riverside"):
    # zxcvbn may score that as strong, but whoever targets this clinic tries those first.
    own_words_only = all(
        match.get("dictionary_name") == "user_inputs" or not str(match["token"]).strip()
        for match in result["sequence"]
    )
    if int(result["score"]) >= min_score and not own_words_only:
        return None
    warning = str(result.get("feedback", {}).get("warning") or "").strip()
    if own_words_only:
        warning = "Your own or the clinic's names are among the first things someone would try"
    why = warning or "This password would be easy to guess."
    if not why.endswith("."):
        why += "."
    return f"{why} {WHAT_WORKS_TIP}"


def check_new_password(
    user: User | None,
    password: str,
    min_length: int,
    *,
    min_score: int = 3,
    user_inputs: Iterable[str] = (),
) -> None:
    """Refuse a new password that is too short, easy to guess, or the same as the current one."""
    if len(password) < min_length:
        raise RuleViolations.one("new_password", f"Use at least {min_length} characters.")
    if user is not None and verify_password(user.password_hash, password):
        raise RuleViolations.one(
            "new_password", "Choose a password different from the current one."
        )
    known = list(user_inputs)
    if user is not None:
        known += [user.email, user.full_name, user.clinic.name]
    weakness = password_weakness(password, min_score=min_score, user_inputs=known)
    if weakness is not None:
        raise RuleViolations.one("new_password", weakness)


# Fields whose refusal means a wrong password or code (not a rule of the change itself).
CREDENTIAL_FIELDS = frozenset({"current_password", "password", "code", "proof"})


def record_failed_check(actor: Actor, summary: str) -> None:
    """Record a wrong password or code typed while signed in; the entry outlives the refusal.

    Not run in a savepoint (operation()), like authenticate(). Every such entry is a security
    event about the account whose summary starts with "Wrong".
    """
    user = actor.required_user
    record_account_event(AuditAction.SECURITY, user, summary, remote_addr=actor.remote_addr)
    db.session.flush()


def is_credential_refusal(violations: RuleViolations) -> bool:
    """Return whether a refusal was about a wrong password or code."""
    return any(field in CREDENTIAL_FIELDS for field in violations.fields)


@operation
def _change_password(
    actor: Actor, *, current_password: str, new_password: str, min_length: int, min_score: int
) -> None:
    user = actor.required_user
    if not verify_password(user.password_hash, current_password):
        raise RuleViolations.one("current_password", "This is not your current password.")
    check_new_password(user, new_password, min_length, min_score=min_score)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.one_time_password_expires_at = None
    end_all_login_sessions(user, "password changed")
    _record_security(actor, user, "Changed own password")


def change_password(
    actor: Actor,
    *,
    current_password: str,
    new_password: str,
    min_length: int,
    min_score: int = 3,
) -> None:
    """Replace the actor's own password, end all its sign-ins, and record it.

    A wrong current password is recorded ("Wrong current password on the Password page"),
    and that entry is kept although the change is refused.
    """
    try:
        _change_password(
            actor,
            current_password=current_password,
            new_password=new_password,
            min_length=min_length,
            min_score=min_score,
        )
    except RuleViolations as violations:
        if "current_password" in violations.fields:
            record_failed_check(actor, "Wrong current password on the Password page")
        raise


def _record_security(actor: Actor, user: User, summary: str) -> None:
    record_event(
        actor, AuditAction.SECURITY, record_type="user", record_id=int(user.id), summary=summary
    )
    db.session.flush()


def list_accounts(clinic_id: int) -> list[User]:
    """Return every account of a clinic, deactivated ones last, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.clinic_id == clinic_id)
            .order_by(User.active.desc(), User.full_name, User.id)
        )
    )


def one_time_password_expired(user: User) -> bool:
    """Return whether an account's one-time password is past its expiry."""
    expires = user.one_time_password_expires_at
    return user.must_change_password and expires is not None and clock.utcnow() >= expires


def one_time_password_expiry(valid_hours: int) -> datetime:
    """Return when a one-time password handed out now stops working."""
    return clock.utcnow() + timedelta(hours=valid_hours)


@operation
def open_account(
    actor: Actor, *, full_name: str, email: str, role: Role, valid_hours: int = 72
) -> tuple[User, str]:
    """Open an account in the actor's clinic with a one-time password; return both.

    The one-time password works for valid_hours (ONE_TIME_PASSWORD_HOURS).
    """
    password = generate_one_time_password()
    clinic = db.session.get_one(Clinic, actor.clinic_id)
    user = create_user(
        clinic,
        full_name=full_name,
        email=email,
        role=role,
        password=password,
        must_change_password=True,
    )
    user.one_time_password_expires_at = one_time_password_expiry(valid_hours)
    _record_security(actor, user, "Opened an account with a one-time password")
    return user, password


@operation
def reset_password(actor: Actor, user: User, *, valid_hours: int = 72) -> str:
    """Give a colleague's account a one-time password, end its sign-ins; return the password.

    Also the way to issue a new one-time password when the last one expired unused.
    """
    if user.id == actor.user_id:
        # A reset would skip the current-password check of changing your own password.
        raise RuleViolations.one(None, "To change your own password, use the Password page.")
    password = generate_one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.one_time_password_expires_at = one_time_password_expiry(valid_hours)
    end_all_login_sessions(user, "password reset")
    _record_security(actor, user, "Reset the password to a one-time password")
    return password


@operation
def set_account_active(actor: Actor, user: User, *, active: bool) -> None:
    """Deactivate or reactivate an account; accounts are never deleted."""
    if not active and user.id == actor.user_id:
        raise RuleViolations.one(None, "You cannot deactivate your own account.")
    user.active = active
    if not active:
        end_all_login_sessions(user, "deactivated")
    _record_security(
        actor, user, "Reactivated the account" if active else "Deactivated the account"
    )
