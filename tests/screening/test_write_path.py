"""Issue 11 for screening: open referrals, questionnaire versions and the audit entries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from clinic.domain import screening as screening_domain
from clinic.domain.screening import (
    QUESTIONNAIRES,
    Question,
    Questionnaire,
    Section,
    Tier,
    evaluate_screening,
    get_questionnaire,
    load_answers,
    load_result,
)
from clinic.extensions import db
from clinic.models import AuditAction, AuditEntry, Clearance, Client, Screening, Visit
from tests import factories

TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)
DVT_LABEL = "calf or thigh signs that need a same-day check"
FEVER_LABEL = "fever or infection"
STILL_OPEN = "Referral still open: record the clearance."
# The version new screenings are taken with, and a made-up next one.
CURRENT = screening_domain.QUESTIONNAIRE_VERSION
NEXT = CURRENT + 1


def screening_data(
    questionnaire: Questionnaire | None = None,
    taken_on: date = TODAY,
    **yes: dict[str, str] | bool,
) -> dict[str, Any]:
    """What the screening form posts: no to every question but those named."""
    asked = questionnaire or get_questionnaire(CURRENT)
    data: dict[str, Any] = {"taken_on": taken_on.isoformat(), "sign": "y"}
    for question in asked.questions:
        if not question.code.startswith("ottawa_"):
            data[f"{question.code}-answer"] = "no"
    for code, details in yes.items():
        data[f"{code}-answer"] = "yes"
        if isinstance(details, dict):
            data.update({f"{code}-{part}": value for part, value in details.items()})
    return data


def visit_data() -> dict[str, str]:
    """A visit form with one plain entry on the left thigh."""
    return {
        "creation_token": "screening-token-1",
        "visit_on": TODAY.isoformat(),
        "start_time": "09:30",
        "length_minutes": "60",
        "knees": "left",
        "pain_before_left": "6",
        "pain_after_left": "3",
        "subjective": "Typed subjective note",
        "adverse_response": "none",
        "action": "save",
        "entries-0-technique": "petrissage",
        "entries-0-target": "quadriceps",
        "entries-0-side": "left",
        "entries-0-pressure": "2",
        "entries-0-minutes": "10",
    }


def new_client(app, world) -> int:
    a = world.a
    return factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Rescreened")


def screen(browser, client_id: int, **kwargs: Any) -> int:
    """Take a screening through the form; return its id."""
    response = browser.post(f"/clients/{client_id}/screening/new", data=screening_data(**kwargs))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with browser.application.app_context():
        return int(
            db.session.scalar(
                select(Screening.id)
                .where(Screening.client_id == client_id)
                .order_by(Screening.id.desc())
                .limit(1)
            )
        )


def visits_of(app, client_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Visit.id).where(Visit.client_id == client_id)))


def entries(app, **where: Any) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEntry, name) == value)
        rows = list(db.session.scalars(query))
        for row in rows:
            db.session.expunge(row)
        return rows


def stored_tier(app, client_id: int) -> Tier | None:
    with app.app_context():
        return db.session.get_one(Client, client_id).screening_tier


def gate_is_closed(browser, client_id: int) -> str:
    page = browser.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "A visit cannot start yet" in page
    return page


# --- a referral stays open until cleared ------------------------------------------------------


def test_a_same_day_rescreen_does_not_lift_a_referral(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    first = screen(logged_in, client_id, dvt_signs={"side": "left"})
    screen(logged_in, client_id)  # the same day, every answer "no"

    page = gate_is_closed(logged_in, client_id)
    assert DVT_LABEL in page.lower()
    assert STILL_OPEN in page
    clearance_url = f"/clients/{client_id}/screening/{first}/clearance"
    assert f"{clearance_url}?finding=dvt_signs" in page
    refused = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data())
    assert refused.status_code == 409
    assert DVT_LABEL in refused.get_data(as_text=True).lower()
    assert visits_of(app, client_id) == []
    # The client list says refer too.
    assert stored_tier(app, client_id) is Tier.REFER
    client_page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Do not treat: refer." in client_page
    assert STILL_OPEN in client_page

    form = logged_in.get(f"{clearance_url}?finding=dvt_signs").get_data(as_text=True)
    assert "Calf or thigh signs that need a same-day check" in form
    recorded = logged_in.post(
        clearance_url,
        data={
            "finding_code": "dvt_signs",
            "given_by": "Dr. Lee, GP",
            "given_on": TODAY.isoformat(),
        },
    )
    assert recorded.status_code == 302
    assert stored_tier(app, client_id) is Tier.CLEAR

    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "A visit cannot start yet" not in page
    assert STILL_OPEN not in page
    started = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data())
    assert started.status_code == 302
    assert len(visits_of(app, client_id)) == 1


def test_the_open_referral_can_be_cleared_from_the_latest_screening(app, logged_in, clinic_world):
    """The client page's own link points at the latest screening: that works too."""
    client_id = new_client(app, clinic_world)
    first = screen(logged_in, client_id, hypertension_uncontrolled=True)
    latest = screen(logged_in, client_id, anticoagulants=True)
    url = f"/clients/{client_id}/screening/{latest}/clearance"
    form = logged_in.get(f"{url}?finding=hypertension_uncontrolled").get_data(as_text=True)
    assert "High blood pressure not under control" in form
    response = logged_in.post(
        url,
        data={
            "finding_code": "hypertension_uncontrolled",
            "given_by": "Dr. Ruiz",
            "given_on": TODAY.isoformat(),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        clearance = db.session.scalars(select(Clearance)).one()
        assert clearance.screening_id == first, "filed with the screening that found it"
    assert stored_tier(app, client_id) is Tier.MODIFY
    assert "A visit cannot start yet" not in logged_in.get(
        f"/clients/{client_id}/visits/new"
    ).get_data(as_text=True)
    created = entries(app, action=AuditAction.CREATE, client_id=client_id)
    assert [(e.record_type, e.record_id, e.summary) for e in created] == [
        ("screening", first, "Recorded a medical clearance")
    ]


def test_a_clearance_given_before_a_later_finding_does_not_lift_it(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    first = factories.make_screening(
        app,
        client_id,
        a.therapist_id,
        taken_on=TODAY - timedelta(days=3),
        dvt_signs={"side": "left"},
    )
    logged_in.post(
        f"/clients/{client_id}/screening/{first}/clearance",
        data={
            "finding_code": "dvt_signs",
            "given_by": "Dr. Lee",
            "given_on": (TODAY - timedelta(days=2)).isoformat(),
        },
    )
    screen(logged_in, client_id, dvt_signs={"side": "right"})
    page = gate_is_closed(logged_in, client_id)
    assert DVT_LABEL in page.lower()


def test_fever_ends_only_with_a_screening_on_a_later_day(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    screen(logged_in, client_id, taken_on=YESTERDAY, fever_infection=True)
    screen(logged_in, client_id, taken_on=YESTERDAY)  # well again an hour later?
    # Asked about clot signs today, so only the fever can keep the gate shut.
    assert logged_in.post(f"/clients/{client_id}/screening/confirm").status_code == 302
    page = gate_is_closed(logged_in, client_id)
    assert FEVER_LABEL in page.lower()
    assert "ends with a new screening on a later day" in page
    assert stored_tier(app, client_id) is Tier.REFER
    assert logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data()).status_code == 409

    screen(logged_in, client_id)  # today: the next day
    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "A visit cannot start yet" not in page
    assert stored_tier(app, client_id) is Tier.CLEAR
    assert logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data()).status_code == 302


def test_a_later_day_screening_does_not_lift_a_referral_that_needs_a_clearance(
    app, logged_in, clinic_world
):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    factories.make_screening(
        app, client_id, a.therapist_id, taken_on=TODAY - timedelta(days=5), unexplained_pain=True
    )
    screen(logged_in, client_id)
    page = gate_is_closed(logged_in, client_id)
    assert "unexplained pain, night pain or weight loss" in page.lower()
    assert STILL_OPEN in page


# --- questionnaire versions -------------------------------------------------------------------

ADDED = Question(
    "recent_long_flight",
    Section.HISTORY,
    "Have you been on a flight of more than four hours in the last four weeks?",
)


def _next_version(change: str) -> Questionnaire:
    v1 = QUESTIONNAIRES[CURRENT]
    if change == "adds":
        return Questionnaire(NEXT, (*v1.questions, ADDED))
    if change == "retires":
        return Questionnaire(NEXT, tuple(q for q in v1.questions if q.code != "bruise"))
    return Questionnaire(
        NEXT,
        tuple(
            Question(q.code, q.section, "Do you take blood thinners?") if q.code == "anticoagulants"
            else q
            for q in v1.questions
        ),
    )  # fmt: skip


@pytest.mark.parametrize("change", ["adds", "retires", "rewords"])
def test_a_new_questionnaire_version_breaks_no_stored_screening(
    app, logged_in, clinic_world, monkeypatch, change
):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    first = screen(
        logged_in,
        client_id,
        dvt_signs={"side": "left"},
        bruise={"side": "left", "region": "thigh"},
        skin_break={"side": "right", "region": "shin"},
    )
    logged_in.post(
        f"/clients/{client_id}/screening/{first}/clearance",
        data={"finding_code": "dvt_signs", "given_by": "Dr. Lee", "given_on": TODAY.isoformat()},
    )
    logged_in.post(
        f"/clients/{client_id}/screening/{first}/override",
        data={"finding_code": "skin_break", "reason": "Healed over, light strokes only"},
    )

    newer = _next_version(change)
    monkeypatch.setitem(QUESTIONNAIRES, NEXT, newer)
    monkeypatch.setattr(screening_domain, "QUESTIONNAIRE_VERSION", NEXT)

    # Every stored screening reads through the domain with its own version.
    with app.app_context():
        stored = list(db.session.scalars(select(Screening).order_by(Screening.id)))
        assert {s.questionnaire_version for s in stored} == {CURRENT}
        for screening in stored:
            version = get_questionnaire(screening.questionnaire_version)
            answers = load_answers(screening.answers, screening.questionnaire_version)
            assert evaluate_screening(
                answers, age=screening.client_age, questionnaire=version
            ) == load_result(screening.result)
        pages = [(s.client_id, s.id) for s in stored if s.clinic_id == a.clinic_id]
    # And every page of every stored screening of the clinic opens.
    for owner_id, screening_id in pages:
        base = f"/clients/{owner_id}/screening"
        for url in (
            f"/clients/{owner_id}",
            f"{base}/{screening_id}",
            f"{base}/history",
            f"{base}/{screening_id}/clearance",
            f"{base}/{screening_id}/override",
            f"{base}/new",
            f"/clients/{owner_id}/visits/new",
        ):
            response = logged_in.get(url)
            assert response.status_code == 200, url
    detail = logged_in.get(f"/clients/{client_id}/screening/{first}").get_data(as_text=True)
    assert f"Questionnaire version {CURRENT}" in detail
    assert "Bruise" in detail or "bruise" in detail

    # A new screening is taken with the new version and reads back with it.
    form = logged_in.get(f"/clients/{client_id}/screening/new").get_data(as_text=True)
    assert (ADDED.prompt in form) is (change == "adds")
    fresh = screen(logged_in, client_id, questionnaire=newer)
    with app.app_context():
        assert db.session.get_one(Screening, fresh).questionnaire_version == NEXT
    assert logged_in.get(f"/clients/{client_id}/screening/{fresh}").status_code == 200
    assert logged_in.get(f"/clients/{client_id}/screening/{first}").status_code == 200


# --- audit entries --------------------------------------------------------------------------


def test_a_failed_screening_post_records_that_the_form_was_shown(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    data = screening_data(dvt_signs={"side": "left", "detail": "Typed calf note"})
    del data["sign"]
    response = logged_in.post(f"/clients/{client_id}/screening/new", data=data)
    assert response.status_code == 200
    assert "Typed calf note" in response.get_data(as_text=True)
    shown = entries(app, client_id=client_id, record_type="screening")
    assert [(e.action, e.summary) for e in shown] == [
        (AuditAction.VIEW, "New screening form (shown again, not saved)")
    ]
    assert shown[0].user_id == clinic_world.a.therapist_id

    # A refusal by the operation (not the form) is recorded the same way.
    data = screening_data(taken_on=date(1900, 1, 1))
    response = logged_in.post(f"/clients/{client_id}/screening/new", data=data)
    assert response.status_code == 200
    assert "before the date of birth" in response.get_data(as_text=True)
    assert len(entries(app, client_id=client_id, action=AuditAction.VIEW)) == 2
    assert entries(app, client_id=client_id, action=AuditAction.SIGN) == []


def test_each_change_records_its_own_entry(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    screening_id = screen(
        logged_in,
        client_id,
        taken_on=YESTERDAY,
        hypertension_uncontrolled=True,
        bruise={"side": "left", "region": "thigh"},
    )
    logged_in.post(f"/clients/{client_id}/screening/confirm")
    logged_in.post(
        f"/clients/{client_id}/screening/{screening_id}/clearance",
        data={"finding_code": "hypertension_uncontrolled", "given_by": "Dr. Ruiz",
              "given_on": TODAY.isoformat()},
    )  # fmt: skip
    logged_in.post(
        f"/clients/{client_id}/screening/{screening_id}/override",
        data={"finding_code": "bruise", "reason": "Faded to yellow, light strokes only"},
    )
    changes = [
        (e.action, e.record_type, e.summary)
        for e in entries(app, client_id=client_id)
        if e.action is not AuditAction.VIEW
    ]
    assert changes == [
        (AuditAction.SIGN, "screening", "Took and signed a screening"),
        (
            AuditAction.CREATE,
            "screening_confirmation",
            "Confirmed no changes since the screening, clot signs asked",
        ),
        (AuditAction.CREATE, "screening", "Recorded a medical clearance"),
        (AuditAction.CREATE, "screening", "Recorded an override for today's visit"),
    ]
    signed = entries(app, client_id=client_id, action=AuditAction.SIGN)[0]
    assert signed.record_id == screening_id


def test_a_refused_clearance_keeps_what_was_typed(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    screening_id = factories.make_screening(
        app, client_id, a.therapist_id, taken_on=YESTERDAY, dvt_signs={"side": "left"}
    )
    url = f"/clients/{client_id}/screening/{screening_id}/clearance"
    response = logged_in.post(
        url,
        data={
            "finding_code": "dvt_signs",
            "given_by": "Dr. Typed Provider",
            "given_on": (YESTERDAY - timedelta(days=1)).isoformat(),
            "note": "Typed provider note",
            "expires_on": (TODAY - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for typed in ("Dr. Typed Provider", "Typed provider note"):
        assert typed in page
    for field, message in (
        ("given_on", "on or after the screening that found this"),
        ("expires_on", "This date has passed"),
    ):
        after = page.split(f'id="{field}-error"', 1)
        assert len(after) == 2, f"no error beside {field}"
        assert message in after[1][:300]
    with app.app_context():
        assert db.session.scalars(select(Clearance)).all() == []
    shown = entries(app, client_id=client_id, record_type="screening", action=AuditAction.VIEW)
    assert [(e.summary, e.record_id) for e in shown] == [
        ("Medical clearance form (shown again, not saved)", screening_id)
    ]
    assert entries(app, client_id=client_id, action=AuditAction.CREATE) == []


# --- overrides the operation refuses (DOMAIN.md 8.1; written reasons) -----------------------


@pytest.mark.parametrize(
    ("code", "reason", "field"),
    [
        ("recent_surgery", "Surgeon said it is fine", "finding_code"),
        ("recent_fracture", "Bone has healed well", "finding_code"),
        ("unexplained_lump", "Lump checked by doctor", "finding_code"),
        ("skin_break", ". . .", "reason"),
        ("skin_break", "x x x", "reason"),
    ],
)
def test_record_override_refuses(app, clinic_world, code, reason, field):
    from flask_login import login_user

    from clinic.audit.trail import Actor
    from clinic.domain.errors import RuleViolations
    from clinic.models import FindingOverride, User
    from clinic.screening import operations as screening_ops

    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    screening_id = factories.make_screening(
        app, client_id, a.therapist_id, **{code: {"side": "left", "region": "thigh"}}
    )
    with app.test_request_context():
        user = db.session.get_one(User, a.therapist_id)
        login_user(user)
        with pytest.raises(RuleViolations) as refused:
            screening_ops.record_override(
                Actor.of(user),
                db.session.get_one(Client, client_id),
                db.session.get_one(Screening, screening_id),
                finding_code=code,
                reason=reason,
                visit_on=TODAY,
            )
        assert refused.value.field == field
        assert db.session.scalars(select(FindingOverride)).first() is None
