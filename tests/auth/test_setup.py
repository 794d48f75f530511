"""First run: every page leads to setup until an account exists; then setup is gone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import Clinic, LoginSession, Role, User
from tests import factories
from tests.auth import (
    field_errors,
    flashes,
    form_errors,
    input_value,
    location,
    page,
    textarea_value,
)

PASSWORD = "a long enough password"


def setup_data(**overrides: Any) -> dict[str, Any]:
    """Return what the setup form posts for a valid clinic and owner."""
    data: dict[str, Any] = {
        "clinic_name": "Kneecap Clinic",
        "clinic_address": "4 Patella Lane\nKneeton",
        "clinic_phone": "+44 (0)20 7946-0000",
        "owner_name": "Olive Owner",
        "email": "Olive@Example.com",
        "new_password": PASSWORD,
        "confirm_password": PASSWORD,
    }
    data.update(overrides)
    return data


def nothing_saved(app: Any) -> bool:
    with app.app_context():
        return (
            db.session.scalar(select(Clinic.id).limit(1)) is None
            and db.session.scalar(select(User.id).limit(1)) is None
        )


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/clients/",
        "/clients/new",
        "/clients/1",
        "/login",
        "/account/password",
        "/admin/users",
        "/admin/clinic",
        "/some-unknown-url",
        "/login?next=/clients/",
    ],
)
def test_every_page_leads_to_setup_before_any_account(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert location(response) == "/setup"


@pytest.mark.parametrize("path", ["/login", "/logout", "/clients/new", "/admin/users/new"])
def test_posts_lead_to_setup_before_any_account(app, client, path):
    response = client.post(path, data={"email": "x@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert location(response) == "/setup"
    assert nothing_saved(app)


def test_static_files_are_served_before_setup(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    response.close()


def test_setup_page_shows_the_form(client):
    response = client.get("/setup")
    assert response.status_code == 200
    html = page(response)
    assert "Set up your clinic" in html
    for name in ("clinic_name", "clinic_phone", "owner_name", "email", "new_password"):
        assert f'name="{name}"' in html
    assert 'name="clinic_address"' in html


def test_setup_creates_the_clinic_and_signs_the_owner_in(app, client):
    response = client.post("/setup", data=setup_data())
    assert response.status_code == 302
    # Led to set up two-step sign-in first, which the owner may put off ("Later").
    assert location(response) == "/account/two-step"

    with app.app_context():
        clinic = db.session.scalars(select(Clinic)).one()
        assert clinic.name == "Kneecap Clinic"
        assert clinic.address == "4 Patella Lane\nKneeton"
        assert clinic.phone == "+44 (0)20 7946-0000"
        assert clinic.is_demo is False
        owner = db.session.scalars(select(User)).one()
        assert owner.clinic_id == clinic.id
        assert owner.role is Role.OWNER
        assert owner.full_name == "Olive Owner"
        assert owner.email == "olive@example.com"
        assert owner.password_hash.startswith("$argon2id$")
        assert PASSWORD not in owner.password_hash
        assert owner.must_change_password is False
        assert owner.active is True
        login_session = db.session.scalars(select(LoginSession)).one()
        assert login_session.user_id == owner.id
        assert login_session.ended_at is None

    # Signed in: the client list opens, with the clinic's name and a welcome.
    response = client.get("/clients/")
    assert response.status_code == 200
    html = page(response)
    assert "Kneecap Clinic" in html
    assert "Olive Owner" in html
    assert any(
        message.startswith("Kneecap Clinic is set up. Welcome, Olive Owner.")
        for message in flashes(html)
    )
    # The owner can manage the clinic straight away.
    assert client.get("/admin/users").status_code == 200


def test_the_new_owner_can_sign_in_again(app, client):
    client.post("/setup", data=setup_data())
    client.post("/logout")
    assert client.get("/clients/").status_code == 302
    response = client.post("/login", data={"email": "olive@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/clients/").status_code == 200


def test_address_and_phone_are_optional(app, client):
    response = client.post("/setup", data=setup_data(clinic_address="", clinic_phone=""))
    assert response.status_code == 302
    with app.app_context():
        clinic = db.session.scalars(select(Clinic)).one()
        assert (clinic.address, clinic.phone) == ("", "")


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("clinic_name", "Enter the clinic's name."),
        ("owner_name", "Enter your name."),
        ("email", "Enter your email address."),
        ("new_password", "Choose a password."),
        ("confirm_password", "Type the password a second time."),
    ],
)
def test_setup_refuses_a_missing_field(app, client, field, message):
    data = setup_data(**{field: ""})
    response = client.post("/setup", data=data)
    assert response.status_code == 200
    html = page(response)
    assert message in field_errors(html, field)
    assert form_errors(html)  # the summary at the top points to the fields
    # What was typed is kept (passwords are never sent back).
    if field != "clinic_name":
        assert input_value(html, "clinic_name") == "Kneecap Clinic"
    if field != "owner_name":
        assert input_value(html, "owner_name") == "Olive Owner"
    if field != "email":
        assert input_value(html, "email") == "Olive@Example.com"
    assert textarea_value(html, "clinic_address") == "4 Patella Lane\nKneeton"
    assert PASSWORD not in html
    assert nothing_saved(app)


def test_setup_refuses_a_whitespace_only_name(app, client):
    response = client.post("/setup", data=setup_data(clinic_name="   \t  "))
    assert response.status_code == 200
    assert "Enter the clinic's name." in field_errors(page(response), "clinic_name")
    assert nothing_saved(app)


@pytest.mark.parametrize("password", ["tiny-pass", "eleven char", "x" * 11, "ünïcödé 🦵🦵"])
def test_setup_refuses_a_password_under_12_characters(app, client, password):
    response = client.post(
        "/setup", data=setup_data(new_password=password, confirm_password=password)
    )
    assert response.status_code == 200
    html = page(response)
    assert "Use at least 12 characters." in field_errors(html, "new_password")
    assert not input_value(html, "new_password")
    assert password not in html
    assert input_value(html, "email") == "Olive@Example.com"
    assert nothing_saved(app)


def test_setup_accepts_a_password_of_exactly_12_characters(app, client):
    password = "twelve chars"
    assert len(password) == 12
    response = client.post(
        "/setup", data=setup_data(new_password=password, confirm_password=password)
    )
    assert response.status_code == 302
    assert not nothing_saved(app)


def test_setup_refuses_mismatched_passwords(app, client):
    response = client.post("/setup", data=setup_data(confirm_password="a different long password"))
    assert response.status_code == 200
    html = page(response)
    assert "The two passwords are not the same." in field_errors(html, "confirm_password")
    assert input_value(html, "clinic_name") == "Kneecap Clinic"
    assert PASSWORD not in html
    assert nothing_saved(app)


@pytest.mark.parametrize(
    "email", ["not-an-email", "olive@", "@example.com", "olive example.com", "olive@@x.com"]
)
def test_setup_refuses_a_bad_email_address(app, client, email):
    response = client.post("/setup", data=setup_data(email=email))
    assert response.status_code == 200
    html = page(response)
    assert "Enter a valid email address, like name@example.com." in field_errors(html, "email")
    assert input_value(html, "email") == email
    assert nothing_saved(app)


@pytest.mark.parametrize("phone", ["call me maybe", "12", "555-0100 ext. <b>7</b>"])
def test_setup_refuses_a_bad_phone_number(app, client, phone):
    response = client.post("/setup", data=setup_data(clinic_phone=phone))
    assert response.status_code == 200
    html = page(response)
    assert field_errors(html, "clinic_phone")
    assert input_value(html, "clinic_phone") == phone
    assert nothing_saved(app)


@pytest.mark.parametrize(
    ("field", "limit"),
    [("clinic_name", 120), ("clinic_address", 300), ("owner_name", 120), ("email", 254)],
)
def test_setup_refuses_text_over_the_length_limit(app, client, field, limit):
    text = "a" * (limit + 1) if field != "email" else "a" * 250 + "@example.com"
    response = client.post("/setup", data=setup_data(**{field: text}))
    assert response.status_code == 200
    html = page(response)
    assert f"Field cannot be longer than {limit} characters." in field_errors(html, field)
    assert nothing_saved(app)


def test_setup_without_a_csrf_token_saves_nothing(app, client):
    response = client.post("/setup", data=setup_data(), csrf=False)
    assert response.status_code == 400
    assert "nothing was saved" in page(response)
    assert nothing_saved(app)


def test_setup_is_gone_once_it_has_run(app, client):
    client.post("/setup", data=setup_data())
    # Signed in as the owner.
    assert client.get("/setup").status_code == 404
    response = client.post("/setup", data=setup_data(email="second@example.com"))
    assert response.status_code == 404
    # Signed out, from another browser.
    other = app.test_client()
    assert other.get("/setup").status_code == 404
    response = other.post("/setup", data=setup_data(email="third@example.com"))
    assert response.status_code == 404
    assert other.get("/clients/").status_code == 302
    assert location(other.get("/clients/")).startswith("/login")
    with app.app_context():
        assert len(db.session.scalars(select(Clinic)).all()) == 1
        assert len(db.session.scalars(select(User)).all()) == 1


def test_setup_is_gone_when_an_account_was_made_another_way(app, client):
    # For example with `flask clinic create-user`, after the app started.
    assert location(client.get("/login")) == "/setup"
    clinic_id = factories.make_clinic(app)
    factories.make_user(app, clinic_id, role=Role.OWNER)
    assert client.get("/setup").status_code == 404
    assert client.get("/login").status_code == 200


def test_setup_is_gone_when_only_a_deactivated_account_exists(app, client):
    clinic_id = factories.make_clinic(app)
    factories.make_user(app, clinic_id, role=Role.OWNER, active=False)
    assert client.get("/setup").status_code == 404
