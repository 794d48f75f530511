"""Server-side sign-ins: logout, password change and idle time end them."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from clinic import create_app
from clinic.clock import utcnow
from clinic.config import DefaultConfig
from clinic.domain.visits import VisitStatus
from clinic.extensions import db
from clinic.models import FormStash, LoginSession
from tests import factories
from tests.auth import (
    flashes,
    location,
    open_sessions,
    page,
    put_session_cookie,
    session_cookie,
    sign_in_form,
)
from tests.conftest import make_test_config

NEW_PASSWORD = "a brand new password"


def test_a_copied_cookie_works_while_signed_in(app, client, clinic_world):
    # The mechanism the next tests rely on: a cookie carried to another browser.
    sign_in_form(client, clinic_world.a.therapist_email)
    other = app.test_client()
    put_session_cookie(other, session_cookie(client))
    assert other.get("/clients/").status_code == 200


def test_an_old_cookie_stops_working_after_logout(app, client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    old_cookie = session_cookie(client)
    client.post("/logout")

    other = app.test_client()
    put_session_cookie(other, old_cookie)
    response = other.get("/clients/")
    assert response.status_code == 302
    assert location(response).startswith("/login")
    # The cookie put back into the browser that signed out does not work either.
    put_session_cookie(client, old_cookie)
    assert location(client.get("/clients/")).startswith("/login")
    assert other.post("/clients/new", data=factories.intake_form_data()).status_code == 302


def test_password_change_ends_other_sign_ins_but_keeps_this_one(app, clinic_world):
    first, second = app.test_client(), app.test_client()
    sign_in_form(first, clinic_world.a.therapist_email)
    sign_in_form(second, clinic_world.a.therapist_email)
    first_old_cookie = session_cookie(first)
    assert second.get("/clients/").status_code == 200

    response = first.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    response = first.get("/clients/")
    assert response.status_code == 200
    assert "Your password is changed. You were signed out everywhere else." in flashes(
        page(response)
    )

    response = second.get("/clients/")
    assert response.status_code == 302
    assert location(response).startswith("/login")
    # The first browser's cookie from before the change is dead too: it got a new one.
    stale = app.test_client()
    put_session_cookie(stale, first_old_cookie)
    assert location(stale.get("/clients/")).startswith("/login")
    assert open_sessions(app, clinic_world.a.therapist_id) == 1
    with app.app_context():
        reasons = db.session.scalars(
            select(LoginSession.ended_reason).where(LoginSession.ended_at.is_not(None))
        ).all()
        assert sorted(reasons) == ["password changed", "password changed"]


def test_the_new_password_signs_in_and_the_old_one_does_not(app, client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    other = app.test_client()
    assert sign_in_form(other, clinic_world.a.therapist_email).status_code == 200
    assert sign_in_form(other, clinic_world.a.therapist_email, NEW_PASSWORD).status_code == 302


def _age_sign_ins(app, user_id: int, minutes: float) -> None:
    with app.app_context():
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user_id)
            .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def test_the_idle_timeout_is_30_minutes_by_default(app, database_url):
    assert DefaultConfig.IDLE_TIMEOUT_MINUTES == 30
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 30
    # The server ends idle sign-ins; the cookie lives longer so that a form posted after the
    # timeout still passes its CSRF check and its text can be kept (see clinic/settings.py).
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)


def test_an_idle_sign_in_ends_with_a_message(app, client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    _age_sign_ins(app, clinic_world.a.therapist_id, 31)

    response = client.get("/clients/")
    assert response.status_code == 302
    assert location(response).startswith("/login")
    html = page(client.get(location(response)))
    assert "You were signed out after 30 minutes without activity." in flashes(html)
    with app.app_context():
        login_session = db.session.scalars(select(LoginSession)).one()
        assert login_session.ended_at is not None
        assert login_session.ended_reason == "idle"
    # Coming back a moment later does not revive it.
    assert location(client.get("/clients/")).startswith("/login")


def test_a_sign_in_used_within_the_timeout_stays_and_is_refreshed(app, client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    _age_sign_ins(app, clinic_world.a.therapist_id, 29)
    assert client.get("/clients/").status_code == 200
    with app.app_context():
        login_session = db.session.scalars(select(LoginSession)).one()
        assert login_session.ended_at is None
        assert utcnow() - login_session.last_seen_at < timedelta(minutes=1)
    # Because the visit refreshed it, another 29 minutes later it is still open.
    _age_sign_ins(app, clinic_world.a.therapist_id, 29)
    assert client.get("/clients/").status_code == 200


def test_the_idle_timeout_is_configurable(make_app):
    app = make_app(IDLE_TIMEOUT_MINUTES=5)
    world = factories.make_world(app)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
    client = app.test_client()
    sign_in_form(client, world.a.therapist_email)
    _age_sign_ins(app, world.a.therapist_id, 4)
    assert client.get("/clients/").status_code == 200
    _age_sign_ins(app, world.a.therapist_id, 6)
    response = client.get("/clients/")
    assert location(response).startswith("/login")
    assert "You were signed out after 5 minutes without activity." in flashes(
        page(client.get(location(response)))
    )


def test_an_idle_sign_in_cannot_post_either(app, client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    _age_sign_ins(app, clinic_world.a.therapist_id, 45)
    response = client.post("/clients/new", data=factories.intake_form_data())
    assert response.status_code == 302
    assert location(response).startswith("/login")


def test_a_form_posted_after_the_timeout_is_kept_and_given_back_once(app, client, clinic_world):
    """The guard's sign-out and the kept form are committed with its redirect (issue 11)."""
    a = clinic_world.a
    sign_in_form(client, a.therapist_email)
    _age_sign_ins(app, a.therapist_id, 45)
    edit = f"/clients/{a.client_id}/edit"
    typed = factories.intake_form_data(main_complaint="Typed before the timeout", version="1")
    response = client.post(edit, data=typed)
    assert location(response).startswith("/login")
    with app.app_context():
        assert db.session.scalars(select(LoginSession)).one().ended_reason == "idle"
        assert db.session.scalar(select(func.count()).select_from(FormStash)) == 1
    next_url = parse_qs(urlsplit(location(response)).query)["next"][0]
    assert next_url.startswith(f"{edit}?restore=")

    assert location(sign_in_form(client, a.therapist_email)) == "/"
    restored = page(client.get(next_url))
    assert "Typed before the timeout" in restored
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FormStash)) == 0
    # Given back once: the same link now shows the saved record.
    assert "Typed before the timeout" not in page(client.get(next_url))


def test_a_sign_in_due_for_its_touch_can_still_print(app, client, clinic_world):
    """The touch is written after the page, so a print that ends its read early still works."""
    a = clinic_world.a
    visit_id = factories.make_visit(app, a.client_id, a.therapist_id, status=VisitStatus.SIGNED)
    sign_in_form(client, a.therapist_email)
    _age_sign_ins(app, a.therapist_id, 5)
    response = client.get(f"/clients/{a.client_id}/visits/{visit_id}/note.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    with app.app_context():
        login_session = db.session.scalars(select(LoginSession)).one()
        assert utcnow() - login_session.last_seen_at < timedelta(minutes=1)


# Cookies and CSRF.


# Over HTTPS the session cookie carries the __Host- prefix (tests/auth/test_two_step_policy_asvs.py).
HTTPS_COOKIE = "__Host-clinic_session"


def _set_cookie_header(response, name: str = "clinic_session") -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers, "no session cookie was set"
    return headers[-1]


def test_session_cookie_is_httponly_and_samesite_lax_over_http(client, clinic_world):
    response = client.get("/login")
    header = _set_cookie_header(response)
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header
    response = sign_in_form(client, clinic_world.a.therapist_email)
    header = _set_cookie_header(response)
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header


def test_session_cookie_is_secure_over_https(client, clinic_world):
    response = client.get("/login", base_url="https://localhost")
    header = _set_cookie_header(response, HTTPS_COOKIE)
    assert "Secure" in header
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    response = sign_in_form(
        client,
        clinic_world.a.therapist_email,
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 302
    assert "Secure" in _set_cookie_header(response, HTTPS_COOKIE)


def test_session_cookie_is_always_secure_when_configured(database_url):
    app = create_app(make_test_config(database_url, SESSION_COOKIE_SECURE=True))
    try:
        response = app.test_client().get("/setup")
        assert "Secure" in _set_cookie_header(response)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_https_behind_a_trusted_proxy_gets_a_secure_cookie(database_url):
    app = create_app(make_test_config(database_url, TRUSTED_PROXIES=1))
    try:
        response = app.test_client().get("/setup", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in _set_cookie_header(response, HTTPS_COOKIE)
        response = app.test_client().get("/setup")
        assert "Secure" not in _set_cookie_header(response)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(client):
    response = client.get("/setup", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in _set_cookie_header(response)


@pytest.mark.parametrize("token", [None, "", "wrong-token", "IjEyMyI.abc.def"])
def test_sign_in_without_a_valid_csrf_token_is_refused(app, client, clinic_world, token):
    data = {"email": clinic_world.a.therapist_email, "password": factories.PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/login", data=data, csrf=False)
    assert response.status_code == 400
    assert "nothing was saved" in page(response)
    assert open_sessions(app, clinic_world.a.therapist_id) == 0


def test_a_csrf_token_from_another_browser_is_refused(app, client, clinic_world):
    other = app.test_client()
    foreign_token = other.csrf_token()
    client.csrf_token()  # this browser has a token of its own
    response = client.post(
        "/login",
        data={
            "email": clinic_world.a.therapist_email,
            "password": factories.PASSWORD,
            "csrf_token": foreign_token,
        },
        csrf=False,
    )
    assert response.status_code == 400
    assert open_sessions(app, clinic_world.a.therapist_id) == 0


def test_password_change_without_a_csrf_token_changes_nothing(app, client, clinic_world):
    sign_in_form(client, clinic_world.a.therapist_email)
    with app.app_context():
        before = db.session.scalars(select(LoginSession.token_hash)).all()
    response = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        csrf=False,
    )
    assert response.status_code == 400
    assert client.get("/clients/").status_code == 200
    other = app.test_client()
    assert sign_in_form(other, clinic_world.a.therapist_email).status_code == 302
    with app.app_context():
        assert set(before) <= set(db.session.scalars(select(LoginSession.token_hash)).all())
