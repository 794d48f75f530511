"""Forms for setup, signing in, changing a password and two-step sign-in."""

from __future__ import annotations

from wtforms import EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from clinic.clients.forms import validate_phone
from clinic.forms import ClinicForm

PHONE_HELP = "Digits, spaces, brackets, dashes and a leading + are fine."


class LoginForm(ClinicForm):
    """Email address and password."""

    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class NewPasswordMixin:
    """A new password typed twice."""

    new_password = PasswordField(
        "New password",
        description="At least 12 characters. A short sentence is easy to remember.",
        validators=[DataRequired("Choose a password."), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the password a second time."),
            EqualTo("new_password", "The two passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class SetupForm(NewPasswordMixin, ClinicForm):
    """The clinic and its owner, created on first run."""

    clinic_name = StringField(
        "Clinic name", validators=[DataRequired("Enter the clinic's name."), Length(max=120)]
    )
    clinic_address = TextAreaField(
        "Clinic address", validators=[Optional(), Length(max=300)], render_kw={"rows": 3}
    )
    clinic_phone = StringField(
        "Clinic phone",
        validators=[Optional(), Length(max=40), validate_phone],
        description=PHONE_HELP,
    )
    owner_name = StringField(
        "Your full name", validators=[DataRequired("Enter your name."), Length(max=120)]
    )
    email = EmailField(
        "Your email address",
        description="You sign in with it.",
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254),
            Email("Enter a valid email address, like name@example.com."),
        ],
        render_kw={"autocomplete": "username"},
    )


class ChangePasswordForm(NewPasswordMixin, ClinicForm):
    """The current password and a new one."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


CODE_REQUIRED = "Type the code."


class SignInCodeForm(ClinicForm):
    """The second step of signing in: an app code or a recovery code."""

    code = StringField(
        "Code",
        description="The 6 digits your authenticator app shows now, or one of your recovery codes.",
        validators=[DataRequired(CODE_REQUIRED), Length(max=40)],
        render_kw={
            "autocomplete": "one-time-code",
            "autofocus": True,
            "autocapitalize": "off",
            "spellcheck": "false",
        },
    )


class StartTwoStepForm(ClinicForm):
    """An empty form: the button that starts setting up two-step sign-in."""


class ConfirmTwoStepForm(ClinicForm):
    """The first code from the authenticator app, which turns two-step sign-in on."""

    code = StringField(
        "Code from the app",
        description="The 6 digits the app shows for this clinic.",
        validators=[DataRequired(CODE_REQUIRED), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class DisableTwoStepForm(ClinicForm):
    """The password and a code, to turn two-step sign-in off."""

    password = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        "Code",
        description="The 6 digits your app shows now, or one of your recovery codes.",
        validators=[DataRequired(CODE_REQUIRED), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off"},
    )


class RecoveryCodesForm(ClinicForm):
    """The password or a current app code, to make new recovery codes."""

    proof = PasswordField(
        "Your password, or the code your app shows now",
        validators=[DataRequired("Enter your password or a code."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class ConfirmIdentityForm(ClinicForm):
    """The password (or a current app code) again, before a sensitive change."""

    proof = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )
