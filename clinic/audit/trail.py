"""Writing the audit trail: who acted (Actor) and the one function that adds an entry.

Operations call record_event in the same transaction as the change they make, so a change and
its entry are kept or lost together. Page views are recorded by @audited (clinic/audit/
declared.py), through record_shown: the same entry, in one statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert

from clinic.extensions import db
from clinic.models import AuditAction, AuditEntry, User

# A plain INSERT of the table, not through the ORM's bulk path: the fewest steps per page view.
_INSERT_ENTRY = insert(AuditEntry.__table__)  # type: ignore[arg-type]

# Request headers hold whatever a client sent; PostgreSQL refuses NUL in text columns.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Actor:
    """Who does something and from where: the account (None for a command with no account),
    its clinic and the network address (empty from the command line)."""

    clinic_id: int
    user: User | None
    remote_addr: str = ""

    @classmethod
    def of(cls, user: User, remote_addr: str = "") -> Actor:
        """Return the actor for an account."""
        return cls(clinic_id=int(user.clinic_id), user=user, remote_addr=remote_addr)

    @property
    def user_id(self) -> int | None:
        """The acting account's id, if there is one."""
        return None if self.user is None else int(self.user.id)

    @property
    def required_user(self) -> User:
        """The acting account; operations that need a person (signing a note) use this."""
        if self.user is None:
            raise RuntimeError("this operation needs an account to act")
        return self.user


def _entry_values(
    actor: Actor,
    action: AuditAction,
    *,
    record_type: str,
    record_id: int | None,
    client_id: int | None,
    summary: str,
    user_id: int | None,
) -> dict[str, Any]:
    return {
        "clinic_id": actor.clinic_id,
        "user_id": user_id if user_id is not None else actor.user_id,
        "client_id": client_id,
        "action": action,
        "record_type": record_type[:40],
        "record_id": record_id,
        "summary": _CONTROL_CHARACTERS.sub("", summary)[:200],
        "remote_addr": _CONTROL_CHARACTERS.sub("", actor.remote_addr)[:64],
    }


def record_event(
    actor: Actor,
    action: AuditAction,
    *,
    record_type: str,
    record_id: int | None = None,
    client_id: int | None = None,
    summary: str = "",
    user_id: int | None = None,
) -> AuditEntry:
    """Add one entry to the audit trail, flushed with the caller's transaction.

    user_id names another account than the actor's (a failed sign-in names the account tried).
    """
    entry = AuditEntry(
        **_entry_values(
            actor,
            action,
            record_type=record_type,
            record_id=record_id,
            client_id=client_id,
            summary=summary,
            user_id=user_id,
        )
    )
    db.session.add(entry)
    return entry


def record_shown(
    actor: Actor,
    action: AuditAction,
    *,
    record_type: str,
    record_id: int | None = None,
    client_id: int | None = None,
    summary: str = "",
) -> None:
    """Add the entry for a page that showed a record, as record_event does, in one statement.

    A page view changes nothing else: the entry goes in at once, in the request's transaction,
    rather than through the session's unit of work, whose flush at the commit would cost more
    than the insert itself on every page.
    """
    db.session.execute(
        _INSERT_ENTRY,
        [
            _entry_values(
                actor,
                action,
                record_type=record_type,
                record_id=record_id,
                client_id=client_id,
                summary=summary,
                user_id=None,
            )
        ],
    )


def record_account_event(
    action: AuditAction, user: User, summary: str = "", *, remote_addr: str = ""
) -> AuditEntry:
    """Add an entry about something an account did to itself (sign-in, password, two-step)."""
    return record_event(
        Actor.of(user, remote_addr),
        action,
        record_type="user",
        record_id=int(user.id),
        summary=summary,
    )
