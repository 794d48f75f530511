"""Signing in and out through the real forms."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from clinic import create_app
from clinic.auth import operations as ops
from clinic.extensions import db
from clinic.models import LoginSession, Role, User
from tests import factories
from tests.auth import (
    field_errors,
    flashes,
    form_errors,
    input_value,
    load_user,
    location,
    open_sessions,
    page,
    sign_in_form,
)
from tests.conftest import make_test_config

GENERIC = "The email address or password is not right."


def test_passwords_are_stored_as_argon2id_hashes(app, clinic_world):
    user = load_user(app, clinic_world.a.therapist_id)
    assert user.password_hash.startswith("$argon2id$")
    assert factories.PASSWORD not in user.password_hash
    assert ops.verify_password(user.password_hash, factories.PASSWORD)
    assert not ops.verify_password(user.password_hash, factories.PASSWORD + " ")
    # Two hashes of the same password differ (salted).
    assert ops.hash_password("same password here") != ops.hash_password("same password here")


def test_the_app_hashes_with_argon2s_default_parameters(database_url):
    """The suite runs with the cheapest parameters; a real app never does."""
    app = create_app(make_test_config(database_url, ARGON2_PROFILE="default"))
    with app.app_context():
        stored = ops.hash_password("a long enough password")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_the_cheapest_parameters_are_refused_outside_the_test_suite(database_url):
    app = create_app(make_test_config(database_url, TESTING=False))
    with app.app_context(), pytest.raises(RuntimeError, match="test suite only"):
        ops.hash_password("a long enough password")


def test_login_page_shows_the_form(client, clinic_world):
    response = client.get("/login")
    assert response.status_code == 200
    html = page(response)
    assert 'name="email"' in html
    assert 'name="password"' in html
    assert 'name="csrf_token"' in html


def test_sign_in_opens_the_app_and_records_the_sign_in(app, client, clinic_world):
    response = sign_in_form(
        client, clinic_world.a.therapist_email, headers={"User-Agent": "pytest-browser/1.0"}
    )
    assert response.status_code == 302
    assert location(response) == "/"
    response = client.get("/clients/")
    assert response.status_code == 200
    assert "Tess Therapist Alpha" in page(response)
    with app.app_context():
        login_session = db.session.scalars(select(LoginSession)).one()
        assert login_session.user_id == clinic_world.a.therapist_id
        assert login_session.ended_at is None
        assert login_session.user_agent == "pytest-browser/1.0"
        assert login_session.remote_addr == "127.0.0.1"
        # Only a hash of the cookie's token is kept.
        with client.session_transaction() as session:
            token = session["sid"]
        assert token not in login_session.token_hash
        assert db.session.get_one(User, clinic_world.a.therapist_id).last_login_at is not None


def test_email_is_matched_without_regard_to_case_or_spaces(client, clinic_world):
    response = sign_in_form(client, "  THERAPIST-Alpha@Example.COM ")
    assert response.status_code == 302
    assert client.get("/clients/").status_code == 200


def test_wrong_password_gives_a_generic_message(app, client, clinic_world):
    response = sign_in_form(client, clinic_world.a.therapist_email, "not the password at all")
    assert response.status_code == 200
    html = page(response)
    assert form_errors(html) == [GENERIC]
    assert input_value(html, "email") == clinic_world.a.therapist_email
    assert "not the password at all" not in html
    assert open_sessions(app, clinic_world.a.therapist_id) == 0
    assert location(client.get("/clients/")).startswith("/login")


def test_unknown_email_gives_the_same_generic_message(app, client, clinic_world):
    response = sign_in_form(client, "nobody@example.com")
    assert response.status_code == 200
    assert form_errors(page(response)) == [GENERIC]
    assert location(client.get("/clients/")).startswith("/login")


def test_a_password_differing_only_in_case_is_wrong(client, clinic_world):
    response = sign_in_form(client, clinic_world.a.therapist_email, factories.PASSWORD.upper())
    assert response.status_code == 200
    assert form_errors(page(response)) == [GENERIC]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "", "password": "whatever it is"}, "email", "Enter your email address."),
        ({"email": "a@example.com", "password": ""}, "password", "Enter your password."),
        ({"email": "a@example.com"}, "password", "Enter your password."),
    ],
)
def test_missing_fields_get_a_message_beside_them(app, client, clinic_world, data, field, message):
    response = client.post("/login", data=data)
    assert response.status_code == 200
    assert message in field_errors(page(response), field)
    # Signing in saves nothing, so the summary does not talk about saving.
    assert "1 answer needs another look" in page(response)
    assert "Nothing was saved" not in page(response)


def test_deactivated_account_is_told_so_only_with_the_right_password(app, client, clinic_world):
    user_id = factories.make_user(
        app, clinic_world.a.clinic_id, email="gone@example.com", active=False
    )
    response = sign_in_form(client, "gone@example.com", "not the password at all")
    assert form_errors(page(response)) == [GENERIC]
    response = sign_in_form(client, "gone@example.com")
    assert response.status_code == 200
    assert "deactivated" in form_errors(page(response))[0]
    assert open_sessions(app, user_id) == 0
    assert location(client.get("/clients/")).startswith("/login")


def test_anonymous_visit_goes_to_login_and_back_after_signing_in(client, clinic_world):
    response = client.get("/clients/?q=ada")
    assert response.status_code == 302
    target = location(response)
    assert target.startswith("/login?next=")
    response = client.get(target)
    assert "Please sign in to continue." in flashes(page(response))
    response = client.post(
        target,
        data={"email": clinic_world.a.therapist_email, "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    assert location(response) == "/clients/?q=ada"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_sign_in_never_redirects_off_site(client, clinic_world, target):
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": clinic_world.a.therapist_email, "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    # Either home, or a path on this site that no browser reads as another host.
    target_sent = response.headers["Location"]
    parts = urlsplit(target_sent)
    assert (parts.scheme, parts.netloc) == ("", "")
    assert target_sent.startswith("/")
    assert not target_sent.startswith("//")
    assert "\\" not in target_sent
    assert not any(ord(character) < 0x20 for character in target_sent)


def test_signed_in_user_visiting_login_goes_home(client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    response = client.get("/login")
    assert response.status_code == 302
    assert location(response) == "/"


def test_home_is_the_clinic_overview_for_a_signed_in_user(client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    response = client.get("/")
    assert response.status_code == 200
    assert "active client" in response.get_data(as_text=True)


def test_logout_ends_the_sign_in_on_the_server(app, client, clinic_world):
    sign_in_form(client, clinic_world.a.owner_email)
    assert open_sessions(app, clinic_world.a.owner_id) == 1
    response = client.post("/logout")
    assert response.status_code == 302
    assert location(response) == "/login"
    assert "You are signed out." in flashes(page(client.get("/login")))
    assert open_sessions(app, clinic_world.a.owner_id) == 0
    with app.app_context():
        ended = db.session.scalars(select(LoginSession)).one()
        assert ended.ended_reason == "signed out"
    assert location(client.get("/clients/")).startswith("/login")


def test_signing_out_clears_what_the_browser_kept(client, clinic_world):
    sign_in_form(client, clinic_world.a.owner_email)
    response = client.post("/logout")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert response.headers["Cache-Control"] == "no-store"


def test_logout_needs_a_post(client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    assert client.get("/logout").status_code == 405
    assert client.get("/clients/").status_code == 200


def test_logout_without_a_csrf_token_keeps_the_sign_in(app, client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    response = client.post("/logout", csrf=False)
    assert response.status_code == 400
    assert open_sessions(app, clinic_world.a.therapist_id) == 1
    assert client.get("/clients/").status_code == 200


def test_each_sign_in_gets_its_own_server_record(app, clinic_world):
    first, second = app.test_client(), app.test_client()
    sign_in_form(first, clinic_world.a.therapist_email)
    sign_in_form(second, clinic_world.a.therapist_email)
    assert open_sessions(app, clinic_world.a.therapist_id) == 2
    first.post("/logout")
    assert open_sessions(app, clinic_world.a.therapist_id) == 1
    assert location(first.get("/clients/")).startswith("/login")
    assert second.get("/clients/").status_code == 200


def test_sign_in_replaces_whatever_the_session_held_before(client, clinic_world):
    with client.session_transaction() as session:
        session["sid"] = "planted-by-an-attacker"
        session["leftover"] = "from before"
    sign_in_form(client, clinic_world.a.therapist_email)
    with client.session_transaction() as session:
        assert session["sid"] != "planted-by-an-attacker"
        assert "leftover" not in session


def test_a_made_up_session_token_opens_nothing(app, client, clinic_world):
    with client.session_transaction() as session:
        session["sid"] = "made-up-token"
        session["_user_id"] = str(clinic_world.a.owner_id)
    assert location(client.get("/clients/")).startswith("/login")


def test_a_session_token_of_another_user_opens_nothing(app, client, clinic_world):
    factories.sign_in(app, client, clinic_world.a.therapist_id)
    assert client.get("/clients/").status_code == 200
    with client.session_transaction() as session:
        session["_user_id"] = str(clinic_world.a.owner_id)
    assert location(client.get("/admin/users")).startswith("/login")


def test_an_owner_and_a_therapist_sign_in_with_their_roles(app, clinic_world):
    owner, therapist = app.test_client(), app.test_client()
    sign_in_form(owner, clinic_world.a.owner_email)
    sign_in_form(therapist, clinic_world.a.therapist_email)
    assert owner.get("/admin/users").status_code == 200
    assert therapist.get("/admin/users").status_code == 403
    assert load_user(app, clinic_world.a.owner_id).role is Role.OWNER
