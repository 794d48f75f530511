"""Two-step sign-in: authenticator-app codes (TOTP) and one-use recovery codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update

from clinic.audit.trail import Actor, record_account_event, record_event
from clinic.auth.operations import (
    end_all_login_sessions,
    password_hash_profile,
    verify_password,
)
from clinic.clock import utcnow
from clinic.domain.errors import RuleViolations
from clinic.extensions import db
from clinic.models import AuditAction, RecoveryCode, User
from clinic.transaction import operation

RECOVERY_CODE_COUNT = 10
# When this few recovery codes are left, the person is asked to make new ones.
FEW_RECOVERY_CODES = 3
# Letters and digits that cannot be confused when read from paper (no 0/o, 1/l/i).
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# 16 characters of 31: about 79 bits, in four groups of four ("k7mp-3xqa-w9hd-2rtc").
RECOVERY_CODE_LENGTH = 16
# A code from the step before or after the current one is accepted too: phone clocks drift.
VALID_WINDOW = 1
_SEPARATORS = re.compile(r"[\s\-]+")
_TOTP_CODE = re.compile(r"[0-9]{6}")


def _now() -> float:
    # One place to read the clock, so tests can move time instead of sleeping.
    return time.time()


# Secrets at rest. Each purpose has its own key, derived from the app's SECRET_KEY (which is
# never in the database): a copy of the database alone gives neither factor.
_FORMAT_V1 = "v1:"
_TOTP_KEY_PURPOSE = b"clinic totp secrets v1"
_RECOVERY_KEY_PURPOSE = b"clinic recovery codes v1"
# Recovery codes have about 79 bits, under the 112 below which ASVS 6.5.2 asks for a salted
# password hash: argon2id with OWASP's smallest recommended cost (19 MiB, 2 passes), as a
# person holds ten of them and the right one is found by trying each.
_RECOVERY_HASHERS = {
    "default": PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),
    "cheapest": PasswordHasher.from_parameters(profiles.CHEAPEST),
}
_RECOVERY_SHAPE = re.compile(r"[a-z0-9]{16}")
CANNOT_CHECK_MESSAGE = (
    "Your two-step sign-in cannot be checked: the server's secret key has changed since you "
    "set it up. Ask the clinic's owner to reset your two-step sign-in. An owner asks whoever "
    "runs the server to type: flask --app clinic clinic reset-two-step YOUR-EMAIL"
)


class UnreadableSecret(Exception):
    """A stored TOTP secret that this server's key cannot decrypt (the key changed)."""


def derived_key(purpose: bytes, secret_key: str | bytes | None = None) -> bytes:
    """Return a 32-byte key for one purpose, derived from SECRET_KEY with HKDF-SHA256."""
    if secret_key is None:
        secret_key = current_app.config["SECRET_KEY"]
    if not secret_key:
        raise RuntimeError("SECRET_KEY is not set: secrets at rest need it.")
    material = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)


def _fernet(secret_key: str | bytes | None = None) -> Fernet:
    key = derived_key(_TOTP_KEY_PURPOSE, secret_key)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str, secret_key: str | bytes | None = None) -> str:
    """Return a TOTP secret as stored: "v1:" and a Fernet token (AES-128-CBC, HMAC-SHA256)."""
    return _FORMAT_V1 + _fernet(secret_key).encrypt(secret.encode("ascii")).decode("ascii")


def decrypt_secret(stored: str, secret_key: str | bytes | None = None) -> str:
    """Return the TOTP secret a stored value holds; UnreadableSecret if this key cannot."""
    if not stored.startswith(_FORMAT_V1):
        raise UnreadableSecret("not an encrypted secret")
    try:
        plain = _fernet(secret_key).decrypt(stored.removeprefix(_FORMAT_V1).encode("ascii"))
    except (InvalidToken, UnicodeError, ValueError) as error:
        raise UnreadableSecret("the secret key changed") from error
    return plain.decode("ascii")


def secret_is_readable(user: User) -> bool:
    """Return whether this server can read an account's TOTP secret (False if it has none)."""
    if user.totp_secret is None:
        return False
    try:
        decrypt_secret(user.totp_secret)
    except UnreadableSecret:
        return False
    return True


@dataclass(frozen=True)
class _Refusal:
    """Why a typed code was not accepted: the message, and whether it was right but used."""

    message: str
    reused: bool = False


@dataclass(frozen=True)
class CodeCheck:
    """What a typed code turned out to be: how many recovery codes are left after it."""

    used_recovery_code: bool
    recovery_codes_left: int


def new_secret() -> str:
    """Return a new random TOTP secret (base32, 160 bits)."""
    return pyotp.random_base32()


def group_secret(secret: str) -> str:
    """Return a secret in groups of four characters, for typing it in by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=user.clinic.name)


def qr_code_svg(uri: str) -> Markup:
    """Return an inline SVG QR code of an address (presentation attributes only, no style)."""
    # segno writes only path data and the title given here: nothing typed reaches the markup.
    return Markup(  # noqa: S704  # nosec B704
        segno.make(uri, error="m").svg_inline(
            scale=5,
            border=4,
            dark="#000",
            light="#fff",
            title="QR code for your authenticator app",
            svgclass="qr-code",
            omitsize=True,
        )
    )


def normalise_code(code: str) -> str:
    """Return a typed code without spaces or dashes, in lower case."""
    return _SEPARATORS.sub("", code).lower()


def looks_like_totp_code(code: str) -> bool:
    """Return whether a typed code has the shape of an authenticator code (six digits)."""
    return bool(_TOTP_CODE.fullmatch(normalise_code(code)))


def _matching_step(secret: str, code: str, now: float) -> int | None:
    totp = pyotp.TOTP(secret)
    current = totp.timecode(int(now))
    typed = normalise_code(code)
    found = None
    # Every step is compared, so the time taken does not say which one matched.
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), typed):
            found = step
    return found


def _spend_totp(user: User, code: str) -> _Refusal | None:
    """Accept an authenticator code once; return why not, having changed nothing, if not."""
    if user.totp_secret is None or not looks_like_totp_code(code):
        return _Refusal("This code is not right. Type the 6 digits your app shows now.")
    try:
        secret = decrypt_secret(user.totp_secret)
    except UnreadableSecret:
        return _Refusal(CANNOT_CHECK_MESSAGE)
    step = _matching_step(secret, code, _now())
    if step is None:
        return _Refusal(
            "This code is not right. Check that you use the entry for this clinic, "
            "and type the 6 digits your app shows now."
        )
    # One conditional UPDATE, so that two requests racing with the same code cannot both
    # win; it also bumps the row version the ORM keeps for this account.
    result = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step, version=User.version + 1)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return _Refusal(
            "This code was used already. Wait for your app to show a new one, then type that.",
            reused=True,
        )
    return None


def _accept_totp(user: User, code: str, field: str) -> None:
    refusal = _spend_totp(user, code)
    if refusal is not None:
        raise RuleViolations.one(field, refusal.message)


def _keyed_recovery_code(code: str, secret_key: str | bytes | None) -> str:
    key = derived_key(_RECOVERY_KEY_PURPOSE, secret_key)
    typed = normalise_code(code).encode("utf-8", "replace")
    return hmac.new(key, typed, hashlib.sha256).hexdigest()


def hash_recovery_code(code: str, secret_key: str | bytes | None = None) -> str:
    """Return what a recovery code is stored as: argon2id (salted) of a keyed HMAC of it.

    The HMAC key is derived from SECRET_KEY, which is not in the database, so a copy of the
    database alone gives no way to test guesses; argon2id makes each guess slow besides.
    """
    return _RECOVERY_HASHERS[password_hash_profile()].hash(_keyed_recovery_code(code, secret_key))


def recovery_code_matches(stored: str, code: str, secret_key: str | bytes | None = None) -> bool:
    """Return whether a typed recovery code is the one a stored hash was made from."""
    try:
        return _RECOVERY_HASHERS[password_hash_profile()].verify(
            stored, _keyed_recovery_code(code, secret_key)
        )
    except (VerificationError, InvalidHashError):
        return False


def generate_recovery_code() -> str:
    """Return one random recovery code, like "k7mp-3xqa-w9hd-2rtc"."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


def recovery_codes_left(user: User) -> int:
    """Return how many of an account's recovery codes are still unused."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [generate_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(code)) for code in codes
    )
    db.session.flush()
    return codes


def _spend_recovery_code(user: User, code: str) -> _Refusal | None:
    """Use up an unused recovery code; return why not, having changed nothing, if not."""
    wrong = _Refusal(
        "This code is not right. Type the 6 digits your app shows now, "
        "or one of your recovery codes."
    )
    if not _RECOVERY_SHAPE.fullmatch(normalise_code(code)):
        return wrong
    rows = db.session.execute(
        select(RecoveryCode.id, RecoveryCode.code_hash, RecoveryCode.used_at).where(
            RecoveryCode.user_id == user.id
        )
    ).all()
    match = next((row for row in rows if recovery_code_matches(row.code_hash, code)), None)
    if match is None:
        return wrong
    # Conditional on used_at, so a code cannot be spent twice by two racing requests.
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == match.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return None
    return _Refusal(
        "This recovery code was used already; each one works once. "
        "Use another, or the code from your app.",
        reused=True,
    )


def _spend_code(user: User, code: str) -> _Refusal | None:
    if not secret_is_readable(user):
        # Recovery codes were keyed with the same lost key: none of them can match either.
        return _Refusal(CANNOT_CHECK_MESSAGE)
    if looks_like_totp_code(code):
        return _spend_totp(user, code)
    return _spend_recovery_code(user, code)


def check_sign_in_code(user: User, code: str, *, remote_addr: str) -> CodeCheck:
    """Accept a fresh authenticator code or an unused recovery code for the second step.

    A wrong or reused code is recorded as a failed sign-in. Not run in a savepoint
    (operation()): a refused code changes nothing else, and its entry must outlive the refusal.
    """
    if not user.has_two_factor:
        raise RuleViolations.one("code", "This account does not use two-step sign-in.")
    recovery = not looks_like_totp_code(code)
    refusal = _spend_code(user, code)
    if refusal is not None:
        reason = "reused" if refusal.reused else "wrong"
        record_account_event(
            AuditAction.SIGN_IN_FAILED,
            user,
            f"Two-step sign-in: {reason} code",
            remote_addr=remote_addr,
        )
        db.session.flush()
        raise RuleViolations.one("code", refusal.message)
    if not recovery:
        return CodeCheck(used_recovery_code=False, recovery_codes_left=-1)
    left = recovery_codes_left(user)
    record_account_event(
        AuditAction.SECURITY,
        user,
        f"Recovery code used to sign in ({left} left)",
        remote_addr=remote_addr,
    )
    db.session.flush()
    return CodeCheck(used_recovery_code=True, recovery_codes_left=left)


@operation
def start_setup(actor: Actor) -> str:
    """Give the actor's account a new pending secret (unused until a first code confirms it)."""
    user = actor.required_user
    if user.has_two_factor:
        raise RuleViolations.one(None, "Two-step sign-in is on already.")
    # Kept in the database rather than the session cookie: the cookie is signed, not
    # encrypted, and the secret must never travel outside the set-up page itself.
    secret = new_secret()
    user.totp_secret = encrypt_secret(secret)
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.flush()
    return secret


def pending_secret(user: User) -> str | None:
    """Return the secret waiting for a first code (decrypted for display), if any."""
    if user.has_two_factor or user.totp_secret is None:
        return None
    try:
        return decrypt_secret(user.totp_secret)
    except UnreadableSecret:
        # Made under another secret key: starting the set-up again makes a new one.
        return None


def _record_own(actor: Actor, summary: str) -> None:
    record_account_event(
        AuditAction.SECURITY, actor.required_user, summary, remote_addr=actor.remote_addr
    )
    db.session.flush()


@operation
def enable_two_factor(actor: Actor, code: str) -> list[str]:
    """Turn two-step sign-in on once a first code matches; return the new recovery codes."""
    user = actor.required_user
    if pending_secret(user) is None:
        raise RuleViolations.one(None, "Start the set-up again: no QR code was waiting.")
    _accept_totp(user, code, "code")
    user.totp_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    _record_own(actor, "Two-step sign-in turned on")
    return codes


def _clear_two_factor(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


@operation
def disable_two_factor(actor: Actor, *, password: str, code: str) -> None:
    """Turn two-step sign-in off with the password and a code, unless the clinic requires it."""
    user = actor.required_user
    if user.is_owner:
        raise RuleViolations.one(
            None,
            "As the clinic's owner you must keep two-step sign-in on. "
            "If you lost your phone, make new recovery codes.",
        )
    if user.clinic.require_two_factor:
        raise RuleViolations.one(
            None,
            "Your clinic requires two-step sign-in, so it cannot be turned off. "
            "If you lost your phone, make new recovery codes or ask the clinic's owner.",
        )
    if not user.has_two_factor:
        raise RuleViolations.one(None, "Two-step sign-in is off already.")
    if not verify_password(user.password_hash, password):
        raise RuleViolations.one("password", "This is not your current password.")
    refusal = _spend_code(user, code)
    if refusal is not None:
        raise RuleViolations.one("code", refusal.message)
    _clear_two_factor(user)
    _record_own(actor, "Two-step sign-in turned off")


@operation
def regenerate_recovery_codes(actor: Actor, proof: str) -> list[str]:
    """Replace the actor's recovery codes, given their password or a current app code."""
    user = actor.required_user
    if not user.has_two_factor:
        raise RuleViolations.one(None, "Turn two-step sign-in on first.")
    if looks_like_totp_code(proof):
        _accept_totp(user, proof, "proof")
    elif not verify_password(user.password_hash, proof):
        raise RuleViolations.one(
            "proof", "This is neither your password nor the code your app shows now."
        )
    codes = _replace_recovery_codes(user)
    _record_own(actor, "New recovery codes made; the old ones stopped working")
    return codes


@operation
def reset_two_factor(actor: Actor, user: User) -> None:
    """Clear someone's two-step sign-in (a lost phone) and end all their sign-ins.

    The actor is the owner doing it in the app, or one with no account (user None) for the
    `clinic reset-two-step` command, the way back in for an owner who lost both phone and
    recovery codes.
    """
    if actor.user is not None and user.id == actor.user_id:
        raise RuleViolations.one(
            None, "To turn off your own two-step sign-in, use the Two-step sign-in page."
        )
    if user.totp_secret is None:
        raise RuleViolations.one(None, f"{user.full_name} does not use two-step sign-in.")
    _clear_two_factor(user)
    end_all_login_sessions(user, "two-step reset")
    where = "" if actor.user is not None else " from the server's command line"
    record_event(
        actor,
        AuditAction.SECURITY,
        record_type="user",
        record_id=int(user.id),
        summary=f"Two-step sign-in reset for {user.full_name}{where}",
    )
    db.session.flush()


def pending_sign_in_user(user_id: int | None) -> User | None:
    """Return the account waiting for its second step, if it can still take one."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active or not user.has_two_factor:
        return None
    return user
