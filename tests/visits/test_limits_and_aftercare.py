"""Visits, second round (DOMAIN.md 8.3 and 8.5): holds and pressure through the real form, the
limits in force on the signed note and its PDF, reminders, aftercare and red-flag responses."""

from __future__ import annotations

import html
import re
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from clinic.extensions import db
from clinic.models import AuditEntry
from tests import factories
from tests.visits.test_views import (
    TODAY,
    entry,
    error_beside,
    ready_client,
    visit_data,
    visits_of,
)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def squeezed(text: str) -> str:
    """Text without spaces: the PDF's extracted text splits some words ("T echnique")."""
    return re.sub(r"\s+", "", text)


def page_text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def latest_screening_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(factories.Screening.id)))


# --- 8.3: holds and pressure, refused beside the entry with the range ---------------------------


@pytest.mark.parametrize(
    ("answers", "row", "field", "message"),
    [
        ({}, entry("trigger_point", "calf", hold_seconds="120"), "hold_seconds",
         "30 to 60 seconds a hold, 90 seconds at most"),
        ({}, entry("myofascial_release", "quadriceps", hold_seconds="91"), "hold_seconds",
         "30 to 60 seconds a hold, 90 seconds at most"),
        ({}, entry("passive_stretch", "hamstrings", hold_seconds="90"), "hold_seconds",
         "15 to 30 seconds a hold, 60 seconds at most"),
        ({}, entry("effleurage", "calf", hold_seconds="600"), "hold_seconds", "does not hold"),
        ({}, entry("petrissage", "calf", hold_seconds="30"), "hold_seconds",
         "passive stretch (60 s at most)"),
        ({}, entry("cross_fibre_friction", "mcl", hold_seconds="30"), "hold_seconds",
         "does not hold"),
        ({}, entry("effleurage", "back_of_knee", pressure="1", hold_seconds="20"),
         "hold_seconds", "No held pressure here (back of the knee)"),
        ({}, entry("cross_fibre_friction", "lcl", hold_seconds="20"), "hold_seconds",
         "No held pressure here (outer knee, at the top of the fibula)"),
        ({}, entry("circular_friction", "around_kneecap", hold_seconds="20"), "hold_seconds",
         "No held pressure here (kneecap)"),
        ({}, entry("petrissage", pressure=""), "pressure", "Choose the pressure."),
        ({"skin_break": {"side": "left", "region": "thigh"}}, entry(override_reason=". . ."),
         "override_reason", "at least 3 words"),
        ({"skin_break": {"side": "left", "region": "thigh"}}, entry(override_reason="x x x"),
         "override_reason", "at least 3 words"),
    ],
)  # fmt: skip
def test_holds_pressure_and_reasons_are_refused_with_the_range(
    app, logged_in, clinic_world, answers, row, field, message
):
    client_id = ready_client(app, clinic_world, **answers)
    response = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_data(row))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    error_beside(page, f"entries-0-{field}")
    assert message in page.split(f'id="entries-0-{field}-error"', 1)[1].split("</div>", 1)[0]
    assert visits_of(app, client_id) == []


@pytest.mark.parametrize("technique", ["joint_mobilisation", "heat", "cold"])
def test_techniques_without_pressure_keep_none(app, logged_in, clinic_world, technique):
    client_id = ready_client(app, clinic_world)
    for pressure in ("", "4"):
        data = visit_data(entry(technique, "knee_joint", pressure=pressure, minutes="5"))
        data["creation_token"] = f"token-{technique}-{pressure}"
        response = logged_in.post(f"/clients/{client_id}/visits/new", data=data)
        assert response.status_code == 302
    visits = visits_of(app, client_id)
    assert [v.entries[0].pressure for v in visits] == [None, None]
    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    row = page_text(page.split("<h3>Techniques</h3>", 1)[1].split("</table>", 1)[0])
    for level in ("Light", "Medium", "Firm", "Deep"):
        assert level not in row


def test_the_pressure_box_says_which_techniques_have_none(app, logged_in, clinic_world):
    client_id = ready_client(app, clinic_world)
    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert "None for joint mobilisation, heat or cold." in page
    assert "Trigger-point pressure: 30 to 60 seconds a hold, 90 seconds at most." in page


# --- 8.5: the limits in force on the signed note ------------------------------------------------


def test_the_signed_note_keeps_the_limits_in_force(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(
        app,
        clinic_world,
        anticoagulants=True,
        cancer=True,
        skin_break={"side": "left", "region": "thigh"},
        varicose_veins={"side": "right", "region": "calf"},
    )
    screening_id = latest_screening_id(app)
    logged_in.post(
        f"/clients/{client_id}/screening/{screening_id}/clearance",
        data={"finding_code": "cancer", "given_by": "Dr. Okafor", "given_on": TODAY.isoformat()},
    )
    logged_in.post(
        f"/clients/{client_id}/screening/{screening_id}/override",
        data={"finding_code": "varicose_veins", "reason": "Veins checked, light strokes only"},
    )
    response = logged_in.post(
        f"/clients/{client_id}/visits/new",
        data=visit_data(
            entry(pressure="2", override_reason="Graze healed and dry"),
            entry("effleurage", "calf", side="right", pressure="1", minutes="5"),
            entry("heat", "knee_joint", pressure="", minutes="10"),
            entry("trigger_point", "calf", pressure="2", minutes="5", hold_seconds="45"),
        ),
    )
    assert response.status_code == 302, error_beside(
        response.get_data(as_text=True), "entries-0-override_reason"
    )
    (visit,) = visits_of(app, client_id)
    assert (
        logged_in.post(
            f"/clients/{client_id}/visits/{visit.id}/sign", data={"version": str(visit.version)}
        ).status_code
        == 302
    )
    expected = [
        "Limits in force when signed",
        f"Screening of {TODAY.day} {TODAY:%b %Y}",
        "Blood thinners or easy bleeding: treat with changes; both legs, anywhere; medium at most",
        "Broken or irritated skin: treat, but not the named area; left leg, thigh",
        "Cancer: treat with changes; both legs, anywhere; medium at most (cleared)",
        "Medium at most: both legs (blood thinners or easy bleeding)",
        "Cancer: cleared by Dr. Okafor",
        "Overrides used:",
        "Varicose veins: Veins checked, light strokes only",
        "Technique 1 (Petrissage (kneading) on left quadriceps): Graze healed and dry",
        "Allowed by override (broken or irritated skin): Graze healed and dry",
        "Allowed by the override for that day (varicose veins): Veins checked, light strokes only",
        "Within the limits (no pressure level)",
        "Within the limits (medium at most here)",
    ]
    note_url = f"/clients/{client_id}/visits/{visit.id}"
    page = page_text(logged_in.get(note_url).get_data(as_text=True))
    for words in expected:
        assert words in page, words
    # The screening changes after signing: the signed note stays as it was.
    factories.make_screening(app, client_id, a.therapist_id)
    page = page_text(logged_in.get(note_url).get_data(as_text=True))
    for words in expected:
        assert words in page, words
    text = squeezed(pdf_text(logged_in.get(f"{note_url}/note.pdf").data))
    for words in expected:
        assert squeezed(words) in text, words


def test_a_note_signed_before_the_limits_were_kept_says_so(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id, signed=True)
    page = logged_in.get(f"/clients/{client_id}/visits/{visit_id}").get_data(as_text=True)
    assert "signed before the limits in force were kept" in page
    assert "Limits in force when signed" not in page


# --- 8.5: reminders on the visit form -----------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "shown", "hidden"),
    [
        ({}, ["inner side of the knee", "light-headed or dizzy"], ["look at the skin", "midwife", "umour"]),
        ({"neuropathy": True}, ["look at the skin", "light-headed or dizzy"], ["midwife", "umour"]),
        ({"pregnancy": True}, ["midwife or doctor", "light-headed or dizzy"], ["look at the skin", "umour"]),
        ({"cancer": True}, ["tumour", "light-headed or dizzy"], ["look at the skin", "midwife"]),
    ],
)  # fmt: skip
def test_visit_form_reminders(app, logged_in, clinic_world, answers, shown, hidden):
    client_id = ready_client(app, clinic_world, **answers)
    page = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    reminders = page_text(page.split('class="limits__reminders"', 1)[1].split("</ul>", 1)[0])
    for words in shown:
        assert words in reminders, words
    for words in hidden:
        assert words not in reminders, words


# --- 8.5: aftercare -----------------------------------------------------------------------------

AFTERCARE_WORDS = [
    "sore for a day or two",
    "pain, swelling or redness gets worse",
    "painful, swollen, warm or red",
    "same day",
    "call emergency services",
    "light-headed or dizzy",
]


@pytest.mark.parametrize("signed", [False, True])
def test_aftercare_block_and_slip_after_every_visit(app, logged_in, clinic_world, signed):
    a = clinic_world.a
    client_id = ready_client(app, clinic_world)
    visit_id = factories.make_visit(app, client_id, a.therapist_id, signed=signed)
    base = f"/clients/{client_id}/visits/{visit_id}"
    page = page_text(logged_in.get(base).get_data(as_text=True))
    assert "Aftercare: read this to the client" in page
    for words in AFTERCARE_WORDS:
        assert words in page, words
    assert f"{base}/aftercare.pdf" in logged_in.get(base).get_data(as_text=True)
    response = logged_in.get(f"{base}/aftercare.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "After your massage" in text
    assert "Ada Visitor" in text
    for words in AFTERCARE_WORDS:
        assert words in text, words
    with app.app_context():
        printed = db.session.scalars(
            select(AuditEntry).where(AuditEntry.record_id == visit_id)
        ).all()
    assert any("Aftercare slip" in (e.summary or "") for e in printed)


def test_aftercare_slip_of_another_clinic_is_not_found(app, logged_in, clinic_world):
    b = clinic_world.b
    visit_id = factories.make_visit(app, b.client_id, b.therapist_id)
    assert (
        logged_in.get(f"/clients/{b.client_id}/visits/{visit_id}/aftercare.pdf").status_code == 404
    )


# --- 8.5: an adverse response with a red flag offers a referral ----------------------------------


@pytest.mark.parametrize(
    ("response_code", "advice"),
    [
        ("calf_pain", "can be a clot"),
        ("numb_foot", "nerve there was pressed"),
        ("redness", "keeps increasing needs a doctor's check"),
    ],
)
def test_a_red_flag_offers_a_referral_to_the_clients_doctor(
    app, logged_in, clinic_world, response_code, advice
):
    a = clinic_world.a
    client_id = factories.make_client(
        app, a.clinic_id, a.therapist_id, last_name="Visitor", referring_clinician="Dr. Chen"
    )
    factories.make_screening(app, client_id, a.therapist_id)
    form = logged_in.get(f"/clients/{client_id}/visits/new").get_data(as_text=True)
    assert f'value="{response_code}"' in form
    response = logged_in.post(
        f"/clients/{client_id}/visits/new",
        data=visit_data(entry(), adverse_response=response_code),
    )
    assert response.status_code == 302
    (visit,) = visits_of(app, client_id)
    assert visit.adverse_flag
    page = page_text(logged_in.get(response.headers["Location"]).get_data(as_text=True))
    assert "Write a referral letter" in page
    assert "Refer the client to the client's doctor, Dr. Chen" in page
    assert advice in page
    assert "Follow-up needed" in page
    logged_in.post(
        f"/clients/{client_id}/visits/{visit.id}/sign", data={"version": str(visit.version)}
    )
    text = pdf_text(logged_in.get(f"/clients/{client_id}/visits/{visit.id}/note.pdf").data)
    assert "Refer the client to the client's doctor, Dr. Chen" in text


@pytest.mark.parametrize("response_code", ["none", "more_pain", "bruising", "dizziness"])
def test_other_responses_offer_no_referral(app, logged_in, clinic_world, response_code):
    client_id = ready_client(app, clinic_world)
    response = logged_in.post(
        f"/clients/{client_id}/visits/new", data=visit_data(entry(), adverse_response=response_code)
    )
    assert response.status_code == 302
    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Write a referral letter" not in page
