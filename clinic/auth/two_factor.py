"""Two-step sign-in: authenticator-app codes (TOTP) and one-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update

from clinic.audit.operations import record_account_event, record_event
from clinic.auth.operations import end_all_login_sessions, verify_password
from clinic.database import utcnow
from clinic.domain.errors import RuleViolation
from clinic.extensions import db
from clinic.models import AuditAction, RecoveryCode, User

RECOVERY_CODE_COUNT = 10
# When this few recovery codes are left, the person is asked to make new ones.
FEW_RECOVERY_CODES = 3
# Letters and digits that cannot be confused when read from paper (no 0/o, 1/l/i).
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 8
# A code from the step before or after the current one is accepted too: phone clocks drift.
VALID_WINDOW = 1
_SEPARATORS = re.compile(r"[\s\-]+")
_TOTP_CODE = re.compile(r"[0-9]{6}")


def _now() -> float:
    # One place to read the clock, so tests can move time instead of sleeping.
    return time.time()


class CodeRefused(RuleViolation):
    """A code that is wrong, or right but used already."""

    def __init__(self, field: str | None, message: str, *, reused: bool = False) -> None:
        super().__init__(field, message)
        self.reused = reused


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
    return Markup(  # noqa: S704
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


def _accept_totp(user: User, code: str, field: str) -> None:
    if user.totp_secret is None or not looks_like_totp_code(code):
        raise CodeRefused(field, "This code is not right. Type the 6 digits your app shows now.")
    step = _matching_step(user.totp_secret, code, _now())
    if step is None:
        raise CodeRefused(
            field,
            "This code is not right. Check that you use the entry for this clinic, "
            "and type the 6 digits your app shows now.",
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
        raise CodeRefused(
            field,
            "This code was used already. Wait for your app to show a new one, then type that.",
            reused=True,
        )


def hash_recovery_code(code: str) -> str:
    """Return the SHA-256 a recovery code is stored as."""
    return hashlib.sha256(normalise_code(code).encode("utf-8", "replace")).hexdigest()


def generate_recovery_code() -> str:
    """Return one random recovery code, like "k7mp-3xqa"."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


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


def _use_recovery_code(user: User, code: str, field: str) -> int:
    # Conditional on used_at, so a code cannot be spent twice by two racing requests.
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        used = db.session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == hash_recovery_code(code),
            )
        )
        if used:
            raise CodeRefused(
                field,
                "This recovery code was used already; each one works once. "
                "Use another, or the code from your app.",
                reused=True,
            )
        raise CodeRefused(
            field,
            "This code is not right. Type the 6 digits your app shows now, "
            "or one of your recovery codes.",
        )
    return recovery_codes_left(user)


def check_sign_in_code(user: User, code: str, *, remote_addr: str = "") -> CodeCheck:
    """Accept a fresh authenticator code or an unused recovery code for the second step."""
    if not user.has_two_factor:
        raise RuleViolation("code", "This account does not use two-step sign-in.")
    try:
        if looks_like_totp_code(code):
            _accept_totp(user, code, "code")
            return CodeCheck(used_recovery_code=False, recovery_codes_left=-1)
        left = _use_recovery_code(user, code, "code")
    except CodeRefused as refused:
        reason = "reused" if refused.reused else "wrong"
        record_account_event(
            AuditAction.SIGN_IN_FAILED,
            user,
            f"Two-step sign-in: {reason} code",
            remote_addr=remote_addr,
        )
        raise
    record_account_event(
        AuditAction.SECURITY,
        user,
        f"Recovery code used to sign in ({left} left)",
        remote_addr=remote_addr,
    )
    return CodeCheck(used_recovery_code=True, recovery_codes_left=left)


def start_setup(user: User) -> str:
    """Give an account a new pending secret (not in use until a first code confirms it)."""
    if user.has_two_factor:
        raise RuleViolation(None, "Two-step sign-in is on already.")
    # Kept in the database rather than the session cookie: the cookie is signed, not
    # encrypted, and the secret must never travel outside the set-up page itself.
    user.totp_secret = new_secret()
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.flush()
    return user.totp_secret


def pending_secret(user: User) -> str | None:
    """Return the secret waiting for a first code, if set-up has started."""
    if user.has_two_factor:
        return None
    return user.totp_secret


def enable_two_factor(user: User, code: str, *, remote_addr: str = "") -> list[str]:
    """Turn two-step sign-in on once a first code matches; return the new recovery codes."""
    if pending_secret(user) is None:
        raise RuleViolation(None, "Start the set-up again: no QR code was waiting.")
    _accept_totp(user, code, "code")
    user.totp_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    record_account_event(
        AuditAction.SECURITY, user, "Two-step sign-in turned on", remote_addr=remote_addr
    )
    return codes


def _clear_two_factor(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable_two_factor(user: User, *, password: str, code: str, remote_addr: str = "") -> None:
    """Turn two-step sign-in off with the password and a code, unless the clinic requires it."""
    if user.clinic.require_two_factor:
        raise RuleViolation(
            None,
            "Your clinic requires two-step sign-in, so it cannot be turned off. "
            "If you lost your phone, make new recovery codes or ask the clinic's owner.",
        )
    if not user.has_two_factor:
        raise RuleViolation(None, "Two-step sign-in is off already.")
    if not verify_password(user.password_hash, password):
        raise RuleViolation("password", "This is not your current password.")
    if looks_like_totp_code(code):
        _accept_totp(user, code, "code")
    else:
        _use_recovery_code(user, code, "code")
    _clear_two_factor(user)
    record_account_event(
        AuditAction.SECURITY, user, "Two-step sign-in turned off", remote_addr=remote_addr
    )


def regenerate_recovery_codes(user: User, proof: str, *, remote_addr: str = "") -> list[str]:
    """Replace an account's recovery codes, given its password or a current app code."""
    if not user.has_two_factor:
        raise RuleViolation(None, "Turn two-step sign-in on first.")
    if looks_like_totp_code(proof):
        _accept_totp(user, proof, "proof")
    elif not verify_password(user.password_hash, proof):
        raise RuleViolation(
            "proof", "This is neither your password nor the code your app shows now."
        )
    codes = _replace_recovery_codes(user)
    record_account_event(
        AuditAction.SECURITY,
        user,
        "New recovery codes made; the old ones stopped working",
        remote_addr=remote_addr,
    )
    return codes


def reset_two_factor(actor: User | None, user: User, *, remote_addr: str = "") -> None:
    """Clear someone's two-step sign-in (a lost phone) and end all their sign-ins.

    The actor is the owner doing it in the app, or None for the `clinic reset-two-step`
    command, the way back in for an owner who lost both phone and recovery codes.
    """
    if actor is not None and user.id == actor.id:
        raise RuleViolation(
            None, "To turn off your own two-step sign-in, use the Two-step sign-in page."
        )
    if user.totp_secret is None:
        raise RuleViolation(None, f"{user.full_name} does not use two-step sign-in.")
    _clear_two_factor(user)
    end_all_login_sessions(user, "two-step reset")
    where = "" if actor is not None else " from the server's command line"
    record_event(
        AuditAction.SECURITY,
        clinic_id=user.clinic_id,
        user_id=actor.id if actor is not None else None,
        record_type="user",
        record_id=user.id,
        summary=f"Two-step sign-in reset for {user.full_name}{where}",
        remote_addr=remote_addr,
    )
