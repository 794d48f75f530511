"""Visits: the gate, entry rules, drafts, signing and the lock, addenda, flags, nothing lost."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from clinic.clock import utcnow
from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.visits import VisitStatus
from clinic.extensions import db
from clinic.models import Addendum, LoginSession, SignedVisitError, Visit, VisitFollowUp
from tests import factories

TODAY = date.today()


def ready_client(app, world, **answers: Any) -> int:
    """A client of clinic A with a screening taken today (so the clot question was asked)."""
    a = world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Visitor")
    factories.make_screening(app, client_id, a.therapist_id, **answers)
    return client_id


def entry(
    technique="petrissage", target="quadriceps", side="left", pressure="2", minutes="10", **more
):
    return {
        "technique": technique,
        "target": target,
        "side": side,
        "pressure": pressure,
        "minutes": minutes,
        **more,
    }


def visit_data(*entries: dict[str, str], **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "creation_token": "token-1",
        "visit_on": TODAY.isoformat(),
        "start_time": "09:30",
        "length_minutes": "60",
        "knees": "left",
        "pain_before_left": "6",
        "pain_after_left": "3",
        "subjective": "Typed subjective note",
        "adverse_response": "none",
        "action": "save",
    }
    for index, row in enumerate(entries):
        for name, value in row.items():
            data[f"entries-{index}-{name}"] = value
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def visits_of(app, client_id: int) -> list[Visit]:
    with app.app_context():
        rows = db.session.scalars(select(Visit).where(Visit.client_id == client_id)).all()
        for row in rows:
            _ = row.entries
            db.session.expunge(row)
        return list(rows)


def age_sign_ins(*, minutes: int) -> None:
    """Move every sign-in's last activity back, as if the therapist had stopped clicking."""
    for login_session in db.session.scalars(select(LoginSession)):
        login_session.last_seen_at = utcnow() - timedelta(minutes=minutes)
    db.session.commit()


def error_beside(page: str, field_id: str) -> str:
    parts = page.split(f'id="{field_id}-error"', 1)
    assert len(parts) == 2, f"no error beside {field_id}"
    return parts[1][:400]


# --- the gate -------------------------------------------------------------------------------


def test_no_screening_no_visit(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Unscreened")
    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "A visit cannot start yet" in page
    assert "no screening yet" in page
    assert f"/clients/{client_id}#screening" in page
    response = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data(entry()))
    assert response.status_code == 409
    assert visits_of(app, client_id) == []


def test_out_of_date_screening_closes_the_gate(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id)
    factories.make_screening(app, client_id, a.therapist_id, taken_on=TODAY - timedelta(days=31))
    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "out of date" in page


def test_clot_question_must_be_asked_today(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id)
    factories.make_screening(app, client_id, a.therapist_id, taken_on=TODAY - timedelta(days=3))
    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "have not been asked about today" in page
    logged_in.post(f"/clients/{client_id}/screening/confirm")
    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "Techniques applied" in page


def test_uncleared_refer_closes_the_gate_until_cleared(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world, dvt_signs={"side": "left"})
    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "refer first" in page
    with app.app_context():
        screening_id = db.session.scalar(select(func.max(factories.Screening.id)))
    logged_in.post(
        f"/clients/{client_id}/screening/{screening_id}/clearance",
        data={"finding_code": "dvt_signs", "given_by": "Dr. Lee", "given_on": TODAY.isoformat()},
    )
    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "Techniques applied" in page


# --- recording a visit ------------------------------------------------------------------------


def test_record_a_visit_with_several_entries(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    form = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "Limits today" in form
    response = logged_in.post(
        f"/clients/{client_id}/visits/new",
        data=visit_data(
            entry(),
            entry(
                "cross_fibre_friction",
                "patellar_tendon",
                "left",
                "2",
                "2.5",
                repetitions="",
                note="Tender",
            ),
            entry("passive_stretch", "hamstrings", "left", "1", "3", hold_seconds="30"),
        ),
    )
    assert response.status_code == 302
    (visit,) = visits_of(app, client_id)
    assert visit.status is VisitStatus.DRAFT
    assert visit.therapist_id == clinic_world.a.therapist_id
    assert [e.technique for e in visit.entries] == [
        Technique.PETRISSAGE, Technique.CROSS_FIBRE_FRICTION, Technique.PASSIVE_STRETCH,
    ]  # fmt: skip
    assert visit.entries[1].minutes == Decimal("2.5")
    assert visit.entries[1].pressure is Pressure.MEDIUM
    assert visit.entries[2].hold_seconds == 30
    assert visit.pain_before_left == 6
    assert visit.pain_before_right is None
    assert not visit.adverse_flag
    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Typed subjective note" in page
    assert "Patellar tendon" in page


@pytest.mark.parametrize(
    ("answers", "row", "field", "message"),
    [
        ({}, entry("passive_stretch", "patellar_tendon"), "technique", "not used on this target"),
        ({"anticoagulants": True}, entry(pressure="3"), "pressure", "above the limit"),
        ({}, entry("trigger_point", "popliteus", pressure="1"), "technique", ""),
        ({}, entry("effleurage", "back_of_knee", pressure="2"), "pressure", ""),
        ({}, entry("effleurage", "around_kneecap", pressure="2"), "pressure", "kneecap"),
        (
            {"acute_flare": {"side": "left"}},
            entry("heat", "knee_joint", pressure="1"),
            "technique",
            "No heat",
        ),
        (
            {"previous_dvt": {"side": "left"}},
            entry("petrissage", "calf", pressure="2"),
            "pressure",
            "above the limit",
        ),
        (
            {"skin_break": {"side": "left", "region": "thigh"}},
            entry(),
            "override_reason",
            "left alone",
        ),
        ({}, entry(technique=""), "technique", "Choose the technique."),
        ({}, entry(minutes=""), "minutes", "Enter the minutes."),
        ({}, entry(minutes="0.4"), "minutes", "From 0.5 to 60 minutes."),
        ({}, entry(minutes="61"), "minutes", "From 0.5 to 60 minutes."),
        ({}, entry(minutes="ten"), "minutes", "Not a valid decimal"),
        ({}, entry(target="acl"), "target", "Not a valid choice"),
        ({}, entry(pressure="5"), "pressure", "Not a valid choice"),
    ],
)
def test_each_entry_rule_is_refused_beside_the_entry(
    app, logged_in, clinic_world, answers, row, field, message
):
    client_id = ready_client(app, clinic_world, **answers)
    response = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data(row))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in error_beside(page, f"entries-0-{field}")
    assert "Typed subjective note" in page, "typed text must be kept"
    assert visits_of(app, client_id) == []


def test_avoided_area_passes_with_a_written_reason_kept_on_the_entry(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world, skin_break={"side": "left", "region": "thigh"})
    reason = "Graze healed and dry, checked today"
    response = logged_in.post(
        f"/clients/{client_id}/visits/new", data=visit_data(entry(override_reason=reason))
    )
    assert response.status_code == 302
    (visit,) = visits_of(app, client_id)
    assert visit.entries[0].override_reason == reason


def test_a_recorded_override_for_today_lets_the_entry_through(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world, skin_break={"side": "left", "region": "thigh"})
    with app.app_context():
        screening_id = db.session.scalar(select(func.max(factories.Screening.id)))
    logged_in.post(
        f"/clients/{client_id}/screening/{screening_id}/override",
        data={"finding_code": "skin_break", "reason": "Scab gone, light work only"},
    )
    response = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data(entry()))
    assert response.status_code == 302


def test_minutes_may_not_exceed_the_visit(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    data = visit_data(
        entry(minutes="20"), entry("effleurage", "calf", minutes="15"), length_minutes="30"
    )
    response = logged_in.post(f"/clients/{client_id}/visits/new", data=data)
    assert response.status_code == 200
    assert "add up to 35 minutes" in error_beside(response.get_data(as_text=True), "length_minutes")
    assert visits_of(app, client_id) == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"pain_before_left": None}, "pain_before_left", "Record the pain before"),
        ({"pain_before_left": "11"}, "pain_before_left", "0 to 10"),
        ({"pain_after_left": "-1"}, "pain_after_left", "0 to 10"),
        ({"length_minutes": "2"}, "length_minutes", "From 5 to 240"),
        ({"knees": None}, "knees", "Choose the knee"),
        ({"start_time": "25:99"}, "start_time", "Not a valid time"),
        (
            {"visit_on": (TODAY + timedelta(days=1)).isoformat()},
            "visit_on",
            "cannot be in the future",
        ),
        (
            {"visit_on": (TODAY - timedelta(days=1)).isoformat()},
            "visit_on",
            "on the day it happens",
        ),
        ({"adverse_response": "other"}, "adverse_note", "Say what happened."),
        (
            {"next_visit_on": (TODAY - timedelta(days=1)).isoformat()},
            "next_visit_on",
            "after this one",
        ),
        ({"flexion_left_degrees": "400"}, "flexion_left_degrees", "0 to 170"),
    ],
)
def test_bad_visit_fields_are_refused_beside_the_field(
    app, logged_in, clinic_world, overrides, field, message
):
    client_id = ready_client(app, clinic_world)
    response = logged_in.post(
        f"/clients/{client_id}/visits/new", data=visit_data(entry(), **overrides)
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in error_beside(page, field)
    assert "Typed subjective note" in page
    assert visits_of(app, client_id) == []


def test_blank_rows_are_ignored(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    data = visit_data(
        entry(), {"technique": "", "target": "", "side": "", "pressure": "", "minutes": ""}
    )
    assert logged_in.post(f"/clients/{client_id}/visits/new", data=data).status_code == 302
    (visit,) = visits_of(app, client_id)
    assert len(visit.entries) == 1


def test_rows_are_added_and_removed_without_javascript(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    url = f"/clients/{client_id}/visits/new"
    blank = {"technique": "", "target": "", "side": "", "pressure": "", "minutes": ""}
    # A browser sends the two blank rows the page always offers, too.
    added = logged_in.post(url, data=visit_data(entry(), blank, blank, action="add_row"))
    assert added.status_code == 200
    page = added.get_data(as_text=True)
    assert 'name="entries-3-technique"' in page  # one typed, two blank ready, one added
    removed = logged_in.post(
        url,
        data=visit_data(
            entry(note="first"), entry("effleurage", "calf", note="second"), action="remove_row-0"
        ),
    )
    page = removed.get_data(as_text=True)
    assert "first" not in page.split("Techniques applied", 1)[1].split("Limits today", 1)[0]
    assert 'name="entries-0-note"' in page and "second</textarea>" in page
    assert visits_of(app, client_id) == []


def test_start_from_the_last_visit_copies_the_entries(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    factories.make_visit(
        app, client_id, a.therapist_id, signed=True, visit_on=TODAY - timedelta(days=7),
        entries=[{"technique": Technique.CIRCULAR_FRICTION, "target": Target.AROUND_KNEECAP,
                  "side": Side.LEFT, "pressure": Pressure.LIGHT, "minutes": Decimal("4")}],
    )  # fmt: skip
    page = logged_in.get(f"/clients/{client_id}/visits/new?from_last=1").get_data(as_text=True)
    assert '<option selected value="circular_friction">' in page
    assert "were copied" in page


def test_allergy_warning_on_the_form(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = factories.make_client(
        app, a.clinic_id, a.therapist_id, allergic_to_oils_or_nuts=True
    )
    factories.make_screening(app, client_id, a.therapist_id)
    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "use a hypoallergenic product" in page


# --- double submit and conflicts -------------------------------------------------------------------


def test_a_double_click_on_save_makes_one_visit(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    first = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data(entry()))
    second = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data(entry()))
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(visits_of(app, client_id)) == 1


def test_simultaneous_saves_of_one_form_make_one_visit(app, clinic_world):
    client_id = ready_client(app, clinic_world)
    browsers = []
    for _ in range(4):
        browser = app.test_client()
        factories.sign_in(app, browser, clinic_world.a.therapist_id)
        browsers.append(browser)
    start = threading.Barrier(len(browsers))
    codes: list[int] = []

    def save(browser) -> None:
        start.wait()
        codes.append(
            browser.post(f"/clients/{client_id}/visits/new", data=visit_data(entry())).status_code
        )

    threads = [threading.Thread(target=save, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [302] * 4
    assert len(visits_of(app, client_id)) == 1


def test_two_people_editing_one_draft_get_a_conflict(app, client, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    first, second = client, app.test_client()
    factories.sign_in(app, first, a.therapist_id)
    factories.sign_in(app, second, a.owner_id)
    url = f"/clients/{client_id}/visits/{visit_id}/edit"
    assert 'name="version" type="hidden" value="1"' in first.get(url).get_data(as_text=True)
    saved = first.post(url, data=visit_data(entry(), version="1", subjective="Theirs"))
    assert saved.status_code == 302
    conflict = second.post(url, data=visit_data(entry(), version="1", subjective="Mine"))
    assert conflict.status_code == 409
    page = conflict.get_data(as_text=True)
    assert "Someone else saved this draft" in page
    assert "Theirs" in page and "Mine" in page
    (visit,) = visits_of(app, client_id)
    assert visit.subjective == "Theirs"
    again = second.post(url, data=visit_data(entry(), version="2", subjective="Mine"))
    assert again.status_code == 302
    assert visits_of(app, client_id)[0].subjective == "Mine"


# --- signing and the lock -----------------------------------------------------------------------------


def test_sign_locks_the_note_on_every_write_route(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    base = f"/clients/{client_id}/visits/{visit_id}"
    assert logged_in.post(f"{base}/sign", data={"version": "1"}).status_code == 302
    (visit,) = visits_of(app, client_id)
    assert visit.status is VisitStatus.SIGNED
    assert visit.signed_at is not None
    for method, url, data in [
        ("GET", f"{base}/edit", None),
        ("POST", f"{base}/edit", visit_data(entry(), version="2", subjective="Changed")),
        ("POST", f"{base}/sign", {"version": "2"}),
        ("POST", f"{base}/discard", {}),
    ]:
        response = logged_in.open(
            url, method=method, data={**(data or {}), "csrf_token": logged_in.csrf_token()}
        )
        assert response.status_code == 409, f"{method} {url}"
        assert "signed and locked" in response.get_data(as_text=True)
    (after,) = visits_of(app, client_id)
    assert after.subjective == visit.subjective
    assert after.version == visit.version
    assert [e.id for e in after.entries] == [e.id for e in visit.entries]


def test_the_database_layer_refuses_to_change_a_signed_visit(app, clinic_world):
    a = clinic_world.a
    visit_id = factories.make_visit(app, a.client_id, a.therapist_id, signed=True)
    with app.app_context():
        visit = db.session.get_one(Visit, visit_id)
        visit.subjective = "rewritten"
        with pytest.raises(SignedVisitError):
            db.session.flush()
        db.session.rollback()
        visit = db.session.get_one(Visit, visit_id)
        visit.entries[0].minutes = Decimal("59")
        with pytest.raises(SignedVisitError):
            db.session.flush()
        db.session.rollback()


def test_signing_needs_pain_after_and_the_author(app, client, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id, pain_after_left=None)
    factories.sign_in(app, client, a.therapist_id)
    page = client.post(
        f"/clients/{client_id}/visits/{visit_id}/sign", data={"version": "1"}, follow_redirects=True
    )
    assert "Record the pain before and after for the left knee" in page.get_data(as_text=True)
    other = app.test_client()
    factories.sign_in(app, other, a.owner_id)
    with app.app_context():
        db.session.execute(update(Visit).where(Visit.id == visit_id).values(pain_after_left=2))
        db.session.commit()
    page = other.post(
        f"/clients/{client_id}/visits/{visit_id}/sign", data={"version": "1"}, follow_redirects=True
    )
    assert "Only the therapist who gave the treatment signs" in page.get_data(as_text=True)
    assert visits_of(app, client_id)[0].status is VisitStatus.DRAFT


def test_addenda_appear_under_the_unchanged_original(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id, signed=True)
    url = f"/clients/{client_id}/visits/{visit_id}/addenda"
    missing = logged_in.post(url, data={"reason": "  ", "text": "Forgot the ice"})
    assert missing.status_code == 200
    assert "Say why the addendum is needed." in error_beside(
        missing.get_data(as_text=True), "reason"
    )
    done = logged_in.post(url, data={"reason": "Left out of the note", "text": "Ice 10 min after."})
    assert done.status_code == 302
    page = logged_in.get(f"/clients/{client_id}/visits/{visit_id}").get_data(as_text=True)
    assert page.index("Stairs still hard.") < page.index("Ice 10 min after.")
    assert "Reason: Left out of the note" in page
    with app.app_context():
        addendum = db.session.scalars(select(Addendum)).one()
        assert addendum.author_id == a.therapist_id


def test_drafts_take_no_addenda(app, logged_in, clinic_world):
    a = clinic_world.a
    visit_id = factories.make_visit(app, a.client_id, a.therapist_id)
    response = logged_in.post(
        f"/clients/{a.client_id}/visits/{visit_id}/addenda", data={"reason": "x y z", "text": "t"}
    )
    assert response.status_code == 409
    assert "addenda are for signed notes" in response.get_data(as_text=True)


def test_drafts_are_discarded_by_their_author_only(app, client, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id)
    factories.sign_in(app, client, a.owner_id)
    refused = client.post(f"/clients/{client_id}/visits/{visit_id}/discard", data={"version": "1"})
    assert refused.status_code == 200
    assert "Only the therapist who started the draft" in refused.get_data(as_text=True)
    assert visits_of(app, client_id)[0].discarded_at is None
    author = app.test_client()
    factories.sign_in(app, author, a.therapist_id)
    discarded = author.post(
        f"/clients/{client_id}/visits/{visit_id}/discard", data={"version": "1"}
    )
    assert discarded.status_code == 302
    assert visits_of(app, client_id)[0].discarded_at is not None
    assert author.get(f"/clients/{client_id}/visits/{visit_id}").status_code == 404


def test_unsigned_notes_list(app, client, clinic_world):
    a = clinic_world.a
    other_therapist = factories.make_user(app, a.clinic_id, full_name="Otto Other")
    factories.make_visit(app, a.client_id, other_therapist, subjective="Otto's draft")
    factories.make_visit(app, a.client_id, a.therapist_id, signed=True)
    factories.sign_in(app, client, a.therapist_id)
    mine = client.get("/visits/unsigned").get_data(as_text=True)
    assert "Tess Therapist Alpha" in mine  # the world's own draft
    assert "Otto Other" not in mine
    owner = app.test_client()
    factories.sign_in(app, owner, a.owner_id)
    everyone = owner.get("/visits/unsigned").get_data(as_text=True)
    assert "Otto Other" in everyone and "Tess Therapist Alpha" in everyone


def test_the_unsigned_notes_come_a_page_at_a_time_oldest_first(app, client, clinic_world):
    a = clinic_world.a
    # The world's own draft is dated today; 26 more, one a day before it.
    for days in range(1, 27):
        factories.make_visit(app, a.client_id, a.therapist_id, visit_on=TODAY - timedelta(days))
    factories.sign_in(app, client, a.therapist_id)
    first = client.get("/visits/unsigned").get_data(as_text=True)
    assert "27 unsigned notes, 25 a page." in first
    assert first.count("tag--draft") == 25
    assert "Page 1 of 2" in first
    assert 'href="/visits/unsigned?page=2" rel="next"' in first
    oldest = TODAY - timedelta(26)
    assert first.index(f"{oldest.day} {oldest:%b %Y}") < first.index("tag--draft")
    second = client.get("/visits/unsigned?page=2").get_data(as_text=True)
    assert second.count("tag--draft") == 2
    assert f"{TODAY.day} {TODAY:%b %Y}, 09:00" in second  # the newest, last
    assert 'rel="prev"' in second
    past_the_end = client.get("/visits/unsigned?page=9").get_data(as_text=True)
    assert "Page 2 of 2" in past_the_end


def test_this_months_visits_come_a_page_at_a_time(app, client, clinic_world):
    a = clinic_world.a
    first_of_month = TODAY.replace(day=1)
    for minutes in range(30):
        factories.make_visit(
            app,
            a.client_id,
            a.therapist_id,
            signed=True,
            visit_on=first_of_month,
            start_time=time(8, minutes),
        )
    factories.make_visit(app, a.client_id, a.therapist_id, visit_on=first_of_month - timedelta(1))
    factories.sign_in(app, client, a.therapist_id)
    page = client.get("/visits/this-month").get_data(as_text=True)
    # 30 signed visits on the 1st and the world's own draft today; not last month's.
    assert "31 visits, 25 a page." in page
    assert page.count("tag--signed") == 25
    rest = client.get("/visits/this-month?page=2").get_data(as_text=True)
    assert rest.count("tag--signed") + rest.count("tag--draft") == 6


# --- adverse flags -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "response", "flagged"),
    [
        ("3", "5", "none", True),
        ("3", "4", "none", False),
        ("5", "3", "bruising", True),
        ("0", "1", "none", False),
    ],
)
def test_adverse_flags(app, logged_in, clinic_world, before, after, response, flagged):
    client_id = ready_client(app, clinic_world)
    data = visit_data(
        entry(), pain_before_left=before, pain_after_left=after, adverse_response=response
    )
    assert logged_in.post(f"/clients/{client_id}/visits/new", data=data).status_code == 302
    (visit,) = visits_of(app, client_id)
    assert visit.adverse_flag is flagged
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert ("Follow-up needed." in page) is flagged


def test_the_flag_shows_until_a_follow_up_is_recorded(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(
        app,
        client_id,
        a.therapist_id,
        signed=True,
        pain_before_left=2,
        pain_after_left=5,
        adverse_flag=True,
    )
    assert "Follow-up needed." in logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    url = f"/clients/{client_id}/visits/{visit_id}/follow-up"
    assert logged_in.post(url, data={"text": ""}).status_code == 200
    assert logged_in.post(url, data={"text": "Phoned: soreness gone next day."}).status_code == 302
    assert "Follow-up needed." not in logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(VisitFollowUp.id))) == 1


# --- nothing lost after the idle timeout ---------------------------------------------------------------


def test_a_note_typed_past_the_idle_timeout_comes_back_after_signing_in(
    app, client, auth, clinic_world
):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    assert auth.login(a.therapist_email).status_code == 302
    assert client.get(f"/clients/{client_id}/visits/new").status_code == 200
    with app.app_context():
        age_sign_ins(minutes=45)
    long_note = "Client described a long story about the weekend hike " * 5
    response = client.post(
        f"/clients/{client_id}/visits/new", data=visit_data(entry(), subjective=long_note)
    )
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert "restore" in response.headers["Location"]
    assert visits_of(app, client_id) == []
    signed_in = client.post(
        response.headers["Location"].split("localhost", 1)[-1],
        data={"email": a.therapist_email, "password": factories.PASSWORD},
    )
    assert signed_in.status_code == 302
    back = client.get(signed_in.headers["Location"])
    page = back.get_data(as_text=True)
    assert long_note.strip() in page
    assert "is back in the form" in page
    # The restored form saves like any other, once.
    token = page.split('name="creation_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    assert token == "token-1"
    saved = client.post(
        f"/clients/{client_id}/visits/new", data=visit_data(entry(), subjective=long_note)
    )
    assert saved.status_code == 302
    assert len(visits_of(app, client_id)) == 1


def test_a_kept_form_is_only_given_back_to_its_author(app, client, auth, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    auth.login(a.therapist_email)
    with app.app_context():
        age_sign_ins(minutes=45)
    response = client.post(
        f"/clients/{client_id}/visits/new", data=visit_data(entry(), subjective="Private words")
    )
    target = response.headers["Location"].split("next=", 1)[1]
    from urllib.parse import unquote

    other = app.test_client()
    factories.sign_in(app, other, a.owner_id)
    page = other.get(unquote(target)).get_data(as_text=True)
    assert "Private words" not in page


# --- the printed note --------------------------------------------------------------------------------


def test_signed_note_prints_as_a_pdf(app, logged_in, clinic_world):
    from io import BytesIO

    from pypdf import PdfReader

    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id, signed=True)
    logged_in.post(
        f"/clients/{client_id}/visits/{visit_id}/addenda",
        data={"reason": "Late entry", "text": "Client phoned: felt looser."},
    )
    response = logged_in.get(f"/clients/{client_id}/visits/{visit_id}/note.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(BytesIO(response.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Ada Visitor",
        "Petrissage",
        "Quadriceps",
        "Stairs still hard.",
        "felt looser",
        "Signed by",
    ):
        assert expected in text, expected
    assert reader.metadata.title.startswith("Visit note: Ada Visitor")


def test_a_draft_does_not_print(app, logged_in, clinic_world):
    a = clinic_world.a
    visit_id = factories.make_visit(app, a.client_id, a.therapist_id)
    assert logged_in.get(f"/clients/{a.client_id}/visits/{visit_id}/note.pdf").status_code == 409


def test_client_page_lists_visits_newest_first(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    factories.make_visit(
        app,
        client_id,
        a.therapist_id,
        signed=True,
        visit_on=TODAY - timedelta(days=14),
        pain_before_left=8,
    )
    factories.make_visit(
        app,
        client_id,
        a.therapist_id,
        signed=True,
        visit_on=TODAY - timedelta(days=7),
        pain_before_left=7,
    )
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert page.index("Left: 7 → 3") < page.index("Left: 8 → 3")
    assert "Petrissage (kneading) on left quadriceps" in page
    listing = logged_in.get("/clients/?q=Visitor").get_data(as_text=True)
    assert (TODAY - timedelta(days=7)).strftime("%b %Y") in listing


def test_a_copied_visit_does_not_copy_the_reason_to_work_on_an_avoided_area(
    app, logged_in, clinic_world
):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    factories.make_visit(
        app, client_id, a.therapist_id, signed=True, visit_on=TODAY - timedelta(days=7),
        entries=[{"technique": Technique.EFFLEURAGE, "target": Target.CALF, "side": Side.LEFT,
                  "pressure": Pressure.LIGHT, "minutes": Decimal("5"),
                  "override_reason": "Graze had healed that day"}],
    )  # fmt: skip
    page = logged_in.get(f"/clients/{client_id}/visits/new?from_last=1").get_data(as_text=True)
    assert '<option selected value="effleurage">' in page
    assert "Graze had healed that day" not in page
