"""The base form every form derives from, and copying rule violations onto a form."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, FieldList, FormField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import Flags
from wtforms.widgets import Input, Select, TextArea
from wtforms.widgets.core import clean_key

from clinic.domain.errors import RuleViolations

# C0 controls other than tab, newline and carriage return, and DEL: PostgreSQL refuses NUL
# outright and the others only corrupt printed notes. Also the bidirectional embedding,
# override and isolate controls: right-to-left names display correctly without them, and
# with them "gnp.exe" shows as "exe.png", which only serves to disguise text.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: Any) -> Any:
    """Strip surrounding whitespace and control characters from typed text."""
    if isinstance(value, str):
        return _CONTROL_CHARACTERS.sub("", value).strip()
    return value


_OPTION = Markup('<option{} value="{}">{}</option>')
_SELECTED = Markup(" selected")


@lru_cache(maxsize=4096)
def _option_markup(value: str, label: str, label_is_markup: bool, selected: bool) -> Markup:
    # label_is_markup is part of the key only: Markup("x") and "x" are equal as keys, and
    # format() escapes the one but not the other.
    return _OPTION.format(_SELECTED if selected else "", value, label)


def _render_option(choice: SelectChoice) -> Markup:
    if choice.render_kw:
        return Select.render_option(choice)  # type: ignore[no-any-return]
    value = str(choice.value)
    label = choice.label if choice.label is not None else value
    return _option_markup(value, label, isinstance(label, Markup), bool(choice.selected))


class QuickSelect(Select):  # type: ignore[misc]
    """WTForms' select with the same markup, made quickly.

    WTForms looks up the signature of render_option (with inspect) every time a select is
    drawn, and builds each option's attributes anew; a visit form with its rows of
    technique, target, side and pressure lists spent most of its time there. Here the
    option renderer is fixed and each option's markup is made once per value, label and
    selection.
    """

    @classmethod
    def _dispatch_render_option(cls) -> Any:
        return _render_option

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        # Select.__call__, with quick_html_params for the <select> tag's own attributes.
        kwargs.setdefault("id", field.id)
        _add_validation_flags(self, field, kwargs)
        html = [f"<select {quick_html_params(name=field.name, **kwargs)}>"]
        plain = _plain_options(field)
        if plain is not None:
            html.extend(plain)
        elif field.has_groups():
            for optgroup, choices in field._iter_groups_normalized():
                if optgroup is not None:
                    html.append(f"<optgroup {quick_html_params(label=optgroup)}>")
                html.extend(_render_option(choice) for choice in choices)
                if optgroup is not None:
                    html.append("</optgroup>")
        else:
            html.extend(_render_option(choice) for choice in field._iter_choices_normalized())
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704  # nosec B704 (attributes and options escaped)


def _plain_options(field: Field) -> list[Markup] | None:
    """The options of a SelectField with plain choices (no groups, no attributes of their own),
    each from the markup cache; None for any other field, drawn the general way.

    SelectField's iter_choices makes a Choice for every option on every drawing, and the
    normalising around it another: the visit form's lists spent a quarter of the page there.
    """
    if type(field).iter_choices is not SelectField.iter_choices:
        return None
    options = []
    for choice in field._choices_from_input(field.choices) or []:
        if choice.optgroup is not None or choice.render_kw:
            return None
        value = str(choice.value)
        label = choice.label if choice.label is not None else value
        selected = field.coerce(choice.value) == field.data
        options.append(_option_markup(value, label, isinstance(label, Markup), selected))
    return options


class QuickTextArea(TextArea):  # type: ignore[misc]
    """WTForms' textarea with the same markup, its attributes made by quick_html_params."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        _add_validation_flags(self, field, kwargs)
        params = quick_html_params(name=field.name, **kwargs)
        text = escape(field._value())
        return Markup(f"<textarea {params}>\r\n{text}</textarea>")  # noqa: S704  # nosec B704


def _add_validation_flags(widget: Any, field: Field, kwargs: dict[str, Any]) -> None:
    """Copy the field's flags a widget declares (required, disabled...) into its attributes."""
    flags = getattr(field, "flags", {})
    for name in dir(flags):
        if name in widget.validation_attrs and name not in kwargs:
            kwargs[name] = getattr(flags, name)


QUICK_SELECT = QuickSelect()
QUICK_TEXTAREA = QuickTextArea()


@lru_cache(maxsize=512)
def _attribute_name(key: str) -> str:
    # Names come from the code, a few dozen in all: cleaned and escaped once each.
    return str(escape(clean_key(key)))


def quick_html_params(**attributes: Any) -> Markup:
    """Return what WTForms' html_params returns, without its per-attribute Markup.format.

    Sorted by name, `class_` and friends lose the underscore, data_ and aria_ names take
    hyphens, True gives the bare name and False nothing; values are escaped, a double quote
    in a Markup value included.
    """
    parts = []
    for key, value in sorted(attributes.items()):
        if value is True:
            parts.append(_attribute_name(key))
        elif value is not False:
            text = str(escape(value)).replace('"', "&quot;")
            parts.append(f'{_attribute_name(key)}="{text}"')
    return Markup(" ".join(parts))  # noqa: S704  # nosec B704 (every part escaped above)


# WTForms' Input widgets call self.html_params, made to be replaced in a subclass.
_QUICK_INPUT_CLASSES: dict[type[Input], type[Input]] = {}
_QUICK_INPUTS: dict[int, tuple[Input, Input]] = {}


def _quick_input(widget: Input) -> Input:
    kept = _QUICK_INPUTS.get(id(widget))
    if kept is not None and kept[0] is widget:
        return kept[1]
    original = type(widget)
    quick_class = _QUICK_INPUT_CLASSES.get(original)
    if quick_class is None:
        quick_class = type(
            f"Quick{original.__name__}",
            (original,),
            {"html_params": staticmethod(quick_html_params)},
        )
        _QUICK_INPUT_CLASSES[original] = quick_class
    quick = copy.copy(widget)
    quick.__class__ = quick_class
    # Widgets are shared by every form of a class, so one quick copy each is kept.
    _QUICK_INPUTS[id(widget)] = (widget, quick)
    return quick


class QuickFlags(Flags):  # type: ignore[misc]
    """WTForms' flags (required, disabled...), listed quickly.

    Every widget looks for its flags with dir() each time it draws, and dir() of an object
    gathers and sorts every name of its class as well: a visit form spent a tenth of its time
    there. The flags are the names set on the object, so those are what dir() gives here.
    """

    def __dir__(self) -> list[str]:
        return list(self.__dict__)


def with_quick_widgets(field: Field) -> Field:
    """Give a bound field the quick widgets: QuickSelect, QuickTextArea, and inputs with
    quick_html_params.

    Forms' bind_field calls it; what the widgets draw is unchanged.
    """
    if type(field.widget) is Select and not field.widget.multiple:
        field.widget = QUICK_SELECT
    elif type(field.widget) is TextArea:
        field.widget = QUICK_TEXTAREA
    elif isinstance(field.widget, Input):
        field.widget = _quick_input(field.widget)
    if type(field.flags) is Flags:
        field.flags.__class__ = QuickFlags
    # A radio list draws each button with its option widget.
    option_widget = getattr(field, "option_widget", None)
    if isinstance(option_widget, Input):
        field.option_widget = _quick_input(option_widget)
    return field


class ClinicForm(FlaskForm):  # type: ignore[misc]
    """A CSRF-protected form whose text fields are cleaned before validation."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            # Passwords are taken exactly as typed; lists and sub-forms clean their own fields.
            if issubclass(unbound_field.field_class, (PasswordField, FieldList, FormField)):
                return unbound_field.bind(form=form, **options)
            filters = list(unbound_field.kwargs.get("filters", []))
            if clean_text not in filters:
                filters.insert(0, clean_text)
            return with_quick_widgets(unbound_field.bind(form=form, filters=filters, **options))


def enum_choices(enum_class: Any, *, blank: str | None = None) -> list[SelectChoice]:
    """Return choices for a select or radio field: each member's value and label."""
    choices = [SelectChoice(str(member.value), member.label) for member in enum_class]
    if blank is not None:
        choices.insert(0, SelectChoice("", blank))
    return choices


def field_errors(form: FlaskForm) -> list[tuple[str, str, str]]:
    """Return (field id, label, first message) for every field with an error, in form order.

    A row's fields are named with their row, where the row's form says how it is called
    (a row_label(index) method: "Technique 2: Pressure", not "Pressure" for every row).
    """
    found: list[tuple[str, str, str]] = []

    def collect(fields: Iterable[Field], row: str = "") -> None:
        for field in fields:
            if field.type == "FieldList":
                for index, entry in enumerate(field.entries):
                    inner = getattr(entry, "form", None)
                    if inner is None:
                        collect([entry], row)
                        continue
                    label = getattr(inner, "row_label", None)
                    collect(inner, label(index) if callable(label) else row)
            elif field.errors and isinstance(field.errors, list):
                message = field.errors[0]
                if isinstance(message, str):
                    text = field.label.text
                    found.append((field.id, f"{row}: {text}" if row else text, message))

    collect(form)
    return found


_ROW_KEY = re.compile(r"^(?P<rows>[a-z_]+)-(?P<index>\d+)-(?P<field>[a-z_]+)$")


def _row_field(form: FlaskForm, key: str) -> Field | None:
    """Find "<list>-<n>-<field>": the field of the n-th row the operation was given.

    Operations see only the rows that were filled in, so a row form with an is_blank()
    method is counted among the filled rows; any other list counts every row.
    """
    match = _ROW_KEY.match(key)
    if match is None:
        return None
    rows = form._fields.get(match["rows"])
    if rows is None or rows.type != "FieldList":
        return None
    forms = [entry.form for entry in rows.entries if hasattr(entry, "form")]
    filled = [f for f in forms if not (hasattr(f, "is_blank") and f.is_blank())]
    index = int(match["index"])
    if index >= len(filled):
        return None
    field: Field | None = filled[index]._fields.get(match["field"])
    return field


def apply_violations(form: FlaskForm, violations: RuleViolations) -> None:
    """Put each problem beside its field or row field, or at the top when it has none."""
    for problem in violations:
        key = problem.field
        field = None
        if key:
            field = form._fields.get(key) or _row_field(form, key)
        if field is None:
            if problem.message not in form.form_errors:
                form.form_errors.append(problem.message)
            continue
        if problem.message not in field.errors:
            field.errors = [*field.errors, problem.message]
