"""The audit trail's filters (a GET form: nothing is changed, so no CSRF token)."""

from __future__ import annotations

from typing import Any

from wtforms import DateField, Field, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from clinic.forms import ClinicForm, enum_choices
from clinic.models import AuditAction
from clinic.views import MAX_ROW_ID

DATE_MESSAGE = "Enter a date like 2026-11-22, or leave it empty."


class DayField(DateField):  # type: ignore[misc]
    """A date typed as YYYY-MM-DD, with a message a person can act on."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(DATE_MESSAGE) from error


class AuditFilterForm(ClinicForm):
    """Who, what, which client and when: every filter may be left empty."""

    class Meta:
        csrf = False

    client = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(1, MAX_ROW_ID)])
    q = StringField(
        "Client",
        validators=[Optional(), Length(max=100, message="Type at most 100 characters.")],
        render_kw={
            "type": "search",
            "autocomplete": "off",
            "placeholder": "Part of a name, phone number or email",
        },
    )
    # The view fills in the clinic's accounts: a form never reads the database.
    user = SelectField("Who", choices=[SelectChoice("", "Anyone")], validate_choice=False)
    action = SelectField(
        "What was done",
        choices=enum_choices(AuditAction, blank="Anything"),
        validate_choice=False,
    )
    date_from = DayField("From", validators=[Optional()])
    date_to = DayField("To", validators=[Optional()])

    def validate_user(self, field: Field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose an account of this clinic from the list.")

    def validate_action(self, field: Field) -> None:
        if field.data and field.data not in {member.value for member in AuditAction}:
            raise ValidationError("Choose an action from the list.")

    def validate_date_to(self, field: Field) -> None:
        start = self.date_from.data
        if field.data and start and field.data < start:
            raise ValidationError("The end date is before the start date.")
