"""Two-step sign-in end to end through the real forms: set-up, codes, recovery, the rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select, update

from clinic.auth import two_factor
from clinic.extensions import db
from clinic.models import AuditAction, AuditEntry, Clinic, RecoveryCode, Role, User
from tests import factories
from tests.auth import (
    STEP,
    Clock,
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
from tests.conftest import ClinicTestClient

OTHER_ADDRESS = {"REMOTE_ADDR": "203.0.113.9"}


@dataclass(frozen=True)
class People:
    """One clinic with an owner and a therapist."""

    clinic_id: int
    owner_id: int
    owner_email: str
    therapist_id: int
    therapist_email: str


def make_people(app: Flask) -> People:
    """Create a clinic with an owner and a therapist."""
    clinic_id = factories.make_clinic(app, name="Clinic Alpha")
    owner_email, therapist_email = "owner@example.com", "tess@example.com"
    owner_id = factories.make_user(
        app, clinic_id, email=owner_email, full_name="Owen Owner", role=Role.OWNER
    )
    therapist_id = factories.make_user(
        app, clinic_id, email=therapist_email, full_name="Tess Therapist"
    )
    return People(clinic_id, owner_id, owner_email, therapist_id, therapist_email)


@pytest.fixture
def people(app: Flask) -> People:
    """Clinic Alpha with Owen (owner) and Tess (therapist)."""
    return make_people(app)


def new_client(app: Flask) -> ClinicTestClient:
    """A fresh browser."""
    return app.test_client()  # type: ignore[return-value]


def signed_in(app: Flask, email: str) -> ClinicTestClient:
    """A fresh browser signed in with a password (for an account without two-step sign-in)."""
    client = new_client(app)
    response = sign_in_form(client, email)
    assert location(response) == "/", location(response)
    return client


def secret_on_page(html: str) -> str:
    """Return the key shown for typing by hand, without its spaces."""
    match = re.search(r'data-testid="secret-key">([^<]+)</p>', html)
    assert match, "no secret key on the page"
    return match.group(1).replace(" ", "")


def codes_on_page(html: str) -> list[str]:
    """Return the recovery codes shown on the page."""
    return re.findall(r"<li><code>([^<]+)</code></li>", html)


def code_at(secret: str, moment: float) -> str:
    """Return the code an authenticator app shows at a moment."""
    return pyotp.TOTP(secret).at(moment)


def wrong_code(secret: str, moment: float) -> str:
    """Return six digits that are not a valid code at a moment (nor a step either side)."""
    valid = {code_at(secret, moment + offset) for offset in (-STEP, 0, STEP)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in valid)


def turn_on(client: ClinicTestClient, clock: Clock) -> tuple[str, list[str]]:
    """Set up two-step sign-in through the pages; return the secret and the recovery codes."""
    assert location(client.post("/account/two-step/start")) == "/account/two-step/confirm"
    secret = secret_on_page(page(client.get("/account/two-step/confirm")))
    response = client.post("/account/two-step/confirm", data={"code": code_at(secret, clock.now)})
    assert response.status_code == 200
    codes = codes_on_page(page(response))
    assert len(codes) == 10
    # A later code for the next test step: the one just used is spent.
    clock.advance(STEP)
    return secret, codes


def password_step(client: ClinicTestClient, email: str, **kw: Any) -> Any:
    """Post the password form; an account with two-step sign-in is asked for a code next."""
    response = sign_in_form(client, email, **kw)
    assert location(response).startswith("/login/code"), response.status_code
    return response


def code_step(client: ClinicTestClient, code: str, next_url: str = "", **kw: Any) -> Any:
    """Post the code form."""
    url = "/login/code" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"code": code}, **kw)


def audit_summaries(app: Flask, action: AuditAction) -> list[str]:
    """Return the summaries of the audit entries of one kind, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.summary)
                .where(AuditEntry.action == action)
                .order_by(AuditEntry.id)
            )
        )


def stored_code_hashes(app: Flask, user_id: int, *, unused: bool = False) -> set[str]:
    """Return the hashes of an account's recovery codes."""
    query = select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user_id)
    if unused:
        query = query.where(RecoveryCode.used_at.is_(None))
    with app.app_context():
        return set(db.session.scalars(query))


def stored_secret(app: Flask, user: User) -> str | None:
    """Return an account's TOTP secret as the app reads it (it is stored encrypted)."""
    if user.totp_secret is None:
        return None
    with app.app_context():
        return two_factor.decrypt_secret(user.totp_secret)


def require_two_factor(app: Flask, clinic_id: int, required: bool = True) -> None:
    """Set the clinic-wide requirement directly."""
    with app.app_context():
        db.session.execute(
            update(Clinic).where(Clinic.id == clinic_id).values(require_two_factor=required)
        )
        db.session.commit()


@pytest.fixture
def tess(app: Flask, people: People, clock: Clock) -> tuple[str, list[str]]:
    """Tess has two-step sign-in on (and is signed out); return her secret and codes."""
    client = signed_in(app, people.therapist_email)
    secret, codes = turn_on(client, clock)
    client.post("/logout")
    return secret, codes


# ---------------------------------------------------------------------------------------------
# Set-up


def test_set_up_with_a_wrong_code_then_the_right_one(app, people, clock):
    client = signed_in(app, people.therapist_email)
    html = page(client.get("/account/two-step"))
    assert "Off" in html and "Set up two-step sign-in" in html

    assert location(client.post("/account/two-step/start")) == "/account/two-step/confirm"
    response = client.get("/account/two-step/confirm")
    assert response.status_code == 200
    html = page(response)
    secret = secret_on_page(html)
    # The QR code is inline SVG: nothing a strict Content Security Policy would block.
    assert re.search(r"<svg [^>]*class=\"qr-code\"", html)
    # No inline script or style (the app's own scripts load from its files, as the CSP allows).
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html
    grouped = re.search(r'data-testid="secret-key">([^<]+)</p>', html)
    assert grouped and re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{1,4}", grouped.group(1))

    # The secret waits on the server, not yet in use.
    user = load_user(app, people.therapist_id)
    assert stored_secret(app, user) == secret
    assert user.totp_enabled_at is None and not user.has_two_factor

    wrong = wrong_code(secret, clock.now)
    response = client.post("/account/two-step/confirm", data={"code": wrong})
    assert response.status_code == 200
    html = page(response)
    assert field_errors(html, "code")[0].startswith("This code is not right.")
    assert input_value(html, "code") == wrong
    assert secret_on_page(html) == secret
    assert not load_user(app, people.therapist_id).has_two_factor

    response = client.post("/account/two-step/confirm", data={"code": code_at(secret, clock.now)})
    assert response.status_code == 200
    html = page(response)
    assert "Two-step sign-in is on." in html
    assert "shown only this once" in html
    codes = codes_on_page(html)
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", code) for code in codes)

    user = load_user(app, people.therapist_id)
    assert user.has_two_factor and stored_secret(app, user) == secret
    # Only a salted, keyed hash of each code is kept.
    stored = stored_code_hashes(app, people.therapist_id)
    with app.app_context():
        for code in codes:
            assert sum(two_factor.recovery_code_matches(value, code) for value in stored) == 1
    assert audit_summaries(app, AuditAction.SECURITY) == ["Two-step sign-in turned on"]

    # The codes are not shown again: the set-up page now leads to the status page.
    assert location(client.get("/account/two-step/confirm")) == "/account/two-step"
    html = page(client.get("/account/two-step"))
    assert "10 of 10" in html
    assert not codes_on_page(html)
    # Starting again while it is on changes nothing.
    client.post("/account/two-step/start")
    assert stored_secret(app, load_user(app, people.therapist_id)) == secret


def test_set_up_refuses_an_empty_or_malformed_code(app, people, clock):
    client = signed_in(app, people.therapist_email)
    client.post("/account/two-step/start")
    for typed, message in (
        ("", "Type the code."),
        ("abcdef", "This code is not right."),
        ("1" * 41, "Field cannot be longer than 40 characters."),
    ):
        html = page(client.post("/account/two-step/confirm", data={"code": typed}))
        assert field_errors(html, "code")[0].startswith(message), typed
    assert not load_user(app, people.therapist_id).has_two_factor


def test_the_confirm_page_without_a_started_set_up_leads_to_the_status_page(app, people):
    client = signed_in(app, people.therapist_email)
    assert location(client.get("/account/two-step/confirm")) == "/account/two-step"
    response = client.post("/account/two-step/confirm", data={"code": "123456"})
    assert location(response) == "/account/two-step"
    assert not load_user(app, people.therapist_id).has_two_factor


# ---------------------------------------------------------------------------------------------
# Signing in


def test_sign_in_with_the_password_then_a_code(app, people, clock, tess):
    secret, _ = tess
    client = new_client(app)
    response = sign_in_form(client, people.therapist_email)
    assert location(response) == "/login/code"
    # The right password alone opens nothing.
    assert open_sessions(app, people.therapist_id) == 0
    assert location(client.get("/clients/")).startswith("/login")

    html = page(client.get("/login/code"))
    assert "Type your sign-in code" in html
    response = code_step(client, code_at(secret, clock.now))
    assert location(response) == "/"
    assert open_sessions(app, people.therapist_id) == 1
    assert client.get("/clients/").status_code == 200
    # A signed-in browser has no use for the code page.
    assert location(client.get("/login/code")) == "/"


def test_the_next_page_is_kept_through_both_steps(app, people, clock, tess):
    secret, _ = tess
    client = new_client(app)
    response = client.get("/clients/")
    login_url = location(response)
    assert login_url.startswith("/login?next=")
    response = client.post(
        login_url, data={"email": people.therapist_email, "password": factories.PASSWORD}
    )
    assert location(response).startswith("/login/code?next=")
    response = client.post(location(response), data={"code": code_at(secret, clock.now)})
    assert location(response) == "/clients/"


def test_a_code_from_the_step_before_or_after_is_accepted(app, people, clock, tess):
    secret, _ = tess
    for offset in (-STEP, STEP):
        client = new_client(app)
        password_step(client, people.therapist_email)
        clock.advance(3 * STEP)
        assert location(code_step(client, code_at(secret, clock.now + offset))) == "/"
        client.post("/logout")


def test_a_wrong_code_is_refused_and_the_form_kept(app, people, clock, tess):
    secret, _ = tess
    client = new_client(app)
    password_step(client, people.therapist_email)
    # A code from a minute and a half ago (outside the window), and one that never was.
    window = {code_at(secret, clock.now + offset) for offset in (-STEP, 0, STEP)}
    stale = code_at(secret, clock.now - 3 * STEP)
    assume_wrong = stale if stale not in window else wrong_code(secret, clock.now)
    for wrong in (assume_wrong, wrong_code(secret, clock.now), "not a code", "abcd-efgh"):
        response = code_step(client, wrong)
        assert response.status_code == 200
        html = page(response)
        assert field_errors(html, "code")[0].startswith("This code is not right."), wrong
        assert input_value(html, "code") == wrong
    assert open_sessions(app, people.therapist_id) == 0
    assert location(client.get("/clients/")).startswith("/login")
    failures = audit_summaries(app, AuditAction.SIGN_IN_FAILED)
    assert failures == ["Two-step sign-in: wrong code"] * 4

    # Still within the 5 minutes, the right code works.
    assert location(code_step(client, code_at(secret, clock.now))) == "/"


def test_an_empty_code_is_refused(app, people, clock, tess):
    client = new_client(app)
    password_step(client, people.therapist_email)
    html = page(code_step(client, "   "))
    assert field_errors(html, "code") == ["Type the code."]
    assert open_sessions(app, people.therapist_id) == 0


def test_a_code_is_accepted_only_once(app, people, clock, tess):
    secret, _ = tess
    code = code_at(secret, clock.now)
    first = new_client(app)
    password_step(first, people.therapist_email)
    assert location(code_step(first, code)) == "/"

    # The same code again, still within its 30 seconds, from another browser: refused.
    second = new_client(app)
    password_step(second, people.therapist_email)
    response = code_step(second, code)
    assert response.status_code == 200
    assert field_errors(page(response), "code") == [
        "This code was used already. Wait for your app to show a new one, then type that."
    ]
    assert open_sessions(app, people.therapist_id) == 1
    # An older code (from the step before) is refused too, even though it is in the window.
    response = code_step(second, code_at(secret, clock.now - STEP))
    assert "used already" in field_errors(page(response), "code")[0]
    assert audit_summaries(app, AuditAction.SIGN_IN_FAILED) == ["Two-step sign-in: reused code"] * 2

    # The next code works.
    clock.advance(STEP)
    assert location(code_step(second, code_at(secret, clock.now))) == "/"
    assert open_sessions(app, people.therapist_id) == 2


def test_the_code_that_turned_it_on_cannot_sign_in(app, people, clock):
    client = signed_in(app, people.therapist_email)
    client.post("/account/two-step/start")
    secret = secret_on_page(page(client.get("/account/two-step/confirm")))
    code = code_at(secret, clock.now)
    client.post("/account/two-step/confirm", data={"code": code})
    client.post("/logout")

    other = new_client(app)
    password_step(other, people.therapist_email)
    assert "used already" in field_errors(page(code_step(other, code)), "code")[0]


def test_a_recovery_code_works_once(app, people, clock, tess):
    _, codes = tess
    client = new_client(app)
    password_step(client, people.therapist_email)
    response = code_step(client, codes[0])
    assert location(response) == "/"
    html = page(client.get("/"))
    assert "You signed in with a recovery code. It will not work again; 9 are left." in flashes(
        html
    )
    assert (
        audit_summaries(app, AuditAction.SECURITY)[-1] == "Recovery code used to sign in (9 left)"
    )
    client.post("/logout")

    client = new_client(app)
    password_step(client, people.therapist_email)
    response = code_step(client, codes[0])
    assert response.status_code == 200
    assert field_errors(page(response), "code")[0].startswith("This recovery code was used already")
    assert open_sessions(app, people.therapist_id) == 0
    # Typed in capitals, without the dash or with spaces, a code still counts.
    assert location(code_step(client, " " + codes[1].replace("-", " ").upper())) == "/"
    assert len(stored_code_hashes(app, people.therapist_id, unused=True)) == 8


def test_few_recovery_codes_left_asks_for_new_ones(app, people, clock, tess):
    _, codes = tess
    for code in codes[:7]:
        client = new_client(app)
        password_step(client, people.therapist_email)
        assert location(code_step(client, code)) == "/"
        messages = flashes(page(client.get("/")))
        client.post("/logout")
    assert messages == [
        "You signed in with a recovery code. It will not work again; 3 are left. "
        "Make new recovery codes soon on the Two-step sign-in page."
    ]
    html = page(signed_in_with_code(app, people.therapist_email, codes[7]).get("/account/two-step"))
    assert "2 of 10" in html
    assert "Only a few recovery codes are left." in html


def signed_in_with_code(app: Flask, email: str, code: str) -> ClinicTestClient:
    """A fresh browser signed in through both steps."""
    client = new_client(app)
    password_step(client, email)
    assert location(code_step(client, code)) == "/"
    return client


def test_a_deactivated_account_cannot_finish_signing_in(app, people, clock, tess):
    secret, _ = tess
    client = new_client(app)
    password_step(client, people.therapist_email)
    with app.app_context():
        db.session.get_one(User, people.therapist_id).active = False
        db.session.commit()
    assert location(code_step(client, code_at(secret, clock.now))).startswith("/login")
    assert open_sessions(app, people.therapist_id) == 0


# ---------------------------------------------------------------------------------------------
# The pending marker


def test_the_pending_sign_in_expires_after_5_minutes(app, people, clock, tess):
    secret, _ = tess
    client = new_client(app)
    password_step(client, people.therapist_email)
    clock.advance(5 * 60 + 1)
    response = code_step(client, code_at(secret, clock.now))
    assert location(response) == "/login"
    html = page(client.get("/login"))
    assert (
        "Signing in took longer than 5 minutes, so it was stopped. "
        "Sign in with your password again." in flashes(html)
    )
    assert open_sessions(app, people.therapist_id) == 0
    # The marker is gone: the code page leads to the password again.
    assert location(client.get("/login/code")) == "/login"
    # The code was not spent: it still signs in after the password.
    password_step(client, people.therapist_email)
    assert location(code_step(client, code_at(secret, clock.now))) == "/"


def test_a_pending_sign_in_opens_no_page(app, people, clock, tess):
    client = new_client(app)
    password_step(client, people.therapist_email)
    for path in ("/", "/clients/", "/account/two-step", "/account/password", "/admin/users"):
        assert location(client.get(path)).startswith("/login"), path
    response = client.post("/account/two-step/start")
    assert location(response).startswith("/login")
    assert open_sessions(app, people.therapist_id) == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_code_page_without_a_pending_sign_in_leads_to_sign_in(app, people, method):
    client = new_client(app)
    if method == "POST":
        response = client.post("/login/code", data={"code": "123456"})
    else:
        response = client.get("/login/code")
    assert location(response) == "/login"
    assert flashes(page(client.get("/login"))) == []


def test_a_forged_or_malformed_marker_is_ignored(app, people, clock, tess):
    secret, _ = tess
    for marker in ({"user_id": "2", "at": int(clock.now)}, {"user_id": 2}, "x", [1, 2]):
        client = new_client(app)
        with client.session_transaction() as session:
            session["two_step_pending"] = marker
        assert location(code_step(client, code_at(secret, clock.now))).startswith("/login")
    assert open_sessions(app, people.therapist_id) == 0


def test_an_account_without_two_step_sign_in_signs_in_with_the_password(app, people):
    client = new_client(app)
    assert location(sign_in_form(client, people.owner_email)) == "/"
    assert location(client.get("/login/code")) == "/"


# ---------------------------------------------------------------------------------------------
# Recovery codes and turning it off


def test_new_recovery_codes_replace_the_old_ones(app, people, clock, tess):
    secret, old_codes = tess
    client = signed_in_with_code(app, people.therapist_email, code_at(secret, clock.now))
    clock.advance(STEP)

    response = client.post("/account/two-step/recovery-codes", data={"proof": "wrong password!"})
    assert response.status_code == 200
    assert field_errors(page(response), "proof") == [
        "This is neither your password nor the code your app shows now."
    ]
    response = client.post("/account/two-step/recovery-codes", data={"proof": ""})
    assert field_errors(page(response), "proof") == ["Enter your password or a code."]
    assert len(stored_code_hashes(app, people.therapist_id)) == 10

    response = client.post("/account/two-step/recovery-codes", data={"proof": factories.PASSWORD})
    html = page(response)
    assert "New recovery codes are made. The old ones no longer work." in html
    new_codes = codes_on_page(html)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)

    # A current app code works as proof too.
    response = client.post(
        "/account/two-step/recovery-codes", data={"proof": code_at(secret, clock.now)}
    )
    newest = codes_on_page(page(response))
    assert len(newest) == 10
    assert (
        audit_summaries(app, AuditAction.SECURITY)[-2:]
        == ["New recovery codes made; the old ones stopped working"] * 2
    )
    client.post("/logout")

    for stale in (old_codes[0], new_codes[0]):
        other = new_client(app)
        password_step(other, people.therapist_email)
        assert field_errors(page(code_step(other, stale)), "code")[0].startswith(
            "This code is not right."
        )
    assert location(code_step(other, newest[0])) == "/"


def test_turning_it_off_needs_the_password_and_a_code(app, people, clock, tess):
    secret, _ = tess
    client = signed_in_with_code(app, people.therapist_email, code_at(secret, clock.now))
    clock.advance(STEP)
    code = code_at(secret, clock.now)

    response = client.post("/account/two-step/disable", data={"password": "nope", "code": code})
    assert field_errors(page(response), "password") == ["This is not your current password."]
    response = client.post(
        "/account/two-step/disable",
        data={"password": factories.PASSWORD, "code": wrong_code(secret, clock.now)},
    )
    assert field_errors(page(response), "code")[0].startswith("This code is not right.")
    response = client.post("/account/two-step/disable", data={"password": factories.PASSWORD})
    assert field_errors(page(response), "code") == ["Type the code."]
    assert load_user(app, people.therapist_id).has_two_factor

    response = client.post(
        "/account/two-step/disable", data={"password": factories.PASSWORD, "code": code}
    )
    assert location(response) == "/account/two-step"
    assert "Two-step sign-in is off." in flashes(page(client.get("/account/two-step")))[0]
    user = load_user(app, people.therapist_id)
    assert user.totp_secret is None and not user.has_two_factor
    assert stored_code_hashes(app, people.therapist_id) == set()
    assert audit_summaries(app, AuditAction.SECURITY)[-1] == "Two-step sign-in turned off"
    client.post("/logout")
    assert location(sign_in_form(new_client(app), people.therapist_email)) == "/"


def test_it_cannot_be_turned_off_when_the_clinic_requires_it(app, people, clock, tess):
    secret, _ = tess
    require_two_factor(app, people.clinic_id)
    client = signed_in_with_code(app, people.therapist_email, code_at(secret, clock.now))
    clock.advance(STEP)
    html = page(client.get("/account/two-step"))
    assert "Your clinic requires two-step sign-in for everyone, so it stays on." in html
    assert "/account/two-step/disable" not in html

    response = client.post(
        "/account/two-step/disable",
        data={"password": factories.PASSWORD, "code": code_at(secret, clock.now)},
    )
    assert response.status_code == 200
    assert form_errors(page(response))[0].startswith(
        "Your clinic requires two-step sign-in, so it cannot be turned off."
    )
    assert load_user(app, people.therapist_id).has_two_factor


# ---------------------------------------------------------------------------------------------
# The clinic-wide requirement


def _plain_pages(app: Flask) -> list[str]:
    """Every GET page without ids, except the ones open while two-step set-up is due."""
    open_pages = {
        "auth.two_step",
        "auth.two_step_confirm",
        "auth.change_password",
        "auth.confirm_identity",
    }
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set())
        and not rule.arguments
        and rule.endpoint
        not in open_pages | {"static", "auth.login", "auth.login_code", "auth.setup"}
    ]
    return sorted(rule.rule for rule in rules)


def test_the_clinic_requirement_sends_every_page_to_set_up(app, people, clock):
    require_two_factor(app, people.clinic_id)
    client = signed_in(app, people.therapist_email)
    paths = _plain_pages(app)
    assert {"/", "/clients/", "/visits/unsigned"} <= set(paths)
    for path in paths:
        assert location(client.get(path)) == "/account/two-step", path
    assert location(client.post("/clients/new", data=factories.intake_form_data())) == (
        "/account/two-step"
    )
    html = page(client.get("/account/two-step"))
    assert flashes(html)[0].startswith("Your clinic asks everyone to use two-step sign-in.")
    assert "Set up two-step sign-in" in html
    # Changing the password stays possible.
    assert client.get("/account/password").status_code == 200

    turn_on(client, clock)
    assert client.get("/clients/").status_code == 200


def test_signing_out_works_while_set_up_is_due(app, people):
    require_two_factor(app, people.clinic_id)
    client = signed_in(app, people.therapist_email)
    assert location(client.post("/logout")) == "/login"
    assert open_sessions(app, people.therapist_id) == 0


def test_the_owner_who_requires_it_keeps_an_owners_days_and_can_lift_it_for_therapists(
    app, people, clock
):
    client = signed_in(app, people.owner_email)
    settings = {
        "name": "Clinic Alpha",
        "screening_valid_days": "30",
        "retention_years": "10",
        "version": "1",
        "require_two_factor": "y",
    }
    response = client.post("/admin/clinic", data=settings)
    assert location(response) == "/admin/clinic"
    # Owners must use it anyway, within the days they have: nothing is blocked yet.
    html = page(client.get("/account/two-step"))
    assert "As the clinic's owner you must use two-step sign-in" in html
    assert ">Later</a>" in html
    assert client.get("/clients/").status_code == 200
    therapist = signed_in(app, people.therapist_email)
    assert location(therapist.get("/clients/")) == "/account/two-step"
    # Lifted for therapists again.
    settings.pop("require_two_factor")
    settings["version"] = "2"
    assert location(client.post("/admin/clinic", data=settings)) == "/admin/clinic"
    assert therapist.get("/clients/").status_code == 200


def test_the_requirement_does_not_stop_someone_who_has_it(app, people, clock, tess):
    secret, _ = tess
    require_two_factor(app, people.clinic_id)
    client = signed_in_with_code(app, people.therapist_email, code_at(secret, clock.now))
    assert client.get("/clients/").status_code == 200


# ---------------------------------------------------------------------------------------------
# The owner resets a colleague's two-step sign-in


def test_the_owner_resets_a_colleagues_two_step_sign_in(app, people, clock, tess):
    secret, _ = tess
    colleague = signed_in_with_code(app, people.therapist_email, code_at(secret, clock.now))
    owner = signed_in(app, people.owner_email)
    html = page(owner.get("/admin/users"))
    reset_url = f"/admin/users/{people.therapist_id}/reset-two-step"
    assert reset_url in html
    assert "two-step sign-in</span>" in html

    response = owner.post(reset_url)
    assert location(response) == "/admin/users"
    assert flashes(page(owner.get("/admin/users")))[0].startswith(
        "Tess Therapist's two-step sign-in was reset and their sign-ins ended."
    )
    user = load_user(app, people.therapist_id)
    assert user.totp_secret is None and user.totp_enabled_at is None
    assert user.totp_last_step is None
    assert stored_code_hashes(app, people.therapist_id) == set()
    assert open_sessions(app, people.therapist_id) == 0
    assert location(colleague.get("/clients/")).startswith("/login")
    assert audit_summaries(app, AuditAction.SECURITY)[-1] == (
        "Two-step sign-in reset for Tess Therapist"
    )
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None
        assert (entry.user_id, entry.record_id) == (people.owner_id, people.therapist_id)

    # The password alone signs in now; the old codes are gone.
    assert location(sign_in_form(new_client(app), people.therapist_email)) == "/"
    assert reset_url not in page(owner.get("/admin/users"))


def test_a_therapist_cannot_reset_anyones_two_step_sign_in(app, people, clock):
    owner = signed_in(app, people.owner_email)
    turn_on(owner, clock)
    therapist = signed_in(app, people.therapist_email)
    response = therapist.post(f"/admin/users/{people.owner_id}/reset-two-step")
    assert response.status_code == 403
    assert load_user(app, people.owner_id).has_two_factor


def test_the_owner_cannot_reset_their_own(app, people, clock):
    owner = signed_in(app, people.owner_email)
    turn_on(owner, clock)
    response = owner.post(f"/admin/users/{people.owner_id}/reset-two-step")
    assert location(response) == "/admin/users"
    assert flashes(page(owner.get("/admin/users"))) == [
        "To turn off your own two-step sign-in, use the Two-step sign-in page."
    ]
    assert load_user(app, people.owner_id).has_two_factor


def test_another_clinics_account_cannot_be_reset(app, people, clock, tess):
    other_clinic = factories.make_clinic(app, name="Clinic Beta")
    other_owner = factories.make_user(app, other_clinic, email="beta@example.com", role=Role.OWNER)
    client = new_client(app)
    factories.sign_in(app, client, other_owner)
    response = client.post(f"/admin/users/{people.therapist_id}/reset-two-step")
    assert response.status_code == 404
    assert load_user(app, people.therapist_id).has_two_factor


# ---------------------------------------------------------------------------------------------
# Limits on wrong codes


@pytest.fixture
def limited(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Flask, People, Clock, str]:
    """An app allowing 3 wrong codes per account; Tess has two-step sign-in on."""
    app = make_app(
        LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes", LOGIN_LIMIT_PER_ADDRESS="5 per 15 minutes"
    )
    frozen = Clock()
    monkeypatch.setattr(two_factor, "_now", lambda: frozen.now)
    people = make_people(app)
    client = signed_in(app, people.therapist_email)
    secret, _ = turn_on(client, frozen)
    client.post("/logout")
    return app, people, frozen, secret


def test_wrong_codes_are_limited_per_account(limited):
    app, people, clock, secret = limited
    client = new_client(app)
    password_step(client, people.therapist_email)
    for _ in range(3):
        assert code_step(client, wrong_code(secret, clock.now)).status_code == 200

    # Even the right code is refused now, with the code form and a clear message.
    response = code_step(client, code_at(secret, clock.now))
    assert response.status_code == 429
    html = page(response)
    assert form_errors(html)[0].startswith("Too many wrong codes.")
    assert 'name="code"' in html
    assert open_sessions(app, people.therapist_id) == 0

    # The pause belongs to the account: a new password step from another address is paused too.
    other = new_client(app)
    password_step(other, people.therapist_email, environ_base=OTHER_ADDRESS)
    assert (
        code_step(other, code_at(secret, clock.now), environ_base=OTHER_ADDRESS).status_code == 429
    )


def test_right_codes_do_not_count_towards_the_limit(limited):
    app, people, clock, secret = limited
    for _ in range(4):
        client = new_client(app)
        password_step(client, people.therapist_email)
        assert location(code_step(client, code_at(secret, clock.now))) == "/"
        client.post("/logout")
        clock.advance(STEP)


def test_the_command_line_resets_an_owner_locked_out_without_phone_or_codes(
    app: Flask, runner: Any, people: People, clock: Clock
) -> None:
    owner = signed_in(app, people.owner_email)
    turn_on(owner, clock)
    result = runner.invoke(args=["clinic", "reset-two-step", people.owner_email.upper()])
    assert result.exit_code == 0, result.output
    assert "Two-step sign-in is off for owner@example.com" in result.output
    with app.app_context():
        user = db.session.get_one(User, people.owner_id)
        assert not user.has_two_factor
        assert db.session.scalars(select(RecoveryCode)).all() == []
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.summary.like("%command line%"))
        ).one()
        assert (entry.action, entry.user_id, entry.record_id) == (
            AuditAction.SECURITY,
            None,
            people.owner_id,
        )
    assert open_sessions(app, people.owner_id) == 0
    # The old browser is signed out; the password alone opens the account again.
    assert location(owner.get("/")).startswith("/login")
    assert location(sign_in_form(new_client(app), people.owner_email)) == "/"


def test_the_command_line_reset_refuses_unknown_and_plain_accounts(
    app: Flask, runner: Any, people: People
) -> None:
    unknown = runner.invoke(args=["clinic", "reset-two-step", "nobody@example.com"])
    assert unknown.exit_code == 1
    assert "No account has the email address nobody@example.com." in unknown.output
    plain = runner.invoke(args=["clinic", "reset-two-step", people.therapist_email])
    assert plain.exit_code == 1
    assert "Tess Therapist does not use two-step sign-in." in plain.output
