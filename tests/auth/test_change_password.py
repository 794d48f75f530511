"""Changing your own password, and the forced change after a one-time password."""

from __future__ import annotations

from typing import Any

import pytest

from clinic.auth import operations as ops
from clinic.models import Role
from tests import factories
from tests.auth import (
    field_errors,
    flashes,
    load_user,
    location,
    open_sessions,
    page,
    sign_in_form,
)

NEW_PASSWORD = "my very own password"


def change_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "current_password": factories.PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


@pytest.fixture
def therapist(app, client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    return clinic_world.a.therapist_id


@pytest.mark.parametrize("who", ["owner", "therapist"])
def test_everyone_can_change_their_own_password(app, clinic_world, who):
    client = app.test_client()
    email = getattr(clinic_world.a, f"{who}_email")
    user_id = getattr(clinic_world.a, f"{who}_id")
    sign_in_form(client, email)
    response = client.get("/account/password")
    assert response.status_code == 200
    assert "Change your password" in page(response)

    old_hash = load_user(app, user_id).password_hash
    response = client.post("/account/password", data=change_data())
    assert response.status_code == 302
    assert location(response) == "/"
    user = load_user(app, user_id)
    assert user.password_hash != old_hash
    assert user.password_hash.startswith("$argon2id$")
    assert ops.verify_password(user.password_hash, NEW_PASSWORD)
    assert not ops.verify_password(user.password_hash, factories.PASSWORD)


def _refused(app, client, user_id: int, data: dict[str, Any]) -> str:
    old_hash = load_user(app, user_id).password_hash
    response = client.post("/account/password", data=data)
    assert response.status_code == 200
    assert load_user(app, user_id).password_hash == old_hash
    assert open_sessions(app, user_id) == 1
    html = page(response)
    for secret in {data.get("current_password"), data.get("new_password")} - {None, ""}:
        assert secret not in html
    return html


def test_the_current_password_must_be_right(app, client, therapist):
    html = _refused(app, client, therapist, change_data(current_password="a wrong password"))
    assert "This is not your current password." in field_errors(html, "current_password")


def test_the_current_password_is_required(app, client, therapist):
    html = _refused(app, client, therapist, change_data(current_password=""))
    assert "Enter your current password." in field_errors(html, "current_password")


def test_the_new_password_needs_12_characters(app, client, therapist):
    html = _refused(
        app, client, therapist, change_data(new_password="tiny-pass", confirm_password="tiny-pass")
    )
    assert "Use at least 12 characters." in field_errors(html, "new_password")


def test_the_new_password_must_be_typed_twice_alike(app, client, therapist):
    html = _refused(app, client, therapist, change_data(confirm_password="something else!"))
    assert "The two passwords are not the same." in field_errors(html, "confirm_password")


def test_the_new_password_must_differ_from_the_current_one(app, client, therapist):
    html = _refused(
        app,
        client,
        therapist,
        change_data(new_password=factories.PASSWORD, confirm_password=factories.PASSWORD),
    )
    assert "Choose a password different from the current one." in field_errors(html, "new_password")


def test_a_password_over_1024_characters_is_refused(app, client, therapist):
    long = "p" * 1025
    html = _refused(app, client, therapist, change_data(new_password=long, confirm_password=long))
    assert field_errors(html, "new_password") == ["Field cannot be longer than 1024 characters."]


def test_passwords_are_taken_exactly_as_typed(app, client, therapist, clinic_world):
    # Spaces at the ends and control characters are part of a password, not noise.
    password = "  spaced\x00out pass\t "
    response = client.post(
        "/account/password", data=change_data(new_password=password, confirm_password=password)
    )
    assert response.status_code == 302
    other = app.test_client()
    assert sign_in_form(other, clinic_world.a.therapist_email, password.strip()).status_code == 200
    assert sign_in_form(other, clinic_world.a.therapist_email, password).status_code == 302


# The forced change after a one-time password.


@pytest.fixture
def newcomer(app, clinic_world):
    user_id = factories.make_user(
        app,
        clinic_world.a.clinic_id,
        email="newcomer@example.com",
        full_name="Nia Newcomer",
        role=Role.OWNER,
        password="one-time-pass-1234",
        must_change_password=True,
    )
    client = app.test_client()
    response = sign_in_form(client, "newcomer@example.com", "one-time-pass-1234")
    assert response.status_code == 302
    return client, user_id


@pytest.mark.parametrize(
    "path",
    ["/", "/clients/", "/clients/new", "/admin/users", "/admin/clinic", "/admin/users/new"],
)
def test_a_one_time_password_leads_every_page_to_the_password_page(newcomer, path):
    client, _ = newcomer
    response = client.get(path)
    assert response.status_code == 302
    assert location(response) == "/account/password"


def test_a_one_time_password_blocks_posts_too(app, newcomer):
    client, _ = newcomer
    response = client.post("/admin/users/new", data={"full_name": "X", "email": "x@example.com"})
    assert location(response) == "/account/password"
    response = client.post("/clients/new", data=factories.intake_form_data())
    assert location(response) == "/account/password"
    assert load_user(app, newcomer[1]).must_change_password is True


def test_the_forced_password_page_explains_itself(newcomer):
    client, _ = newcomer
    client.get("/clients/")
    response = client.get("/account/password")
    assert response.status_code == 200
    html = page(response)
    assert "Choose your own password" in html
    assert "Choose your own password before you carry on." in flashes(html)
    # The main navigation is hidden until the password is changed.
    assert 'aria-label="Main"' not in html


def test_a_newcomer_can_sign_out_before_changing(app, newcomer):
    client, user_id = newcomer
    response = client.post("/logout")
    assert location(response) == "/login"
    assert open_sessions(app, user_id) == 0


def test_after_the_forced_change_everything_opens(app, newcomer):
    client, user_id = newcomer
    response = client.post(
        "/account/password", data=change_data(current_password="one-time-pass-1234")
    )
    assert response.status_code == 302
    user = load_user(app, user_id)
    assert user.must_change_password is False
    assert ops.verify_password(user.password_hash, NEW_PASSWORD)
    assert client.get("/clients/").status_code == 200
    assert client.get("/admin/users").status_code == 200
    # And the one-time password no longer works.
    other = app.test_client()
    assert sign_in_form(other, "newcomer@example.com", "one-time-pass-1234").status_code == 200
    assert sign_in_form(other, "newcomer@example.com", NEW_PASSWORD).status_code == 302
    assert other.get("/clients/").status_code == 200


def test_the_forced_change_refuses_keeping_the_one_time_password(app, newcomer):
    client, user_id = newcomer
    response = client.post(
        "/account/password",
        data=change_data(
            current_password="one-time-pass-1234",
            new_password="one-time-pass-1234",
            confirm_password="one-time-pass-1234",
        ),
    )
    assert response.status_code == 200
    assert load_user(app, user_id).must_change_password is True
    assert location(client.get("/clients/")) == "/account/password"
