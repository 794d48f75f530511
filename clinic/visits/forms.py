"""The visit note form with its rows of technique entries."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, get_type_hints

from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from clinic.clients.forms import not_in_future
from clinic.domain.catalogue import HOLD_RANGES, Pressure, Side, Target, Technique
from clinic.domain.intake import AffectedKnee
from clinic.domain.visits import (
    ENTRY_FIELDS,
    MAX_ENTRIES,
    MAX_ENTRY_MINUTES,
    MAX_VISIT_MINUTES,
    MIN_ENTRY_MINUTES,
    MIN_VISIT_MINUTES,
    REQUIRED_ENTRY_FIELDS,
    AdverseResponse,
    EntryDetails,
    Swelling,
    check_entry_count,
)
from clinic.forms import ClinicForm, clean_text, enum_choices, with_quick_widgets
from clinic.visits.operations import VisitDetails

NOTE_LENGTH = 5000
BLANK_ROWS = 1
# The type of each entry field, which tells how a row's typed value becomes the entry's.
_ENTRY_TYPES = get_type_hints(EntryDetails)


def _pain(label: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(0, 10, "Pain is a whole number from 0 to 10.")],
        render_kw={"inputmode": "numeric", "min": 0, "max": 10},
    )


def _note(label: str, description: str = "") -> TextAreaField:
    return TextAreaField(
        label,
        description=description,
        validators=[
            Optional(),
            Length(max=NOTE_LENGTH, message=f"Keep this under {NOTE_LENGTH} characters."),
        ],
        render_kw={"rows": 3},
    )


class EntryForm(Form):  # type: ignore[misc]
    """One row: a technique on a target, side, pressure and minutes."""

    @staticmethod
    def row_label(index: int) -> str:
        """How the form's error summary names the row (as its legend does)."""
        return f"Technique {index + 1}"

    class Meta:
        # Rows are part of the visit form, whose CSRF token covers them.
        csrf = False

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            filters = [clean_text, *unbound_field.kwargs.get("filters", [])]
            return with_quick_widgets(unbound_field.bind(form=form, filters=filters, **options))

    technique = SelectField("Technique", choices=enum_choices(Technique, blank="Choose…"))
    target = SelectField("Target", choices=enum_choices(Target, blank="Choose…"))
    side = SelectField("Side", choices=enum_choices(Side, blank="Choose…"))
    pressure = SelectField(
        "Pressure",
        description="None for joint mobilisation, heat or cold.",
        choices=[
            SelectChoice("", "Choose…"),
            *[SelectChoice(str(p.value), p.label) for p in Pressure],
        ],
    )
    minutes = DecimalField(
        "Minutes",
        places=1,
        validators=[Optional()],
        render_kw={"inputmode": "decimal", "step": "0.5", "min": "0.5", "max": "60"},
    )
    repetitions = IntegerField(
        "Repetitions", validators=[Optional(), NumberRange(1, 200, "From 1 to 200.")]
    )
    hold_seconds = IntegerField(
        "Hold (seconds)",
        description=" ".join(
            f"{technique.label.split(' (')[0]}: {held.words}."
            for technique, held in HOLD_RANGES.items()
        ),
        validators=[Optional(), NumberRange(1, 600, "From 1 to 600 seconds.")],
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000)], render_kw={"rows": 1})
    override_reason = TextAreaField(
        "Reason to work on an avoided area",
        validators=[Optional(), Length(max=1000)],
        render_kw={"rows": 1},
    )

    def is_blank(self) -> bool:
        """Return whether nothing was chosen or typed in the row."""
        return all(_typed_text(self[name]) in (None, "") for name in ENTRY_FIELDS)

    def validate_row(self) -> bool:
        """Require every part of a row that is not blank."""
        for name in REQUIRED_ENTRY_FIELDS:
            field = self[name]
            if not field.errors and field.data in (None, ""):
                verb = "Choose" if field.type == "SelectField" else "Enter"
                field.errors = [*field.errors, f"{verb} the {field.label.text.lower()}."]
        technique = self.technique.data
        if (
            technique in Technique._value2member_map_
            and Technique(technique).has_pressure
            and not self.pressure.errors
            and not self.pressure.data
        ):
            self.pressure.errors = [*self.pressure.errors, "Choose the pressure."]
        minutes = self.minutes.data
        if not self.minutes.errors and not MIN_ENTRY_MINUTES <= minutes <= MAX_ENTRY_MINUTES:
            self.minutes.errors = [*self.minutes.errors, "From 0.5 to 60 minutes."]
        return not any(field.errors for field in self)

    def to_entry(self) -> EntryDetails:
        """Return the row as an entry (call once the row is valid).

        A technique without a pressure level keeps none, whatever the pressure box says.
        """
        values = {name: _entry_value(_ENTRY_TYPES[name], self[name].data) for name in ENTRY_FIELDS}
        if not values["technique"].has_pressure:
            values["pressure"] = None
        return EntryDetails(**values)


def _typed_text(field: Any) -> Any:
    """Return what a row's field holds: its value, or the text typed when it is not valid."""
    if field.data is not None:
        return field.data
    return str(field.raw_data[0]).strip() if field.raw_data else ""


def _entry_value(kind: Any, value: Any) -> Any:
    """Turn a valid row field's value into the entry field's type."""
    if value in (None, "") and kind == Pressure | None:
        return None
    if kind == Pressure | None:
        return Pressure(int(value))
    if isinstance(kind, type) and issubclass(kind, enum.IntEnum):
        return kind(int(value))
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is Decimal:
        return Decimal(value).quantize(Decimal("0.1"))
    if kind is str:
        return value or ""
    return value


def _row_value(value: Any) -> Any:
    """Turn an entry field's value into what its row field shows."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    return value


class VisitForm(ClinicForm):
    """The whole visit note: details, pain, SOAP sections and entry rows."""

    version = HiddenField()
    creation_token = HiddenField()

    visit_on = DateField("Date", validators=[InputRequired("Enter the date."), not_in_future])
    start_time = TimeField("Start time", validators=[InputRequired("Enter the start time.")])
    length_minutes = IntegerField(
        "Length (minutes)",
        validators=[
            InputRequired("Enter the length of the visit."),
            NumberRange(MIN_VISIT_MINUTES, MAX_VISIT_MINUTES, "From 5 to 240 minutes."),
        ],
        render_kw={"inputmode": "numeric"},
    )
    knees = RadioField(
        "Knee(s) treated",
        choices=enum_choices(AffectedKnee),
        validators=[InputRequired("Choose the knee or knees treated.")],
    )
    pain_before_left = _pain("Left knee: pain before (0-10)")
    pain_after_left = _pain("Left knee: pain after (0-10)")
    pain_before_right = _pain("Right knee: pain before (0-10)")
    pain_after_right = _pain("Right knee: pain after (0-10)")

    subjective = _note(
        "S: what the client reports", "Pain since last time, sleep, activity, home care."
    )
    swelling = SelectField(
        "Swelling", choices=enum_choices(Swelling, blank="Not checked"), validators=[Optional()]
    )
    flexion_left_degrees = IntegerField(
        "Left knee bend (degrees)",
        validators=[Optional(), NumberRange(0, 170, "From 0 to 170 degrees.")],
        description="Optional.",
    )
    flexion_right_degrees = IntegerField(
        "Right knee bend (degrees)",
        validators=[Optional(), NumberRange(0, 170, "From 0 to 170 degrees.")],
        description="Optional.",
    )
    palpation = _note("O: what you felt (palpation)")
    assessment = _note("A: response to treatment")
    plan = _note("P: plan", "Home care, what to try next time.")
    next_visit_on = DateField("Next visit", validators=[Optional()])
    adverse_response = RadioField(
        "Adverse response",
        choices=enum_choices(AdverseResponse),
        default=AdverseResponse.NONE.value,
        validators=[InputRequired("Choose one, or None.")],
    )
    adverse_note = _note("About the response")

    # No max_entries: WTForms would silently drop the rows past it. Too many rows are refused
    # in validate(), with every row kept as typed.
    entries = FieldList(FormField(EntryForm), min_entries=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Problems of the rows as a whole (too many of them), shown above the rows.
        self.entries_errors: list[str] = []

    def validate_next_visit_on(self, field: Any) -> None:
        if field.data and isinstance(self.visit_on.data, date) and field.data < self.visit_on.data:
            raise ValidationError("The next visit comes after this one.")

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields, each non-blank row, and the pain for each treated knee."""
        valid = bool(super().validate(extra_validators))
        for row in self.entries:
            if not row.form.is_blank() and not row.form.validate_row():
                valid = False
        knees = self.knees.data
        for side in ("left", "right"):
            if knees in (side, "both"):
                field = self[f"pain_before_{side}"]
                if field.data is None and not field.errors:
                    field.errors = [*field.errors, "Record the pain before treatment."]
                    valid = False
        if self.adverse_response.data == AdverseResponse.OTHER.value and not self.adverse_note.data:
            self.adverse_note.errors = [*self.adverse_note.errors, "Say what happened."]
            valid = False
        too_many = check_entry_count(len(self.filled_rows()))
        if too_many is not None:
            self.entries_errors.append(too_many.message)
            valid = False
        return valid

    def filled_rows(self) -> list[EntryForm]:
        """Return the rows that are not blank, in order."""
        return [row.form for row in self.entries if not row.form.is_blank()]

    def to_details(self) -> VisitDetails:
        """Return the note's typed values."""
        return VisitDetails(
            visit_on=self.visit_on.data,
            start_time=self.start_time.data,
            length_minutes=self.length_minutes.data,
            knees=AffectedKnee(self.knees.data),
            pain_before_left=self.pain_before_left.data,
            pain_after_left=self.pain_after_left.data,
            pain_before_right=self.pain_before_right.data,
            pain_after_right=self.pain_after_right.data,
            subjective=self.subjective.data or "",
            swelling=Swelling(self.swelling.data) if self.swelling.data else None,
            flexion_left_degrees=self.flexion_left_degrees.data,
            flexion_right_degrees=self.flexion_right_degrees.data,
            palpation=self.palpation.data or "",
            assessment=self.assessment.data or "",
            plan=self.plan.data or "",
            next_visit_on=self.next_visit_on.data,
            adverse_response=AdverseResponse(self.adverse_response.data),
            adverse_note=self.adverse_note.data or "",
        )

    def to_entries(self) -> list[EntryDetails]:
        """Return the filled rows as typed values."""
        return [row.to_entry() for row in self.filled_rows()]

    def expected_version(self) -> int | None:
        """Return the draft version the form was loaded with."""
        return _version(self.version.data)

    def load_entries(self, entries: Iterable[EntryDetails], *, with_override_reasons: bool) -> None:
        """Replace the rows with saved entries, as a draft or a copy to start from."""
        while len(self.entries):
            self.entries.pop_entry()
        for entry in entries:
            row = {name: _row_value(getattr(entry, name)) for name in ENTRY_FIELDS}
            if not with_override_reasons:
                row["override_reason"] = ""
            self.entries.append_entry(row)

    def pad_rows(self, blank: int = BLANK_ROWS) -> None:
        """Keep a few empty rows at the end, ready to fill without JavaScript."""
        while sum(1 for row in self.entries if row.form.is_blank()) < blank and (
            len(self.entries) < MAX_ENTRIES
        ):
            self.entries.append_entry()


class AddendumForm(ClinicForm):
    """A correction or addition to a signed note."""

    reason = TextAreaField(
        "Why you are adding this",
        validators=[DataRequired("Say why the addendum is needed."), Length(max=300)],
        render_kw={"rows": 1},
    )
    text = TextAreaField(
        "Addendum",
        validators=[DataRequired("Write the addendum."), Length(max=NOTE_LENGTH)],
        render_kw={"rows": 4},
    )


class FollowUpForm(ClinicForm):
    """What was done about a flagged visit."""

    text = TextAreaField(
        "Follow-up note",
        description="For example: phoned the next day, soreness settled; advised ice.",
        validators=[DataRequired("Write the follow-up note."), Length(max=NOTE_LENGTH)],
        render_kw={"rows": 3},
    )


class ConfirmForm(ClinicForm):
    """A button with a CSRF token and the version of the draft it acts on."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        """Return the version of the note the person saw when they pressed the button."""
        return _version(self.version.data)


def _version(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
