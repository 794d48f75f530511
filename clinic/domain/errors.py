"""The one refusal every rule raises: a list of (field or row key, message) problems."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule and where it belongs.

    field is a form field's name ("visit_on"), a row's field as "<list>-<index>-<field>"
    ("entries-2-pressure": the third entry given to the operation), or None for the whole form.
    """

    field: str | None
    message: str


class RuleViolations(Exception):
    """A refusal: nothing was saved, for the reasons listed (at least one)."""

    def __init__(self, problems: Iterable[Problem | tuple[str | None, str]]) -> None:
        self.problems: tuple[Problem, ...] = tuple(
            p if isinstance(p, Problem) else Problem(p[0], p[1]) for p in problems
        )
        if not self.problems:
            raise ValueError("a refusal needs at least one problem")
        super().__init__(" ".join(p.message for p in self.problems))

    @classmethod
    def one(cls, field: str | None, message: str) -> RuleViolations:
        """Return a refusal with a single problem."""
        return cls([Problem(field, message)])

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    @property
    def field(self) -> str | None:
        """The first problem's field (for refusals known to hold one problem)."""
        return self.problems[0].field

    @property
    def message(self) -> str:
        """Every problem's message, in order, as one sentence run."""
        return " ".join(p.message for p in self.problems)

    @property
    def fields(self) -> tuple[str | None, ...]:
        """The field of each problem, in the order they were found."""
        return tuple(p.field for p in self.problems)


def row_key(rows: str, index: int, field: str) -> str:
    """Return the key of one field of one row: row_key("entries", 2, "pressure")."""
    return f"{rows}-{index}-{field}"


class Conflict(Exception):
    """The record changed since the person loaded it (a stale version), or is now locked."""

    def __init__(self, message: str, record: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.record = record
