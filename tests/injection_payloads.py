"""The injection corpus, the table of every text field it covers, and saving it through the forms."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from markupsafe import escape
from sqlalchemy import select
from wtforms import Form, StringField
from wtforms.fields.core import UnboundField

from clinic.auth import two_factor
from clinic.auth.views import PENDING_KEY
from clinic.clock import utcnow
from clinic.domain.screening import OTTAWA_CRITERIA, QUESTIONS
from clinic.extensions import db
from clinic.forms import clean_text
from clinic.models import User
from tests.conftest import ClinicTestClient

CLINIC_DIR = Path(__file__).resolve().parents[1] / "clinic"

# Each payload carries its own marker (x01 to x20) so a page can be searched for each one, and
# each fits the shortest text field (gender, 60 characters) on its own.
PAYLOADS: tuple[str, ...] = (
    '<script>alert("x01")</script>',
    '"><img src=x onerror=alert("x02")>',
    '<svg onload=alert("x03")>',
    'javascript:alert("x04")',
    "'-alert(\"x05\")-'",
    "{{7*7}} {% raw %}x06{% endraw %} ${7*7}",
    '</textarea><script>alert("x07")</script>',
    "</style><style>body{display:none}</style>x08",
    'x09:expression(alert("x09"))',
    "url(http://203.0.113.9/x10.png)",
    "<link rel=stylesheet href=http://203.0.113.9/x11.css>",
    '<a href="http://203.0.113.9/">click x12</a>',
    "<iframe src=http://203.0.113.9/x13>",
    "@import url(http://203.0.113.9/x14.css);",
    'data:text/html,<script>alert("x15")</script>',
    "x16 right-to-left \u202egnp.exe\u202c override",
    "x17 zero\u200bwidth\u200djoin\ufeffer",
    '<img src="http://203.0.113.9/x18.png">',
    '<base href="http://203.0.113.9/x19/">',
    '<meta http-equiv=refresh content="0;url=//203.0.113.9/x20">',
)
# Plain ASCII payloads that a PDF's text layer keeps exactly (the bidi and zero-width
# characters of x16 and x17 do not survive text extraction reliably).
PDF_PAYLOADS: tuple[str, ...] = tuple(p for p in PAYLOADS if p.isascii())
REMOTE_HOST = "203.0.113.9"

PASSWORD = "long enough and typed twice"
OWNER_EMAIL = "owner@injection.example"
TODAY = date.today().isoformat()

# How the test covers each text field of each form (the keys of TEXT_FIELDS' inner dicts).
POSTED = "payloads posted through the form with the test client"
TYPED = "payloads typed into the form in Chromium"
PASSWORD_FIELD = "exempt: a password is never shown back, not even after a refusal"
HIDDEN_FIELD = "exempt: a hidden number or token the server wrote into the form"

_SCREENING_DETAILS = {f"{question.code}-detail": POSTED for question in QUESTIONS}

#: Every form class with a text field (StringField and its subclasses: TextAreaField,
#: EmailField, PasswordField, HiddenField...), by module and class, and how each of its text
#: fields is covered. tests/browser/test_injection.py fails when a form in clinic/*/forms.py
#: has a text field missing here, so a new field cannot escape the corpus.
TEXT_FIELDS: dict[str, dict[str, str]] = {
    "clinic.admin.forms.ClinicSettingsForm": {
        "name": POSTED, "address": POSTED, "phone": POSTED, "version": HIDDEN_FIELD,
    },
    "clinic.admin.forms.NewUserForm": {"full_name": POSTED, "email": POSTED},
    "clinic.auth.forms.LoginForm": {"email": TYPED, "password": PASSWORD_FIELD},
    "clinic.auth.forms.SetupForm": {
        "clinic_name": POSTED, "clinic_address": POSTED, "clinic_phone": POSTED,
        "owner_name": POSTED, "email": POSTED,
        "new_password": PASSWORD_FIELD, "confirm_password": PASSWORD_FIELD,
    },
    "clinic.auth.forms.SignInCodeForm": {"code": POSTED},
    "clinic.auth.forms.ConfirmTwoStepForm": {"code": POSTED},
    "clinic.auth.forms.DisableTwoStepForm": {"code": POSTED, "password": PASSWORD_FIELD},
    "clinic.auth.forms.RecoveryCodesForm": {"proof": PASSWORD_FIELD},
    "clinic.auth.forms.ConfirmIdentityForm": {"proof": PASSWORD_FIELD},
    "clinic.audit.forms.AuditFilterForm": {"q": TYPED},
    "clinic.auth.forms.ChangePasswordForm": {
        "current_password": PASSWORD_FIELD, "new_password": PASSWORD_FIELD,
        "confirm_password": PASSWORD_FIELD,
    },
    "clinic.clients.forms.IntakeForm": {
        "first_name": POSTED, "last_name": POSTED, "gender": POSTED, "phone": POSTED,
        "email": POSTED, "address": POSTED, "emergency_contact_name": POSTED,
        "emergency_contact_phone": POSTED, "referring_clinician": POSTED,
        "main_complaint": POSTED, "diagnosis_detail": POSTED, "medications": POSTED,
        "allergies": POSTED, "goals": POSTED, "consent_name": POSTED, "version": HIDDEN_FIELD,
    },
    "clinic.clients.forms.SearchForm": {"q": TYPED},
    "clinic.clients.forms.ArchiveForm": {"version": HIDDEN_FIELD},
    "clinic.homecare.forms.LibraryItemForm": {
        "title": POSTED, "purpose": POSTED, "steps": POSTED, "cautions": POSTED,
        "version": HIDDEN_FIELD,
    },
    "clinic.homecare.forms.PlanRowForm": {
        "note": POSTED, "key": HIDDEN_FIELD, "version": HIDDEN_FIELD,
    },
    "clinic.homecare.forms.PlanForm": {"note": POSTED, "creation_token": HIDDEN_FIELD},
    "clinic.progress.forms.PainLogForm": {"note": POSTED},
    "clinic.screening.forms.ScreeningForm": _SCREENING_DETAILS,
    "clinic.screening.forms.ClearanceForm": {"given_by": POSTED, "note": POSTED},
    "clinic.screening.forms.OverrideForm": {"reason": POSTED},
    "clinic.visits.forms.EntryForm": {"note": POSTED, "override_reason": POSTED},
    "clinic.visits.forms.VisitForm": {
        "subjective": POSTED, "palpation": POSTED, "assessment": POSTED, "plan": POSTED,
        "adverse_note": POSTED, "version": HIDDEN_FIELD, "creation_token": HIDDEN_FIELD,
    },
    "clinic.visits.forms.AddendumForm": {"reason": POSTED, "text": POSTED},
    "clinic.visits.forms.FollowUpForm": {"text": POSTED},
    "clinic.visits.forms.ConfirmForm": {"version": HIDDEN_FIELD},
}  # fmt: skip


def discover_text_fields() -> dict[str, set[str]]:
    """Return the text fields of every form class defined in clinic/forms.py and clinic/*/forms.py."""
    found: dict[str, set[str]] = {}
    paths = [CLINIC_DIR / "forms.py", *sorted(CLINIC_DIR.glob("*/forms.py"))]
    for path in paths:
        relative = path.relative_to(CLINIC_DIR.parent).with_suffix("")
        module = importlib.import_module(".".join(relative.parts))
        for value in vars(module).values():
            if not (
                isinstance(value, type)
                and issubclass(value, Form)
                and value.__module__ == module.__name__
            ):
                continue
            names = {
                name
                for name in dir(value)
                if isinstance(getattr(value, name, None), UnboundField)
                and issubclass(getattr(value, name).field_class, StringField)
            }
            if names:
                found[f"{module.__name__}.{value.__qualname__}"] = names
    return found


def covered_by(how: str) -> set[tuple[str, str]]:
    """Return (form class, field) for every field TEXT_FIELDS covers in the given way."""
    return {
        (form, name) for form, fields in TEXT_FIELDS.items() for name, way in fields.items()
        if way == how
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Values: payloads joined to fit a field, each value tagged so a page shows which field it is


def payload_text(limit: int, start: int = 0, *, separator: str = " ", tag: str = "") -> str:
    """Join the payloads from `start` on (wrapping round) that fit in `limit` characters."""
    text = tag
    for offset in range(len(PAYLOADS)):
        payload = PAYLOADS[(start + offset) % len(PAYLOADS)]
        joined = f"{text}{separator if text else ''}{payload}"
        if len(joined) <= limit:
            text = joined
    assert text != tag, f"no payload fits in {limit} characters"
    return text


def shown_in_html(value: str) -> str:
    """Return how a typed value must appear in a page's HTML: cleaned and escaped."""
    return str(escape(clean_text(value)))


def assert_escaped(html: str, value: str, where: str) -> None:
    """The value is in the HTML escaped, and none of its payloads is there as markup."""
    assert shown_in_html(value) in html, f"{where}: the typed text is not on the page"
    for payload in PAYLOADS:
        if payload in value and any(c in payload for c in "<>\"'&"):
            assert payload not in html, f"{where}: {payload!r} is in the page unescaped"


@dataclass
class Corpus:
    """What save_corpus saved: the ids of the records and the text in each field."""

    owner_email: str = OWNER_EMAIL
    owner_password: str = PASSWORD
    values: dict[str, str] = field(default_factory=dict)
    posted: set[tuple[str, str]] = field(default_factory=set)
    client_id: int = 0
    screening_id: int = 0
    signed_visit_id: int = 0
    draft_visit_id: int = 0
    item_id: int = 0
    plan_id: int = 0
    handout_id: int = 0

    def text(self, form: str, name: str, limit: int, *, lines: int = 0) -> str:
        """Return (and remember) the payload text for one field of one form class.

        Each field gets its own tag ("[f07]") and starts at a different payload, so short
        fields between them still carry every payload somewhere. `lines` puts one payload
        on each line, at most that many lines (for one-step-per-line fields).
        """
        key = f"{form}.{name}"
        if key not in self.values:
            number = len(self.values) + 1
            tag = f"[f{number:02}]"
            if lines:
                picked = [PAYLOADS[(number + i) % len(PAYLOADS)] for i in range(lines - 1)]
                self.values[key] = "\n".join([tag, *picked])
            else:
                self.values[key] = payload_text(limit, number, tag=tag)
        self.posted.add((form, name))
        return self.values[key]

    def value(self, form: str, name: str) -> str:
        """Return the text saved in a field (form: the short class name)."""
        return self.values[f"{form}.{name}"]


# ---------------------------------------------------------------------------------------------
# Reading a form's current values out of a page, as a browser would post them


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append([])
        elif not self.forms or tag not in ("input", "textarea", "select", "option"):
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file"):
                return
            self.forms[-1].append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = a.get("name", "")
            self._text = []
        elif tag == "select":
            self._select = a.get("name", "")
            self._options = []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            # A browser drops the one newline that follows <textarea>.
            self.forms[-1].append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected]
            if chosen or self._options:
                self.forms[-1].append((self._select, (chosen or [self._options[0][0]])[0]))
            self._select = None


def form_values(html: str, has_field: str) -> dict[str, str]:
    """Return the values of the form on the page that has the named field."""
    reader = _FormReader()
    reader.feed(html)
    for form in reader.forms:
        if any(name == has_field for name, _ in form):
            return dict(form)
    raise AssertionError(f"no form with a field {has_field!r} on the page")


# ---------------------------------------------------------------------------------------------
# Saving the corpus through every form


def _id_from(response: Any, pattern: str) -> int:
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True))
    match = re.search(pattern, urlsplit(response.headers["Location"]).path)
    assert match, response.headers["Location"]
    return int(match.group(1))


def _saved(response: Any, where: str) -> Any:
    assert response.status_code == 302, (
        f"{where} was not saved ({response.status_code}): "
        + re.sub(r"\s+", " ", response.get_data(as_text=True))[:3000]
    )
    return response


def _refused(
    client: ClinicTestClient,
    url: str,
    data: dict[str, Any],
    typed: str,
    where: str,
    *,
    shown: bool = True,
) -> None:
    response = client.post(url, data=data)
    assert response.status_code == 200, f"{where}: expected a refusal, got {response.status_code}"
    html = response.get_data(as_text=True)
    if shown:
        assert_escaped(html, typed, where)
    for payload in PAYLOADS:
        if payload in typed and any(c in payload for c in "<>\"'&"):
            assert payload not in html, f"{where}: {payload!r} is in the page unescaped"


def save_corpus(app: Flask, client: ClinicTestClient) -> Corpus:
    """Set up a clinic on an empty database and save the corpus into every form's text fields.

    Fields with stricter checks (phones, emails) are posted with payloads first: the refusal
    must show the typed text escaped. Then they get a valid value and the form is saved.
    """
    corpus = Corpus()
    _set_up(corpus, client)
    _clinic_settings(corpus, client)
    _new_account(corpus, client)
    _intake(corpus, client)
    _screening(corpus, client)
    _visits(corpus, client)
    _pain_log(corpus, client)
    _home_care(corpus, client)
    _two_step(corpus, app, client)
    missing = covered_by(POSTED) - {
        (f"{module}.{form}", name) for module, form, name in _qualified(corpus.posted)
    }
    assert not missing, f"fields in TEXT_FIELDS never posted: {sorted(missing)}"
    return corpus


def _qualified(posted: Iterable[tuple[str, str]]) -> Iterable[tuple[str, str, str]]:
    modules = {key.rsplit(".", 1)[1]: key.rsplit(".", 1)[0] for key in TEXT_FIELDS}
    for form, name in posted:
        yield modules[form], form, name


def _set_up(corpus: Corpus, client: ClinicTestClient) -> None:
    data = {
        "clinic_name": corpus.text("SetupForm", "clinic_name", 120),
        "clinic_address": corpus.text("SetupForm", "clinic_address", 300),
        "clinic_phone": corpus.text("SetupForm", "clinic_phone", 40),
        "owner_name": corpus.text("SetupForm", "owner_name", 120),
        "email": corpus.text("SetupForm", "email", 254),
        "new_password": PASSWORD,
        "confirm_password": PASSWORD,
    }
    _refused(client, "/setup", data, data["clinic_phone"], "setup, phone")
    _refused(client, "/setup", data, data["email"], "setup, email")
    data.update(clinic_phone="555 010 0100", email=OWNER_EMAIL)
    _saved(client.post("/setup", data=data), "setup")


def _clinic_settings(corpus: Corpus, client: ClinicTestClient) -> None:
    data = form_values(client.get("/admin/clinic").get_data(as_text=True), "screening_valid_days")
    data.update(
        name=corpus.text("ClinicSettingsForm", "name", 120),
        address=corpus.text("ClinicSettingsForm", "address", 300),
        phone=corpus.text("ClinicSettingsForm", "phone", 40),
    )
    _refused(client, "/admin/clinic", data, data["phone"], "clinic settings, phone")
    data["phone"] = "555 010 0101"
    _saved(client.post("/admin/clinic", data=data), "clinic settings")


def _new_account(corpus: Corpus, client: ClinicTestClient) -> None:
    data = {
        "full_name": corpus.text("NewUserForm", "full_name", 120),
        "email": corpus.text("NewUserForm", "email", 254),
        "role": "therapist",
    }
    _refused(client, "/admin/users/new", data, data["email"], "new account, email")
    data["email"] = "colleague@injection.example"
    response = client.post("/admin/users/new", data=data)
    # The one-time password is shown straight from the POST, with the name beside it.
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True), data["full_name"], "new account")


INTAKE_LIMITS = {
    "first_name": 100, "last_name": 100, "gender": 60, "address": 300,
    "emergency_contact_name": 120, "referring_clinician": 200, "main_complaint": 5000,
    "diagnosis_detail": 200, "medications": 5000, "allergies": 5000, "goals": 5000,
    "consent_name": 200,
}  # fmt: skip
STRICT_INTAKE = ("phone", "email", "emergency_contact_phone")


def _intake(corpus: Corpus, client: ClinicTestClient) -> None:
    data: dict[str, Any] = {
        "date_of_birth": "1956-12-09", "affected_knee": "left", "onset_date": "2026-06-01",
        "cause": "overuse", "diagnosis": "other", "consent_to_treatment": "y",
        "consent_date": TODAY, "consent_to_keep_records": "y",
    }  # fmt: skip
    for name, limit in INTAKE_LIMITS.items():
        data[name] = corpus.text("IntakeForm", name, limit)
    for name in STRICT_INTAKE:
        data[name] = corpus.text("IntakeForm", name, 40)
        _refused(client, "/clients/new", data, data[name], f"intake, {name}")
    data.update(phone="555 010 0177", email="grace@example.com")
    data["emergency_contact_phone"] = "555 010 0188"
    corpus.client_id = _id_from(
        _saved(client.post("/clients/new", data=data), "intake"), r"/clients/(\d+)$"
    )
    url = f"/clients/{corpus.client_id}/edit"
    data["version"] = form_values(client.get(url).get_data(as_text=True), "version")["version"]
    _saved(client.post(url, data=data), "intake edit")


def _screening(corpus: Corpus, client: ClinicTestClient) -> None:
    base = f"/clients/{corpus.client_id}/screening"
    data: dict[str, Any] = {"taken_on": TODAY, "sign": "y"}
    for question in QUESTIONS:
        if question.code not in OTTAWA_CRITERIA:
            data[f"{question.code}-answer"] = "no"
        data[f"{question.code}-detail"] = corpus.text(
            "ScreeningForm", f"{question.code}-detail", 1000
        )
    # A referral that a clearance lifts, and an area to avoid that an override opens.
    data.update({"hypertension_uncontrolled-answer": "yes", "skin_break-answer": "yes",
                 "skin_break-side": "left", "skin_break-region": "thigh"})  # fmt: skip
    _saved(client.post(f"{base}/new", data=data), "screening")
    history = client.get(f"{base}/history").get_data(as_text=True)
    match = re.search(rf"{base}/(\d+)\"", history)
    assert match, "the signed screening is not in the history"
    corpus.screening_id = int(match.group(1))
    url = f"{base}/{corpus.screening_id}"
    clearance = {
        "finding_code": "hypertension_uncontrolled",
        "given_by": corpus.text("ClearanceForm", "given_by", 200),
        "given_on": TODAY,
        "note": corpus.text("ClearanceForm", "note", 2000),
    }
    _saved(client.post(f"{url}/clearance", data=clearance), "clearance")
    override = {"finding_code": "skin_break", "reason": corpus.text("OverrideForm", "reason", 2000)}
    _saved(client.post(f"{url}/override", data=override), "override")


def _visit_data(corpus: Corpus, token: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "creation_token": token, "visit_on": TODAY, "start_time": "10:00",
        "length_minutes": "60", "knees": "left", "pain_before_left": "5",
        "pain_after_left": "3", "adverse_response": "other", "action": "save",
        # Light strokes on the left thigh, the area the screening says to avoid.
        "entries-0-technique": "effleurage", "entries-0-target": "quadriceps",
        "entries-0-side": "left", "entries-0-pressure": "1", "entries-0-minutes": "5",
        "entries-0-note": corpus.text("EntryForm", "note", 1000),
        "entries-0-override_reason": corpus.text("EntryForm", "override_reason", 1000),
    }  # fmt: skip
    for name in ("subjective", "palpation", "assessment", "plan", "adverse_note"):
        data[name] = corpus.text("VisitForm", name, 5000)
    return data


def _visits(corpus: Corpus, client: ClinicTestClient) -> None:
    base = f"/clients/{corpus.client_id}/visits"
    pattern = rf"{base}/(\d+)$"
    signed = _id_from(client.post(f"{base}/new", data=_visit_data(corpus, "inj-1")), pattern)
    edit = client.get(f"{base}/{signed}/edit").get_data(as_text=True)
    data = _visit_data(corpus, "inj-1")
    data["version"] = form_values(edit, "version")["version"]
    _saved(client.post(f"{base}/{signed}/edit", data=data), "visit edit")
    version = form_values(client.get(f"{base}/{signed}").get_data(as_text=True), "version")
    _saved(client.post(f"{base}/{signed}/sign", data=version), "signing")
    follow_up = {"text": corpus.text("FollowUpForm", "text", 5000)}
    _saved(client.post(f"{base}/{signed}/follow-up", data=follow_up), "follow-up")
    addendum = {
        "reason": corpus.text("AddendumForm", "reason", 300),
        "text": corpus.text("AddendumForm", "text", 5000),
    }
    _saved(client.post(f"{base}/{signed}/addenda", data=addendum), "addendum")
    corpus.signed_visit_id = signed
    # A second visit stays a draft: it shows in the unsigned list and on its edit page.
    corpus.draft_visit_id = _id_from(
        client.post(f"{base}/new", data=_visit_data(corpus, "inj-2")), pattern
    )


def _pain_log(corpus: Corpus, client: ClinicTestClient) -> None:
    data = {
        "logged_on": TODAY, "knee": "left", "score": "4",
        "note": corpus.text("PainLogForm", "note", 1000),
    }  # fmt: skip
    _saved(client.post(f"/clients/{corpus.client_id}/progress/pain-log", data=data), "pain log")


def _home_care(corpus: Corpus, client: ClinicTestClient) -> None:
    item: dict[str, Any] = {
        "version": "0", "kind": "strengthen", "repetitions": "5", "times_per_day": "1",
        "uses_pressure": "no", "weight_bearing": "no",
        "title": corpus.text("LibraryItemForm", "title", 120),
        "purpose": corpus.text("LibraryItemForm", "purpose", 500),
        "steps": corpus.text("LibraryItemForm", "steps", 0, lines=20),
        "cautions": corpus.text("LibraryItemForm", "cautions", 0, lines=10),
    }  # fmt: skip
    corpus.item_id = _id_from(
        client.post("/homecare/library/new", data=item), r"/homecare/library/(\d+)$"
    )
    item.update(version="1", repetitions="6")
    _saved(client.post(f"/homecare/library/{corpus.item_id}/edit", data=item), "item edit")

    url = f"/clients/{corpus.client_id}/homecare/new"
    builder = client.get(url).get_data(as_text=True)
    data = form_values(builder, "creation_token")
    # The builder's rows ("items-3") by the library item each offers, if it can be ticked.
    offered = dict(re.findall(r'name="(items-\d+)-key" type="hidden" value="([^"]+)"', builder))
    rows = {offered[row]: row for row in re.findall(r'name="(items-\d+)-include"', builder)}
    own = f"c_{corpus.item_id}"
    assert own in rows, f"the clinic's own item is not offered: {sorted(rows)}"
    picked = [own, next(key for key in rows if key != own)]
    for key in picked:
        data[f"{rows[key]}-include"] = "y"
        data[f"{rows[key]}-note"] = corpus.text("PlanRowForm", "note", 1000)
    data["note"] = corpus.text("PlanForm", "note", 3000)
    corpus.plan_id = _id_from(_saved(client.post(url, data=data), "plan"), r"/homecare/(\d+)$")
    issued = _saved(
        client.post(f"/clients/{corpus.client_id}/homecare/{corpus.plan_id}/issue"), "issue"
    )
    match = re.search(r"handout-(\d+)", issued.headers["Location"])
    assert match, issued.headers["Location"]
    corpus.handout_id = int(match.group(1))


def _two_step(corpus: Corpus, app: Flask, client: ClinicTestClient) -> None:
    # The first code that would turn two-step sign-in on.
    _saved(client.post("/account/two-step/start"), "starting two-step sign-in")
    code = corpus.text("ConfirmTwoStepForm", "code", 40)
    _refused(client, "/account/two-step/confirm", {"code": code}, code, "two-step, first code")
    # Turning it off (it is not on): the page comes back; the typed code need not.
    code = corpus.text("DisableTwoStepForm", "code", 40)
    data = {"password": PASSWORD, "code": code}
    _refused(client, "/account/two-step/disable", data, code, "two-step off", shown=False)
    # The code step of signing in, for the colleague's account with two-step sign-in on.
    with app.app_context():
        colleague = db.session.scalars(
            select(User).where(User.email == "colleague@injection.example")
        ).one()
        colleague.totp_secret = two_factor.new_secret()
        colleague.totp_enabled_at = utcnow()
        db.session.commit()
        colleague_id = colleague.id
    other = app.test_client()
    with other.session_transaction() as session:
        session[PENDING_KEY] = {"user_id": colleague_id, "at": int(two_factor._now())}
    code = corpus.text("SignInCodeForm", "code", 40)
    _refused(other, "/login/code", {"code": code}, code, "sign-in code")  # type: ignore[arg-type]
