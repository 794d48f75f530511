"""Forms for the clinic's own items and the plan builder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.domain.catalogue import BASIC_REGIONS, Region
from clinic.domain.homecare import Dose, Each, ItemKind
from clinic.domain.screening import FINDING_LABELS
from clinic.forms import ClinicForm, clean_text, enum_choices, with_quick_widgets
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


_YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _answer(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


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

    areas = SelectMultipleField(
        "Parts of the leg it works",
        description=(
            "Tick every part the item touches, presses, stretches or works. Leave all unticked"
            " only if it does not involve the legs."
        ),
        choices=[SelectChoice(region.value, region.label) for region in BASIC_REGIONS],
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    uses_pressure = RadioField(
        "Does it press on the leg?",
        description="Hands, a ball, a roller or body weight pressing on those parts.",
        choices=_YES_NO,
        validators=[InputRequired("Say whether the item presses on the leg.")],
    )
    weight_bearing = RadioField(
        "Do the legs carry weight in it?",
        description="Standing, kneeling, squatting or lying on a leg.",
        choices=_YES_NO,
        validators=[InputRequired("Say whether the legs carry weight in it.")],
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
            areas=frozenset(Region(a) for a in self.areas.data or ()),
            uses_pressure=_yes_no(self.uses_pressure.data),
            weight_bearing=_yes_no(self.weight_bearing.data),
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
        # An undeclared item shows empty answers: the owner must give them to save.
        self.areas.data = sorted(a.value for a in details.areas or ())
        self.uses_pressure.data = _answer(details.uses_pressure)
        self.weight_bearing.data = _answer(details.weight_bearing)

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
            return with_quick_widgets(unbound_field.bind(form=form, filters=filters, **options))

    # The library item the row offers ("b_<code>" or "c_<item id>") and its version as shown.
    key = HiddenField()
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

    def is_blank(self) -> bool:
        """Whether the row is not ticked: it is not part of the plan."""
        return not self.include.data

    def validate(self, extra_validators: Any = None) -> bool:
        """Check a ticked row; a row that is not ticked is not saved, so it is not checked."""
        if self.is_blank():
            return True
        return bool(super().validate(extra_validators))

    def to_pick(self) -> PlanPick:
        """Return the row as typed values."""
        try:
            version: int | None = int(self.version.data)
        except (TypeError, ValueError):
            version = None
        return PlanPick(
            key=self.key.data or "",
            version=version,
            dose=_dose_from(self),
            note=self.note.data or "",
        )


class PlanForm(ClinicForm):
    """The plan builder: one row per library item (items), and a note for the whole plan.

    The operation is given the ticked rows in order, and names a row's problem
    row_key(PLAN_ROWS, i, field) by its place among them; apply_violations counts the same
    rows (those that are not is_blank()).
    """

    creation_token = HiddenField()
    items = FieldList(FormField(PlanRowForm))
    note = TextAreaField(
        "Note for the whole plan",
        description="Optional. Printed near the top of the handout.",
        validators=[
            Optional(),
            Length(max=PLAN_NOTE_LENGTH, message=f"Keep this under {PLAN_NOTE_LENGTH} characters."),
        ],
        render_kw={"rows": 3},
    )

    def rows(self) -> list[PlanRowForm]:
        """Return every row, in the order the page sent them."""
        return [entry.form for entry in self.items.entries]

    def row_for(self, key: str) -> PlanRowForm:
        """Return the (first) row of one library item."""
        return next(row for row in self.rows() if row.key.data == key)

    def offer(self, items: Sequence[tuple[str, int, Dose]]) -> None:
        """Add a row, at the usual dose, for each (key, version, dose) the page did not send."""
        sent = {row.key.data for row in self.rows()}
        for key, version, dose in items:
            if key in sent:
                continue
            self.items.append_entry()
            row: PlanRowForm = self.items.entries[-1].form
            row.key.data = key
            row.version.data = str(version)
            fill_dose(row, dose)

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields of the plan and of every ticked row."""
        valid = bool(super().validate(extra_validators))
        if any(row.errors for row in self.rows()):
            self.form_errors.append(
                "Nothing was saved yet: the items marked below need another look."
            )
        return valid

    def to_picks(self) -> list[PlanPick]:
        """Return the ticked rows, in the order the page sent them."""
        return [row.to_pick() for row in self.rows() if not row.is_blank()]


class ConfirmForm(ClinicForm):
    """A button with a CSRF token."""
