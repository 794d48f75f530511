"""Hostile and odd input into the setup, sign-in and password forms: never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import select

from clinic.extensions import db
from clinic.forms import clean_text
from clinic.models import Clinic, LoginSession, User
from tests import factories
from tests.auth import (
    all_field_errors,
    field_errors,
    form_errors,
    input_value,
    page,
    sign_in_form,
    textarea_value,
)
from tests.auth.test_setup import PASSWORD, nothing_saved, setup_data

PAYLOADS = {
    "long": "Ü" * 5000,
    "html": '<script>alert("x")</script><b onmouseover="go()">bold</b> & co',
    "control": "Ann\x00e\x01\x07\x1b[31m\x7f Smith\x0b",
    "emoji": "Knee 🦵 care 👩🏽‍⚕️",
    "sql": "Robert'); DROP TABLE users;-- OR 1=1",
    "bidi": "\u202egnp.exe \u200b zero-width",
}
SHORT_PAYLOADS = {name: text for name, text in PAYLOADS.items() if name != "long"}
LIMITS = {"clinic_name": 120, "clinic_address": 300, "owner_name": 120}


def _shown_value(html: str, field: str) -> str | None:
    if field == "clinic_address":
        return textarea_value(html, field)
    return input_value(html, field)


def _assert_no_raw_markup(html: str) -> None:
    assert "<script>alert" not in html
    assert "<b onmouseover" not in html


@pytest.mark.parametrize("field", ["clinic_name", "clinic_address", "owner_name"])
@pytest.mark.parametrize("name", PAYLOADS)
def test_setup_keeps_odd_text_when_the_form_comes_back(app, client, field, name):
    payload = PAYLOADS[name]
    # A mismatched confirmation sends the form back, with the payload in one field.
    response = client.post(
        "/setup", data=setup_data(**{field: payload}, confirm_password="not the same one!")
    )
    assert response.status_code == 200
    html = page(response)
    assert "The two passwords are not the same." in field_errors(html, "confirm_password")
    assert _shown_value(html, field) == clean_text(payload)
    if len(clean_text(payload)) > LIMITS[field]:
        assert f"Field cannot be longer than {LIMITS[field]} characters." in field_errors(
            html, field
        )
    else:
        assert field_errors(html, field) == []
    _assert_no_raw_markup(html)
    assert "\x00" not in html
    assert nothing_saved(app)


@pytest.mark.parametrize("name", PAYLOADS)
def test_setup_refuses_odd_text_as_an_email_address(app, client, name):
    payload = PAYLOADS[name]
    response = client.post("/setup", data=setup_data(email=payload))
    assert response.status_code == 200
    html = page(response)
    assert field_errors(html, "email")
    assert input_value(html, "email") == clean_text(payload)
    _assert_no_raw_markup(html)
    assert nothing_saved(app)


@pytest.mark.parametrize("name", PAYLOADS)
def test_setup_refuses_odd_text_as_a_phone_number(app, client, name):
    payload = PAYLOADS[name]
    response = client.post("/setup", data=setup_data(clinic_phone=payload))
    assert response.status_code == 200
    html = page(response)
    assert field_errors(html, "clinic_phone")
    assert input_value(html, "clinic_phone") == clean_text(payload)
    assert nothing_saved(app)


@pytest.mark.parametrize("name", SHORT_PAYLOADS)
def test_setup_saves_odd_but_valid_names_cleaned_and_shows_them_escaped(app, client, name):
    payload = PAYLOADS[name]
    response = client.post(
        "/setup", data=setup_data(clinic_name=payload, owner_name=payload + " owner")
    )
    assert response.status_code == 302, all_field_errors(page(response))
    with app.app_context():
        clinic = db.session.scalars(select(Clinic)).one()
        assert clinic.name == clean_text(payload)
        assert "\x00" not in clinic.name
        owner = db.session.scalars(select(User)).one()
        assert owner.full_name == clean_text(payload + " owner")
    html = page(client.get("/clients/"))
    assert escape(clean_text(payload)) in html
    _assert_no_raw_markup(html)


@pytest.mark.parametrize("name", SHORT_PAYLOADS)
def test_setup_takes_odd_passwords_as_typed(app, client, name):
    password = PAYLOADS[name] + " padded out"
    response = client.post(
        "/setup", data=setup_data(new_password=password, confirm_password=password)
    )
    assert response.status_code == 302
    client.post("/logout")
    assert sign_in_form(client, "olive@example.com", password).status_code == 302
    assert client.get("/clients/").status_code == 200


def test_setup_refuses_a_password_over_1024_characters(app, client):
    password = "p" * 1025
    response = client.post(
        "/setup", data=setup_data(new_password=password, confirm_password=password)
    )
    assert response.status_code == 200
    assert "Field cannot be longer than 1024 characters." in field_errors(
        page(response), "new_password"
    )
    assert nothing_saved(app)


@pytest.mark.parametrize("name", PAYLOADS)
def test_sign_in_with_odd_email_text(app, client, clinic_world, name):
    payload = PAYLOADS[name]
    response = sign_in_form(client, payload)
    assert response.status_code == 200
    html = page(response)
    assert input_value(html, "email") == clean_text(payload)
    if name == "long":
        assert "Field cannot be longer than 254 characters." in field_errors(html, "email")
    else:
        assert form_errors(html) == ["The email address or password is not right."]
    _assert_no_raw_markup(html)


@pytest.mark.parametrize("name", PAYLOADS)
def test_sign_in_with_odd_password_text(app, client, clinic_world, name):
    payload = PAYLOADS[name]
    response = sign_in_form(client, clinic_world.a.therapist_email, payload)
    assert response.status_code == 200
    html = page(response)
    if name == "long":
        assert field_errors(html, "password") == ["Field cannot be longer than 1024 characters."]
    else:
        assert form_errors(html) == ["The email address or password is not right."]
    assert payload not in html
    assert input_value(html, "email") == clinic_world.a.therapist_email


def test_sign_in_with_a_password_over_1024_characters(client, clinic_world):
    response = sign_in_form(client, clinic_world.a.therapist_email, "p" * 1025)
    assert response.status_code == 200
    assert "Field cannot be longer than 1024 characters." in field_errors(
        page(response), "password"
    )


@pytest.mark.parametrize(
    ("user_agent", "stored"),
    [
        ("evil\x00agent", "evilagent"),
        ("Mozilla/5.0 " + "X" * 2000, ("Mozilla/5.0 " + "X" * 2000)[:300]),
        ("agent \x01\x7f 🦵", "agent  🦵"),
        ("' OR 1=1 --", "' OR 1=1 --"),
    ],
)
def test_sign_in_with_an_odd_user_agent(app, client, clinic_world, user_agent, stored):
    response = sign_in_form(
        client, clinic_world.a.therapist_email, headers={"User-Agent": user_agent}
    )
    assert response.status_code == 302
    assert client.get("/clients/").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(LoginSession.user_agent)).one() == stored


@pytest.mark.parametrize("name", PAYLOADS)
def test_password_change_with_odd_current_password(app, client, clinic_world, name):
    sign_in_form(client, clinic_world.a.therapist_email)
    response = client.post(
        "/account/password",
        data={
            "current_password": PAYLOADS[name],
            "new_password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert response.status_code == 200
    html = page(response)
    if name == "long":
        assert field_errors(html, "current_password") == [
            "Field cannot be longer than 1024 characters."
        ]
    else:
        assert field_errors(html, "current_password") == ["This is not your current password."]
    assert PAYLOADS[name] not in html


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"email": ["a@example.com", "b@example.com"], "password": ["x", "y"]},
        {"unexpected": "field", "email": "", "password": ""},
    ],
)
def test_sign_in_with_odd_form_shapes(client, clinic_world, data: dict[str, Any]):
    response = client.post("/login", data=data)
    assert response.status_code == 200


def test_sign_in_with_a_json_body(client, clinic_world):
    response = client.post(
        "/login",
        json={"email": clinic_world.a.therapist_email, "password": factories.PASSWORD},
        csrf=False,
    )
    assert response.status_code == 400  # no form, so no CSRF token


def test_a_body_over_the_size_limit_is_refused_calmly(client, clinic_world):
    response = client.post("/login", data={"email": "a@example.com", "password": "x" * 3_000_000})
    assert response.status_code == 413
    assert "larger than the app accepts" in page(response)
