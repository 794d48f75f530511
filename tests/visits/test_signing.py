"""Signing with care (issue 15): the therapist sees what signing will lock, and anything that
stops it, before the note is locked; the edit address of a signed note says where a correction
goes."""

from __future__ import annotations

from clinic.domain.visits import VisitStatus
from clinic.models import AuditAction
from clinic.transaction import operation
from clinic.visits import operations as ops
from tests import factories
from tests.audit import entries, new_entries
from tests.visits.test_views import ready_client, visits_of

SIGN_BUTTON = ">Sign and lock the note</button>"


def note_url(client_id: int, visit_id: int, action: str = "") -> str:
    base = f"/clients/{client_id}/visits/{visit_id}"
    return f"{base}/{action}" if action else base


def test_the_draft_offers_a_review_before_signing(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, clinic_world.a.therapist_id)
    page = logged_in.get(note_url(client_id, visit_id)).get_data(as_text=True)
    assert f'href="{note_url(client_id, visit_id, "sign")}">Review and sign</a>' in page
    # Signing is no longer one click away from the note itself.
    assert SIGN_BUTTON not in page


def test_the_review_shows_what_will_be_locked_and_changes_nothing(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, clinic_world.a.therapist_id)
    (before,) = visits_of(app, client_id)
    seen = entries(app)
    response = logged_in.get(note_url(client_id, visit_id, "sign"))
    assert response.status_code == 200
    logged = new_entries(app, seen)
    page = response.get_data(as_text=True)
    assert "Sign and lock the note of" in page
    assert "nothing in this note can be changed" in page
    # The note as it will be locked: its techniques and the limits it will keep.
    assert "Petrissage (kneading)" in page and "Quadriceps" in page
    assert "Limits in force, kept with the note when it is signed" in page
    assert SIGN_BUTTON in page
    assert f'name="version" type="hidden" value="{before.version}"' in page
    (after,) = visits_of(app, client_id)
    assert after.status is VisitStatus.DRAFT and after.version == before.version
    assert [(e.action, e.record_type, e.record_id, e.summary) for e in logged] == [
        (AuditAction.VIEW, "visit", visit_id, "Visit note, before signing")
    ]
    # Then the button signs it, as before.
    signed = logged_in.post(note_url(client_id, visit_id, "sign"), data={"version": "1"})
    assert signed.status_code == 302
    assert visits_of(app, client_id)[0].status is VisitStatus.SIGNED


def test_the_review_lists_what_stops_signing_and_offers_no_button(app, client, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    missing_pain = factories.make_visit(app, client_id, a.therapist_id, pain_after_left=None)
    factories.sign_in(app, client, a.therapist_id)
    page = client.get(note_url(client_id, missing_pain, "sign")).get_data(as_text=True)
    assert "The note cannot be signed yet" in page
    assert "Record the pain before and after for the left knee" in page
    assert SIGN_BUTTON not in page
    assert f'href="{note_url(client_id, missing_pain, "edit")}"' in page


def test_the_review_names_an_entry_the_screening_now_refuses(app, logged_in, clinic_world):
    # A graze on the left thigh: the draft's quadriceps work there is refused at signing.
    client_id = ready_client(app, clinic_world, skin_break={"side": "left", "region": "thigh"})
    visit_id = factories.make_visit(app, client_id, clinic_world.a.therapist_id)
    page = logged_in.get(note_url(client_id, visit_id, "sign")).get_data(as_text=True)
    assert "Technique 1 (Petrissage" in page and "write the reason" in page
    assert SIGN_BUTTON not in page
    assert visits_of(app, client_id)[0].status is VisitStatus.DRAFT


def test_only_the_author_is_offered_the_signature(app, client, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    factories.sign_in(app, client, a.owner_id)
    page = client.get(note_url(client_id, visit_id, "sign")).get_data(as_text=True)
    assert "Only the therapist who gave the treatment signs the note." in page
    assert SIGN_BUTTON not in page


def test_the_review_of_a_signed_note_goes_back_to_the_note(app, logged_in, clinic_world):
    a = clinic_world.a
    visit_id = factories.make_visit(app, a.client_id, a.therapist_id, signed=True)
    response = logged_in.get(note_url(a.client_id, visit_id, "sign"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(note_url(a.client_id, visit_id))
    shown = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "This note is signed and locked. Corrections go in an addendum." in shown


def test_the_edit_address_of_a_signed_note_says_so_and_links_to_the_addendum(
    app, logged_in, clinic_world
):
    a = clinic_world.a
    visit_id = factories.make_visit(app, a.client_id, a.therapist_id, signed=True)
    response = logged_in.get(note_url(a.client_id, visit_id, "edit"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This note is signed" in page
    assert "Changed by someone else" not in page
    assert 'href="#addendum">Add an addendum</a>' in page
    assert 'id="addendum"' in page
    # The note itself is shown, not an error page.
    assert "Petrissage (kneading)" in page


def test_signing_is_an_operation_all_or_nothing():
    # A refused or conflicting signature undoes just what it had changed (its savepoint), so
    # the request can still show the note as it is now (the racing test shows why).
    assert getattr(ops.sign_visit, "__wrapped__", None) is not None
    assert ops.sign_visit.__code__ is operation(lambda: None).__code__
    # The check alone changes nothing and is no operation.
    assert not hasattr(ops.check_signing, "__wrapped__")
    assert not hasattr(ops.SigningCheck, "__wrapped__")
