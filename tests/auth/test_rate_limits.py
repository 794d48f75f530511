"""Failed sign-ins are limited per account and per network address."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from clinic.config import DefaultConfig
from tests import factories
from tests.auth import form_errors, input_value, location, open_sessions, page, sign_in_form

PAUSED = "Too many failed sign-in attempts."
WRONG = "not the password at all"
OTHER_ADDRESS = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture
def limited(make_app: Any) -> tuple[Flask, factories.World]:
    """An app allowing 3 failed sign-ins per account and 5 per address, with two clinics."""
    app = make_app(
        LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes", LOGIN_LIMIT_PER_ADDRESS="5 per 15 minutes"
    )
    return app, factories.make_world(app)


def assert_paused(response: Any) -> None:
    assert response.status_code == 429
    errors = form_errors(page(response))
    assert len(errors) == 1
    assert errors[0].startswith(PAUSED)
    assert "wait 15 minutes" in errors[0]


def test_the_default_limits():
    assert DefaultConfig.LOGIN_LIMIT_PER_ACCOUNT == "5 per 15 minutes"
    assert DefaultConfig.LOGIN_LIMIT_PER_ADDRESS == "30 per 15 minutes"


def test_an_account_is_paused_after_too_many_failures(limited):
    app, world = limited
    client = app.test_client()
    email = world.a.therapist_email
    for _ in range(3):
        response = sign_in_form(client, email, WRONG)
        assert response.status_code == 200
        assert form_errors(page(response)) == ["The email address or password is not right."]

    # Even the right password is refused now, with a clear message on the sign-in page.
    response = sign_in_form(client, email)
    assert_paused(response)
    html = page(response)
    assert 'name="password"' in html
    assert input_value(html, "email") == email
    assert open_sessions(app, world.a.therapist_id) == 0
    assert location(client.get("/clients/")).startswith("/login")

    # The pause belongs to the account: another address is refused too ...
    assert_paused(sign_in_form(app.test_client(), email, environ_base=OTHER_ADDRESS))
    # ... and so is the same account typed differently.
    assert_paused(sign_in_form(client, "  " + email.upper()))


def test_another_account_from_the_same_address_still_signs_in(limited):
    app, world = limited
    client = app.test_client()
    for _ in range(3):
        sign_in_form(client, world.a.therapist_email, WRONG)
    assert_paused(sign_in_form(client, world.a.therapist_email))

    response = sign_in_form(client, world.a.owner_email)
    assert response.status_code == 302
    assert client.get("/clients/").status_code == 200


def test_the_address_is_paused_after_failures_across_accounts(limited):
    app, world = limited
    client = app.test_client()
    # Two failures each for two accounts, then one more: 5 from this address.
    for email in [world.a.therapist_email] * 2 + [world.a.owner_email] * 2:
        assert sign_in_form(client, email, WRONG).status_code == 200
    # No account has reached its own limit, and a success does not count.
    ok = app.test_client()
    assert sign_in_form(ok, world.b.owner_email).status_code == 302
    assert sign_in_form(client, world.b.therapist_email, WRONG).status_code == 200

    # Now nobody signs in from this address, whatever the account ...
    assert_paused(sign_in_form(app.test_client(), world.b.therapist_email))
    assert_paused(sign_in_form(app.test_client(), world.b.owner_email))
    # ... while another address still can.
    response = sign_in_form(app.test_client(), world.b.therapist_email, environ_base=OTHER_ADDRESS)
    assert response.status_code == 302


def test_the_address_limit_counts_made_up_email_addresses(limited):
    app, world = limited
    client = app.test_client()
    for number in range(5):
        response = sign_in_form(client, f"guess{number}@example.com", WRONG)
        assert response.status_code == 200
    assert_paused(sign_in_form(client, world.a.therapist_email))
    assert open_sessions(app, world.a.therapist_id) == 0
    other = app.test_client()
    assert sign_in_form(other, world.a.therapist_email, environ_base=OTHER_ADDRESS).status_code == (
        302
    )


def test_successful_sign_ins_do_not_count(limited):
    app, world = limited
    client = app.test_client()
    for _ in range(6):
        assert sign_in_form(client, world.a.therapist_email).status_code == 302
        assert client.post("/logout").status_code == 302
    # All three failures are still available to the account, and then the pause comes.
    for _ in range(3):
        assert sign_in_form(client, world.a.therapist_email, WRONG).status_code == 200
    assert_paused(sign_in_form(client, world.a.therapist_email))


def test_failures_below_the_limit_do_not_block_the_right_password(limited):
    app, world = limited
    client = app.test_client()
    for _ in range(2):
        sign_in_form(client, world.a.therapist_email, WRONG)
    assert sign_in_form(client, world.a.therapist_email).status_code == 302


def test_viewing_the_sign_in_page_is_not_limited(limited):
    app, world = limited
    client = app.test_client()
    for _ in range(3):
        sign_in_form(client, world.a.therapist_email, WRONG)
    for _ in range(10):
        assert client.get("/login").status_code == 200


def test_limits_come_from_the_configuration(make_app):
    app = make_app(LOGIN_LIMIT_PER_ACCOUNT="1 per 15 minutes")
    world = factories.make_world(app)
    client = app.test_client()
    assert sign_in_form(client, world.a.owner_email, WRONG).status_code == 200
    assert_paused(sign_in_form(client, world.a.owner_email))
