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
    KOOS_JR_GROUPS,
    LEFS_GROUPS,
    KoosJrAnswer,
    LefsAnswer,
    QuestionGroup,
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
    groups: tuple[QuestionGroup, ...] = ()

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

    def sections(self) -> list[tuple[QuestionGroup, int, list[Any]]]:
        """Return each published group with the number of its first question and its fields."""
        sections = []
        number = 1
        for group in self.groups:
            fields = [self._fields[f"item-{item.value}"] for item in group.items]
            sections.append((group, number, fields))
            number += len(fields)
        return sections


def _build(
    name: str,
    groups: tuple[QuestionGroup, ...],
    answer_enum: Any,
    extra: dict[str, Any],
    *,
    numbered: bool,
) -> type[QuestionnaireBase]:
    attributes: dict[str, Any] = dict(extra)
    items = [item for group in groups for item in group.items]
    attributes["item_codes"] = tuple(str(item.value) for item in items)
    attributes["groups"] = groups
    # The answers read as the published form prints them: the LEFS form numbers its columns
    # 0-4, the KOOS JR form gives the words alone.
    choices = [
        SelectChoice(str(a.value), f"{a.value}: {a.label}" if numbered else a.label)
        for a in answer_enum
    ]
    for item in items:
        attributes[f"item-{item.value}"] = RadioField(
            item.label,
            choices=choices,
            validators=[InputRequired("Every question needs an answer.")],
        )
    return type(name, (QuestionnaireBase,), attributes)


KoosJrForm = _build(
    "KoosJrForm",
    KOOS_JR_GROUPS,
    KoosJrAnswer,
    {
        "knee": RadioField(
            "Which knee the answers are about",
            choices=enum_choices(Side),
            validators=[InputRequired("Choose the knee.")],
        )
    },
    numbered=False,
)
LefsForm = _build("LefsForm", LEFS_GROUPS, LefsAnswer, {}, numbered=True)
