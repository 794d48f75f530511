"""The intake form."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from clinic import clock
from clinic.clients.operations import Intake
from clinic.domain.intake import (
    AffectedKnee,
    KneeDiagnosis,
    KneePainCause,
    check_date_of_birth,
    phone_digits,
)
from clinic.forms import ClinicForm, enum_choices
from clinic.query_args import version_of

_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+(?:\s*(?:ext\.?|x)\s*[0-9]+)?$", re.IGNORECASE)
LONG_TEXT = 5000


def validate_phone(form: Any, field: Field) -> None:
    """Accept the usual ways of writing a phone number, with at least 6 digits."""
    if not field.data:
        return
    if not _PHONE_CHARACTERS.match(field.data) or len(phone_digits(field.data)) < 6:
        raise ValidationError("Enter a phone number using digits, like 555 010 0199.")


def not_in_future(form: Any, field: Field) -> None:
    """Refuse a date after today."""
    if field.data and field.data > clock.today():
        raise ValidationError("This date cannot be in the future.")


def validate_date_of_birth(form: Any, field: Field) -> None:
    """Refuse a date of birth in the future or over 120 years ago."""
    if field.data:
        problem = check_date_of_birth(field.data, clock.today())
        if problem:
            raise ValidationError(problem)


def _text(label: str, max_length: int, *, required: str | None = None, **kwargs: Any) -> Any:
    validators: list[Any] = [DataRequired(required)] if required else [Optional()]
    validators.append(Length(max=max_length, message=f"Keep this under {max_length} characters."))
    return StringField(label, validators=validators, **kwargs)


def _long_text(label: str, *, required: str | None = None, **kwargs: Any) -> Any:
    validators: list[Any] = [DataRequired(required)] if required else [Optional()]
    validators.append(Length(max=LONG_TEXT, message=f"Keep this under {LONG_TEXT} characters."))
    return TextAreaField(label, validators=validators, render_kw={"rows": 3}, **kwargs)


class IntakeForm(ClinicForm):
    """Everything a new client tells the therapist at the first visit."""

    version = HiddenField()

    first_name = _text("First name", 100, required="Enter the client's first name.")
    last_name = _text("Last name", 100, required="Enter the client's last name.")
    date_of_birth = DateField(
        "Date of birth",
        validators=[InputRequired("Enter the date of birth."), validate_date_of_birth],
        description="Used for the client's age.",
    )
    gender = _text("Gender", 60, description="Optional, in the client's own words.")
    phone = StringField(
        "Phone",
        validators=[DataRequired("Enter a phone number."), Length(max=40), validate_phone],
        render_kw={"autocomplete": "off", "inputmode": "tel"},
    )
    email = EmailField(
        "Email",
        validators=[
            Optional(),
            Length(max=254),
            Email("Enter a valid email address, like name@example.com."),
        ],
    )
    address = TextAreaField(
        "Address", validators=[Optional(), Length(max=300)], render_kw={"rows": 2}
    )
    emergency_contact_name = _text(
        "Emergency contact name", 120, required="Enter someone to call in an emergency."
    )
    emergency_contact_phone = StringField(
        "Emergency contact phone",
        validators=[
            DataRequired("Enter the emergency contact's phone number."),
            Length(max=40),
            validate_phone,
        ],
        render_kw={"inputmode": "tel"},
    )
    referring_clinician = _text(
        "Referring clinician", 200, description="Optional: who sent the client, if anyone."
    )

    affected_knee = RadioField(
        "Affected knee",
        choices=enum_choices(AffectedKnee),
        validators=[InputRequired("Choose the knee that hurts.")],
    )
    main_complaint = _long_text(
        "Main complaint",
        required="Describe what brings the client in.",
        description="In the client's words: where it hurts, when, and what makes it worse.",
    )
    onset_date = DateField(
        "When it started",
        validators=[Optional(), not_in_future],
        description="An approximate date is fine.",
    )
    cause = SelectField(
        "Cause",
        choices=enum_choices(KneePainCause, blank="Choose…"),
        validators=[InputRequired("Choose a cause, or “Not known”.")],
    )
    diagnosis = SelectField(
        "Known diagnosis",
        choices=enum_choices(KneeDiagnosis, blank="Choose…"),
        validators=[InputRequired("Choose a diagnosis, or “None known”.")],
        description="Only what a medical provider has told the client.",
    )
    diagnosis_detail = _text("Other diagnosis", 200)
    medications = _long_text(
        "Medications", description="Include blood thinners and pain relievers."
    )
    allergic_to_oils_or_nuts = BooleanField(
        "Allergic or sensitive to massage oils, lotions or nuts"
    )
    allergies = _long_text("Other allergies", description="Anything else, with the reaction.")
    goals = _long_text("Goals", description="What the client wants to be able to do again.")

    consent_to_treatment = BooleanField("The client consents to treatment")
    consent_date = DateField("Date of consent", validators=[Optional(), not_in_future])
    consent_name = _text(
        "Name typed by the client", 200, description="The client types their full name."
    )
    consent_to_keep_records = BooleanField(
        "The client consents to the clinic keeping these records"
    )

    def validate_consent_to_treatment(self, field: Field) -> None:
        if not field.data:
            raise ValidationError("Treatment needs the client's consent.")

    def validate_consent_to_keep_records(self, field: Field) -> None:
        if not field.data:
            raise ValidationError("The clinic needs consent to keep the client's records.")

    def validate_consent_date(self, field: Field) -> None:
        dob = None if self.date_of_birth.errors else self.date_of_birth.data
        if field.data and isinstance(dob, date) and field.data < dob:
            raise ValidationError("Consent cannot come before the date of birth.")

    def validate_onset_date(self, field: Field) -> None:
        dob = None if self.date_of_birth.errors else self.date_of_birth.data
        if field.data and isinstance(dob, date) and field.data < dob:
            raise ValidationError("The pain cannot have started before the date of birth.")

    def validate(self, extra_validators: Any = None) -> bool:
        """Check each field, then the answers that depend on another answer."""
        valid = bool(super().validate(extra_validators))
        # Optional() ends a field's own checks when it is empty, so these live here.
        required_when = [
            (
                self.diagnosis.data == KneeDiagnosis.OTHER.value,
                self.diagnosis_detail,
                "Say which diagnosis.",
            ),
            (
                bool(self.consent_to_treatment.data),
                self.consent_date,
                "Enter the date the client gave consent.",
            ),
            (
                bool(self.consent_to_treatment.data),
                self.consent_name,
                "The client types their name to give consent.",
            ),
        ]
        for condition, field, message in required_when:
            if condition and not field.data and not field.errors:
                field.errors = [*field.errors, message]
                valid = False
        return valid

    def to_intake(self) -> Intake:
        """Return the typed values as an Intake."""
        return Intake(
            first_name=self.first_name.data,
            last_name=self.last_name.data,
            date_of_birth=self.date_of_birth.data,
            gender=self.gender.data or "",
            phone=self.phone.data,
            email=(self.email.data or "").lower(),
            address=self.address.data or "",
            emergency_contact_name=self.emergency_contact_name.data,
            emergency_contact_phone=self.emergency_contact_phone.data,
            referring_clinician=self.referring_clinician.data or "",
            affected_knee=AffectedKnee(self.affected_knee.data),
            main_complaint=self.main_complaint.data,
            onset_date=self.onset_date.data,
            cause=KneePainCause(self.cause.data),
            diagnosis=KneeDiagnosis(self.diagnosis.data),
            diagnosis_detail=(
                self.diagnosis_detail.data or ""
                if self.diagnosis.data == KneeDiagnosis.OTHER.value
                else ""
            ),
            medications=self.medications.data or "",
            allergies=self.allergies.data or "",
            allergic_to_oils_or_nuts=bool(self.allergic_to_oils_or_nuts.data),
            goals=self.goals.data or "",
            consent_to_treatment=bool(self.consent_to_treatment.data),
            consent_date=self.consent_date.data,
            consent_name=self.consent_name.data or "",
            consent_to_keep_records=bool(self.consent_to_keep_records.data),
        )

    def expected_version(self) -> int | None:
        """Return the record version the form was loaded with."""
        return version_of(self.version.data)


class ArchiveForm(ClinicForm):
    """The Archive (or Unarchive) button, with the version of the record the page showed."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        """Return the record version the page was loaded with."""
        return version_of(self.version.data)


class SearchForm(ClinicForm):
    """The client list's search box (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=100)])
