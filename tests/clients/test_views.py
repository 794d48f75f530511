"""Client list, search, intake, edit, conflicts and archiving through the views."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from clinic.extensions import db
from clinic.models import AuditAction, Client
from tests import factories
from tests.audit import entries, new_entries


def count_clients(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Client.id))) or 0


def load_client(app, client_id: int) -> Client:
    with app.app_context():
        client = db.session.get_one(Client, client_id)
        db.session.expunge(client)
        return client


# --- list and search -------------------------------------------------------------------


def test_list_shows_own_clinic_sorted_by_last_name(app, logged_in, clinic_world):
    a = clinic_world.a
    for first, last in [("Zed", "Young"), ("Amy", "Baker"), ("Carl", "Mills")]:
        factories.make_client(app, a.clinic_id, a.therapist_id, first_name=first, last_name=last)
    page = logged_in.get("/clients/").get_data(as_text=True)
    positions = [page.index(name) for name in ("Baker, Amy", "ClientAlpha", "Mills, Carl")]
    assert positions == sorted(positions)
    assert page.index("Mills, Carl") < page.index("Young, Zed")
    assert "SecretBeta" not in page
    assert "4 clients" in page


def test_list_shows_age_and_knee(app, logged_in, clinic_world):
    born = date.today().replace(year=date.today().year - 40) - timedelta(days=1)
    factories.make_client(
        app,
        clinic_world.a.clinic_id,
        clinic_world.a.therapist_id,
        last_name="Aging",
        date_of_birth=born,
        affected_knee="both",
    )
    page = logged_in.get("/clients/?q=Aging").get_data(as_text=True)
    assert '<td data-label="Age">40</td>' in page
    assert "Both knees" in page


def test_list_pages_by_25(app, logged_in, clinic_world):
    a = clinic_world.a
    for number in range(30):
        factories.make_client(app, a.clinic_id, a.therapist_id, last_name=f"Pager{number:02d}")
    first = logged_in.get("/clients/?q=Pager").get_data(as_text=True)
    assert first.count("Pager") >= 25
    assert "Pager24" in first and "Pager25" not in first
    assert "Page 1 of 2" in first
    second = logged_in.get("/clients/?q=Pager&page=2").get_data(as_text=True)
    assert "Pager25" in second and "Pager29" in second and "Pager00" not in second


@pytest.mark.parametrize(
    "page",
    [
        "0",
        "-3",
        "abc",
        "999999",
        "1e9",
        "",
        # Past any OFFSET the database driver takes: this answered 500 (issue 11).
        "99999999999999999999",
        "-99999999999999999999",
        "9" * 5000,
        "\u0663",
        " 2 ",
    ],
)
def test_odd_page_numbers_do_not_fail(logged_in, page):
    response = logged_in.get("/clients/", query_string={"page": page})
    assert response.status_code == 200
    assert "ClientAlpha, SecretAlpha" in response.get_data(as_text=True)


def test_a_page_past_the_last_shows_the_last(app, logged_in, clinic_world):
    a = clinic_world.a
    for number in range(30):
        factories.make_client(app, a.clinic_id, a.therapist_id, last_name=f"Pager{number:02d}")
    for page in ("3", "99999999999999999999"):
        body = logged_in.get(f"/clients/?q=Pager&page={page}").get_data(as_text=True)
        assert "Page 2 of 2" in body
        assert "Pager29" in body and "Pager00" not in body


def test_the_list_is_on_file_with_what_was_searched(app, logged_in, clinic_world):
    before = entries(app)
    assert (
        logged_in.get("/clients/?q=Alpha&archived=1&page=99999999999999999999").status_code == 200
    )
    [entry] = new_entries(app, before)
    assert (entry.action, entry.record_type, entry.client_id) == (
        AuditAction.VIEW,
        "client_list",
        None,
    )
    assert entry.summary == "Client list: search “Alpha”, archived included"
    assert entry.user_id == clinic_world.a.therapist_id


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("secretalpha", True),
        ("SECRETALPHA", True),
        ("cretAlp", True),
        ("clientalpha", True),
        ("secretalpha clientalpha", True),
        ("client-alpha@EXAMPLE", True),
        ("010 0142", True),
        ("(555) 010-0142", True),
        ("0100142", True),
        ("nobody", False),
        ("secretalpha nobody", False),
        ("%", False),
        ("_", False),
        ("'; DROP TABLE clients; --", False),
    ],
)
def test_search_by_name_phone_or_email(logged_in, query, found):
    response = logged_in.get("/clients/", query_string={"q": query})
    assert response.status_code == 200
    assert ("SecretAlpha" in response.get_data(as_text=True)) is found


def test_search_never_reaches_another_clinic(logged_in):
    page = logged_in.get("/clients/?q=Beta").get_data(as_text=True)
    assert "SecretBeta" not in page
    assert "No client matches" in page


def test_archived_clients_hidden_unless_asked(app, logged_in, clinic_world):
    a = clinic_world.a
    factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Gone", archived=True)
    page = logged_in.get("/clients/").get_data(as_text=True)
    assert "Gone," not in page
    assert "Show 1 archived" in page
    page = logged_in.get("/clients/?archived=1").get_data(as_text=True)
    assert "Gone," in page and "ClientAlpha" in page


# --- intake ------------------------------------------------------------------------------


def test_new_client_saves_every_field(app, logged_in, clinic_world):
    data = factories.intake_form_data(
        gender="woman",
        allergic_to_oils_or_nuts="y",
        allergies="Latex",
        medications="Warfarin",
        diagnosis="other",
        diagnosis_detail="Baker's cyst",
    )
    response = logged_in.post("/clients/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        client = db.session.scalars(select(Client).where(Client.last_name == "Hopper")).one()
        assert client.clinic_id == clinic_world.a.clinic_id
        assert client.created_by_id == clinic_world.a.therapist_id
        assert client.date_of_birth == date(1956, 12, 9)
        assert client.phone == "(555) 010-0177"
        assert client.phone_digits == "5550100177"
        assert client.affected_knee.value == "right"
        assert client.cause.value == "overuse"
        assert client.diagnosis.value == "other"
        assert client.diagnosis_detail == "Baker's cyst"
        assert client.allergic_to_oils_or_nuts is True
        assert client.consent_to_treatment and client.consent_to_keep_records
        assert client.consent_name == "Grace Hopper"
        assert client.version == 1
        client_id = client.id
    assert response.headers["Location"].endswith(f"/clients/{client_id}")


def test_client_page_shows_header_and_allergy_warning(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = factories.make_client(
        app, a.clinic_id, a.therapist_id, last_name="Nutty", allergic_to_oils_or_nuts=True
    )
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Ada Nutty" in page
    assert "Left knee" in page
    assert "Allergic or sensitive to massage oils, lotions or nuts" in page
    plain = logged_in.get(f"/clients/{a.client_id}").get_data(as_text=True)
    assert "alert--allergy" not in plain


def test_free_text_allergy_also_warns(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, allergies="Arnica gel")
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "alert--allergy" in page and "Arnica gel" in page


WITNESSES = {
    "last_name": 'value="Hopper"',
    "main_complaint": "Stiff right knee after gardening.",
    "emergency_contact_name": 'value="Vincent Hopper"',
}
IN_FUTURE = (date.today() + timedelta(days=1)).isoformat()
TOO_OLD = date.today().replace(year=date.today().year - 121).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "Enter the client&#39;s first name."),
        ({"last_name": "   "}, "last_name", "Enter the client&#39;s last name."),
        ({"date_of_birth": IN_FUTURE}, "date_of_birth", "cannot be in the future"),
        ({"date_of_birth": TOO_OLD}, "date_of_birth", "older than 120"),
        ({"date_of_birth": "31/12/1950"}, "date_of_birth", "Not a valid date"),
        ({"date_of_birth": ""}, "date_of_birth", "Enter the date of birth."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address"),
        ({"phone": "call me"}, "phone", "Enter a phone number using digits"),
        ({"phone": "12"}, "phone", "Enter a phone number using digits"),
        ({"emergency_contact_phone": ""}, "emergency_contact_phone", "emergency contact"),
        ({"affected_knee": None}, "affected_knee", "Choose the knee that hurts."),
        ({"affected_knee": "middle"}, "affected_knee", "Not a valid choice"),
        ({"cause": ""}, "cause", "Choose a cause"),
        ({"diagnosis": "ACL"}, "diagnosis", "Not a valid choice"),
        ({"diagnosis": "other"}, "diagnosis_detail", "Say which diagnosis."),
        ({"main_complaint": ""}, "main_complaint", "Describe what brings the client in."),
        ({"main_complaint": "x" * 5001}, "main_complaint", "under 5000 characters"),
        ({"onset_date": IN_FUTURE}, "onset_date", "cannot be in the future"),
        ({"onset_date": "1900-01-01"}, "onset_date", "before the date of birth"),
        ({"consent_to_treatment": None}, "consent_to_treatment", "needs the client&#39;s consent"),
        ({"consent_name": ""}, "consent_name", "types their name"),
        ({"consent_date": ""}, "consent_date", "Enter the date the client gave consent."),
        ({"consent_to_keep_records": None}, "consent_to_keep_records", "consent to keep"),
    ],
)
def test_invalid_intake_is_refused_beside_the_field(app, logged_in, overrides, field, message):
    before = count_clients(app)
    data = factories.intake_form_data(**overrides)
    response = logged_in.post("/clients/new", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    error_block = page.split(f'id="{field}-error"', 1)
    assert len(error_block) == 2, f"no error beside {field}"
    assert message in error_block[1][:300]
    kept = [text for key, text in WITNESSES.items() if key not in overrides]
    assert all(text in page for text in kept), "typed values must be kept"
    assert count_clients(app) == before


# --- edit and conflicts ---------------------------------------------------------------------


def test_edit_saves_and_bumps_version(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    form = logged_in.get(f"/clients/{client_id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    data = factories.intake_form_data(
        first_name="SecretAlpha", main_complaint="Better now", version="1"
    )
    response = logged_in.post(f"/clients/{client_id}/edit", data=data)
    assert response.status_code == 302
    client = load_client(app, client_id)
    assert client.main_complaint == "Better now"
    assert client.version == 2
    assert client.updated_by_id == clinic_world.a.therapist_id


def test_second_save_gets_a_conflict_and_overwrites_nothing(app, client, clinic_world):
    """Two therapists open the same client; the one who saves second sees both versions."""
    a = clinic_world.a
    first = client
    second = app.test_client()
    factories.sign_in(app, first, a.therapist_id)
    factories.sign_in(app, second, a.owner_id)
    client_id = a.client_id
    assert 'value="1"' in first.get(f"/clients/{client_id}/edit").get_data(as_text=True)
    assert 'value="1"' in second.get(f"/clients/{client_id}/edit").get_data(as_text=True)

    saved = first.post(
        f"/clients/{client_id}/edit",
        data=factories.intake_form_data(main_complaint="Theirs: worse on stairs", version="1"),
    )
    assert saved.status_code == 302
    conflict = second.post(
        f"/clients/{client_id}/edit",
        data=factories.intake_form_data(main_complaint="Mine: better since Monday", version="1"),
    )
    assert conflict.status_code == 409
    page = conflict.get_data(as_text=True)
    assert "Someone else saved this record" in page
    assert "Theirs: worse on stairs" in page
    assert "Mine: better since Monday" in page
    assert 'name="version" type="hidden" value="2"' in page
    stored = load_client(app, client_id)
    assert stored.main_complaint == "Theirs: worse on stairs"
    assert stored.version == 2

    # Saving again from the conflict page is a deliberate choice and goes through.
    again = second.post(
        f"/clients/{client_id}/edit",
        data=factories.intake_form_data(main_complaint="Mine: better since Monday", version="2"),
    )
    assert again.status_code == 302
    assert load_client(app, client_id).main_complaint == "Mine: better since Monday"


def test_a_stale_edit_shows_the_record_again_and_is_on_file(app, client, clinic_world):
    """A 409 page shows the whole record: it is a page view like any other (issue 11)."""
    a = clinic_world.a
    factories.sign_in(app, client, a.therapist_id)
    form = client.get(f"/clients/{a.client_id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form)
    assert version
    other = app.test_client()
    factories.sign_in(app, other, a.owner_id)
    data = factories.intake_form_data(
        first_name="SecretAlpha",
        last_name="ClientAlpha",
        main_complaint="Theirs: worse on stairs",
        version="1",
    )
    assert other.post(f"/clients/{a.client_id}/edit", data=data).status_code == 302
    before = entries(app)
    response = client.post(
        f"/clients/{a.client_id}/edit",
        data=factories.intake_form_data(
            first_name="SecretAlpha",
            last_name="ClientAlpha",
            main_complaint="Mine: typed here",
            version=version.group(1),
        ),
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this record" in page
    assert "Theirs: worse on stairs" in page and "Mine: typed here" in page
    assert "SecretAlpha ClientAlpha" in page
    [entry] = new_entries(app, before)
    assert (entry.action, entry.record_type, entry.record_id, entry.client_id) == (
        AuditAction.VIEW,
        "client",
        a.client_id,
        a.client_id,
    )
    assert entry.user_id == a.therapist_id
    assert entry.summary == "Intake form (shown again, not saved)"
    assert load_client(app, a.client_id).main_complaint == "Theirs: worse on stairs"


def test_a_refused_edit_is_on_file_as_shown_again(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    before = entries(app)
    data = factories.intake_form_data(email="broken@", version="1")
    assert logged_in.post(f"/clients/{client_id}/edit", data=data).status_code == 200
    [entry] = new_entries(app, before)
    assert (entry.action, entry.client_id, entry.summary) == (
        AuditAction.VIEW,
        client_id,
        "Intake form (shown again, not saved)",
    )


def test_intake_and_edit_record_their_own_entries(app, logged_in, clinic_world):
    before = entries(app)
    response = logged_in.post("/clients/new", data=factories.intake_form_data())
    assert response.status_code == 302
    new_id = int(response.location.rstrip("/").rsplit("/", 1)[1])
    [created] = new_entries(app, before)
    assert (created.action, created.record_type, created.record_id, created.client_id) == (
        AuditAction.CREATE,
        "client",
        new_id,
        new_id,
    )
    assert created.summary == "Took a new client's intake"
    before = entries(app)
    data = factories.intake_form_data(main_complaint="Better", version="1")
    assert logged_in.post(f"/clients/{new_id}/edit", data=data).status_code == 302
    [changed] = new_entries(app, before)
    assert (changed.action, changed.record_id, changed.summary) == (
        AuditAction.CHANGE,
        new_id,
        "Changed the intake",
    )


@pytest.mark.parametrize("version", ["", "abc", "-1", "99", "99999999999999999999"])
def test_edit_with_a_bad_version_is_a_conflict_not_an_error(app, logged_in, clinic_world, version):
    client_id = clinic_world.a.client_id
    response = logged_in.post(
        f"/clients/{client_id}/edit", data=factories.intake_form_data(version=version)
    )
    assert response.status_code == 409
    assert load_client(app, client_id).first_name == "SecretAlpha"


def test_invalid_edit_keeps_typing_and_saves_nothing(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    data = factories.intake_form_data(email="broken@", main_complaint="Half typed", version="1")
    response = logged_in.post(f"/clients/{client_id}/edit", data=data)
    assert response.status_code == 200
    assert "Half typed" in response.get_data(as_text=True)
    client = load_client(app, client_id)
    assert client.main_complaint == "Aching left knee on stairs."
    assert client.version == 1


# --- archive -------------------------------------------------------------------------------


def archive_button(page: str, action: str) -> dict[str, str]:
    """Return what the page's Archive or Unarchive button posts, and where."""
    form = re.search(
        rf'<form method="post" action="([^"]+/{action})"[^>]*>(.*?)</form>', page, re.S
    )
    assert form, f"no {action} button on the page"
    fields = dict(re.findall(r'name="([^"]+)" type="hidden" value="([^"]*)"', form.group(2)))
    return {"url": form.group(1), **fields}


def press(client, page: str, action: str):
    button = archive_button(page, action)
    return client.post(button.pop("url"), data=button)


def test_archive_and_unarchive(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    before = entries(app)
    response = press(
        logged_in, logged_in.get(f"/clients/{client_id}").get_data(as_text=True), "archive"
    )
    assert response.status_code == 302
    assert load_client(app, client_id).archived_at is not None
    assert "ClientAlpha, SecretAlpha" not in logged_in.get("/clients/").get_data(as_text=True)
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Archived" in page and "Unarchive" in page
    press(logged_in, page, "unarchive")
    assert load_client(app, client_id).archived_at is None
    assert "ClientAlpha, SecretAlpha" in logged_in.get("/clients/").get_data(as_text=True)
    assert count_clients(app) == 2
    changes = [
        (e.summary, e.record_id, e.client_id)
        for e in new_entries(app, before)
        if e.action is AuditAction.CHANGE
    ]
    assert changes == [
        ("Archived the client", client_id, client_id),
        ("Brought the client back from the archive", client_id, client_id),
    ]


@pytest.mark.parametrize("version", ["the page's", None, "abc", "-1", "99999999999999999999"])
def test_archive_from_a_stale_or_odd_page_changes_nothing(app, client, clinic_world, version):
    a = clinic_world.a
    factories.sign_in(app, client, a.therapist_id)
    button = archive_button(client.get(f"/clients/{a.client_id}").get_data(as_text=True), "archive")
    # Someone saves the intake in between: the page's version is out of date.
    other = app.test_client()
    factories.sign_in(app, other, a.owner_id)
    saved = other.post(
        f"/clients/{a.client_id}/edit",
        data=factories.intake_form_data(first_name="SecretAlpha", version="1"),
    )
    assert saved.status_code == 302
    before = entries(app)
    data = {"version": button["version"] if version == "the page's" else version}
    response = client.post(button["url"], data={k: v for k, v in data.items() if v is not None})
    assert response.status_code == 302
    assert load_client(app, a.client_id).archived_at is None
    shown = client.get(response.location).get_data(as_text=True).replace("&#39;", "'")
    assert "changed since you opened the page" in shown
    assert [e for e in new_entries(app, before) if e.action is AuditAction.CHANGE] == []


def test_archive_needs_post(logged_in, clinic_world):
    response = logged_in.get(f"/clients/{clinic_world.a.client_id}/archive")
    assert response.status_code == 405
    assert "cannot be used that way" in response.get_data(as_text=True)


def test_client_routes_need_sign_in(client, clinic_world):
    for url in ("/clients/", "/clients/new", f"/clients/{clinic_world.a.client_id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
