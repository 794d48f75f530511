"""Issue 11 for visits: every write re-checks the gate on the visit's own day, versions cover
the whole note, nothing typed is dropped, and every change or showing is on file."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from decimal import Decimal

from flask import Flask
from sqlalchemy import func, select

from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.visits import ENTRY_FIELDS, MAX_ENTRIES, EntryDetails, VisitStatus
from clinic.extensions import db
from clinic.models import AuditAction, Screening, TechniqueEntry, Visit
from clinic.visits.forms import EntryForm, VisitForm
from clinic.visits.printing import print_entry
from tests import factories
from tests.audit import entries, new_entries
from tests.visits.test_views import entry, ready_client, visit_data, visits_of

# Deep work on the left calf: refused where the screening says to leave the calf alone.
CALF = {"technique": "petrissage", "target": "calf", "side": "left", "pressure": "2"}
# The factory visit as typed in its form, so that a save changes only what a test says.
FACTORY_NOTE = {
    "start_time": "09:00",
    "subjective": "Stairs still hard.",
    "assessment": "Less guarding after kneading.",
    "plan": "Home stretches daily.",
}


def today() -> date:
    return date.today()


def yesterday() -> date:
    return date.today() - timedelta(days=1)


def note_url(client_id: int, visit_id: int, action: str = "") -> str:
    base = f"/clients/{client_id}/visits/{visit_id}"
    return f"{base}/{action}" if action else base


def shown_version(page: str) -> str:
    """The version the note page's sign button carries."""
    found = re.search(r'name="version" type="hidden" value="(\d+)"', page)
    assert found, "the sign form carries no version"
    return found.group(1)


def visit_of(app: Flask, visit_id: int) -> Visit:
    with app.app_context():
        visit = db.session.get_one(Visit, visit_id)
        _ = visit.entries
        db.session.expunge(visit)
        return visit


def latest_screening_id(app: Flask) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.max(Screening.id)))
        assert found is not None
        return found


# --- The gate holds for editing and signing, not only for starting -------------------------------


def test_a_draft_is_neither_saved_nor_signed_when_the_clot_question_was_not_asked_that_day(
    app, logged_in, clinic_world
):
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Unasked")
    factories.make_screening(app, client_id, a.therapist_id, taken_on=today() - timedelta(days=3))
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    edited = logged_in.post(
        note_url(client_id, visit_id, "edit"),
        data=visit_data(entry(), {**CALF, "minutes": "10"}, version="1", **FACTORY_NOTE),
    )
    assert edited.status_code == 200
    assert "have not been asked about today" in edited.get_data(as_text=True)
    assert len(visit_of(app, visit_id).entries) == 1

    signed = logged_in.post(note_url(client_id, visit_id, "sign"), data={"version": "1"})
    assert signed.status_code == 200, "a refused signature shows the note again, saying why"
    page = signed.get_data(as_text=True)
    assert "The note was not signed" in page
    assert "have not been asked about today" in page
    assert "Take a new screening" in page
    assert visit_of(app, visit_id).status is VisitStatus.DRAFT

    # What the page says to do works: ask, confirm, sign.
    assert logged_in.post(f"/clients/{client_id}/screening/confirm").status_code == 302
    assert (
        logged_in.post(note_url(client_id, visit_id, "sign"), data={"version": "1"}).status_code
        == 302
    )
    assert visit_of(app, visit_id).status is VisitStatus.SIGNED


def test_a_draft_is_neither_saved_nor_signed_once_its_screening_was_out_of_date(
    app, logged_in, clinic_world
):
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Lapsed")
    factories.make_screening(app, client_id, a.therapist_id, taken_on=today() - timedelta(days=31))
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    edited = logged_in.post(
        note_url(client_id, visit_id, "edit"),
        data=visit_data(entry(), {**CALF, "minutes": "10"}, version="1", **FACTORY_NOTE),
    )
    assert edited.status_code == 200
    assert "out of date" in edited.get_data(as_text=True)
    signed = logged_in.post(note_url(client_id, visit_id, "sign"), data={"version": "1"})
    assert signed.status_code == 200
    assert "out of date" in signed.get_data(as_text=True)
    visit = visit_of(app, visit_id)
    assert visit.status is VisitStatus.DRAFT
    assert len(visit.entries) == 1


def test_a_referral_found_after_the_draft_was_saved_stops_the_signature_until_cleared(
    app, logged_in, clinic_world
):
    client_id = ready_client(app, clinic_world)
    started = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data(entry()))
    assert started.status_code == 302
    (draft,) = visits_of(app, client_id)
    # Later that day the client mentions a swollen, painful calf: a new screening refers.
    factories.make_screening(
        app, client_id, clinic_world.a.therapist_id, dvt_signs={"side": "left"}
    )
    version = str(draft.version)
    signed = logged_in.post(note_url(client_id, draft.id, "sign"), data={"version": version})
    assert signed.status_code == 200
    page = signed.get_data(as_text=True)
    assert "refer first" in page and "record the medical provider&#39;s clearance" in page
    edited = logged_in.post(
        note_url(client_id, draft.id, "edit"),
        data=visit_data(entry(minutes="12"), version=version),
    )
    assert edited.status_code == 200
    assert "refer first" in edited.get_data(as_text=True)
    assert visits_of(app, client_id)[0].entries[0].minutes == Decimal("10")
    assert visits_of(app, client_id)[0].status is VisitStatus.DRAFT

    logged_in.post(
        f"/clients/{client_id}/screening/{latest_screening_id(app)}/clearance",
        data={"finding_code": "dvt_signs", "given_by": "Dr. Lee", "given_on": today().isoformat()},
    )
    signed = logged_in.post(note_url(client_id, draft.id, "sign"), data={"version": version})
    assert signed.status_code == 302
    assert visits_of(app, client_id)[0].status is VisitStatus.SIGNED


def test_an_entry_on_an_avoided_area_stops_the_signature_and_says_which(
    app, logged_in, clinic_world
):
    """A draft holding an entry the screening of its day refuses (saved by the old code)."""
    client_id = ready_client(app, clinic_world, skin_break={"side": "left", "region": "thigh"})
    visit_id = factories.make_visit(app, client_id, clinic_world.a.therapist_id)
    signed = logged_in.post(note_url(client_id, visit_id, "sign"), data={"version": "1"})
    assert signed.status_code == 200
    page = signed.get_data(as_text=True)
    assert "Technique 1 (Petrissage" in page
    assert "write the reason" in page
    assert "Edit the draft" in page
    assert visit_of(app, visit_id).status is VisitStatus.DRAFT


# --- Edits are checked against the visit's own day -------------------------------------------------


def _yesterdays_draft_on_a_grazed_thigh(app: Flask, world: factories.World) -> tuple[int, int]:
    """A client screened yesterday (graze on the left thigh) and yesterday's draft, calf only."""
    a = world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Yesterday")
    factories.make_screening(
        app,
        client_id,
        a.therapist_id,
        taken_on=yesterday(),
        skin_break={"side": "left", "region": "thigh"},
    )
    visit_id = factories.make_visit(
        app, client_id, a.therapist_id, visit_on=yesterday(),
        entries=[{"technique": Technique.EFFLEURAGE, "target": Target.CALF, "side": Side.LEFT,
                  "pressure": Pressure.LIGHT, "minutes": Decimal("5")}],
    )  # fmt: skip
    return client_id, visit_id


def _add_thigh_work(client, client_id: int, visit_id: int):
    return client.post(
        note_url(client_id, visit_id, "edit"),
        data=visit_data(
            entry("effleurage", "calf", pressure="1", minutes="5"),
            entry(),  # petrissage on the left quadriceps, no reason given
            visit_on=yesterday().isoformat(),
            version="1",
            **FACTORY_NOTE,
        ),
    )


def test_editing_yesterdays_draft_uses_yesterdays_screening_not_todays_all_clear_one(
    app, logged_in, clinic_world
):
    client_id, visit_id = _yesterdays_draft_on_a_grazed_thigh(app, clinic_world)
    factories.make_screening(app, client_id, clinic_world.a.therapist_id)  # today: all "no"
    response = _add_thigh_work(logged_in, client_id, visit_id)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "left alone" in page.split('id="entries-1-override_reason-error"', 1)[1][:400]
    assert "Limits on " in page and "Limits today" not in page
    assert len(visit_of(app, visit_id).entries) == 1


def test_editing_yesterdays_draft_ignores_an_override_recorded_today(app, logged_in, clinic_world):
    client_id, visit_id = _yesterdays_draft_on_a_grazed_thigh(app, clinic_world)
    recorded = logged_in.post(
        f"/clients/{client_id}/screening/{latest_screening_id(app)}/override",
        data={"finding_code": "skin_break", "reason": "Scab gone, light work only"},
    )
    assert recorded.status_code == 302
    response = _add_thigh_work(logged_in, client_id, visit_id)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "left alone" in page.split('id="entries-1-override_reason-error"', 1)[1][:400]
    assert len(visit_of(app, visit_id).entries) == 1
    # With a written reason the entry goes in: the avoided area is the therapist's call.
    reason = visit_data(
        entry("effleurage", "calf", pressure="1", minutes="5"),
        entry(override_reason="Graze healed and dry, checked"),
        visit_on=yesterday().isoformat(),
        version="1",
        **FACTORY_NOTE,
    )
    assert logged_in.post(note_url(client_id, visit_id, "edit"), data=reason).status_code == 302
    assert len(visit_of(app, visit_id).entries) == 2


# --- Versions cover the whole note --------------------------------------------------------------------


def test_a_note_whose_entries_someone_else_changed_is_not_signed_with_the_version_seen(
    app, client, clinic_world
):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    author, other = client, app.test_client()
    factories.sign_in(app, author, a.therapist_id)
    factories.sign_in(app, other, a.owner_id)
    seen = shown_version(author.get(note_url(client_id, visit_id)).get_data(as_text=True))
    before = visit_of(app, visit_id)

    changed = other.post(
        note_url(client_id, visit_id, "edit"),
        data=visit_data(
            entry("effleurage", "calf", pressure="1", minutes="7"), version=seen, **FACTORY_NOTE
        ),
    )
    assert changed.status_code == 302
    after = visit_of(app, visit_id)
    # Only the entries changed, and that alone is a new version of the note.
    for name in ("start_time", "subjective", "assessment", "plan", "pain_before_left"):
        assert getattr(after, name) == getattr(before, name), name
    assert [e.technique for e in after.entries] == [Technique.EFFLEURAGE]
    assert after.version > before.version

    signed = author.post(note_url(client_id, visit_id, "sign"), data={"version": seen})
    assert signed.status_code == 409
    page = signed.get_data(as_text=True)
    assert "The note changed since you opened it" in page
    assert "Effleurage" in page, "the conflict page shows the note as it is now"
    assert shown_version(page) == str(after.version)
    assert visit_of(app, visit_id).status is VisitStatus.DRAFT


def test_of_a_signature_and_an_edit_racing_one_wins_and_the_other_gets_the_conflict_page(
    app, clinic_world
):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    author, other = app.test_client(), app.test_client()
    factories.sign_in(app, author, a.therapist_id)
    factories.sign_in(app, other, a.owner_id)
    start = threading.Barrier(2)
    codes: dict[str, int] = {}

    def sign() -> None:
        start.wait()
        codes["sign"] = author.post(
            note_url(client_id, visit_id, "sign"), data={"version": "1"}
        ).status_code

    def edit() -> None:
        start.wait()
        data = visit_data(
            entry("effleurage", "calf", pressure="1", minutes="7"), version="1", **FACTORY_NOTE
        )
        codes["edit"] = other.post(note_url(client_id, visit_id, "edit"), data=data).status_code

    threads = [threading.Thread(target=sign), threading.Thread(target=edit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes.values()) == [302, 409], codes
    visit = visit_of(app, visit_id)
    if codes["sign"] == 302:
        assert visit.status is VisitStatus.SIGNED
        assert [e.technique for e in visit.entries] == [Technique.PETRISSAGE]
    else:
        assert visit.status is VisitStatus.DRAFT
        assert [e.technique for e in visit.entries] == [Technique.EFFLEURAGE]


def test_a_draft_someone_else_changed_is_not_discarded_with_the_version_seen(
    app, client, clinic_world
):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    factories.sign_in(app, client, a.therapist_id)
    saved = client.post(
        note_url(client_id, visit_id, "edit"),
        data=visit_data(entry(minutes="12"), version="1", **FACTORY_NOTE),
    )
    assert saved.status_code == 302
    stale = client.post(note_url(client_id, visit_id, "discard"), data={"version": "1"})
    assert stale.status_code == 409
    assert visit_of(app, visit_id).discarded_at is None


# --- Nothing typed is dropped ----------------------------------------------------------------------------


def _rows(count: int) -> list[dict[str, str]]:
    return [
        entry("effleurage", "quadriceps", pressure="1", minutes="1", note=f"row {n + 1} of {count}")
        for n in range(count)
    ]


def test_more_rows_than_a_note_holds_are_refused_with_every_row_kept(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    count = MAX_ENTRIES + 5
    response = logged_in.post(
        f"/clients/{client_id}/visits/new", data=visit_data(*_rows(count), length_minutes="120")
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"at most {MAX_ENTRIES} techniques and this one has {count}" in page
    assert 'id="entries-error"' in page, "the message stands beside the rows"
    for n in range(count):
        assert f"row {n + 1} of {count}</textarea>" in page, f"row {n + 1} was dropped"
    assert visits_of(app, client_id) == []


def test_more_rows_than_a_note_holds_are_refused_on_a_draft_too(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    count = MAX_ENTRIES + 1
    response = logged_in.post(
        note_url(client_id, visit_id, "edit"),
        data=visit_data(*_rows(count), version="1", length_minutes="120", **FACTORY_NOTE),
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"row {count} of {count}</textarea>" in page
    assert len(visit_of(app, visit_id).entries) == 1


def test_a_full_note_saves_every_row(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    response = logged_in.post(
        f"/clients/{client_id}/visits/new",
        data=visit_data(*_rows(MAX_ENTRIES), length_minutes="120"),
    )
    assert response.status_code == 302
    (visit,) = visits_of(app, client_id)
    assert len(visit.entries) == MAX_ENTRIES
    assert visit.entries[-1].note == f"row {MAX_ENTRIES} of {MAX_ENTRIES}"


# --- Every change and every showing is on file ------------------------------------------------------


def _shown_again(written, summary: str):
    return [
        e
        for e in written
        if e.action is AuditAction.VIEW and e.summary == f"{summary} (shown again, not saved)"
    ]


def test_an_empty_addendum_shows_the_note_again_and_that_is_on_file(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id, signed=True)
    before = entries(app)
    response = logged_in.post(
        note_url(client_id, visit_id, "addenda"), data={"reason": "", "text": ""}
    )
    assert response.status_code == 200
    assert "Stairs still hard." in response.get_data(as_text=True)
    written = new_entries(app, before)
    (shown,) = _shown_again(written, "Visit note")
    assert (shown.record_type, shown.record_id, shown.client_id) == ("visit", visit_id, client_id)
    assert shown.user_id == a.therapist_id
    assert [e for e in written if e.action is not AuditAction.VIEW] == []


def test_refused_entries_stale_versions_and_refused_signatures_are_on_file(
    app, logged_in, clinic_world
):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world, skin_break={"side": "left", "region": "thigh"})
    visit_id = factories.make_visit(
        app, client_id, a.therapist_id,
        entries=[{"technique": Technique.EFFLEURAGE, "target": Target.CALF, "side": Side.LEFT,
                  "pressure": Pressure.LIGHT, "minutes": Decimal("5")}],
    )  # fmt: skip
    before = entries(app)
    refused = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data(entry()))
    assert refused.status_code == 200
    stale = logged_in.post(
        note_url(client_id, visit_id, "edit"), data=visit_data(entry(), version="7")
    )
    assert stale.status_code == 409
    unsigned = logged_in.post(note_url(client_id, visit_id, "sign"), data={"version": "7"})
    assert unsigned.status_code == 409
    written = new_entries(app, before)
    assert _shown_again(written, "New visit form")
    (form,) = _shown_again(written, "Draft visit note form")
    assert form.record_id == visit_id
    (note,) = _shown_again(written, "Visit note")
    assert note.record_id == visit_id
    assert [e for e in written if e.action is not AuditAction.VIEW] == []


def test_each_change_records_its_own_entry(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    before = entries(app)
    started = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data(entry()))
    assert started.status_code == 302
    (visit,) = visits_of(app, client_id)
    edit = visit_data(entry(minutes="12"), version=str(visit.version), pain_after_left="8")
    assert logged_in.post(note_url(client_id, visit.id, "edit"), data=edit).status_code == 302
    version = str(visits_of(app, client_id)[0].version)
    sign = logged_in.post(note_url(client_id, visit.id, "sign"), data={"version": version})
    assert sign.status_code == 302
    addendum = {"reason": "Left out", "text": "Ice after."}
    assert (
        logged_in.post(note_url(client_id, visit.id, "addenda"), data=addendum).status_code == 302
    )
    follow_up = {"text": "Phoned: settled."}
    assert (
        logged_in.post(note_url(client_id, visit.id, "follow-up"), data=follow_up).status_code
        == 302
    )
    draft = factories.make_visit(app, client_id, a.therapist_id)
    assert (
        logged_in.post(note_url(client_id, draft, "discard"), data={"version": "1"}).status_code
        == 302
    )
    changes = [
        (e.action, e.summary, e.record_id)
        for e in new_entries(app, before)
        if e.action is not AuditAction.VIEW
    ]
    assert changes == [
        (AuditAction.CREATE, "Started a visit note", visit.id),
        (AuditAction.CHANGE, "Saved the draft visit note", visit.id),
        (AuditAction.SIGN, "Signed the visit note", visit.id),
        (AuditAction.CREATE, "Added an addendum to the signed note", visit.id),
        (AuditAction.CREATE, "Recorded the follow-up of a flagged visit", visit.id),
        (AuditAction.CHANGE, "Discarded the draft visit note", draft),
    ]
    assert all(e.client_id == client_id for e in new_entries(app, before))


def test_the_lists_and_the_print_are_on_file(app, logged_in, clinic_world):
    a = clinic_world.a
    visit_id = factories.make_visit(app, a.client_id, a.therapist_id, signed=True)
    before = entries(app)
    assert logged_in.get("/visits/unsigned").status_code == 200
    assert logged_in.get("/visits/this-month").status_code == 200
    assert logged_in.get(note_url(a.client_id, visit_id, "note.pdf")).status_code == 200
    written = [(e.action, e.record_type, e.summary) for e in new_entries(app, before)]
    assert written == [
        (AuditAction.VIEW, "visit_list", "Unsigned notes list"),
        (AuditAction.VIEW, "visit_list", "This month's visits list"),
        (AuditAction.PRINT, "visit", "Visit note PDF"),
    ]


# --- One shape for a technique entry ---------------------------------------------------------------


def test_a_technique_entry_has_one_shape_from_the_form_to_the_row_and_the_print(app):
    entry = EntryDetails(
        Technique.CROSS_FIBRE_FRICTION,
        Target.PATELLAR_TENDON,
        Side.RIGHT,
        Pressure.MEDIUM,
        Decimal("2.5"),
        repetitions=12,
        hold_seconds=None,
        note="Tender at the lower pole",
        override_reason="",
    )
    assert tuple(EntryForm()._fields) == ENTRY_FIELDS
    row = TechniqueEntry.from_details(entry, clinic_id=1, position=0)
    assert row.details() == entry
    with app.test_request_context():
        form = VisitForm(formdata=None)
        form.load_entries([entry], with_override_reasons=True)
        assert form.entries[0].form.to_entry() == entry
    printed = print_entry(entry)
    assert set(printed) == {*ENTRY_FIELDS, "dose"}
    assert printed["minutes"] == "2.5"
    assert printed["pressure"] == Pressure.MEDIUM.label
    assert printed["dose"] == "12 repetitions"
