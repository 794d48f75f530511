"""The owner's account pages: add, deactivate, reactivate and reset; and who may use them."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.auth import operations as ops
from clinic.extensions import db
from clinic.models import AuditAction, Client, LoginSession, Role, User
from tests import factories
from tests.audit import entries, new_entries
from tests.auth import (
    count_rows,
    field_errors,
    flashes,
    form_errors,
    input_value,
    load_user,
    location,
    one_time_password,
    open_sessions,
    page,
    put_session_cookie,
    session_cookie,
    sign_in_form,
)
from tests.conftest import ClinicTestClient

NEW_PASSWORD = "the newcomer's own password"


@pytest.fixture
def owner(app: Flask, clinic_world: factories.World) -> ClinicTestClient:
    """A browser signed in as clinic A's owner through the real form."""
    client: ClinicTestClient = app.test_client()  # type: ignore[assignment]
    assert sign_in_form(client, clinic_world.a.owner_email).status_code == 302
    return client


@pytest.fixture
def therapist(app: Flask, clinic_world: factories.World) -> ClinicTestClient:
    """A browser signed in as clinic A's therapist through the real form."""
    client: ClinicTestClient = app.test_client()  # type: ignore[assignment]
    assert sign_in_form(client, clinic_world.a.therapist_email).status_code == 302
    return client


def add_account(owner: ClinicTestClient, **overrides: Any) -> Any:
    data = {"full_name": "Nia Newcomer", "email": "nia@example.com", "role": "therapist"}
    data.update(overrides)
    return owner.post("/admin/users/new", data=data)


def user_by_email(app: Flask, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


# Who may use the pages.


def admin_requests(world: factories.World) -> list[tuple[str, str]]:
    target = world.a.owner_id
    return [
        ("GET", "/admin/users"),
        ("GET", "/admin/users/new"),
        ("POST", "/admin/users/new"),
        ("GET", "/admin/clinic"),
        ("POST", "/admin/clinic"),
        ("POST", f"/admin/users/{target}/reset-password"),
        ("POST", f"/admin/users/{target}/deactivate"),
        ("POST", f"/admin/users/{target}/reactivate"),
    ]


def test_a_therapist_is_refused_every_admin_page(app, therapist, clinic_world):
    owner_before = load_user(app, clinic_world.a.owner_id)
    users_before = count_rows(app, User)
    for method, url in admin_requests(clinic_world):
        data = {
            "full_name": "Sneaky",
            "email": "sneaky@example.com",
            "role": "owner",
            "name": "Taken Over",
            "version": "1",
        }
        response = therapist.post(url, data=data) if method == "POST" else therapist.get(url)
        assert response.status_code == 403, (method, url)
        assert "Not allowed" in page(response)
    owner_after = load_user(app, clinic_world.a.owner_id)
    assert owner_after.active is True
    assert owner_after.password_hash == owner_before.password_hash
    assert owner_after.clinic.name == "Clinic Alpha"
    assert owner_after.must_change_password is False
    assert count_rows(app, User) == users_before


def test_a_therapist_sees_no_admin_links(therapist):
    html = page(therapist.get("/clients/"))
    assert "/admin/users" not in html
    assert "/admin/clinic" not in html


def test_an_owner_sees_the_admin_links(owner):
    html = page(owner.get("/clients/"))
    assert 'href="/admin/users"' in html
    assert 'href="/admin/clinic"' in html


def test_another_clinics_account_is_not_found(app, owner, clinic_world):
    beta_therapist = clinic_world.b.therapist_id
    before = load_user(app, beta_therapist)
    for action in ("reset-password", "deactivate", "reactivate"):
        response = owner.post(f"/admin/users/{beta_therapist}/{action}")
        assert response.status_code == 404, action
    for action in ("reset-password", "deactivate", "reactivate"):
        assert owner.post(f"/admin/users/999999/{action}").status_code == 404
    after = load_user(app, beta_therapist)
    assert after.active is True
    assert after.password_hash == before.password_hash
    assert after.must_change_password is False
    assert open_sessions(app, beta_therapist) == 0
    beta = app.test_client()
    assert sign_in_form(beta, clinic_world.b.therapist_email).status_code == 302


def test_the_list_shows_this_clinics_accounts_only(owner, clinic_world):
    response = owner.get("/admin/users")
    assert response.status_code == 200
    html = page(response)
    assert clinic_world.a.owner_email.lower() in html
    assert clinic_world.a.therapist_email.lower() in html
    assert clinic_world.b.owner_email.lower() not in html
    assert clinic_world.b.therapist_email.lower() not in html
    assert "Owen Owner Alpha" in html
    assert "Tess Therapist Alpha" in html


# Adding an account.


def test_adding_an_account_shows_its_one_time_password_once(app, owner, clinic_world):
    assert owner.get("/admin/users/new").status_code == 200
    response = add_account(owner, email="Nia@Example.com")
    assert response.status_code == 200
    html = page(response)
    password = one_time_password(html)
    assert len(password) >= 12
    assert "Nia Newcomer" in html

    user = user_by_email(app, "nia@example.com")
    assert user is not None
    assert user.clinic_id == clinic_world.a.clinic_id
    assert user.role is Role.THERAPIST
    assert user.must_change_password is True
    assert user.active is True
    assert user.password_hash.startswith("$argon2id$")
    assert ops.verify_password(user.password_hash, password)

    # It is not in the session cookie, and no later page shows it.
    with owner.session_transaction() as session:
        assert password not in repr(dict(session))
    listing = page(owner.get("/admin/users"))
    assert password not in listing
    assert "Waiting for first sign-in" in listing
    assert password not in page(owner.get("/admin/users/new"))


def test_a_newcomer_signs_in_with_the_one_time_password_and_must_change_it(app, owner):
    password = one_time_password(page(add_account(owner)))
    newcomer = app.test_client()
    response = sign_in_form(newcomer, "nia@example.com", password)
    assert response.status_code == 302

    for path in ("/", "/clients/", "/clients/new", "/admin/users"):
        assert location(newcomer.get(path)) == "/account/password", path
    assert location(newcomer.post("/clients/new", data=factories.intake_form_data())) == (
        "/account/password"
    )

    response = newcomer.post(
        "/account/password",
        data={
            "current_password": password,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert newcomer.get("/clients/").status_code == 200
    assert newcomer.get("/admin/users").status_code == 403  # a therapist
    user = user_by_email(app, "nia@example.com")
    assert user is not None
    assert user.must_change_password is False
    assert "Waiting for first sign-in" not in page(owner.get("/admin/users"))
    # The one-time password is spent.
    again = app.test_client()
    assert sign_in_form(again, "nia@example.com", password).status_code == 200


def test_an_owner_can_add_another_owner(app, owner):
    password = one_time_password(page(add_account(owner, role="owner")))
    user = user_by_email(app, "nia@example.com")
    assert user is not None
    assert user.role is Role.OWNER
    newcomer = app.test_client()
    sign_in_form(newcomer, "nia@example.com", password)
    newcomer.post(
        "/account/password",
        data={
            "current_password": password,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert newcomer.get("/admin/users").status_code == 200


@pytest.mark.parametrize(
    "email",
    ["therapist-alpha@example.com", "THERAPIST-ALPHA@EXAMPLE.COM", " owner-beta@example.com "],
)
def test_a_duplicate_email_is_refused_beside_the_field(app, owner, email):
    before = count_rows(app, User)
    response = add_account(owner, email=email, full_name="Dup Licate")
    assert response.status_code == 200
    html = page(response)
    assert "An account with this email address exists already." in field_errors(html, "email")
    assert input_value(html, "full_name") == "Dup Licate"
    assert input_value(html, "email") == email.strip()
    assert 'data-testid="one-time-password"' not in html
    assert count_rows(app, User) == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"full_name": ""}, "full_name", "Enter the person's name."),
        ({"email": ""}, "email", "Enter an email address."),
        (
            {"email": "nia at example"},
            "email",
            "Enter a valid email address, like name@example.com.",
        ),
        ({"role": "admin"}, "role", "Not a valid choice."),
        ({"full_name": "N" * 121}, "full_name", "Field cannot be longer than 120 characters."),
    ],
)
def test_a_new_account_with_bad_fields_is_refused(app, owner, overrides, field, message):
    before = count_rows(app, User)
    response = add_account(owner, **overrides)
    assert response.status_code == 200
    html = page(response)
    assert message in field_errors(html, field)
    assert form_errors(html)
    assert count_rows(app, User) == before


def test_a_missing_role_is_refused(app, owner):
    before = count_rows(app, User)
    response = owner.post(
        "/admin/users/new", data={"full_name": "Nia Newcomer", "email": "nia@example.com"}
    )
    assert response.status_code == 200
    assert field_errors(page(response), "role")
    assert count_rows(app, User) == before


def test_adding_an_account_without_a_csrf_token_saves_nothing(app, owner):
    before = count_rows(app, User)
    response = owner.post(
        "/admin/users/new",
        data={"full_name": "Nia", "email": "nia@example.com", "role": "therapist"},
        csrf=False,
    )
    assert response.status_code == 400
    assert count_rows(app, User) == before


# Deactivating and reactivating.


def test_deactivating_an_account_ends_its_sign_ins_and_keeps_the_row(
    app, owner, therapist, clinic_world
):
    old_cookie = session_cookie(therapist)
    target = clinic_world.a.therapist_id
    response = owner.post(f"/admin/users/{target}/deactivate")
    assert response.status_code == 302
    assert location(response) == "/admin/users"
    listing = page(owner.get("/admin/users"))
    assert "Tess Therapist Alpha's account was deactivated." in flashes(listing)
    assert "Deactivated" in listing

    user = load_user(app, target)
    assert user.active is False
    assert count_rows(app, User, User.id == target) == 1
    assert open_sessions(app, target) == 0
    with app.app_context():
        reasons = db.session.scalars(
            select(LoginSession.ended_reason).where(LoginSession.user_id == target)
        ).all()
        assert reasons == ["deactivated"]

    # Their browser is signed out, the old cookie opens nothing, and signing in fails.
    assert location(therapist.get("/clients/")).startswith("/login")
    stale = app.test_client()
    put_session_cookie(stale, old_cookie)
    assert location(stale.get("/clients/")).startswith("/login")
    response = sign_in_form(app.test_client(), clinic_world.a.therapist_email)
    assert response.status_code == 200
    assert "deactivated" in form_errors(page(response))[0]
    # The client they recorded is still there.
    assert count_rows(app, Client, Client.id == clinic_world.a.client_id) == 1


def test_reactivating_lets_the_account_sign_in_again(app, owner, clinic_world):
    target = clinic_world.a.therapist_id
    owner.post(f"/admin/users/{target}/deactivate")
    response = owner.post(f"/admin/users/{target}/reactivate")
    assert response.status_code == 302
    assert "Tess Therapist Alpha's account was reactivated." in flashes(
        page(owner.get("/admin/users"))
    )
    assert load_user(app, target).active is True
    client = app.test_client()
    assert sign_in_form(client, clinic_world.a.therapist_email).status_code == 302
    assert client.get("/clients/").status_code == 200


def test_an_owner_cannot_deactivate_themselves(app, owner, clinic_world):
    response = owner.post(f"/admin/users/{clinic_world.a.owner_id}/deactivate")
    assert response.status_code == 302
    html = page(owner.get("/admin/users"))
    assert "You cannot deactivate your own account." in flashes(html)
    assert load_user(app, clinic_world.a.owner_id).active is True
    assert open_sessions(app, clinic_world.a.owner_id) == 1
    assert owner.get("/admin/users").status_code == 200


def test_an_owner_can_deactivate_another_owner(app, owner, clinic_world):
    other_id = factories.make_user(
        app, clinic_world.a.clinic_id, email="co-owner@example.com", role=Role.OWNER
    )
    owner.post(f"/admin/users/{other_id}/deactivate")
    assert load_user(app, other_id).active is False


def test_deactivating_without_a_csrf_token_changes_nothing(app, owner, therapist, clinic_world):
    target = clinic_world.a.therapist_id
    response = owner.post(f"/admin/users/{target}/deactivate", csrf=False)
    assert response.status_code == 400
    assert load_user(app, target).active is True
    assert therapist.get("/clients/").status_code == 200


def test_the_list_offers_no_actions_on_your_own_account(app, owner, clinic_world):
    html = page(owner.get("/admin/users"))
    assert f"/admin/users/{clinic_world.a.owner_id}/" not in html
    assert f"/admin/users/{clinic_world.a.therapist_id}/deactivate" in html
    assert f"/admin/users/{clinic_world.a.therapist_id}/reset-password" in html


# Resetting a password.


def test_resetting_a_password_gives_a_one_time_password_and_ends_sign_ins(
    app, owner, therapist, clinic_world
):
    target = clinic_world.a.therapist_id
    old_cookie = session_cookie(therapist)
    response = owner.post(f"/admin/users/{target}/reset-password")
    assert response.status_code == 200
    html = page(response)
    assert "Password reset" in html
    password = one_time_password(html)
    assert password not in page(owner.get("/admin/users"))

    user = load_user(app, target)
    assert user.must_change_password is True
    assert ops.verify_password(user.password_hash, password)
    assert open_sessions(app, target) == 0

    assert location(therapist.get("/clients/")).startswith("/login")
    stale = app.test_client()
    put_session_cookie(stale, old_cookie)
    assert location(stale.get("/clients/")).startswith("/login")

    # The old password fails; the one-time one works and leads to the password page.
    client = app.test_client()
    assert sign_in_form(client, clinic_world.a.therapist_email).status_code == 200
    assert sign_in_form(client, clinic_world.a.therapist_email, password).status_code == 302
    assert location(client.get("/clients/")) == "/account/password"


def test_an_owner_cannot_reset_their_own_password_from_the_list(app, owner, clinic_world):
    # Changing your own password asks for the current one; a reset must not skip that.
    before = load_user(app, clinic_world.a.owner_id)
    response = owner.post(f"/admin/users/{clinic_world.a.owner_id}/reset-password")
    assert response.status_code == 302
    assert 'data-testid="one-time-password"' not in page(response)
    after = load_user(app, clinic_world.a.owner_id)
    assert after.password_hash == before.password_hash
    assert after.must_change_password is False
    assert owner.get("/admin/users").status_code == 200


def test_resetting_without_a_csrf_token_changes_nothing(app, owner, clinic_world):
    target = clinic_world.a.therapist_id
    before = load_user(app, target)
    response = owner.post(f"/admin/users/{target}/reset-password", csrf=False)
    assert response.status_code == 400
    assert load_user(app, target).password_hash == before.password_hash


@pytest.mark.parametrize("action", ["reset-password", "deactivate", "reactivate"])
def test_account_actions_need_a_post(owner, clinic_world, action):
    response = owner.get(f"/admin/users/{clinic_world.a.therapist_id}/{action}")
    assert response.status_code == 405


# The audit trail.


def test_each_account_change_is_on_file_as_security_with_the_account(app, owner, clinic_world):
    a = clinic_world.a
    before = entries(app)
    assert add_account(owner).status_code == 200
    newcomer = user_by_email(app, "nia@example.com")
    assert newcomer is not None
    for action in ("reset-password", "deactivate", "reactivate"):
        assert owner.post(f"/admin/users/{newcomer.id}/{action}").status_code in (200, 302)
    assert [
        (e.action, e.record_type, e.record_id, e.user_id, e.summary)
        for e in new_entries(app, before)
    ] == [
        (AuditAction.SECURITY, "user", newcomer.id, a.owner_id, summary)
        for summary in (
            "Opened an account with a one-time password",
            "Reset the password to a one-time password",
            "Deactivated the account",
            "Reactivated the account",
        )
    ]


def test_refused_account_changes_leave_no_entry(app, owner, clinic_world):
    a = clinic_world.a
    before = entries(app)
    assert add_account(owner, email=clinic_world.b.owner_email).status_code == 200
    assert owner.post(f"/admin/users/{a.owner_id}/deactivate").status_code == 302
    assert owner.post(f"/admin/users/{a.owner_id}/reset-password").status_code == 302
    assert owner.post(f"/admin/users/{a.owner_id}/reset-two-step").status_code == 302
    assert new_entries(app, before) == []
