"""Issue 13, credentials: one form of an email, limits on every password and code check,
"Confirm it is you" before sensitive changes, weak passwords refused, one-time passwords expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from clinic import clock as clinic_clock
from clinic.auth import operations as ops
from clinic.models import AuditAction, Role
from tests import factories
from tests.audit import entries, new_entries
from tests.auth import (
    field_errors,
    flashes,
    form_errors,
    input_value,
    load_user,
    location,
    one_time_password,
    open_sessions,
    page,
    sign_in_form,
)
from tests.auth.test_two_factor import (
    code_at,
    codes_on_page,
    turn_on,
    wrong_code,
)
from tests.conftest import ClinicTestClient

# Typed in the tests below as a person would: passes the password checker.
STRONG_PASSWORD = "maple river lantern spoon"
WRONG = "not the password at all"
FINDING_EMAIL = "ther.a2@example.com"
PAUSED = "Too many wrong passwords or codes."


@dataclass
class Moved:
    """How far the app's clock (clinic.clock.utcnow) is moved ahead of the real one."""

    by: timedelta = timedelta(0)


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Moved:
    """Move "now" for re-authentication and one-time passwords, instead of sleeping."""
    moved = Moved()
    real = clinic_clock.utcnow
    monkeypatch.setattr(clinic_clock, "utcnow", lambda: real() + moved.by)
    return moved


@dataclass(frozen=True)
class Team:
    """Clinic Alpha: an owner, the therapist of finding 1, and a colleague."""

    clinic_id: int
    owner_id: int
    owner_email: str
    therapist_id: int
    colleague_id: int
    colleague_email: str


def make_team(app: Flask) -> Team:
    clinic_id = factories.make_clinic(app, name="Clinic Alpha")
    owner_email, colleague_email = "owner@example.com", "colleague@example.com"
    owner_id = factories.make_user(
        app, clinic_id, email=owner_email, full_name="Owen Owner", role=Role.OWNER
    )
    therapist_id = factories.make_user(
        app, clinic_id, email=FINDING_EMAIL, full_name="Thea Therapist"
    )
    colleague_id = factories.make_user(
        app, clinic_id, email=colleague_email, full_name="Colin Colleague"
    )
    return Team(clinic_id, owner_id, owner_email, therapist_id, colleague_id, colleague_email)


@pytest.fixture
def limited(make_app: Any) -> tuple[Flask, Team]:
    """An app allowing 3 failures per account and 5 per address."""
    app = make_app(
        LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes", LOGIN_LIMIT_PER_ADDRESS="5 per 15 minutes"
    )
    return app, make_team(app)


@pytest.fixture
def team(app: Flask) -> Team:
    return make_team(app)


def from_address(number: int) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": f"198.51.100.{number}"}}


def new_client(app: Flask) -> ClinicTestClient:
    return app.test_client()  # type: ignore[return-value]


def signed_in(app: Flask, email: str, **kw: Any) -> ClinicTestClient:
    client = new_client(app)
    assert sign_in_form(client, email, **kw).status_code == 302
    return client


def session_only(app: Flask, user_id: int) -> ClinicTestClient:
    """A browser holding a valid sign-in cookie and nothing more (a stolen session)."""
    client = new_client(app)
    factories.sign_in(app, client, user_id)
    return client


def confirm(client: ClinicTestClient, proof: str = factories.PASSWORD, **kw: Any) -> Any:
    return client.post("/account/confirm", data={"proof": proof}, **kw)


def summaries(found: list[Any], action: AuditAction = AuditAction.SECURITY) -> list[str]:
    return [entry.summary for entry in found if entry.action is action]


# ---------------------------------------------------------------------------------------------
# Finding 1: one form of an email for lookup, limits and storage


INVISIBLE_VARIANTS = [
    FINDING_EMAIL + "\x01",
    FINDING_EMAIL + "\u200b",
    "\u202e" + FINDING_EMAIL,
    "ther.a2@exa\u200dmple.com",
    FINDING_EMAIL.upper(),
    "  " + FINDING_EMAIL + "  ",
    "\ufeffther.a2@example.com\t",
    "\uff54\uff48\uff45\uff52.\uff41\uff12@example.com",  # full-width letters (NFKC)
]


@pytest.mark.parametrize("variant", INVISIBLE_VARIANTS)
def test_every_variant_of_an_email_normalises_to_the_stored_form(variant):
    assert ops.normalise_email(variant) == FINDING_EMAIL


def test_a_locked_account_stays_locked_with_a_control_character_in_the_email(limited):
    app, team = limited
    attacker = new_client(app)
    for _ in range(3):
        assert sign_in_form(attacker, FINDING_EMAIL, WRONG).status_code == 200
    # The exact request of finding 1, from a fresh address so only the account limit applies.
    response = sign_in_form(new_client(app), FINDING_EMAIL + "\x01", **from_address(1))
    assert response.status_code == 429
    assert form_errors(page(response))[0].startswith("Too many failed sign-in attempts.")
    assert open_sessions(app, team.therapist_id) == 0


@pytest.mark.parametrize("variant", INVISIBLE_VARIANTS)
def test_every_variant_of_the_email_shares_the_locked_accounts_bucket(limited, variant):
    app, team = limited
    for _ in range(3):
        sign_in_form(new_client(app), FINDING_EMAIL, WRONG)
    response = sign_in_form(new_client(app), variant, **from_address(2))
    assert response.status_code == 429
    assert open_sessions(app, team.therapist_id) == 0


def test_failures_typed_in_different_variants_add_up_for_the_account(limited):
    app, _ = limited
    for number, variant in enumerate(INVISIBLE_VARIANTS[:3]):
        response = sign_in_form(new_client(app), variant, WRONG, **from_address(10 + number))
        assert response.status_code == 200
    response = sign_in_form(new_client(app), FINDING_EMAIL, **from_address(20))
    assert response.status_code == 429
    # Every failure is in the account's trail.
    failed = summaries(entries(app), AuditAction.SIGN_IN_FAILED)
    assert failed == ["Wrong password"] * 3


def test_a_variant_of_the_email_signs_in_to_the_one_account(app, team):
    client = new_client(app)
    assert sign_in_form(client, "\u200b" + FINDING_EMAIL.upper() + "\x01").status_code == 302
    assert open_sessions(app, team.therapist_id) == 1


def test_variants_of_an_unknown_email_share_one_bucket(limited):
    app, _ = limited
    for number, variant in enumerate(
        ["ghost@example.com", "GHOST@example.com\x01", "ghost@exam\u200bple.com"]
    ):
        sign_in_form(new_client(app), variant, WRONG, **from_address(30 + number))
    response = sign_in_form(new_client(app), " ghost@example.com", WRONG, **from_address(40))
    assert response.status_code == 429


def test_an_account_opened_with_invisible_characters_is_stored_in_the_normal_form(app, team):
    owner = signed_in(app, team.owner_email)
    response = owner.post(
        "/admin/users/new",
        data={"full_name": "Nia New", "email": "Nia@Example.com\u200b", "role": "therapist"},
    )
    if response.status_code == 200 and "one-time-password" in page(response):
        password = one_time_password(page(response))
        assert sign_in_form(new_client(app), "nia@example.com", password).status_code == 302
    else:
        # Refused as not an email address: nothing stored under another form either.
        assert field_errors(page(response), "email")


# ---------------------------------------------------------------------------------------------
# Finding 2: every password and code check while signed in is limited and recorded


def test_sixty_wrong_codes_for_new_recovery_codes_are_paused_and_each_is_recorded(app, team, clock):
    client = signed_in(app, FINDING_EMAIL)
    secret, _ = turn_on(client, clock)
    before = entries(app)
    statuses = []
    for _ in range(60):
        response = client.post(
            "/account/two-step/recovery-codes", data={"proof": wrong_code(secret, clock.now)}
        )
        statuses.append(response.status_code)
    assert statuses == [200] * 5 + [429] * 55
    assert form_errors(page(response))[0].startswith(PAUSED)
    recorded = summaries(new_entries(app, before))
    assert recorded == ["Wrong password or code for new recovery codes"] * 5
    # Paused means paused: even the right code changes nothing now.
    response = client.post(
        "/account/two-step/recovery-codes", data={"proof": code_at(secret, clock.now)}
    )
    assert response.status_code == 429
    assert codes_on_page(page(response)) == []


def test_wrong_current_passwords_on_the_password_page_are_paused_and_recorded(app, team):
    client = signed_in(app, FINDING_EMAIL)
    before = entries(app)
    data = {
        "current_password": WRONG,
        "new_password": STRONG_PASSWORD,
        "confirm_password": STRONG_PASSWORD,
    }
    statuses = [client.post("/account/password", data=data).status_code for _ in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    assert (
        summaries(new_entries(app, before)) == ["Wrong current password on the Password page"] * 5
    )
    # The right one is refused too while paused, and the password stays.
    data["current_password"] = factories.PASSWORD
    response = client.post("/account/password", data=data)
    assert response.status_code == 429
    assert form_errors(page(response))[0].startswith(PAUSED)
    assert ops.verify_password(load_user(app, team.therapist_id).password_hash, factories.PASSWORD)


def test_wrong_passwords_to_turn_off_two_step_sign_in_are_paused_and_recorded(app, team, clock):
    client = signed_in(app, FINDING_EMAIL)
    secret, _ = turn_on(client, clock)
    before = entries(app)
    data = {"password": WRONG, "code": code_at(secret, clock.now)}
    statuses = [client.post("/account/two-step/disable", data=data).status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    assert (
        summaries(new_entries(app, before))
        == ["Wrong password or code to turn off two-step sign-in"] * 5
    )
    assert load_user(app, team.therapist_id).has_two_factor


def test_wrong_codes_to_turn_off_two_step_sign_in_count_too(app, team, clock):
    client = signed_in(app, FINDING_EMAIL)
    secret, _ = turn_on(client, clock)
    data = {"password": factories.PASSWORD, "code": wrong_code(secret, clock.now)}
    statuses = [client.post("/account/two-step/disable", data=data).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_the_account_limit_is_shared_by_every_page_that_checks_a_password(app, team, clock):
    client = signed_in(app, FINDING_EMAIL)
    secret, _ = turn_on(client, clock)
    bad = {"current_password": WRONG, "new_password": "x", "confirm_password": "x"}
    for _ in range(2):
        assert client.post("/account/password", data=bad).status_code == 200
    for _ in range(2):
        assert confirm(client, WRONG).status_code == 200
    assert client.post("/account/two-step/recovery-codes", data={"proof": WRONG}).status_code == 200
    # Five wrong ones across three pages: the account is paused on every one of them.
    assert confirm(client).status_code == 429
    response = client.post(
        "/account/two-step/recovery-codes", data={"proof": code_at(secret, clock.now)}
    )
    assert response.status_code == 429
    # Another browser of the same account is paused too; another account is not.
    other = session_only(app, team.therapist_id)
    assert confirm(other, **from_address(50)).status_code == 429
    colleague = signed_in(app, team.colleague_email, **from_address(51))
    assert location(confirm(colleague, **from_address(51))) == "/"


def test_the_address_limit_counts_wrong_passwords_across_accounts(limited):
    app, team = limited
    therapist = signed_in(app, FINDING_EMAIL)
    colleague = signed_in(app, team.colleague_email)
    for _ in range(3):
        assert confirm(therapist, WRONG).status_code == 200
    for _ in range(2):
        assert confirm(colleague, WRONG).status_code == 200
    # Five from this address: the owner, from the same address, is paused too.
    owner = signed_in(app, team.owner_email)
    assert confirm(owner).status_code == 429
    assert (
        location(confirm(signed_in(app, team.owner_email, **from_address(60)), **from_address(60)))
        == "/"
    )


def test_a_refused_new_password_does_not_count_as_a_wrong_one(app, team):
    client = signed_in(app, FINDING_EMAIL)
    weak = {
        "current_password": factories.PASSWORD,
        "new_password": "Password1234",
        "confirm_password": "Password1234",
    }
    for _ in range(8):
        assert client.post("/account/password", data=weak).status_code == 200


# ---------------------------------------------------------------------------------------------
# Finding 3: "Confirm it is you" before sensitive changes


def test_a_stolen_session_cannot_start_two_step_sign_in(app, team):
    client = session_only(app, team.therapist_id)
    response = client.post("/account/two-step/start")
    assert location(response) == "/account/confirm?next=/account/two-step"
    assert load_user(app, team.therapist_id).totp_secret is None
    html = page(client.get(location(response)))
    assert "Confirm it is you" in html
    assert any("Nothing was changed yet" in message for message in flashes(html))
    # The set-up page itself asks first too.
    assert location(client.get("/account/two-step/confirm")).startswith("/account/confirm?next=")


def test_two_step_sign_in_starts_after_the_password_is_confirmed(app, team):
    client = session_only(app, team.therapist_id)
    before = entries(app)
    response = confirm(client, WRONG, query_string={"next": "/account/two-step"})
    assert response.status_code == 200
    assert field_errors(page(response), "proof") == ["This is not your password."]
    assert summaries(new_entries(app, before)) == ['Wrong password or code on "Confirm it is you"']
    response = confirm(client, query_string={"next": "/account/two-step"})
    assert location(response) == "/account/two-step"
    assert location(client.post("/account/two-step/start")) == "/account/two-step/confirm"
    assert load_user(app, team.therapist_id).totp_secret is not None


def test_a_confirmation_six_minutes_old_no_longer_opens_two_step_set_up(app, team, later):
    client = session_only(app, team.therapist_id)
    assert location(confirm(client)) == "/"
    later.by = timedelta(minutes=6)
    response = client.post("/account/two-step/start")
    assert location(response).startswith("/account/confirm")
    assert load_user(app, team.therapist_id).totp_secret is None
    later.by = timedelta(minutes=4, seconds=59)
    assert location(client.post("/account/two-step/start")) == "/account/two-step/confirm"


def test_signing_in_with_the_password_counts_as_confirmed_for_five_minutes(app, team, later):
    client = signed_in(app, FINDING_EMAIL)
    assert location(client.post("/account/two-step/start")) == "/account/two-step/confirm"
    later.by = timedelta(minutes=6)
    assert location(client.get("/account/two-step/confirm")).startswith("/account/confirm")


def test_a_confirmation_belongs_to_its_own_sign_in(app, team):
    client = session_only(app, team.therapist_id)
    assert location(confirm(client)) == "/"
    # A new sign-in in the same cookie (the marker copied over) does not carry it.
    factories.sign_in(app, client, team.therapist_id)
    assert location(client.post("/account/two-step/start")).startswith("/account/confirm")
    assert load_user(app, team.therapist_id).totp_secret is None


def test_an_account_with_two_step_sign_in_confirms_with_a_code(app, team, clock, later):
    client = signed_in(app, FINDING_EMAIL)
    secret, _ = turn_on(client, clock)
    later.by = timedelta(minutes=10)
    response = confirm(client, wrong_code(secret, clock.now))
    assert field_errors(page(response), "proof") == [
        "This code is not right. Check that you use the entry for this clinic, "
        "and type the 6 digits your app shows now."
    ]
    response = confirm(client, WRONG)
    assert field_errors(page(response), "proof") == [
        "This is neither your password nor the code your app shows now."
    ]
    # Thea confirms with her app's code; the same code does not work twice.
    code = code_at(secret, clock.now)
    assert location(confirm(client, code)) == "/"
    response = confirm(client, code)
    assert response.status_code == 200
    assert "used already" in field_errors(page(response), "proof")[0]


def test_a_stolen_owner_session_cannot_reset_a_colleagues_password(app, team):
    owner = session_only(app, team.owner_id)
    response = owner.post(f"/admin/users/{team.colleague_id}/reset-password")
    assert location(response) == "/account/confirm?next=/admin/users"
    assert not load_user(app, team.colleague_id).must_change_password
    assert ops.verify_password(load_user(app, team.colleague_id).password_hash, factories.PASSWORD)
    assert location(confirm(owner, query_string={"next": "/admin/users"})) == "/admin/users"
    response = owner.post(f"/admin/users/{team.colleague_id}/reset-password")
    assert response.status_code == 200
    assert load_user(app, team.colleague_id).must_change_password


def test_a_stolen_owner_session_cannot_reset_a_colleagues_two_step_sign_in(app, team, clock):
    therapist = signed_in(app, FINDING_EMAIL)
    turn_on(therapist, clock)
    owner = session_only(app, team.owner_id)
    response = owner.post(f"/admin/users/{team.therapist_id}/reset-two-step")
    assert location(response) == "/account/confirm?next=/admin/users"
    assert load_user(app, team.therapist_id).has_two_factor
    confirm(owner)
    assert location(owner.post(f"/admin/users/{team.therapist_id}/reset-two-step")) == (
        "/admin/users"
    )
    assert not load_user(app, team.therapist_id).has_two_factor


def test_a_stolen_owner_session_cannot_add_an_owner_and_the_typing_is_kept(app, team):
    owner = session_only(app, team.owner_id)
    data = {"full_name": "Mallory Owner", "email": "mallory@example.com", "role": "owner"}
    response = owner.post("/admin/users/new", data=data)
    target = location(response)
    assert target.startswith("/account/confirm?next=/admin/users/new?restore%3D")
    with app.app_context():
        assert ops.find_account_by_email("mallory@example.com") is None
    back = location(owner.post(target, data={"proof": factories.PASSWORD}))
    assert back.startswith("/admin/users/new?restore=")
    html = page(owner.get(back))
    assert input_value(html, "full_name") == "Mallory Owner"
    assert input_value(html, "email") == "mallory@example.com"
    response = owner.post("/admin/users/new", data=data)
    assert response.status_code == 200
    assert one_time_password(page(response))


def test_adding_any_account_asks_for_the_password_first(app, team):
    owner = session_only(app, team.owner_id)
    assert location(owner.get("/admin/users/new")) == "/account/confirm?next=/admin/users/new"


def test_another_clinics_account_is_still_not_found_before_any_password_is_asked(app, team):
    other_clinic = factories.make_clinic(app, name="Clinic Beta")
    other_owner = factories.make_user(app, other_clinic, role=Role.OWNER)
    client = session_only(app, other_owner)
    assert client.post(f"/admin/users/{team.colleague_id}/reset-password").status_code == 404


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "/\t/evil.example"]
)
def test_the_confirm_page_goes_back_only_to_this_site(app, team, target):
    client = session_only(app, team.therapist_id)
    assert location(confirm(client, query_string={"next": target})) == "/"


# ---------------------------------------------------------------------------------------------
# Finding 4: common and easy-to-guess passwords are refused


def change_to(client: ClinicTestClient, new_password: str) -> Any:
    return client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )


def test_password1234_is_refused_with_why_and_what_works(app, team):
    client = signed_in(app, FINDING_EMAIL)
    response = change_to(client, "Password1234")
    assert response.status_code == 200
    assert field_errors(page(response), "new_password") == [
        "This is similar to a commonly used password. "
        "Try three or four unrelated words, like 'maple river lantern spoon'."
    ]
    assert not input_value(page(response), "new_password")
    assert ops.verify_password(load_user(app, team.therapist_id).password_hash, factories.PASSWORD)


@pytest.mark.parametrize(
    "password", ["Password1234", "qwertyuiop123", "iloveyou2026!", "123456789012", "abcdefghijkl"]
)
def test_common_passwords_are_refused(password):
    assert ops.password_weakness(password) is not None


def test_a_password_made_of_the_clinics_name_is_refused_at_setup(make_app):
    app = make_app()
    client = new_client(app)
    password = "Harbourview2026!"
    response = client.post(
        "/setup",
        data={
            "clinic_name": "Harbourview",
            "owner_name": "Olive Owner",
            "email": "olive@example.com",
            "new_password": password,
            "confirm_password": password,
        },
    )
    assert response.status_code == 200
    assert field_errors(page(response), "new_password")[0].endswith(
        "Try three or four unrelated words, like 'maple river lantern spoon'."
    )


def test_the_clinics_own_name_makes_a_password_easy_to_guess():
    # Fine for a stranger's clinic, easy to guess for one whose name it is.
    assert ops.password_weakness("ClinicName2026!") is None
    assert ops.password_weakness("ClinicName2026!", user_inputs=["ClinicName"]) is not None


@pytest.mark.parametrize(
    "password", ["olive owner riverside", "Riverside Olive Owner", "oliveownerriverside"]
)
def test_a_password_made_only_of_the_persons_and_clinics_names_is_refused(password):
    """zxcvbn scores these 3 of 4 on their length; a targeted guess tries them first."""
    inputs = ["olive@example.com", "Olive Owner", "Riverside Knee Clinic"]
    weakness = ops.password_weakness(password, user_inputs=inputs)
    assert weakness is not None and weakness.startswith("Your own or the clinic's names")
    # The same words with one unrelated word of the person's own choosing pass.
    assert ops.password_weakness(password + " lantern", user_inputs=inputs) is None


def test_a_few_unrelated_words_are_accepted(app, team):
    client = signed_in(app, FINDING_EMAIL)
    assert location(change_to(client, STRONG_PASSWORD)) == "/"


# ---------------------------------------------------------------------------------------------
# One-time passwords expire after ONE_TIME_PASSWORD_HOURS


def add_account(owner: ClinicTestClient, email: str = "nia@example.com") -> str:
    response = owner.post(
        "/admin/users/new", data={"full_name": "Nia New", "email": email, "role": "therapist"}
    )
    assert response.status_code == 200
    return one_time_password(page(response))


def test_a_one_time_password_expires_after_72_hours(app, team, later):
    owner = signed_in(app, team.owner_email)
    password = add_account(owner)
    later.by = timedelta(hours=72, minutes=1)
    before = entries(app)
    response = sign_in_form(new_client(app), "nia@example.com", password)
    assert response.status_code == 200
    assert form_errors(page(response)) == [
        "This one-time password has expired. Ask the clinic's owner for a new one."
    ]
    assert summaries(new_entries(app, before), AuditAction.SIGN_IN_FAILED) == [
        "Refused: the one-time password has expired"
    ]


def test_a_one_time_password_works_until_it_expires(app, team, later):
    owner = signed_in(app, team.owner_email)
    password = add_account(owner)
    later.by = timedelta(hours=71, minutes=59)
    client = new_client(app)
    assert location(sign_in_form(client, "nia@example.com", password)) == "/"
    # Choosing one's own password clears the expiry: it is theirs now.
    assert location(change_to_from(client, password, STRONG_PASSWORD)) == "/"
    later.by = timedelta(days=30)
    assert sign_in_form(new_client(app), "nia@example.com", STRONG_PASSWORD).status_code == 302


def change_to_from(client: ClinicTestClient, current: str, new_password: str) -> Any:
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )


def test_the_owner_sees_the_expiry_and_issues_a_new_one_time_password(app, team, later):
    owner = signed_in(app, team.owner_email)
    add_account(owner)
    html = page(owner.get("/admin/users"))
    assert 'data-testid="one-time-expires"' in html
    later.by = timedelta(hours=73)
    html = page(owner.get("/admin/users"))
    assert 'data-testid="one-time-expired"' in html
    with app.app_context():
        nia = ops.find_account_by_email("nia@example.com")
        assert nia is not None
        nia_id = nia.id
    confirm(owner)
    response = owner.post(f"/admin/users/{nia_id}/reset-password")
    fresh = one_time_password(page(response))
    assert sign_in_form(new_client(app), "nia@example.com", fresh).status_code == 302
    assert 'data-testid="one-time-expires"' in page(owner.get("/admin/users"))


def test_the_default_settings(app):
    assert app.config["ONE_TIME_PASSWORD_HOURS"] == 72
    assert app.config["REAUTH_MINUTES"] == 5
    assert app.config["PASSWORD_MIN_SCORE"] == 3
