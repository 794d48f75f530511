"""Operations record each change with it; declared page views record each showing of a record."""

from __future__ import annotations

import pytest
from flask import Flask

from clinic import create_app
from clinic.extensions import db
from clinic.models import AuditAction, Role, User
from tests import factories
from tests.audit import entries, new_entries
from tests.conftest import ClinicTestClient, make_test_config
from tests.visits.test_views import entry as technique_entry
from tests.visits.test_views import ready_client, visit_data

ADDRESS = "203.0.113.7"


def get(client, url, **kwargs):
    return client.get(url, environ_base={"REMOTE_ADDR": ADDRESS}, **kwargs)


def post(client, url, data=None, **kwargs):
    return client.post(url, data=data, environ_base={"REMOTE_ADDR": ADDRESS}, **kwargs)


def test_viewing_a_client_records_who_when_which_and_from_where(app, logged_in, clinic_world):
    a = clinic_world.a
    before = entries(app)
    assert get(logged_in, f"/clients/{a.client_id}").status_code == 200
    [entry] = new_entries(app, before)
    assert entry.action is AuditAction.VIEW
    assert (entry.clinic_id, entry.user_id, entry.client_id) == (
        a.clinic_id,
        a.therapist_id,
        a.client_id,
    )
    assert (entry.record_type, entry.record_id) == ("client", a.client_id)
    assert entry.summary == "Client page"
    assert entry.remote_addr == ADDRESS


def test_each_client_page_records_its_record(app, logged_in, clinic_world):
    a = clinic_world.a
    pages = {
        f"/clients/{a.client_id}/screening/{a.screening_id}": ("screening", a.screening_id),
        f"/clients/{a.client_id}/visits/{a.visit_id}": ("visit", a.visit_id),
        f"/clients/{a.client_id}/homecare/{a.plan_id}": ("plan", a.plan_id),
        f"/clients/{a.client_id}/progress": ("progress", None),
        f"/clients/{a.client_id}/edit": ("client", a.client_id),
    }
    for url, (record_type, record_id) in pages.items():
        before = entries(app)
        assert get(logged_in, url).status_code == 200, url
        [entry] = new_entries(app, before)
        assert (entry.action, entry.client_id) == (AuditAction.VIEW, a.client_id), url
        assert (entry.record_type, entry.record_id) == (record_type, record_id), url


def test_the_forwarded_address_is_stored_behind_a_trusted_proxy(database_url, clinic_world):
    app = create_app(make_test_config(database_url, TRUSTED_PROXIES=1))
    app.test_client_class = ClinicTestClient
    client = app.test_client()
    factories.sign_in(app, client, clinic_world.a.therapist_id)
    before = entries(app)
    response = client.get(
        f"/clients/{clinic_world.a.client_id}",
        headers={"X-Forwarded-For": "198.51.100.23"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.status_code == 200
    [entry] = new_entries(app, before)
    assert entry.remote_addr == "198.51.100.23"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_another_clinics_client_answers_404_and_records_only_the_refusal(
    app, logged_in, clinic_world
):
    before = entries(app)
    assert logged_in.get(f"/clients/{clinic_world.b.client_id}").status_code == 404
    # No view of clinic B's client; the refusal itself (tests/audit/test_access_refused.py).
    [entry] = new_entries(app, before)
    assert entry.action == AuditAction.ACCESS_REFUSED
    assert entry.client_id is None


def test_a_visitor_who_is_not_signed_in_records_nothing(app, client, clinic_world):
    before = entries(app)
    assert client.get(f"/clients/{clinic_world.a.client_id}").status_code == 302
    assert client.post(f"/clients/{clinic_world.a.client_id}/archive").status_code == 302
    assert new_entries(app, before) == []


def test_taking_an_intake_records_the_new_client(app, logged_in, clinic_world):
    before = entries(app)
    response = post(logged_in, "/clients/new", factories.intake_form_data())
    assert response.status_code == 302
    new_id = int(response.location.rstrip("/").rsplit("/", 1)[1])
    [entry] = new_entries(app, before)
    assert entry.action is AuditAction.CREATE
    assert (entry.client_id, entry.record_type, entry.record_id) == (new_id, "client", new_id)


def test_a_refused_intake_records_nothing(app, logged_in, clinic_world):
    """A new client's form shown again holds only what was typed: no record yet."""
    before = entries(app)
    response = post(logged_in, "/clients/new", factories.intake_form_data(last_name=""))
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert new_entries(app, before) == []


def test_changing_the_intake_records_a_change(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    before = entries(app)
    response = post(
        logged_in, f"/clients/{client_id}/edit", factories.intake_form_data(version="1")
    )
    assert response.status_code == 302
    [entry] = new_entries(app, before)
    assert (entry.action, entry.client_id, entry.summary) == (
        AuditAction.CHANGE,
        client_id,
        "Changed the intake",
    )


def test_an_edit_conflict_records_the_showing_and_no_change(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    post(logged_in, f"/clients/{client_id}/edit", factories.intake_form_data(version="1"))
    before = entries(app)
    response = post(
        logged_in,
        f"/clients/{client_id}/edit",
        factories.intake_form_data(version="1", main_complaint="Another change"),
    )
    assert response.status_code == 409
    [shown] = new_entries(app, before)
    assert (shown.action, shown.client_id, shown.record_id) == (
        AuditAction.VIEW,
        client_id,
        client_id,
    )
    assert shown.summary.endswith("(shown again, not saved)")


def test_starting_and_signing_a_visit(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    before = entries(app)
    response = post(logged_in, f"/clients/{client_id}/visits/new", visit_data(technique_entry()))
    assert response.status_code == 302
    visit_id = int(response.location.rsplit("/", 1)[1])
    [created] = new_entries(app, before)
    assert (created.action, created.record_type, created.record_id, created.client_id) == (
        AuditAction.CREATE,
        "visit",
        visit_id,
        client_id,
    )

    # A stale version is refused: not signed, and no signature recorded.
    before = entries(app)
    sign_url = f"/clients/{client_id}/visits/{visit_id}/sign"
    assert post(logged_in, sign_url, {"version": "99"}).status_code in (302, 409)
    assert not [e for e in new_entries(app, before) if e.action is not AuditAction.VIEW]

    before = entries(app)
    assert post(logged_in, sign_url, {"version": "1"}).status_code == 302
    [signed] = new_entries(app, before)
    assert (signed.action, signed.record_type, signed.record_id) == (
        AuditAction.SIGN,
        "visit",
        visit_id,
    )

    before = entries(app)
    response = get(logged_in, f"/clients/{client_id}/visits/{visit_id}/note.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    [printed] = new_entries(app, before)
    assert (printed.action, printed.record_id, printed.summary) == (
        AuditAction.PRINT,
        visit_id,
        "Visit note PDF",
    )


def test_a_refused_visit_records_the_form_shown_again_and_nothing_else(
    app, logged_in, clinic_world
):
    client_id = ready_client(app, clinic_world)
    before = entries(app)
    response = post(
        logged_in,
        f"/clients/{client_id}/visits/new",
        visit_data(technique_entry(minutes="500")),
    )
    assert response.status_code == 200
    [shown] = new_entries(app, before)
    assert (shown.action, shown.client_id, shown.record_type) == (
        AuditAction.VIEW,
        client_id,
        "visit",
    )


def test_exporting_progress_is_recorded(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    before = entries(app)
    response = get(logged_in, f"/clients/{client_id}/progress.csv")
    assert response.status_code == 200
    [entry] = new_entries(app, before)
    assert (entry.action, entry.client_id, entry.record_type) == (
        AuditAction.EXPORT,
        client_id,
        "progress",
    )


def test_issuing_and_downloading_a_handout(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    plan_id = factories.make_plan(app, client_id, clinic_world.a.therapist_id)
    before = entries(app)
    response = post(logged_in, f"/clients/{client_id}/homecare/{plan_id}/issue")
    assert response.status_code == 302
    handout_id = int(response.location.rsplit("#handout-", 1)[1])
    [issued] = new_entries(app, before)
    assert (issued.action, issued.record_type, issued.record_id, issued.client_id) == (
        AuditAction.CREATE,
        "handout",
        handout_id,
        client_id,
    )

    before = entries(app)
    url = f"/clients/{client_id}/homecare/handouts/{handout_id}.pdf"
    assert get(logged_in, url).status_code == 200
    [downloaded] = new_entries(app, before)
    assert (downloaded.action, downloaded.record_type, downloaded.record_id) == (
        AuditAction.PRINT,
        "handout",
        handout_id,
    )


def test_confirming_no_changes_is_recorded_and_a_refusal_is_not(app, logged_in, clinic_world):
    a = clinic_world.a
    unscreened = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Unscreened")
    before = entries(app)
    # No screening to confirm: refused, and no confirmation recorded.
    assert post(logged_in, f"/clients/{unscreened}/screening/confirm").status_code < 500
    assert not [e for e in new_entries(app, before) if e.action is not AuditAction.VIEW]
    before = entries(app)
    assert post(logged_in, f"/clients/{a.client_id}/screening/confirm").status_code == 302
    [entry] = new_entries(app, before)
    assert (entry.action, entry.client_id, entry.record_type) == (
        AuditAction.CREATE,
        a.client_id,
        "screening_confirmation",
    )


def test_lists_of_many_clients_are_recorded_without_a_client(app, logged_in, clinic_world):
    before = entries(app)
    assert get(logged_in, "/clients/?q=Lovelace").status_code == 200
    assert get(logged_in, "/visits/unsigned").status_code == 200
    listed, unsigned = new_entries(app, before)
    assert (listed.action, listed.client_id, listed.record_type) == (
        AuditAction.VIEW,
        None,
        "client_list",
    )
    assert "Lovelace" in listed.summary
    assert (unsigned.record_type, unsigned.client_id) == ("visit_list", None)


def test_the_overview_is_not_recorded(app, logged_in):
    before = entries(app)
    assert logged_in.get("/").status_code == 200
    assert new_entries(app, before) == []


def test_a_page_the_guard_answers_records_nothing(app, client, clinic_world):
    """A POST redirected to "choose your password" is not a successful archive."""
    a = clinic_world.a
    with app.app_context():
        db.session.get_one(User, a.therapist_id).must_change_password = True
        db.session.commit()
    factories.sign_in(app, client, a.therapist_id)
    before = entries(app)
    response = client.post(f"/clients/{a.client_id}/archive")
    assert response.status_code == 302
    assert response.location.endswith("/account/password")
    assert new_entries(app, before) == []


def test_account_changes_are_recorded_as_security(app, client, clinic_world):
    a = clinic_world.a
    factories.sign_in(app, client, a.owner_id)
    # Resets and new accounts ask for the password first (issue 13); confirming records nothing.
    client.post("/account/confirm", data={"proof": factories.PASSWORD})
    before = entries(app)
    assert client.post(f"/admin/users/{a.therapist_id}/deactivate").status_code == 302
    assert client.post(f"/admin/users/{a.therapist_id}/reset-password").status_code == 200
    response = client.post(
        "/admin/users/new",
        data={"full_name": "Nina New", "email": "nina@example.com", "role": "therapist"},
    )
    assert response.status_code == 200
    # Refused: the address is taken. Nothing more is recorded.
    client.post(
        "/admin/users/new",
        data={"full_name": "Nina Again", "email": "nina@example.com", "role": "therapist"},
    )
    with app.app_context():
        nina = db.session.query(User).filter_by(email="nina@example.com").one().id
    deactivated, reset, opened = new_entries(app, before)
    assert all(e.action is AuditAction.SECURITY for e in (deactivated, reset, opened))
    assert all(e.user_id == a.owner_id and e.client_id is None for e in (deactivated, reset))
    assert (deactivated.record_type, deactivated.record_id) == ("user", a.therapist_id)
    assert "Deactivated" in deactivated.summary
    assert (reset.record_id, opened.record_id) == (a.therapist_id, nina)


def test_changing_your_own_password_via_reset_of_yourself_records_nothing(
    app, client, clinic_world
):
    """The owner cannot reset their own password here: refused, so not recorded."""
    factories.sign_in(app, client, clinic_world.a.owner_id)
    before = entries(app)
    response = client.post(f"/admin/users/{clinic_world.a.owner_id}/reset-password")
    assert response.status_code in (302, 200)
    assert not [e for e in new_entries(app, before) if e.action is AuditAction.SECURITY]


@pytest.mark.parametrize("role", [Role.OWNER, Role.THERAPIST])
def test_the_entry_is_filed_under_the_users_clinic(app, client, clinic_world, role):
    b = clinic_world.b
    factories.sign_in(app, client, b.owner_id if role is Role.OWNER else b.therapist_id)
    before = entries(app)
    assert client.get(f"/clients/{b.client_id}").status_code == 200
    [entry] = new_entries(app, before)
    assert entry.clinic_id == b.clinic_id


def test_failed_intake_then_fix(app: Flask, logged_in, clinic_world):
    """The intake form itself (GET, empty) is not recorded; saving it is, once."""
    before = entries(app)
    assert logged_in.get("/clients/new").status_code == 200
    assert new_entries(app, before) == []


@pytest.mark.parametrize(
    ("url", "record_type", "record"),
    [
        ("/clients/{client}/visits/{visit}/note.pdf", "visit", "visit"),
        ("/clients/{client}/visits/{visit}/aftercare.pdf", "visit", "visit"),
        ("/clients/{client}/homecare/{plan}/preview.pdf", "plan", "plan"),
        ("/clients/{client}/homecare/handouts/{handout}.pdf", "handout", "handout"),
    ],
    ids=["visit-note", "aftercare-slip", "handout-preview", "issued-handout"],
)
def test_a_head_request_for_a_pdf_is_recorded_as_printed(
    app, logged_in, clinic_world, url, record_type, record
):
    """HEAD runs the view as GET does (finding 12): the PDF is laid out, so it is recorded."""
    a = clinic_world.a
    ids = {"client": a.client_id, "visit": a.visit_id, "plan": a.plan_id, "handout": a.handout_id}
    if url.endswith("note.pdf"):  # only a signed note is printed
        ids["client"] = ready_client(app, clinic_world)
        response = post(
            logged_in, f"/clients/{ids['client']}/visits/new", visit_data(technique_entry())
        )
        ids["visit"] = int(response.location.rsplit("/", 1)[1])
        sign_url = f"/clients/{ids['client']}/visits/{ids['visit']}/sign"
        assert post(logged_in, sign_url, {"version": "1"}).status_code == 302
    before = entries(app)
    response = logged_in.head(url.format(**ids), environ_base={"REMOTE_ADDR": ADDRESS})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data() == b""
    [printed] = new_entries(app, before)
    assert (printed.action, printed.record_type, printed.record_id, printed.client_id) == (
        AuditAction.PRINT,
        record_type,
        ids[record],
        ids["client"],
    )
    assert (printed.user_id, printed.remote_addr) == (a.therapist_id, ADDRESS)
