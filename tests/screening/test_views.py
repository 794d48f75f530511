"""Taking, confirming, clearing and overriding screenings, and where their results show."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from clinic.domain.screening import (
    KNEE_SURGERY_CALF,
    QUESTIONNAIRE_VERSION,
    QUESTIONS,
    QUESTIONS_BY_CODE,
    Tier,
    evaluate_screening,
    load_answers,
    load_result,
)
from clinic.extensions import db
from clinic.models import (
    Clearance,
    Client,
    Clinic,
    FindingOverride,
    ImmutableRecordError,
    Screening,
    ScreeningConfirmation,
)
from tests import factories

TODAY = date.today()


def form_data(**yes: dict[str, str] | bool) -> dict[str, Any]:
    """Return what the screening form posts: no to everything but the questions named."""
    data: dict[str, Any] = {"taken_on": TODAY.isoformat(), "sign": "y"}
    for question in QUESTIONS:
        if question.code.startswith("ottawa_"):
            continue
        data[f"{question.code}-answer"] = "no"
    for code, details in yes.items():
        data[f"{code}-answer"] = "yes"
        if isinstance(details, dict):
            for part, value in details.items():
                data[f"{code}-{part}"] = value
    return data


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def new_client(app, world, **overrides) -> int:
    a = world.a
    return factories.make_client(
        app, a.clinic_id, a.therapist_id, last_name="Screened", **overrides
    )


# --- taking a screening -----------------------------------------------------------------------


def test_take_a_clear_screening(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Not screened." in page
    form = logged_in.get(f"/clients/{client_id}/screening/new").get_data(as_text=True)
    assert "Is one calf or thigh painful" in form
    response = logged_in.post(f"/clients/{client_id}/screening/new", data=form_data())
    assert response.status_code == 302
    with app.app_context():
        screening = db.session.scalars(
            select(Screening).where(Screening.client_id == client_id)
        ).one()
        assert screening.tier is Tier.CLEAR
        assert screening.signed_by_id == clinic_world.a.therapist_id
        assert screening.taken_on == TODAY
        assert screening.questionnaire_version == QUESTIONNAIRE_VERSION
        client = db.session.get_one(Client, client_id)
        assert client.screening_tier is Tier.CLEAR
        assert client.version == 1, "a screening must not bump the intake's version"
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Clear." in page
    assert "Screening current until" in page


def test_stored_result_equals_a_recomputation_from_the_stored_answers(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world, date_of_birth=date(1950, 1, 1))
    data = form_data(
        recent_knee_injury={"side": "left", "date": TODAY.isoformat()},
        ottawa_cannot_bend_90=True,
        varicose_veins={"side": "right", "region": "calf", "detail": "Bulging veins"},
        previous_dvt={"side": "left"},
    )
    data.update({f"{code}-answer": "no" for code in (
        "ottawa_kneecap_tender", "ottawa_fibular_head_tender", "ottawa_cannot_take_4_steps",
    )})  # fmt: skip
    assert logged_in.post(f"/clients/{client_id}/screening/new", data=data).status_code == 302
    with app.app_context():
        screening = db.session.scalars(
            select(Screening).where(Screening.client_id == client_id)
        ).one()
        answers = load_answers(screening.answers, screening.questionnaire_version)
        recomputed = evaluate_screening(answers, age=screening.client_age)
        assert load_result(screening.result) == recomputed
        assert screening.tier is Tier.REFER
        codes = {f.code for f in recomputed.findings}
        assert {
            "acute_injury_ottawa",
            "recent_knee_injury",
            "varicose_veins",
            "previous_dvt",
        } <= codes


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"dvt_signs-answer": None}, "dvt_signs-answer", "Answer yes or no."),
        ({"dvt_signs-answer": "maybe"}, "dvt_signs-answer", "Not a valid choice"),
        ({"dvt_signs-answer": "yes"}, "dvt_signs-side", "Choose which leg."),
        (
            {"skin_break-answer": "yes", "skin_break-side": "left"},
            "skin_break-region",
            "Choose which area.",
        ),
        (
            {"recent_knee_injury-answer": "yes", "recent_knee_injury-side": "left"},
            "ottawa_cannot_bend_90-answer",
            "answer this too",
        ),
        ({"sign": None}, "sign", "Tick this box to sign"),
        (
            {"taken_on": (TODAY + timedelta(days=2)).isoformat()},
            "taken_on",
            "cannot be in the future",
        ),
        ({"taken_on": "1900-01-01"}, "taken_on", "before the date of birth"),
        ({"cancer-detail": "x" * 1001}, "cancer-detail", "1000"),
    ],
)
def test_invalid_screening_is_refused_beside_the_field(
    app, logged_in, clinic_world, change, field, message
):
    client_id = new_client(app, clinic_world)
    data = form_data(fever_infection={"detail": "Typed note kept"})
    for key, value in change.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    response = logged_in.post(f"/clients/{client_id}/screening/new", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    after = page.split(f'id="{field}-error"', 1)
    assert len(after) == 2, f"no error beside {field}"
    assert message in after[1][:300]
    assert "Typed note kept" in page
    assert count(app, Screening) == 2  # the two of the test world, nothing new


def test_a_leg_chosen_under_a_no_is_dropped(app, logged_in, clinic_world):
    """A therapist who picks a leg and then answers no has changed their mind."""
    client_id = new_client(app, clinic_world)
    data = form_data()
    data["acute_flare-side"] = "left"
    assert logged_in.post(f"/clients/{client_id}/screening/new", data=data).status_code == 302
    with app.app_context():
        screening = db.session.scalars(
            select(Screening).where(Screening.client_id == client_id)
        ).one()
        assert "side" not in screening.answers["acute_flare"]
        assert screening.tier is Tier.CLEAR


def test_ottawa_questions_can_be_left_empty_without_an_injury(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    response = logged_in.post(f"/clients/{client_id}/screening/new", data=form_data())
    assert response.status_code == 302


# --- banners and the list -----------------------------------------------------------------------


def test_refer_avoid_and_modify_banners(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    factories.make_screening(
        app,
        client_id,
        clinic_world.a.therapist_id,
        dvt_signs={"side": "left"},
        skin_break={"side": "left", "region": "lower_leg"},
        anticoagulants=True,
    )
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Do not treat: refer." in page
    assert "Same day; with breathlessness or chest pain: call emergency services" in page
    assert "Avoid:</strong>\n    left lower leg, broken or irritated skin" in page
    assert "Modify:</strong>\n    medium pressure at most, blood thinners or easy bleeding" in page
    # The banner is on every page about the client.
    for url in (f"/clients/{client_id}/edit", f"/clients/{client_id}/screening/history"):
        assert "Do not treat: refer." in logged_in.get(url).get_data(as_text=True)


def test_list_shows_the_tier_and_filters_by_it(app, logged_in, clinic_world):
    a = clinic_world.a
    clear_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Clearwater")
    factories.make_screening(app, clear_id, a.therapist_id)
    factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Unscreened")
    modify_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Thinblood")
    factories.make_screening(app, modify_id, a.therapist_id, anticoagulants=True)

    page = logged_in.get("/clients/").get_data(as_text=True)
    assert "Do not treat: refer" in page  # SecretAlpha's screening has clot signs
    expectations = {
        "refer": ({"ClientAlpha"}, {"Clearwater", "Unscreened", "Thinblood"}),
        "modify": ({"Thinblood"}, {"ClientAlpha", "Clearwater", "Unscreened"}),
        "clear": ({"Clearwater"}, {"ClientAlpha", "Unscreened", "Thinblood"}),
        "none": ({"Unscreened"}, {"ClientAlpha", "Clearwater", "Thinblood"}),
        "avoid_local": (set(), {"ClientAlpha", "Clearwater", "Unscreened", "Thinblood"}),
        "nonsense": ({"ClientAlpha", "Clearwater", "Unscreened", "Thinblood"}, set()),
    }
    for wanted, (shown, hidden) in expectations.items():
        body = logged_in.get(f"/clients/?screening={wanted}").get_data(as_text=True)
        for name in shown:
            assert f"{name}," in body, (wanted, name)
        for name in hidden:
            assert f"{name}," not in body, (wanted, name)


def test_out_of_date_screening(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    factories.make_screening(
        app, client_id, clinic_world.a.therapist_id, taken_on=TODAY - timedelta(days=31)
    )
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Screening out of date." in page
    assert "No changes: clot signs asked today" not in page
    listing = logged_in.get("/clients/?screening=out_of_date").get_data(as_text=True)
    assert "Screened," in listing
    # The clinic's own setting decides how long a screening lasts.
    with app.app_context():
        db.session.get_one(Clinic, clinic_world.a.clinic_id).screening_valid_days = 45
        db.session.commit()
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Screening out of date." not in page
    assert "have not been asked about today" in page


# --- confirming "no changes" ---------------------------------------------------------------------


def test_confirm_no_changes_at_a_later_visit(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    factories.make_screening(
        app, client_id, clinic_world.a.therapist_id, taken_on=TODAY - timedelta(days=5)
    )
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "have not been asked about today" in page
    response = logged_in.post(f"/clients/{client_id}/screening/confirm")
    assert response.status_code == 302
    with app.app_context():
        confirmation = db.session.scalars(select(ScreeningConfirmation)).one()
        assert confirmation.confirmed_on == TODAY
        assert confirmation.confirmed_by_id == clinic_world.a.therapist_id
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "clot signs asked today." in page
    history = logged_in.get(f"/clients/{client_id}/screening/history").get_data(as_text=True)
    assert "No changes; clot signs asked" in history


@pytest.mark.parametrize("days_old", [None, 31])
def test_confirm_is_refused_without_a_current_screening(app, logged_in, clinic_world, days_old):
    client_id = new_client(app, clinic_world)
    if days_old is not None:
        factories.make_screening(
            app, client_id, clinic_world.a.therapist_id, taken_on=TODAY - timedelta(days=days_old)
        )
    response = logged_in.post(f"/clients/{client_id}/screening/confirm", follow_redirects=True)
    assert response.status_code == 200
    assert "Take a" in response.get_data(as_text=True)
    assert count(app, ScreeningConfirmation) == 0


# --- clearances and overrides ----------------------------------------------------------------------


def test_clearance_turns_a_refer_finding_into_a_cleared_one(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    screening_id = factories.make_screening(
        app, client_id, a.therapist_id, dvt_signs={"side": "left"}
    )
    url = f"/clients/{client_id}/screening/{screening_id}/clearance"
    form = logged_in.get(f"{url}?finding=dvt_signs").get_data(as_text=True)
    assert "Calf or thigh signs that need a same-day check" in form
    response = logged_in.post(
        url,
        data={
            "finding_code": "dvt_signs",
            "given_by": "Dr. Amara Chen, GP",
            "given_on": TODAY.isoformat(),
            "note": "Scan clear.",
            "expires_on": "",
        },
    )
    assert response.status_code == 302
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Do not treat: refer." not in page
    assert "Cleared:" in page
    assert "Dr. Amara Chen, GP" in page
    with app.app_context():
        assert db.session.get_one(Client, client_id).screening_tier is Tier.CLEAR
        clearance = db.session.scalars(select(Clearance)).one()
        assert clearance.recorded_by_id == a.therapist_id
    detail = logged_in.get(f"/clients/{client_id}/screening/{screening_id}").get_data(as_text=True)
    assert "Calf or thigh signs" in detail, "a cleared finding never disappears"
    # Once cleared, it cannot be cleared twice.
    again = logged_in.post(
        url, data={"finding_code": "dvt_signs", "given_by": "X", "given_on": TODAY.isoformat()}
    )
    assert again.status_code == 200
    assert count(app, Clearance) == 1


def test_an_expired_clearance_brings_the_refer_back(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    screening_id = factories.make_screening(
        app,
        client_id,
        a.therapist_id,
        taken_on=TODAY - timedelta(days=10),
        hypertension_uncontrolled=True,
    )
    with app.app_context():
        db.session.add(
            Clearance(
                clinic_id=a.clinic_id, client_id=client_id, screening_id=screening_id,
                finding_code="hypertension_uncontrolled", given_by="Dr. Ruiz",
                given_on=TODAY - timedelta(days=9), expires_on=TODAY - timedelta(days=1),
                recorded_by_id=a.therapist_id,
            )
        )  # fmt: skip
        client = db.session.get_one(Client, client_id)
        client.screening_tier, client.screening_recheck_on = Tier.CLEAR, TODAY
        db.session.commit()
    assert "Do not treat: refer." in logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    listing = logged_in.get("/clients/?screening=refer").get_data(as_text=True)
    assert "Screened," in listing
    with app.app_context():
        assert db.session.get_one(Client, client_id).screening_tier is Tier.REFER


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"given_by": ""}, "given_by", "Say who gave the clearance."),
        (
            {"given_on": (TODAY + timedelta(days=1)).isoformat()},
            "given_on",
            "cannot be in the future",
        ),
        ({"given_on": "2000-01-01"}, "given_on", "on or after the screening"),
        (
            {
                "expires_on": (TODAY - timedelta(days=3)).isoformat(),
                "given_on": (TODAY - timedelta(days=1)).isoformat(),
            },
            "expires_on",
            "after the date given",
        ),
        ({"finding_code": "skin_break"}, "finding_code", "Not a valid choice"),
        ({"finding_code": "anticoagulants"}, "finding_code", "Not a valid choice"),
    ],
)
def test_invalid_clearance_is_refused(app, logged_in, clinic_world, data, field, message):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    screening_id = factories.make_screening(
        app,
        client_id,
        a.therapist_id,
        dvt_signs={"side": "left"},
        skin_break={"side": "left", "region": "calf"},
        anticoagulants=True,
    )
    payload = {
        "finding_code": "dvt_signs",
        "given_by": "Dr. Typed Name",
        "given_on": TODAY.isoformat(),
        "note": "kept note",
    }
    payload.update(data)
    response = logged_in.post(
        f"/clients/{client_id}/screening/{screening_id}/clearance", data=payload
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    after = page.split(f'id="{field}-error"', 1)
    assert len(after) == 2, f"no error beside {field}"
    assert message in after[1][:300]
    assert "kept note" in page
    assert count(app, Clearance) == 0


def test_override_of_an_avoided_area_for_today(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    screening_id = factories.make_screening(
        app, client_id, a.therapist_id, skin_break={"side": "left", "region": "shin"}
    )
    url = f"/clients/{client_id}/screening/{screening_id}/override"
    short = logged_in.post(url, data={"finding_code": "skin_break", "reason": "fine"})
    assert short.status_code == 200
    assert "at least 3 words of letters" in short.get_data(as_text=True)
    assert count(app, FindingOverride) == 0
    done = logged_in.post(
        url, data={"finding_code": "skin_break", "reason": "Scab healed, light strokes only"}
    )
    assert done.status_code == 302
    with app.app_context():
        override = db.session.scalars(select(FindingOverride)).one()
        assert override.visit_on == TODAY
        assert override.recorded_by_id == a.therapist_id
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "overridden for today" in page
    assert "Scab healed, light strokes only" in page


def test_refer_and_modify_findings_cannot_be_overridden(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    screening_id = factories.make_screening(
        app, client_id, a.therapist_id, dvt_signs={"side": "left"}, anticoagulants=True
    )
    for code in ("dvt_signs", "anticoagulants"):
        response = logged_in.post(
            f"/clients/{client_id}/screening/{screening_id}/override",
            data={"finding_code": code, "reason": "I think it is fine today"},
        )
        assert response.status_code == 200
    assert count(app, FindingOverride) == 0


# --- records never change ------------------------------------------------------------------------


def test_screening_records_cannot_be_changed_or_deleted(app, clinic_world):
    with app.app_context():
        screening = db.session.get_one(Screening, clinic_world.a.screening_id)
        screening.taken_on = TODAY - timedelta(days=1)
        with pytest.raises(ImmutableRecordError):
            db.session.flush()
        db.session.rollback()
        screening = db.session.get_one(Screening, clinic_world.a.screening_id)
        db.session.delete(screening)
        with pytest.raises(ImmutableRecordError):
            db.session.flush()
        db.session.rollback()


def test_no_route_edits_or_deletes_a_screening(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("screening."):
            assert not {"PUT", "PATCH", "DELETE"} & set(rule.methods or ())
            assert "edit" not in rule.rule and "delete" not in rule.rule


def test_screening_detail_shows_the_answers_as_signed(app, logged_in, clinic_world):
    a = clinic_world.a
    page = logged_in.get(f"/clients/{a.client_id}/screening/{a.screening_id}").get_data(
        as_text=True
    )
    assert "SecretAlpha calf" in page
    assert "Signed by Tess Therapist Alpha" in page
    assert "Kneecap" in page or "kneecap" in page


def test_screening_pages_need_sign_in(client, clinic_world):
    a = clinic_world.a
    for url in (
        f"/clients/{a.client_id}/screening/new",
        f"/clients/{a.client_id}/screening/{a.screening_id}",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


# --- Questionnaire version 2 (DOMAIN.md 8.2 and 8.6) -------------------------------------------

NEW_ITEMS = {
    "baker_cyst": {"side": "left"},
    "knee_injection": {"side": "right", "date": TODAY.isoformat()},
    "circulation": {"side": "right"},
    "lymphoedema": {"side": "left"},
    "recent_surgery": {"side": "left", "region": "knee", "date": TODAY.isoformat()},
    "surgery_cleared": True,
    "cold_pale_foot": {"side": "left", "detail": "Typed cold foot note"},
}


def test_the_form_shows_the_new_questions_and_saves_them(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    form = logged_in.get(f"/clients/{client_id}/screening/new").get_data(as_text=True)
    for code in (*NEW_ITEMS, "baker_cyst_burst_signs", "lymphoedema_new", "tumour_site"):
        assert escape(QUESTIONS_BY_CODE[code].prompt) in form, code
        assert f'name="{code}-answer"' in form
    response = logged_in.post(f"/clients/{client_id}/screening/new", data=form_data(**NEW_ITEMS))
    assert response.status_code == 302
    with app.app_context():
        screening = db.session.scalars(
            select(Screening).where(Screening.client_id == client_id)
        ).one()
        assert screening.questionnaire_version == QUESTIONNAIRE_VERSION == 2
        answers = load_answers(screening.answers, 2)
        assert answers["knee_injection"].date == TODAY
        assert answers["cold_pale_foot"].detail == "Typed cold foot note"
        assert answers["surgery_cleared"].yes
        result = load_result(screening.result)
        codes = {f.code for f in result.findings}
        assert codes == {
            "cold_pale_foot",
            "baker_cyst",
            "knee_injection",
            "circulation",
            "lymphoedema",
            "recent_surgery",
            KNEE_SURGERY_CALF,
        }
        assert screening.tier is Tier.REFER
    detail = logged_in.get(f"/clients/{client_id}/screening/{screening.id}")
    page = detail.get_data(as_text=True)
    assert "Baker&#39;s cyst" in page or "Baker's cyst" in page
    assert "Poor blood flow to the legs" in page


def test_a_new_question_needs_its_leg(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world)
    before = count(app, Screening)
    response = logged_in.post(
        f"/clients/{client_id}/screening/new", data=form_data(circulation=True)
    )
    assert response.status_code == 200
    assert "Choose which leg." in response.get_data(as_text=True)
    assert count(app, Screening) == before


@pytest.mark.parametrize("code", ["recent_surgery", "recent_fracture", "unexplained_lump"])
def test_an_override_is_refused_where_only_a_clearance_lifts(app, logged_in, clinic_world, code):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    screening_id = factories.make_screening(
        app, client_id, a.therapist_id, **{code: {"side": "left", "region": "thigh"}}
    )
    url = f"/clients/{client_id}/screening/{screening_id}/override"
    page = logged_in.get(url).get_data(as_text=True)
    assert f'value="{code}"' not in page
    refused = logged_in.post(url, data={"finding_code": code, "reason": "Surgeon said it is fine"})
    assert refused.status_code == 200
    assert count(app, FindingOverride) == 0


@pytest.mark.parametrize("reason", [". . .", "x x x", "ok 1 2"])
def test_an_override_reason_needs_three_words_of_letters(app, logged_in, clinic_world, reason):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    screening_id = factories.make_screening(
        app, client_id, a.therapist_id, skin_break={"side": "left", "region": "shin"}
    )
    url = f"/clients/{client_id}/screening/{screening_id}/override"
    refused = logged_in.post(url, data={"finding_code": "skin_break", "reason": reason})
    assert "at least 3 words of letters" in refused.get_data(as_text=True)
    assert count(app, FindingOverride) == 0


def test_a_cleared_clot_shows_its_light_calf_on_the_client_page(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = new_client(app, clinic_world)
    screening_id = factories.make_screening(
        app, client_id, a.therapist_id, dvt_current={"side": "left"}
    )
    cleared = logged_in.post(
        f"/clients/{client_id}/screening/{screening_id}/clearance",
        data={"finding_code": "dvt_current", "given_by": "Dr. Lee", "given_on": TODAY.isoformat()},
    )
    assert cleared.status_code == 302
    page = logged_in.get(f"/clients/{client_id}").get_data(as_text=True)
    assert (
        "light pressure at most on the left calf, deep vein clot, cleared: calf kept light" in page
    )
    with app.app_context():
        assert db.session.get_one(Client, client_id).screening_tier is Tier.MODIFY


def checked_inputs(page: str, name: str = "") -> list[str]:
    """The checked inputs of a page (of one name, if given), as their tags."""
    tags = [tag for tag in re.findall(r"<input\b[^>]*>", page) if re.search(r"\schecked\b", tag)]
    return [tag for tag in tags if f'name="{name}"' in tag] if name else tags


@pytest.mark.parametrize(
    ("allergic", "allergies", "answer"),
    [(True, "Almond oil: hives", "yes"), (False, "", "no")],
)
def test_the_allergy_question_is_answered_from_the_intake(
    app, logged_in, clinic_world, allergic, allergies, answer
):
    client_id = new_client(
        app, clinic_world, allergic_to_oils_or_nuts=allergic, allergies=allergies
    )
    page = logged_in.get(f"/clients/{client_id}/screening/new").get_data(as_text=True)
    chosen = checked_inputs(page, "product_allergy-answer")
    assert len(chosen) == 1 and f'value="{answer}"' in chosen[0]
    assert "Answered from the intake" in page
    if allergies:
        assert "Almond oil: hives</textarea>" in page
    # Only that question: every other one is still asked.
    assert len(checked_inputs(page)) == 1


def test_a_refused_screening_keeps_the_answer_typed_over_the_intakes(app, logged_in, clinic_world):
    client_id = new_client(app, clinic_world, allergic_to_oils_or_nuts=True)
    # The client says the allergy is gone; the form is sent without its signature.
    data = {**form_data(), "sign": ""}
    refused = logged_in.post(f"/clients/{client_id}/screening/new", data=data)
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    chosen = checked_inputs(page, "product_allergy-answer")
    assert len(chosen) == 1 and 'value="no"' in chosen[0]
    assert "Answered from the intake" not in page
