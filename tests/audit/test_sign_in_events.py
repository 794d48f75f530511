"""Signing in, failing to, signing out and changing a password are in the audit trail."""

from __future__ import annotations

from clinic.models import AuditAction
from tests import factories
from tests.audit import entries, new_entries

ADDRESS = "192.0.2.44"


def login(client, email, password=factories.PASSWORD):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ADDRESS},
    )


def test_a_sign_in_is_recorded(app, client, clinic_world):
    a = clinic_world.a
    before = entries(app)
    assert login(client, a.therapist_email).status_code == 302
    [entry] = new_entries(app, before)
    assert entry.action is AuditAction.SIGN_IN
    assert (entry.clinic_id, entry.user_id, entry.client_id) == (a.clinic_id, a.therapist_id, None)
    assert (entry.record_type, entry.record_id) == ("user", a.therapist_id)
    assert entry.remote_addr == ADDRESS


def test_a_wrong_password_is_recorded_against_the_account_tried(app, client, clinic_world):
    b = clinic_world.b
    before = entries(app)
    response = login(client, b.owner_email.upper(), "not the password at all")
    assert response.status_code == 200
    [entry] = new_entries(app, before)
    assert entry.action is AuditAction.SIGN_IN_FAILED
    assert (entry.clinic_id, entry.user_id) == (b.clinic_id, b.owner_id)
    assert entry.summary == "Wrong password"
    assert entry.remote_addr == ADDRESS


def test_a_deactivated_account_is_recorded_as_refused(app, client, clinic_world):
    a = clinic_world.a
    user_id = factories.make_user(app, a.clinic_id, email="gone@example.com", active=False)
    before = entries(app)
    assert login(client, "gone@example.com").status_code == 200
    [entry] = new_entries(app, before)
    assert (entry.action, entry.user_id) == (AuditAction.SIGN_IN_FAILED, user_id)
    assert "deactivated" in entry.summary


def test_an_unknown_address_records_nothing(app, client, clinic_world):
    before = entries(app)
    assert login(client, "nobody@example.com").status_code == 200
    assert new_entries(app, before) == []


def test_signing_out_is_recorded(app, client, auth, clinic_world):
    a = clinic_world.a
    auth.login(a.owner_email)
    before = entries(app)
    assert client.post("/logout", environ_base={"REMOTE_ADDR": ADDRESS}).status_code == 302
    [entry] = new_entries(app, before)
    assert (entry.action, entry.user_id, entry.remote_addr) == (
        AuditAction.SIGN_OUT,
        a.owner_id,
        ADDRESS,
    )


def test_changing_your_password_is_recorded(app, logged_in, clinic_world):
    before = entries(app)
    response = logged_in.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "a brand new long passphrase",
            "confirm_password": "a brand new long passphrase",
        },
    )
    assert response.status_code == 302
    [entry] = new_entries(app, before)
    assert (entry.action, entry.user_id, entry.summary) == (
        AuditAction.SECURITY,
        clinic_world.a.therapist_id,
        "Changed own password",
    )


def test_a_refused_password_change_records_only_the_wrong_current_password(
    app, logged_in, clinic_world
):
    before = entries(app)
    response = logged_in.post(
        "/account/password",
        data={
            "current_password": "wrong current password",
            "new_password": "a brand new long passphrase",
            "confirm_password": "a brand new long passphrase",
        },
    )
    assert response.status_code == 200
    # A wrong password typed while signed in is a security event (issue 13); no change is.
    [entry] = new_entries(app, before)
    assert (entry.action, entry.user_id, entry.summary) == (
        AuditAction.SECURITY,
        clinic_world.a.therapist_id,
        "Wrong current password on the Password page",
    )
