"""Hostile and malformed input: never a 500, a message beside the field, the typing kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import func, select

from clinic.extensions import db
from clinic.forms import clean_text
from clinic.models import Client, Clinic, User
from tests import factories

PAYLOADS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE clients; --",
    "Robert'); DELETE FROM users WHERE ('1'='1",
    "{{ 7*7 }} {% raw %}",
    "nul\x00byte and \x01\x1b controls\x7f",
    "😀 Zoë Ñúñez 中文 עברית \u202eevil",
    "x" * 10_000,
    "   ",
    "../../../etc/passwd",
    "javascript:alert(document.cookie)",
    "line one\r\nline two\ttabbed",
]


@dataclass(frozen=True)
class FormCase:
    """One form of the app: where it posts, valid data, and its free-text fields."""

    name: str
    url: Callable[[factories.World], str]
    data: Callable[[factories.World], dict[str, Any]]
    text_fields: tuple[str, ...]
    as_owner: bool = False


INTAKE_TEXT = (
    "first_name", "last_name", "gender", "phone", "email", "address",
    "emergency_contact_name", "emergency_contact_phone", "referring_clinician",
    "main_complaint", "diagnosis_detail", "medications", "allergies", "goals", "consent_name",
)  # fmt: skip

LIBRARY_ITEM_TEXT = ("title", "purpose", "steps", "cautions")


def library_item_data(**overrides: Any) -> dict[str, Any]:
    """Return what the library item form posts for a valid item of the clinic's own."""
    data: dict[str, Any] = {
        "title": "Wall sit",
        "kind": "strengthen",
        "purpose": "This makes your thigh stronger.",
        "steps": "Stand with your back to a wall.\nSlide down a little.\nHold, then slide up.",
        "cautions": "Stop if it hurts.",
        "hold_seconds": "10",
        "repetitions": "5",
        "times_per_day": "1",
        # DOMAIN.md 8.4: what the item involves.
        "areas": ["thigh", "knee"],
        "uses_pressure": "no",
        "weight_bearing": "yes",
    }
    data.update(overrides)
    return data


FORMS = [
    FormCase(
        "new client",
        lambda w: "/clients/new",
        lambda w: factories.intake_form_data(),
        INTAKE_TEXT,
    ),
    FormCase(
        "edit client",
        lambda w: f"/clients/{w.a.client_id}/edit",
        lambda w: factories.intake_form_data(version="1"),
        INTAKE_TEXT,
    ),
    FormCase(
        "clinic settings",
        lambda w: "/admin/clinic",
        lambda w: {
            "name": "Alpha Clinic",
            "address": "2 Road",
            "phone": "555 0101",
            "version": "1",
        },
        ("name", "address", "phone"),
        as_owner=True,
    ),
    FormCase(
        "new account",
        lambda w: "/admin/users/new",
        lambda w: {"full_name": "Nia New", "email": "nia@example.com", "role": "therapist"},
        ("full_name", "email"),
        as_owner=True,
    ),
    FormCase(
        "new home-care library item",
        lambda w: "/homecare/library/new",
        lambda w: library_item_data(version="0"),
        LIBRARY_ITEM_TEXT,
        as_owner=True,
    ),
    FormCase(
        "edit home-care library item",
        lambda w: f"/homecare/library/{w.a.library_item_id}/edit",
        lambda w: library_item_data(version="1"),
        LIBRARY_ITEM_TEXT,
        as_owner=True,
    ),
    FormCase(
        "change password",
        lambda w: "/account/password",
        lambda w: {
            "current_password": "wrong",
            "new_password": "x",
            "confirm_password": "y",
        },
        ("current_password", "new_password", "confirm_password"),
    ),
]


def row_counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(Client.id))) or 0,
            db.session.scalar(select(func.count(User.id))) or 0,
            db.session.scalar(select(func.count(Clinic.id))) or 0,
        )


def shown(payload: str) -> str:
    """Return how the cleaned payload must appear in the page: escaped, never raw."""
    return str(escape(clean_text(payload)))


@pytest.mark.parametrize("case", FORMS, ids=lambda case: case.name)
def test_hostile_text_in_every_field_never_fails(app, client, clinic_world, case):
    a = clinic_world.a
    factories.sign_in(app, client, a.owner_id if case.as_owner else a.therapist_id)
    for field in case.text_fields:
        for payload in PAYLOADS:
            data = case.data(clinic_world)
            data[field] = payload
            if field == "diagnosis_detail":
                data["diagnosis"] = "other"  # the detail is kept only for "Other"
            response = client.post(case.url(clinic_world), data=data)
            where = f"{case.name}: {field}={payload[:30]!r}"
            assert response.status_code < 500, where
            body = response.get_data(as_text=True)
            assert "<script>alert(" not in body, where
            assert "onerror=alert(1)>" not in body, where
            if (
                response.status_code in (200, 409)
                and "password" not in field
                and clean_text(payload)
            ):
                assert shown(payload) in body, f"{where}: the typed text was not kept"
            if response.status_code == 302 and case.name == "new client":
                # Saved: the client page must show the text escaped, never as markup.
                page = client.get(response.headers["Location"]).get_data(as_text=True)
                assert "<script>alert(" not in page, where
                assert shown(payload) in page, where


def test_refused_intake_saves_nothing(app, logged_in):
    before = row_counts(app)
    for payload in PAYLOADS:
        data = factories.intake_form_data(date_of_birth="not a date", main_complaint=payload)
        assert logged_in.post("/clients/new", data=data).status_code == 200
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_birth", "2026-13-45"),
        ("date_of_birth", "0000-00-00"),
        ("date_of_birth", "99999-01-01"),
        ("date_of_birth", "yesterday"),
        ("date_of_birth", "1960-02-30"),
        ("onset_date", "2020/01/01"),
        ("consent_date", "'; --"),
        ("affected_knee", "<script>"),
        ("cause", "x" * 500),
        ("diagnosis", "1 OR 1=1"),
        ("version", "1e999"),
        ("version", "99999999999999999999999999"),
    ],
)
def test_malformed_dates_choices_and_numbers(app, logged_in, clinic_world, field, value):
    before = row_counts(app)
    urls = [f"/clients/{clinic_world.a.client_id}/edit"]
    if field != "version":  # a new client has no version to check
        urls.append("/clients/new")
    for url in urls:
        data = factories.intake_form_data(version="1")
        data[field] = value
        response = logged_in.post(url, data=data)
        assert response.status_code in (200, 409), f"{url} {field}={value!r}"
        assert "<script>" not in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_repeated_and_unexpected_fields_are_harmless(app, logged_in):
    data = factories.intake_form_data()
    data["first_name"] = ["One", "Two"]
    data["clinic_id"] = "999"
    data["id"] = "1"
    data["archived_at"] = "2020-01-01"
    response = logged_in.post("/clients/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        client = db.session.scalars(select(Client).order_by(Client.id.desc())).first()
        assert client.first_name == "One"
        assert client.archived_at is None
        assert client.clinic_id != 999


def post_rules(app: Flask) -> list[Any]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or set()) and rule.endpoint != "auth.setup"
    ]


def url_for_rule(rule: Any, world: factories.World) -> str:
    url = rule.rule
    for name in rule.arguments:
        value = world.a.client_id if name == "client_id" else world.a.therapist_id
        url = url.replace(f"<int:{name}>", str(value))
    return url


@pytest.mark.parametrize("token", [None, "", "forged-token", "x" * 5000])
def test_every_post_without_a_valid_csrf_token_is_refused(app, client, clinic_world, token):
    factories.sign_in(app, client, clinic_world.a.owner_id)
    before = row_counts(app)
    for rule in post_rules(app):
        data = factories.intake_form_data(version="1")
        if token is not None:
            data["csrf_token"] = token
        response = client.post(url_for_rule(rule, clinic_world), data=data, csrf=False)
        assert response.status_code == 400, rule.rule
        assert "nothing was saved" in response.get_data(as_text=True)
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.get_one(User, clinic_world.a.therapist_id).active


def test_wrong_methods_answer_405(app, client, clinic_world):
    factories.sign_in(app, client, clinic_world.a.owner_id)
    # An address may have a rule per method (the sign page: GET shows, POST signs).
    allowed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        allowed.setdefault(rule.rule, set()).update(rule.methods or set())
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = url_for_rule(rule, clinic_world)
        for method in ("PUT", "PATCH", "DELETE", "GET", "POST"):
            if method in allowed[rule.rule]:
                continue
            response = client.open(url, method=method)
            assert response.status_code == 405, f"{method} {url}"


def test_oversized_request_is_refused_cleanly(logged_in):
    data = factories.intake_form_data(main_complaint="x" * (3 * 1024 * 1024))
    response = logged_in.post("/clients/new", data=data)
    assert response.status_code == 413
    assert "larger than the app accepts" in response.get_data(as_text=True)


def test_unknown_urls_give_the_404_page(logged_in):
    for url in (
        "/nothing",
        "/clients/999999",
        "/clients/abc",
        "/clients/-1",
        "/clients/1.5",
        "/clients/2147483648",
        "/clients/99999999999999999999999/edit",
    ):
        response = logged_in.get(url)
        assert response.status_code == 404, url
        assert "Not found" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Zoë Ñúñez  ", "Zoë Ñúñez"),
        ("עברית and العربية", "עברית and العربية"),
        ("invoice \u202egnp.exe\u202c", "invoice gnp.exe"),
        ("\u2066isolated\u2069 \u202aembedded\u202c", "isolated embedded"),
        ("line one\nline two\ttabbed", "line one\nline two\ttabbed"),
        ("nul\x00 and bell\x07", "nul and bell"),
    ],
)
def test_typed_text_loses_only_controls_that_corrupt_or_disguise_it(typed, kept):
    assert clean_text(typed) == kept
