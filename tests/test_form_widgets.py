"""Selects and inputs are drawn by quick widgets: the same markup as WTForms' own, made faster."""

from __future__ import annotations

import copy

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import Flags
from wtforms.validators import InputRequired, Length
from wtforms.widgets import Input, Select, TextArea
from wtforms.widgets.core import html_params

from clinic.forms import (
    QUICK_SELECT,
    QUICK_TEXTAREA,
    ClinicForm,
    QuickFlags,
    QuickSelect,
    QuickTextArea,
    quick_html_params,
)
from clinic.visits.forms import EntryForm, VisitForm

CHOICES = [
    SelectChoice("", "Choose…"),
    SelectChoice("a&b", "Less <than> & more"),
    SelectChoice('say "hi"', "It's quoted"),
    SelectChoice("bold", Markup("<b>already safe</b>")),
    SelectChoice("plain"),
]


class Sample(Form):  # type: ignore[misc]
    choice = SelectField("Choice", choices=CHOICES, validators=[InputRequired()])
    grouped = SelectField(
        "Grouped",
        choices=[
            SelectChoice("a", "Front & <back>", optgroup="Knee"),
            SelectChoice("b", "Side", optgroup='Say "hip"'),
            SelectChoice("c", "C", optgroup='Say "hip"'),
        ],
    )
    number = SelectField(
        "Number", choices=[SelectChoice(1, "one"), SelectChoice(2, "two")], coerce=int
    )
    with_attributes = SelectField(
        "With attributes",
        choices=[
            SelectChoice("x", "X", render_kw={"disabled": "disabled"}),
            SelectChoice("y", "Y"),
        ],
    )


@pytest.mark.parametrize(
    "posted",
    [{}, {"choice": "a&b", "number": "2"}, {"choice": 'say "hi"', "with_attributes": "y"},
     {"choice": "<script>", "number": "9"}],
)  # fmt: skip
def test_quick_select_draws_exactly_what_wtforms_draws(posted: dict[str, str]) -> None:
    form = Sample(MultiDict(posted))
    for field in form:
        expected = Select()(field, class_="input", **{"aria-invalid": "true"})
        drawn = QUICK_SELECT(field, class_="input", **{"aria-invalid": "true"})
        assert drawn == expected
        assert isinstance(drawn, Markup)


class Notes(Form):  # type: ignore[misc]
    note = TextAreaField("Note", validators=[InputRequired(), Length(max=20)])
    free = TextAreaField("Free")


@pytest.mark.parametrize(
    "posted", [{}, {"note": "Knee </textarea><b>", "free": 'line one\r\n"two" & three'}]
)
def test_quick_textarea_draws_exactly_what_wtforms_draws(posted: dict[str, str]) -> None:
    form = Notes(MultiDict(posted))
    form.validate()
    for field in form:
        expected = TextArea()(field, class_="input", rows=4, **{"aria-invalid": "true"})
        drawn = QUICK_TEXTAREA(field, class_="input", rows=4, **{"aria-invalid": "true"})
        assert drawn == expected
        assert isinstance(drawn, Markup)


def test_the_selected_option_changes_with_the_data_not_the_cache() -> None:
    first = QUICK_SELECT(Sample(MultiDict({"choice": "a&b"})).choice)
    second = QUICK_SELECT(Sample(MultiDict({"choice": "plain"})).choice)
    assert '<option selected value="a&amp;b">' in first
    assert '<option value="a&amp;b">' in second
    assert '<option selected value="plain">plain</option>' in second


def test_the_app_forms_and_visit_rows_use_quick_select(app) -> None:
    with app.test_request_context():
        visit_form = VisitForm(meta={"csrf": False})
        row = EntryForm()
    assert isinstance(visit_form.swelling.widget, QuickSelect)
    assert isinstance(visit_form.subjective.widget, QuickTextArea)
    for name in ("technique", "target", "side", "pressure"):
        assert isinstance(row[name].widget, QuickSelect)
    assert issubclass(VisitForm, ClinicForm)


ATTRIBUTE_SETS = [
    {},
    {"class_": "input", "aria_describedby": "a-help b-error", "aria_invalid": "true"},
    {"data_row_index": 3, "required": True, "readonly": False, "placeholder": 'say "hi" & <go>'},
    {"value": Markup('<b>"kept"</b>'), "for_": "x", "autocomplete": "off"},
]


@pytest.mark.parametrize("attributes", ATTRIBUTE_SETS)
def test_quick_html_params_gives_wtforms_own_attributes(attributes: dict[str, object]) -> None:
    assert quick_html_params(**attributes) == html_params(**attributes)


@pytest.mark.parametrize("posted", [{}, {"visit_on": "2026-12-01", "length_minutes": "45<"}])
def test_every_input_of_the_visit_form_is_drawn_as_wtforms_draws_it(app, posted) -> None:
    with app.test_request_context(method="POST", data=posted):
        form = VisitForm(meta={"csrf": False})
        fields = [*form, *form.entries[0].form]
        inputs = [f for f in fields if isinstance(f.widget, Input)]
        assert len(inputs) > 8
        for field in inputs:
            assert type(field.widget).html_params is not Input.html_params
            quick = field(class_="input", **{"aria-invalid": "true"})
            original = copy.copy(field.widget)
            original.__class__ = type(field.widget).__mro__[1]
            field.widget = original
            assert field(class_="input", **{"aria-invalid": "true"}) == quick


@pytest.mark.parametrize("posted", [{}, {"knees": "left", "adverse_response": "<b>"}])
def test_radio_buttons_are_drawn_as_wtforms_draws_them(app, posted) -> None:
    with app.test_request_context(method="POST", data=posted):
        form = VisitForm(meta={"csrf": False})
        buttons = [option for field in (form.knees, form.adverse_response) for option in field]
        assert len(buttons) > 4
        for button in buttons:
            assert type(button.widget).html_params is not Input.html_params
            quick = button(class_="choice")
            original = copy.copy(button.widget)
            original.__class__ = type(button.widget).__mro__[1]
            button.widget = original
            assert button(class_="choice") == quick


def test_quick_flags_list_the_flags_that_are_set(app) -> None:
    with app.test_request_context():
        form = VisitForm(meta={"csrf": False})
    flags = form.visit_on.flags
    assert isinstance(flags, QuickFlags)
    assert flags.required is True
    assert flags.nonexistent is None
    assert "required" in dir(flags)
    assert [name for name in dir(flags) if not name.startswith("_")] == sorted(vars(flags))
    plain = Flags()
    for name, value in vars(flags).items():
        setattr(plain, name, value)
    assert repr(flags) == repr(plain)
