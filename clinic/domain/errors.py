"""The error every domain rule raises when input breaks it."""

from __future__ import annotations


class RuleViolation(Exception):
    """A broken rule, tied to the form field it concerns (None for the whole form)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
