"""Issue 13: owners must use two-step sign-in, new clinics require it, secrets at rest are
encrypted or keyed, sign-ins have an absolute lifetime, and the HTTPS cookie is __Host-."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, update

from clinic.auth import two_factor
from clinic.clock import utcnow
from clinic.extensions import db
from clinic.models import AuditEntry, Clinic, LoginSession, RecoveryCode, Role, User
from tests import factories
from tests.auth import (
    STEP,
    Clock,
    field_errors,
    flashes,
    load_user,
    location,
    page,
    sign_in_form,
)
from tests.conftest import ClinicTestClient

HTTPS = {"base_url": "https://localhost"}


@dataclass(frozen=True)
class People:
    clinic_id: int
    owner_id: int
    owner_email: str
    therapist_id: int
    therapist_email: str


def make_people(app: Flask, **owner: Any) -> People:
    clinic_id = factories.make_clinic(app, name="Clinic Alpha")
    owner_id = factories.make_user(
        app, clinic_id, email="owner@example.com", role=Role.OWNER, **owner
    )
    therapist_id = factories.make_user(app, clinic_id, email="tess@example.com")
    return People(clinic_id, owner_id, "owner@example.com", therapist_id, "tess@example.com")


@pytest.fixture
def people(app: Flask) -> People:
    return make_people(app)


def signed_in(app: Flask, email: str, **kw: Any) -> ClinicTestClient:
    """A browser signed in with the password form (which also counts as a fresh sign-in)."""
    client: ClinicTestClient = app.test_client()  # type: ignore[assignment]
    response = sign_in_form(client, email, **kw)
    assert location(response).startswith("/"), response.status_code
    return client


def turn_on(client: ClinicTestClient, clock: Clock) -> tuple[str, list[str]]:
    """Set up two-step sign-in through the pages; return the secret and the recovery codes."""
    assert location(client.post("/account/two-step/start")) == "/account/two-step/confirm"
    html = page(client.get("/account/two-step/confirm"))
    match = re.search(r'data-testid="secret-key">([^<]+)</p>', html)
    assert match
    secret = match.group(1).replace(" ", "")
    response = client.post(
        "/account/two-step/confirm", data={"code": pyotp.TOTP(secret).at(clock.now)}
    )
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([^<]+)</code></li>", page(response))
    assert len(codes) == 10
    clock.now += STEP
    return secret, codes


def raw_column(app: Flask, sql: str, **params: Any) -> Any:
    """Read a value the way a copy of the database shows it, without the app's types."""
    with app.app_context():
        return db.session.execute(sa.text(sql), params).scalar()


def set_user(app: Flask, user_id: int, **values: Any) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(**values))
        db.session.commit()


# ---------------------------------------------------------------------------------------------
# Owners must use two-step sign-in (What to build 5; finding 5)


def test_first_run_setup_leads_the_owner_to_two_step_set_up_with_a_later_choice(app, client):
    data = {
        "clinic_name": "Kneecap Clinic",
        "clinic_address": "",
        "clinic_phone": "",
        "owner_name": "Olive Owner",
        "email": "olive@example.com",
        "new_password": factories.PASSWORD,
        "confirm_password": factories.PASSWORD,
    }
    before = utcnow()
    response = client.post("/setup", data=data)
    assert location(response) == "/account/two-step"
    html = page(client.get("/account/two-step"))
    assert "As the clinic's owner you must use two-step sign-in" in html
    assert '<a class="button button--quiet" href="/">Later</a>' in html
    # Later goes home, and a banner on every page counts the days down.
    home = page(client.get("/clients/"))
    assert "Set up two-step sign-in: 6 days left." in home
    assert 'data-testid="two-step-banner"' in home and 'href="/account/two-step"' in home
    with app.app_context():
        owner = db.session.scalars(select(User)).one()
        assert owner.two_step_due_at is not None
        assert before + timedelta(days=7) <= owner.two_step_due_at
        assert owner.two_step_due_at <= utcnow() + timedelta(days=7)
        # The new clinic requires two-step sign-in for everyone.
        assert db.session.scalars(select(Clinic)).one().require_two_factor is True


def test_an_owner_added_later_has_seven_days_and_a_therapist_has_no_due_date(app):
    clinic_id = factories.make_clinic(app)
    owner_id = factories.make_user(app, clinic_id, role=Role.OWNER)
    therapist_id = factories.make_user(app, clinic_id)
    due = load_user(app, owner_id).two_step_due_at
    assert due is not None
    assert timedelta(days=6, hours=23) < due - utcnow() <= timedelta(days=7)
    assert load_user(app, therapist_id).two_step_due_at is None


def test_the_banner_counts_the_days_down_for_owners_only(app, people):
    owner = signed_in(app, people.owner_email)
    set_user(app, people.owner_id, two_step_due_at=utcnow() + timedelta(days=3, hours=1))
    assert "Set up two-step sign-in: 3 days left." in page(owner.get("/clients/"))
    set_user(app, people.owner_id, two_step_due_at=utcnow() + timedelta(days=1, hours=1))
    assert "Set up two-step sign-in: 1 day left." in page(owner.get("/clients/"))
    set_user(app, people.owner_id, two_step_due_at=utcnow() + timedelta(hours=5))
    assert "Set up two-step sign-in: less than a day left." in page(owner.get("/clients/"))
    therapist = signed_in(app, people.therapist_email)
    assert "two-step-banner" not in page(therapist.get("/clients/"))


def test_after_the_due_date_nothing_but_set_up_opens_for_an_owner(app, clock):
    people = make_people(app, two_step_due_at=utcnow() - timedelta(minutes=1))
    client = signed_in(app, people.owner_email)
    for path in ("/", "/clients/", "/admin/clinic", "/admin/users", "/audit/"):
        assert location(client.get(path)) == "/account/two-step", path
    html = page(client.get("/account/two-step"))
    assert flashes(html)[0].startswith("As the clinic's owner you must use two-step sign-in")
    assert ">Later</a>" not in html and "two-step-banner" not in html
    # Even a clinic that does not require it for therapists does not free its owner.
    with app.app_context():
        assert db.session.get_one(Clinic, people.clinic_id).require_two_factor is False
    turn_on(client, clock)
    assert client.get("/clients/").status_code == 200
    assert "two-step-banner" not in page(client.get("/clients/"))


def test_an_owner_may_not_turn_two_step_sign_in_off(app, people, clock):
    client = signed_in(app, people.owner_email)
    secret, _ = turn_on(client, clock)
    html = unescape(page(client.get("/account/two-step")))
    assert "Turn two-step sign-in off" not in html
    assert "As the clinic's owner you must use two-step sign-in, so it stays on." in html
    response = client.post(
        "/account/two-step/disable",
        data={"password": factories.PASSWORD, "code": pyotp.TOTP(secret).at(clock.now)},
    )
    assert response.status_code == 200
    assert "As the clinic's owner you must keep two-step sign-in on." in unescape(page(response))
    assert load_user(app, people.owner_id).has_two_factor


# ---------------------------------------------------------------------------------------------
# New clinics require it; the owner can lift it for therapists, with a warning


def test_a_new_clinic_requires_two_step_sign_in_unless_the_owner_lifts_it(app, people):
    with app.app_context():
        new = Clinic(name="New")
        db.session.add(new)
        db.session.flush()
        assert new.require_two_factor is True
        db.session.execute(
            sa.text(
                "INSERT INTO clinics (name, address, phone, is_demo, version, created_at, "
                "updated_at) VALUES ('Raw', '', '', false, 1, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"
            )
        )
        raw = db.session.scalars(select(Clinic).where(Clinic.name == "Raw")).one()
        assert raw.require_two_factor is True
        db.session.rollback()
    set_clinic = {"require_two_factor": True}
    with app.app_context():
        db.session.execute(update(Clinic).values(**set_clinic))
        db.session.commit()
    owner = signed_in(app, people.owner_email)
    html = page(owner.get("/admin/clinic"))
    assert "Therapists must use two-step sign-in too" in html
    assert "Turning this off is a risk." in html
    assert "can open every client's record" in html
    therapist = signed_in(app, people.therapist_email)
    assert location(therapist.get("/clients/")) == "/account/two-step"
    settings = {"name": "Clinic Alpha", "screening_valid_days": "30", "retention_years": "10"}
    with app.app_context():
        settings["version"] = str(db.session.get_one(Clinic, people.clinic_id).version)
    assert location(owner.post("/admin/clinic", data=settings)) == "/admin/clinic"
    assert therapist.get("/clients/").status_code == 200
    with app.app_context():
        summary = db.session.scalars(
            select(AuditEntry.summary)
            .where(AuditEntry.record_type == "clinic")
            .order_by(AuditEntry.id.desc())
        ).first()
    assert summary == (
        "Changed the clinic's details and settings; "
        "therapists may now sign in without two-step sign-in"
    )


# ---------------------------------------------------------------------------------------------
# Recovery codes: at least 64 bits, keyed hash (finding 8)


def test_recovery_codes_have_at_least_64_bits_and_a_salted_slow_keyed_hash(app, people, clock):
    bits = two_factor.RECOVERY_CODE_LENGTH * math.log2(len(two_factor.RECOVERY_ALPHABET))
    assert bits >= 64
    client = signed_in(app, people.therapist_email)
    _, codes = turn_on(client, clock)
    assert all(re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", code) for code in codes)
    with app.app_context():
        stored = list(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10
    assert all(value.startswith("$argon2id$") for value in stored)
    plain = {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes}
    assert not plain & set(stored)
    key = two_factor.derived_key(b"clinic recovery codes v1", "test-secret-key")
    keyed = {
        hmac.new(key, code.replace("-", "").encode(), hashlib.sha256).hexdigest() for code in codes
    }
    assert not keyed & set(stored)
    # Each code matches its own hash only with this server's key.
    for code in codes:
        assert (
            sum(two_factor.recovery_code_matches(v, code, "test-secret-key") for v in stored) == 1
        )
        assert not any(two_factor.recovery_code_matches(v, code, "another-key") for v in stored)
    # Salted: the same code hashes differently each time.
    assert two_factor.hash_recovery_code(codes[0], "k") != two_factor.hash_recovery_code(
        codes[0], "k"
    )


def test_with_no_recovery_codes_left_the_page_asks_for_new_ones(app, people, clock):
    client = signed_in(app, people.therapist_email)
    turn_on(client, clock)
    with app.app_context():
        db.session.execute(sa.delete(RecoveryCode))
        db.session.commit()
    html = page(client.get("/account/two-step"))
    assert "You have no recovery codes left" in html
    assert "Make new ones below and keep them somewhere safe" in html
    assert "Make new recovery codes" in html


# ---------------------------------------------------------------------------------------------
# TOTP secrets encrypted at rest with a key not in the database (finding 8)


def test_the_stored_totp_secret_is_never_the_base32_secret(app, people, clock):
    client = signed_in(app, people.therapist_email)
    client.post("/account/two-step/start")
    pending = raw_column(
        app, "SELECT totp_secret FROM users WHERE id = :id", id=people.therapist_id
    )
    html = page(client.get("/account/two-step/confirm"))
    shown = re.search(r'data-testid="secret-key">([^<]+)</p>', html)
    assert shown
    # The set-up page shows the secret decrypted; the column holds only the token.
    assert pending.startswith("v1:") and shown.group(1).replace(" ", "") not in pending
    secret, _ = turn_on(client, clock)
    stored = raw_column(app, "SELECT totp_secret FROM users WHERE id = :id", id=people.therapist_id)
    assert stored.startswith("v1:")
    assert secret not in stored and secret.lower() not in stored.lower()
    assert len(stored) <= 255
    with app.app_context():
        assert two_factor.decrypt_secret(stored) == secret
    with pytest.raises(two_factor.UnreadableSecret):
        two_factor.decrypt_secret(stored, "another-secret-key")


def test_a_copy_of_the_database_with_another_secret_key_opens_nothing(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
):
    frozen = Clock()
    monkeypatch.setattr(two_factor, "_now", lambda: frozen.now)
    app = make_app()
    people = make_people(app)
    secret, codes = turn_on(signed_in(app, people.therapist_email), frozen)

    copy = make_app(SECRET_KEY="a-different-secret-key")
    for code in (pyotp.TOTP(secret).at(frozen.now), codes[0]):
        client: ClinicTestClient = copy.test_client()  # type: ignore[assignment]
        assert location(sign_in_form(client, people.therapist_email)).startswith("/login/code")
        response = client.post("/login/code", data={"code": code})
        assert response.status_code == 200
        [message] = field_errors(page(response), "code")
        assert message == two_factor.CANNOT_CHECK_MESSAGE
        assert "flask --app clinic clinic reset-two-step" in message
        assert location(client.get("/clients/")).startswith("/login")
    # The recovery code was not used up: it still works with the right key.
    with copy.app_context():
        assert db.session.scalar(sa.func.count(RecoveryCode.used_at)) == 0


# ---------------------------------------------------------------------------------------------
# The migration: owners get their days, secrets are encrypted, old recovery codes go


def test_the_migration_encrypts_secrets_gives_owners_days_and_drops_old_codes(
    migration_app: Flask,
):
    secret = pyotp.random_base32()
    with migration_app.app_context():
        upgrade(revision="7c3e9a1f4b26")
        run = db.session.execute
        run(
            sa.text(
                "INSERT INTO clinics (id, name, address, phone, is_demo, version, created_at, "
                "updated_at) VALUES (1, 'Kept', '', '', false, 1, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"
            )
        )
        user = (
            "INSERT INTO users (id, clinic_id, email, full_name, role, password_hash, active, "
            "must_change_password, totp_secret, totp_enabled_at, version, created_at, "
            "updated_at) VALUES (:id, 1, :email, 'X', :role, 'h', true, false, :secret, "
            ":enabled, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        now = utcnow().replace(tzinfo=None)
        for user_id, role, totp in (
            (1, "owner", None),
            (2, "therapist", secret),
            (3, "owner", secret),
        ):
            values = {"id": user_id, "email": f"{user_id}@example.com", "role": role}
            run(sa.text(user), {**values, "secret": totp, "enabled": totp and now})
        run(
            sa.text(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at) "
                "VALUES (2, :hash, CURRENT_TIMESTAMP)"
            ),
            {"hash": hashlib.sha256(b"abcdefgh").hexdigest()},
        )
        db.session.commit()

        upgrade()
        users = sa.table(
            "users",
            sa.column("id", sa.Integer),
            sa.column("totp_secret", sa.String),
            sa.column("two_step_due_at", sa.DateTime),
        )
        rows = {row.id: row for row in run(sa.select(users))}
        assert rows[2].totp_secret.startswith("v1:") and secret not in rows[2].totp_secret
        assert two_factor.decrypt_secret(rows[2].totp_secret) == secret
        assert two_factor.decrypt_secret(rows[3].totp_secret) == secret
        # The owner without two-step sign-in has 7 days from the migration; the others none.
        due = rows[1].two_step_due_at
        assert timedelta(days=6, hours=23) < due - now <= timedelta(days=7, minutes=5)
        assert rows[2].two_step_due_at is None and rows[3].two_step_due_at is None
        assert run(sa.text("SELECT count(*) FROM recovery_codes")).scalar() == 0
        # Existing clinics keep their choice; a new one requires two-step sign-in.
        assert run(sa.text("SELECT require_two_factor FROM clinics")).scalar() in (False, 0)
        db.session.commit()

        # Running it again changes nothing; going down gives the plain secrets back.
        upgrade()
        assert run(sa.text("SELECT totp_secret FROM users WHERE id = 2")).scalar() == (
            rows[2].totp_secret
        )
        db.session.commit()
        downgrade(revision="7c3e9a1f4b26")
        assert run(sa.text("SELECT totp_secret FROM users WHERE id = 2")).scalar() == secret
        db.session.commit()


# ---------------------------------------------------------------------------------------------
# Sessions: an absolute lifetime besides the idle timeout (finding 5)


def _age_sign_in(app: Flask, user_id: int, age: timedelta) -> None:
    with app.app_context():
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user_id)
            .values(created_at=utcnow() - age, last_seen_at=utcnow())
        )
        db.session.commit()


def _sign_ins(app: Flask, user_id: int) -> list[tuple[Any, str]]:
    with app.app_context():
        return [
            (row.ended_at, row.ended_reason)
            for row in db.session.scalars(
                select(LoginSession).where(LoginSession.user_id == user_id)
            )
        ]


@pytest.mark.parametrize("age", [timedelta(hours=12, minutes=1), timedelta(days=30)])
def test_a_sign_in_older_than_twelve_hours_ends_though_in_use(app, people, age):
    client = signed_in(app, people.therapist_email)
    assert client.get("/clients/").status_code == 200
    _age_sign_in(app, people.therapist_id, age)
    response = client.get("/clients/")
    assert location(response) == "/login?next=/clients/?"
    html = page(client.get(location(response)))
    assert "You were signed out: sign-ins last at most 12 hours. Sign in again." in flashes(html)
    [(ended_at, reason)] = _sign_ins(app, people.therapist_id)
    assert ended_at is not None and reason == "expired"


def test_a_sign_in_younger_than_twelve_hours_carries_on(app, people):
    client = signed_in(app, people.therapist_email)
    _age_sign_in(app, people.therapist_id, timedelta(hours=11, minutes=59))
    assert client.get("/clients/").status_code == 200
    [(ended_at, _)] = _sign_ins(app, people.therapist_id)
    assert ended_at is None


def test_the_absolute_lifetime_is_configurable(make_app: Callable[..., Flask]):
    app = make_app(SESSION_ABSOLUTE_HOURS=1)
    people = make_people(app)
    client = signed_in(app, people.therapist_email)
    _age_sign_in(app, people.therapist_id, timedelta(minutes=61))
    response = client.get("/clients/")
    html = page(client.get(location(response)))
    assert "You were signed out: sign-ins last at most 1 hour. Sign in again." in flashes(html)


# ---------------------------------------------------------------------------------------------
# The __Host- prefix on the session cookie over HTTPS (What to build 11)


def _session_cookies(response: Any) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if "clinic_session=" in h]


def test_over_https_the_session_cookie_has_the_host_prefix_and_stays_signed_in(app, people):
    client: ClinicTestClient = app.test_client()  # type: ignore[assignment]
    [header] = _session_cookies(client.get("/login", **HTTPS))
    assert header.startswith("__Host-clinic_session=")
    attributes = [part.strip().lower() for part in header.split(";")]
    assert "secure" in attributes and "path=/" in attributes
    assert not any(part.startswith("domain=") for part in attributes)

    response = sign_in_form(
        client, people.therapist_email, headers={"Referer": "https://localhost/login"}, **HTTPS
    )
    assert location(response) == "/"
    assert all(h.startswith("__Host-") for h in _session_cookies(response))
    # Read back on the next HTTPS request: still signed in.
    assert client.get("/clients/", **HTTPS).status_code == 200


def test_plain_http_keeps_the_plain_cookie_name(client, people):
    [header] = _session_cookies(client.get("/login"))
    assert header.startswith("clinic_session=") and "Secure" not in header
    response = sign_in_form(client, people.therapist_email)
    assert location(response) == "/"
    assert client.get("/clients/").status_code == 200
