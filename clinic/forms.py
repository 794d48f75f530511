"""The base form every form derives from, and copying rule violations onto a form."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField, PasswordField
from wtforms.fields.choices import SelectChoice

from clinic.domain.errors import RuleViolation

# C0 controls other than tab, newline and carriage return, and DEL: PostgreSQL refuses NUL
# outright and the others only corrupt printed notes. Also the bidirectional embedding,
# override and isolate controls: right-to-left names display correctly without them, and
# with them "gnp.exe" shows as "exe.png", which only serves to disguise text.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: Any) -> Any:
    """Strip surrounding whitespace and control characters from typed text."""
    if isinstance(value, str):
        return _CONTROL_CHARACTERS.sub("", value).strip()
    return value


class ClinicForm(FlaskForm):  # type: ignore[misc]
    """A CSRF-protected form whose text fields are cleaned before validation."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            # Passwords are taken exactly as typed; lists and sub-forms clean their own fields.
            if issubclass(unbound_field.field_class, (PasswordField, FieldList, FormField)):
                return unbound_field.bind(form=form, **options)
            filters = list(unbound_field.kwargs.get("filters", []))
            if clean_text not in filters:
                filters.insert(0, clean_text)
            return unbound_field.bind(form=form, filters=filters, **options)


def enum_choices(enum_class: Any, *, blank: str | None = None) -> list[SelectChoice]:
    """Return choices for a select or radio field: each member's value and label."""
    choices = [SelectChoice(str(member.value), member.label) for member in enum_class]
    if blank is not None:
        choices.insert(0, SelectChoice("", blank))
    return choices


def field_errors(form: FlaskForm) -> list[tuple[str, str, str]]:
    """Return (field id, label, first message) for every field with an error, in form order."""
    found: list[tuple[str, str, str]] = []

    def collect(fields: Iterable[Field]) -> None:
        for field in fields:
            if field.type == "FieldList":
                for entry in field.entries:
                    collect(entry.form if hasattr(entry, "form") else [entry])
            elif field.errors and isinstance(field.errors, list):
                message = field.errors[0]
                if isinstance(message, str):
                    found.append((field.id, field.label.text, message))

    collect(form)
    return found


def apply_violations(form: FlaskForm, violations: RuleViolation | Iterable[RuleViolation]) -> None:
    """Put each violation beside its field, or at the top of the form when it has none."""
    if isinstance(violations, RuleViolation):
        violations = [violations]
    for violation in violations:
        field = form._fields.get(violation.field) if violation.field else None
        if field is None:
            form.form_errors.append(violation.message)
            continue
        field.errors = [*field.errors, violation.message]
