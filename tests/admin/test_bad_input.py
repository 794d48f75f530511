"""Hostile and odd input into the owner's forms: never a 500, the typing kept and escaped."""

from __future__ import annotations

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import select

from clinic.extensions import db
from clinic.forms import clean_text
from clinic.models import Clinic, User
from tests import factories
from tests.auth import count_rows, field_errors, input_value, page, sign_in_form, textarea_value
from tests.auth.test_bad_input import PAYLOADS, SHORT_PAYLOADS
from tests.conftest import ClinicTestClient


@pytest.fixture
def owner(app: Flask, clinic_world: factories.World) -> ClinicTestClient:
    """A browser signed in as clinic A's owner through the real form."""
    client: ClinicTestClient = app.test_client()  # type: ignore[assignment]
    assert sign_in_form(client, clinic_world.a.owner_email).status_code == 302
    return client


def _no_raw_markup(html: str) -> None:
    assert "<script>alert" not in html
    assert "<b onmouseover" not in html
    assert "\x00" not in html


@pytest.mark.parametrize("name", PAYLOADS)
def test_new_account_name_with_odd_text(app, owner, name):
    payload = PAYLOADS[name]
    before = count_rows(app, User)
    # A bad email sends the form back, so the name's handling is visible.
    response = owner.post(
        "/admin/users/new",
        data={"full_name": payload, "email": "not an email", "role": "therapist"},
    )
    assert response.status_code == 200
    html = page(response)
    assert field_errors(html, "email")
    assert input_value(html, "full_name") == clean_text(payload)
    if name == "long":
        assert "Field cannot be longer than 120 characters." in field_errors(html, "full_name")
    else:
        assert field_errors(html, "full_name") == []
    _no_raw_markup(html)
    assert count_rows(app, User) == before


@pytest.mark.parametrize("name", PAYLOADS)
def test_new_account_email_with_odd_text(app, owner, name):
    payload = PAYLOADS[name]
    before = count_rows(app, User)
    response = owner.post(
        "/admin/users/new", data={"full_name": "Nia", "email": payload, "role": "therapist"}
    )
    assert response.status_code == 200
    html = page(response)
    assert field_errors(html, "email")
    assert input_value(html, "email") == clean_text(payload)
    _no_raw_markup(html)
    assert count_rows(app, User) == before


@pytest.mark.parametrize("name", PAYLOADS)
def test_new_account_role_with_odd_text(app, owner, name):
    before = count_rows(app, User)
    response = owner.post(
        "/admin/users/new",
        data={"full_name": "Nia", "email": "nia@example.com", "role": PAYLOADS[name]},
    )
    assert response.status_code == 200
    assert field_errors(page(response), "role") == ["Not a valid choice."]
    assert count_rows(app, User) == before


@pytest.mark.parametrize("name", SHORT_PAYLOADS)
def test_new_account_with_an_odd_but_valid_name_is_saved_cleaned(app, owner, name):
    payload = PAYLOADS[name]
    response = owner.post(
        "/admin/users/new",
        data={"full_name": payload, "email": "nia@example.com", "role": "therapist"},
    )
    assert response.status_code == 200
    assert 'data-testid="one-time-password"' in page(response)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "nia@example.com")).one()
        assert user.full_name == clean_text(payload)
    html = page(owner.get("/admin/users"))
    assert str(escape(clean_text(payload))) in html
    _no_raw_markup(html)


@pytest.mark.parametrize("field", ["name", "address", "phone"])
@pytest.mark.parametrize("name", PAYLOADS)
def test_clinic_settings_with_odd_text(app, owner, clinic_world, field, name):
    payload = PAYLOADS[name]
    data = {
        "name": "Clinic Alpha",
        "address": "1 River Rd",
        "phone": "555 0100",
        "screening_valid_days": "30",
        "retention_years": "10",
        "version": "1",
    }
    data[field] = payload
    # A bad phone sends the form back whatever the field under test.
    if field != "phone":
        data["phone"] = "not a phone"
    response = owner.post("/admin/clinic", data=data)
    assert response.status_code == 200
    html = page(response)
    assert field_errors(html, "phone")
    shown = textarea_value(html, field) if field == "address" else input_value(html, field)
    assert shown == clean_text(payload)
    _no_raw_markup(html)
    with app.app_context():
        clinic = db.session.get_one(Clinic, clinic_world.a.clinic_id)
        assert (clinic.name, clinic.address, clinic.version) == ("Clinic Alpha", "1 River Rd", 1)


@pytest.mark.parametrize("name", SHORT_PAYLOADS)
def test_clinic_settings_save_odd_but_valid_text_cleaned(app, owner, clinic_world, name):
    payload = PAYLOADS[name]
    response = owner.post(
        "/admin/clinic",
        data={
            "name": payload,
            "address": payload,
            "phone": "555 0100",
            "screening_valid_days": "30",
            "retention_years": "10",
            "version": "1",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        clinic = db.session.get_one(Clinic, clinic_world.a.clinic_id)
        assert clinic.name == clean_text(payload)
        assert clinic.address == clean_text(payload)
    html = page(owner.get("/admin/clinic"))
    assert input_value(html, "name") == clean_text(payload)
    _no_raw_markup(html)


@pytest.mark.parametrize(
    "user_id",
    [
        "abc",
        "-1",
        "1.5",
        "%00",
        "0",
        "99999999999999999999999",
        "2147483648",
    ],
)
def test_odd_account_ids_in_the_address(owner, user_id):
    response = owner.post(f"/admin/users/{user_id}/deactivate")
    assert response.status_code == 404
