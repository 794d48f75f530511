"""Forms for the clinic's own items, the plan builder and the clinic's logo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wtforms import (
    BooleanField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.domain.homecare import Dose, Each, ItemKind
from clinic.domain.screening import FINDING_LABELS
from clinic.forms import ClinicForm, clean_text, enum_choices
from clinic.homecare.operations import (
    DOSE_FIELDS,
    MAX_CAUTIONS,
    MAX_STEPS,
    ItemDetails,
    PlanPick,
)

LINE_LENGTH = 400
ROW_NOTE_LENGTH = 1000
PLAN_NOTE_LENGTH = 3000

_DOSE_LABELS = {
    "hold_seconds": "Hold (seconds)",
    "repetitions": "Times (repetitions)",
    "sets": "Sets",
    "times_per_day": "Times a day",
    "times_per_week": "Times a week",
    "minutes": "Minutes",
}


def _amount(name: str) -> IntegerField:
    # Limits are the domain's (validate_dose); the field only turns text into a number.
    return IntegerField(
        _DOSE_LABELS[name], validators=[Optional()], render_kw={"inputmode": "numeric"}
    )


def _each() -> SelectField:
    return SelectField(
        "Counted",
        choices=enum_choices(Each, blank="Neither"),
        validators=[Optional()],
    )


def _lines(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def _dose_from(form: Any) -> Dose:
    each = form.each.data
    return Dose(
        **{name: form[name].data for name in DOSE_FIELDS},
        each=Each(each) if each in {e.value for e in Each} else None,
    )


def fill_dose(form: Any, dose: Dose) -> None:
    """Put a dose into a form's amount fields."""
    for name in DOSE_FIELDS:
        form[name].data = getattr(dose, name)
    form.each.data = dose.each.value if dose.each is not None else ""


class _LineLimits:
    """Each line at most LINE_LENGTH characters, and at most `most` lines."""

    def __init__(self, most: int, what: str) -> None:
        self.most = most
        self.what = what

    def __call__(self, form: Any, field: Any) -> None:
        lines = _lines(field.data)
        if len(lines) > self.most:
            raise ValidationError(f"Keep it to {self.most} {self.what} or fewer.")
        if any(len(line) > LINE_LENGTH for line in lines):
            raise ValidationError(f"Keep each line under {LINE_LENGTH} characters.")


class LibraryItemForm(ClinicForm):
    """One of the clinic's own items: text, default dose and the findings that exclude it."""

    version = HiddenField()
    title = StringField(
        "Title", validators=[DataRequired("Give the item a title."), Length(max=120)]
    )
    kind = SelectField(
        "Kind",
        choices=enum_choices(ItemKind, blank="Choose…"),
        validators=[InputRequired("Choose what kind of home care this is.")],
    )
    purpose = TextAreaField(
        "What it is for",
        description="One or two short sentences, in the client's words.",
        validators=[DataRequired("Say what the item is for."), Length(max=500)],
        render_kw={"rows": 2},
    )
    steps = TextAreaField(
        "Steps",
        description="One step per line, in order. They are printed numbered.",
        validators=[
            DataRequired("Write at least one step."),
            Length(max=MAX_STEPS * (LINE_LENGTH + 2)),
            _LineLimits(MAX_STEPS, "steps"),
        ],
        render_kw={"rows": 8},
    )
    cautions = TextAreaField(
        "Cautions",
        description="Optional. One per line, e.g. “Stop if your knee hurts.”",
        validators=[
            Optional(),
            Length(max=MAX_CAUTIONS * (LINE_LENGTH + 2)),
            _LineLimits(MAX_CAUTIONS, "cautions"),
        ],
        render_kw={"rows": 3},
    )
    hold_seconds = _amount("hold_seconds")
    repetitions = _amount("repetitions")
    sets = _amount("sets")
    times_per_day = _amount("times_per_day")
    times_per_week = _amount("times_per_week")
    minutes = _amount("minutes")
    each = _each()
    excluded_by = SelectMultipleField(
        "Leave it out when the screening finds",
        description=(
            "Tick the findings that make this item unsafe. Warning signs that need a doctor"
            " leave out every item anyway."
        ),
        choices=[SelectChoice(code, label) for code, label in FINDING_LABELS.items()],
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def to_details(self) -> ItemDetails:
        """Return the item as typed values."""
        return ItemDetails(
            kind=ItemKind(self.kind.data),
            title=self.title.data,
            purpose=self.purpose.data,
            steps=_lines(self.steps.data),
            cautions=_lines(self.cautions.data),
            dose=_dose_from(self),
            excluded_by=frozenset(self.excluded_by.data or ()),
        )

    def fill(self, details: ItemDetails, number: int) -> None:
        """Show a saved version in the form."""
        self.version.data = str(number)
        self.title.data = details.title
        self.kind.data = details.kind.value
        self.purpose.data = details.purpose
        self.steps.data = "\n".join(details.steps)
        self.cautions.data = "\n".join(details.cautions)
        fill_dose(self, details.dose)
        self.excluded_by.data = sorted(details.excluded_by)

    def expected_number(self) -> int | None:
        """Return the version number the form was loaded with."""
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class PlanRowForm(Form):  # type: ignore[misc]
    """One library item in the builder: ticked or not, its dose and a note."""

    class Meta:
        # Rows are part of the plan form, whose CSRF token covers them.
        csrf = False

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            filters = [clean_text, *unbound_field.kwargs.get("filters", [])]
            return unbound_field.bind(form=form, filters=filters, **options)

    version = HiddenField()
    include = BooleanField("Put this in the plan")
    hold_seconds = _amount("hold_seconds")
    repetitions = _amount("repetitions")
    sets = _amount("sets")
    times_per_day = _amount("times_per_day")
    times_per_week = _amount("times_per_week")
    minutes = _amount("minutes")
    each = _each()
    note = TextAreaField(
        "Note for the client",
        description="Optional. Printed under the item.",
        validators=[
            Optional(),
            Length(max=ROW_NOTE_LENGTH, message=f"Keep this under {ROW_NOTE_LENGTH} characters."),
        ],
        render_kw={"rows": 2},
    )

    def to_pick(self, key: str) -> PlanPick:
        """Return the ticked row as typed values."""
        try:
            version: int | None = int(self.version.data)
        except (TypeError, ValueError):
            version = None
        return PlanPick(key=key, version=version, dose=_dose_from(self), note=self.note.data or "")


class PlanFormBase(ClinicForm):
    """The plan builder; plan_form_class adds one PlanRowForm per library item."""

    creation_token = HiddenField()
    note = TextAreaField(
        "Note for the whole plan",
        description="Optional. Printed near the top of the handout.",
        validators=[
            Optional(),
            Length(max=PLAN_NOTE_LENGTH, message=f"Keep this under {PLAN_NOTE_LENGTH} characters."),
        ],
        render_kw={"rows": 3},
    )
    row_keys: Sequence[str] = ()

    def row(self, key: str) -> PlanRowForm:
        """Return the row of one library item."""
        row: PlanRowForm = self[key].form
        return row

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields; a row that is not ticked is not checked (it is not saved)."""
        super().validate(extra_validators)
        for key in self.row_keys:
            row = self.row(key)
            if not row.include.data:
                for field in row:
                    field.errors = []
        if any(self.row(key).errors for key in self.row_keys):
            self.form_errors.append(
                "Nothing was saved yet: the items marked below need another look."
            )
        return not self.errors

    def to_picks(self) -> list[PlanPick]:
        """Return the ticked rows, in library order."""
        return [self.row(key).to_pick(key) for key in self.row_keys if self.row(key).include.data]


def plan_form_class(keys: Sequence[str]) -> type[PlanFormBase]:
    """Return a builder form class with a row for each library item key, in order."""
    fields: dict[str, Any] = {key: FormField(PlanRowForm) for key in keys}
    fields["row_keys"] = tuple(keys)
    return type("PlanForm", (PlanFormBase,), fields)


class ConfirmForm(ClinicForm):
    """A button with a CSRF token."""
