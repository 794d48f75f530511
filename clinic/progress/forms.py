"""Forms for the home pain log and the knee questionnaires."""

from __future__ import annotations

from typing import Any

from wtforms import DateField, IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from clinic.clients.forms import not_in_future
from clinic.domain.catalogue import Side
from clinic.domain.errors import Problem, RuleViolations
from clinic.domain.outcomes import (
    KOOS_JR_ITEMS,
    LEFS_ITEMS,
    KoosJrAnswer,
    LefsAnswer,
)
from clinic.forms import ClinicForm, enum_choices


class PainLogForm(ClinicForm):
    """One score from the client's home tracking sheet."""

    logged_on = DateField("Date", validators=[InputRequired("Enter the date."), not_in_future])
    knee = RadioField(
        "Knee", choices=enum_choices(Side), validators=[InputRequired("Choose the knee.")]
    )
    score = IntegerField(
        "Pain (0-10)",
        validators=[
            InputRequired("Enter the pain score."),
            NumberRange(0, 10, "Pain is a whole number from 0 to 10."),
        ],
        render_kw={"inputmode": "numeric", "min": 0, "max": 10},
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})


class QuestionnaireBase(ClinicForm):
    """What both questionnaires share: the date and the answers by item code."""

    item_codes: tuple[str, ...] = ()

    taken_on = DateField(
        "Date the client answered", validators=[InputRequired("Enter the date."), not_in_future]
    )

    def answers(self) -> dict[str, int | None]:
        """Return each item's answer as a number, None when unanswered."""
        answers: dict[str, int | None] = {}
        for code in self.item_codes:
            value = self._fields[f"item-{code}"].data
            answers[code] = int(value) if value not in (None, "") else None
        return answers

    def on_fields(self, refused: RuleViolations) -> RuleViolations:
        """Return the refusal with each problem about an item named by that item's field."""
        return RuleViolations(
            Problem(f"item-{p.field}" if p.field in self.item_codes else p.field, p.message)
            for p in refused
        )

    def item_fields(self) -> list[Any]:
        """Return the item fields in questionnaire order."""
        return [self._fields[f"item-{code}"] for code in self.item_codes]


def _build(
    name: str, items: Any, answer_enum: Any, extra: dict[str, Any]
) -> type[QuestionnaireBase]:
    attributes: dict[str, Any] = dict(extra)
    attributes["item_codes"] = tuple(str(item.value) for item in items)
    for item in items:
        attributes[f"item-{item.value}"] = RadioField(
            item.label,
            choices=[SelectChoice(str(a.value), f"{a.value}: {a.label}") for a in answer_enum],
            validators=[InputRequired("Every question needs an answer.")],
        )
    return type(name, (QuestionnaireBase,), attributes)


KoosJrForm = _build(
    "KoosJrForm",
    KOOS_JR_ITEMS,
    KoosJrAnswer,
    {
        "knee": RadioField(
            "Which knee the answers are about",
            choices=enum_choices(Side),
            validators=[InputRequired("Choose the knee.")],
        )
    },
)
LefsForm = _build("LefsForm", LEFS_ITEMS, LefsAnswer, {})
