"""The screening questionnaire form, built from the questions in clinic.domain.screening."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any, ClassVar

from wtforms import BooleanField, DateField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from clinic.clients.forms import not_in_future
from clinic.domain.catalogue import Laterality, Region
from clinic.domain.screening import (
    MAX_DETAIL_LENGTH,
    OTTAWA_CRITERIA,
    Answer,
    Question,
    Questionnaire,
    answer_key,
    current_questionnaire,
)
from clinic.forms import ClinicForm, enum_choices

YES_NO = [SelectChoice("no", "No"), SelectChoice("yes", "Yes")]
_INJURY_CODE = "recent_knee_injury"
# The one screening question the intake answers already (its "allergic to oils or nuts" box).
ALLERGY_CODE = "product_allergy"


def answer_field(code: str) -> str:
    """Return the name of the yes/no field of a question."""
    return answer_key(code)


class ScreeningFormBase(ClinicForm):
    """Fields every screening has besides the questions."""

    questionnaire: ClassVar[Questionnaire]

    taken_on = DateField(
        "Date of the screening",
        validators=[InputRequired("Enter the date."), not_in_future],
    )
    sign = BooleanField(
        "I asked the client every question and the answers are recorded as given.",
        validators=[DataRequired("Tick this box to sign the screening.")],
    )

    def question_fields(self, question: Question) -> dict[str, Any]:
        """Return the fields of one question by part: answer, detail, side, region, date."""
        parts = ("answer", "detail", "side", "region", "date")
        return {
            part: self._fields[f"{question.code}-{part}"]
            for part in parts
            if f"{question.code}-{part}" in self._fields
        }

    def validate(self, extra_validators: Any = None) -> bool:
        """Check each field; Ottawa questions need answers only after a knee injury."""
        valid = bool(super().validate(extra_validators))
        injury = self._fields.get(answer_field(_INJURY_CODE))
        injured = injury is not None and injury.data == "yes"
        for code in OTTAWA_CRITERIA:
            field = self._fields.get(answer_field(code))
            if field is not None and injured and field.data not in ("yes", "no"):
                field.errors = [*field.errors, "After a knee injury, answer this too."]
                valid = False
        return valid

    def prefill_from_intake(self, allergic_to_oils_or_nuts: bool, allergies: str) -> list[str]:
        """Answer, from the intake, the questions it already holds; return their codes.

        The therapist sees each such answer marked as taken from the intake and changes it if
        the client says otherwise: the screening records what was confirmed on its day.
        """
        answer = self._fields.get(answer_field(ALLERGY_CODE))
        if answer is None:
            return []
        answer.data = "yes" if allergic_to_oils_or_nuts else "no"
        detail = self._fields.get(f"{ALLERGY_CODE}-detail")
        if allergic_to_oils_or_nuts and detail is not None and allergies.strip():
            detail.data = allergies.strip()[:MAX_DETAIL_LENGTH]
        return [ALLERGY_CODE]

    def answers(self) -> dict[str, Answer]:
        """Return the typed answers; unanswered Ottawa questions count as no."""
        answers: dict[str, Answer] = {}
        for question in self.questionnaire.questions:
            fields = self.question_fields(question)
            yes = fields["answer"].data == "yes"
            answers[question.code] = Answer(
                yes=yes,
                detail=fields["detail"].data or "",
                side=Laterality(fields["side"].data)
                if yes and "side" in fields and fields["side"].data
                else None,
                region=Region(fields["region"].data)
                if yes and "region" in fields and fields["region"].data
                else None,
                date=fields["date"].data if yes and "date" in fields else None,
            )
        return answers


@cache
def screening_form_class(questionnaire: Questionnaire) -> type[ScreeningFormBase]:
    """Return the form that asks the questions of one questionnaire version."""
    attributes: dict[str, Any] = {"questionnaire": questionnaire}
    for question in questionnaire.questions:
        code = question.code
        # The Ottawa questions matter only after a knee injury; validate() checks them then.
        validators = (
            [Optional()] if code in OTTAWA_CRITERIA else [InputRequired("Answer yes or no.")]
        )
        attributes[f"{code}-answer"] = RadioField(
            question.prompt,
            choices=YES_NO,
            validators=validators,
            description=question.help_text,
        )
        attributes[f"{code}-detail"] = TextAreaField(
            "Details (optional)",
            validators=[Optional(), Length(max=MAX_DETAIL_LENGTH)],
            render_kw={"rows": 2},
        )
        if question.asks_side:
            attributes[f"{code}-side"] = SelectField(
                "Which leg",
                choices=enum_choices(Laterality, blank="Choose…"),
                validators=[Optional()],
            )
        if question.asks_region:
            attributes[f"{code}-region"] = SelectField(
                "Which area", choices=enum_choices(Region, blank="Choose…"), validators=[Optional()]
            )
        if question.asks_date:
            attributes[f"{code}-date"] = DateField(
                question.date_label or "Date", validators=[Optional(), not_in_future]
            )
    return type("ScreeningForm", (ScreeningFormBase,), attributes)


def new_screening_form(**kwargs: Any) -> ScreeningFormBase:
    """Return the form of the questionnaire new screenings are taken with."""
    return screening_form_class(current_questionnaire())(**kwargs)


# The form of the current questionnaire when the app started, for code that lists form fields.
ScreeningForm = screening_form_class(current_questionnaire())


def _not_before(other: str, message: str) -> Any:
    def check(form: Any, field: Any) -> None:
        earlier = form[other].data
        if field.data and isinstance(earlier, date) and field.data < earlier:
            raise ValidationError(message)

    return check


class ClearanceForm(ClinicForm):
    """A medical provider's go-ahead for one finding."""

    finding_code = SelectField("Finding", validators=[InputRequired("Choose the finding.")])
    given_by = TextAreaField(
        "Who gave the clearance",
        description="Name and role, for example “Dr. Amara Chen, GP”.",
        validators=[DataRequired("Say who gave the clearance."), Length(max=200)],
        render_kw={"rows": 1},
    )
    given_on = DateField(
        "Date it was given", validators=[InputRequired("Enter the date."), not_in_future]
    )
    note = TextAreaField(
        "Note",
        description="What the provider said, and any limits they set.",
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )
    expires_on = DateField(
        "Valid until (optional)",
        description="Leave empty when the provider set no end date.",
        validators=[Optional(), _not_before("given_on", "This must be after the date given.")],
    )


class OverrideForm(ClinicForm):
    """Permission to work on an avoided area during today's visit."""

    finding_code = SelectField("Area to avoid", validators=[InputRequired("Choose the finding.")])
    reason = TextAreaField(
        "Why it is safe today",
        description=(
            "For example: “Wound closed and dry; surgeon's note seen; light effleurage only.”"
        ),
        validators=[DataRequired("Write the reason for the override."), Length(max=2000)],
        render_kw={"rows": 3},
    )


class ConfirmNoChangesForm(ClinicForm):
    """The one-click confirmation at a later visit."""
