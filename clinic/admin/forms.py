"""Forms for the clinic's details and its accounts."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from clinic.clients.forms import validate_phone
from clinic.forms import ClinicForm
from clinic.models import Role


class ClinicSettingsForm(ClinicForm):
    """The clinic's name and contact details, printed on handouts."""

    version = HiddenField()
    name = StringField(
        "Clinic name", validators=[DataRequired("Enter the clinic's name."), Length(max=120)]
    )
    address = TextAreaField(
        "Address", validators=[Optional(), Length(max=300)], render_kw={"rows": 3}
    )
    phone = StringField("Phone", validators=[Optional(), Length(max=40), validate_phone])
    screening_valid_days = IntegerField(
        "A screening stays valid for (days)",
        description="After this many days a full screening must be taken again. Usually 30.",
        validators=[
            InputRequired("Enter a number of days."),
            NumberRange(1, 365, "Choose between 1 and 365 days."),
        ],
    )
    retention_years = IntegerField(
        "Keep records for (years after the last visit)",
        description=(
            "Nothing is ever deleted automatically: the retention report lists the clients "
            "whose records are past this period. Check your local rules; usually 10."
        ),
        validators=[
            InputRequired("Enter a number of years."),
            NumberRange(1, 100, "Choose between 1 and 100 years."),
        ],
    )
    require_two_factor = BooleanField(
        "Therapists must use two-step sign-in too",
        description=(
            "Each account then needs a code from an authenticator app as well as its password. "
            "Owners must use it in any case."
        ),
    )
    # Optional so a form without it keeps the saved paper (the select always sends one).
    paper_size = RadioField(
        "Paper for printed handouts",
        choices=[
            SelectChoice("A4", "A4 (most of the world)"),
            SelectChoice("Letter", "Letter (United States and Canada)"),
        ],
        validators=[Optional()],
    )


class LogoForm(ClinicForm):
    """An image file for the clinic's logo on handouts."""

    logo = FileField(
        "Logo for handouts",
        description="A PNG or JPEG image, at most 1 MB and 2000 pixels wide and high.",
    )


class NewUserForm(ClinicForm):
    """A colleague's account, opened with a one-time password."""

    full_name = StringField(
        "Full name", validators=[DataRequired("Enter the person's name."), Length(max=120)]
    )
    email = EmailField(
        "Email address",
        description="They sign in with it.",
        validators=[
            DataRequired("Enter an email address."),
            Length(max=254),
            Email("Enter a valid email address, like name@example.com."),
        ],
    )
    role = RadioField(
        "Role",
        choices=[
            SelectChoice(Role.THERAPIST.value, "Therapist: works with clients"),
            SelectChoice(Role.OWNER.value, "Owner: also manages the clinic and its accounts"),
        ],
        default=Role.THERAPIST.value,
        validators=[InputRequired("Choose a role.")],
    )


class ConfirmForm(ClinicForm):
    """An empty form: a button with a CSRF token."""
