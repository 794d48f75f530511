"""Issued handouts: the PDF's content and layout, nothing fetched, the same bytes every time."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from clinic.domain.homecare import EMERGENCY_NOTE, ITEMS_BY_CODE, SAME_DAY_NOTE, STOP_NOTE
from clinic.extensions import db
from clinic.homecare import operations as ops
from clinic.models import (
    AuditAction,
    Client,
    Clinic,
    HomeCarePlan,
    ImmutableRecordError,
    IssuedHandout,
)
from tests import factories
from tests.audit import entries, new_entries
from tests.auth import count_rows, flashes, location, page
from tests.homecare import builder_data, pdf_text, ready_client
from tests.homecare.test_logo import png_bytes
from tests.test_pdf import TrapServer, assert_trap_was_live


def squash(text: str) -> str:
    """Remove all whitespace, so line and page breaks cannot split a phrase."""
    return "".join(text.split())


def make_ready_plan(app, world, *codes: str, note: str = "", **answers) -> tuple[int, int]:
    """A client screened today with a plan of the built-in items given; return both ids."""
    client_id = ready_client(app, world, **answers)
    keys = tuple(f"b_{code}" for code in codes)
    plan_id = factories.make_plan(app, client_id, world.a.therapist_id, keys, note=note)
    return client_id, plan_id


def issue(client, client_id: int, plan_id: int):
    return client.post(f"/clients/{client_id}/homecare/{plan_id}/issue")


def handouts_of(app, plan_id: int) -> list[IssuedHandout]:
    with app.app_context():
        rows = db.session.scalars(
            select(IssuedHandout).where(IssuedHandout.plan_id == plan_id)
        ).all()
        for row in rows:
            _ = row.pdf
            db.session.expunge(row)
        return list(rows)


def page_sizes(pdf: bytes) -> set[tuple[int, int]]:
    reader = PdfReader(BytesIO(pdf))
    return {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}


def image_count(pdf: bytes) -> int:
    """Count the images drawn on the first page (where the logo goes)."""
    return len(PdfReader(BytesIO(pdf)).pages[0].images)


def test_issuing_keeps_the_pdf_and_downloads_return_the_same_bytes(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id, plan_id = make_ready_plan(app, clinic_world, "hamstring_stretch", "cold_pack")
    response = issue(logged_in, client_id, plan_id)
    assert location(response) == f"/clients/{client_id}/homecare/{plan_id}"
    (handout,) = handouts_of(app, plan_id)
    assert handout.client_id == client_id
    assert handout.issued_by_id == a.therapist_id
    assert handout.page_size == "A4"
    assert handout.sha256 == hashlib.sha256(handout.pdf).hexdigest()
    assert handout.byte_size == len(handout.pdf)
    assert handout.pdf.startswith(b"%PDF-")

    url = f"/clients/{client_id}/homecare/handouts/{handout.id}.pdf"
    first = logged_in.get(url)
    second = logged_in.get(url)
    assert first.status_code == second.status_code == 200
    assert first.mimetype == "application/pdf"
    assert first.data == second.data == handout.pdf
    assert hashlib.sha256(first.data).hexdigest() == handout.sha256
    assert first.headers["ETag"] == f'"{handout.sha256}"'
    assert first.headers["Cache-Control"] == "no-store"

    html = page(logged_in.get(f"/clients/{client_id}/homecare/{plan_id}"))
    assert "The handout was issued" in " ".join(flashes(html))
    assert handout.sha256[:16] in html
    assert url in html


def test_issuing_again_makes_a_second_record(app, logged_in, clinic_world):
    client_id, plan_id = make_ready_plan(app, clinic_world, "cold_pack")
    issue(logged_in, client_id, plan_id)
    issue(logged_in, client_id, plan_id)
    first, second = handouts_of(app, plan_id)
    assert first.id != second.id
    assert first.pdf.startswith(b"%PDF-")


def test_the_pdf_says_who_what_how_much_and_when_to_get_help(app, logged_in, clinic_world):
    client_id, plan_id = make_ready_plan(
        app,
        clinic_world,
        "self_massage",
        "straight_leg_raise",
        "cold_pack",
        note="Walk ten minutes a day too.",
        anticoagulants=True,
    )
    issue(logged_in, client_id, plan_id)
    (handout,) = handouts_of(app, plan_id)
    text = pdf_text(handout.pdf)
    flat = squash(text)
    with app.app_context():
        plan = db.session.get_one(HomeCarePlan, plan_id)
        doses = [item.dose_text for item in plan.items]
        notes = list(plan.safety_notes)
    expected = [
        "Ada Planner",
        "Clinic Alpha",
        "1 River Rd",
        "555 0100",
        "Tess Therapist Alpha",
        "Walk ten minutes a day too.",
        "Your two-week record",
        "Pain 0-10",
        "Keep the pressure gentle: do not dig in.",
        *(
            ITEMS_BY_CODE[code].title
            for code in ("self_massage", "straight_leg_raise", "cold_pack")
        ),
        *ITEMS_BY_CODE["straight_leg_raise"].steps,
        *doses,
        *notes,
        STOP_NOTE,
        SAME_DAY_NOTE,
        EMERGENCY_NOTE,
    ]
    for phrase in expected:
        assert squash(phrase) in flat, phrase
    assert "Twice a week." in text
    assert "Hold 5 seconds. Do 2 sets of 10 on each leg. Once a day." in text
    assert "Page 1 of" in text
    assert "PREVIEW" not in text
    # Fourteen rows, one per day, starting today.
    assert f"{date.today():%a} {date.today().day} {date.today():%b}" in text
    metadata = PdfReader(BytesIO(handout.pdf)).metadata
    assert metadata is not None
    assert metadata.title == "Home-care plan for Ada Planner"
    assert metadata.author == "Tess Therapist Alpha"
    assert "Ada Planner" in text


def test_the_preview_is_marked_and_not_recorded(app, logged_in, clinic_world):
    a = clinic_world.a
    response = logged_in.get(f"/clients/{a.client_id}/homecare/{a.plan_id}/preview.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "PREVIEW, NOT ISSUED" in pdf_text(response.data)
    assert len(handouts_of(app, a.plan_id)) == 1  # only the world's own


@pytest.mark.parametrize(("paper", "size"), [("A4", (595, 842)), ("Letter", (612, 792))])
def test_the_paper_follows_the_clinic_setting(app, owner, clinic_world, paper, size):
    settings = {
        "name": "Clinic Alpha",
        "address": "1 River Rd",
        "phone": "555 0100",
        "screening_valid_days": "30",
        "retention_years": "10",
        "paper_size": paper,
        "version": "1",
    }
    assert owner.post("/admin/clinic", data=settings).status_code == 302
    client_id, plan_id = make_ready_plan(app, clinic_world, "cold_pack")
    issue(owner, client_id, plan_id)
    (handout,) = handouts_of(app, plan_id)
    assert handout.page_size == paper
    assert page_sizes(handout.pdf) == {size}


def test_the_logo_is_printed_when_the_clinic_has_one(app, owner, clinic_world):
    client_id, plan_id = make_ready_plan(app, clinic_world, "cold_pack")
    issue(owner, client_id, plan_id)
    (without,) = handouts_of(app, plan_id)
    assert image_count(without.pdf) == 0
    upload = {"logo": (BytesIO(png_bytes(300, 100)), "logo.png")}
    assert owner.post("/admin/clinic/logo", data=upload).status_code == 302
    issue(owner, client_id, plan_id)
    _, with_logo = handouts_of(app, plan_id)
    assert image_count(with_logo.pdf) == 1


def test_typed_urls_are_printed_as_text_and_never_fetched(
    app, logged_in, clinic_world, trap_server: TrapServer, caplog
):
    a = clinic_world.a
    typed = [
        '<img src="file:///etc/passwd">',
        f'<img src="{trap_server.url}typed.png">',
        f"<style>@import url({trap_server.url}typed.css);</style>",
        f"file:///etc/hostname and {trap_server.url}plain",
    ]
    with app.app_context():
        clinic = db.session.get_one(Clinic, a.clinic_id)
        clinic.address = typed[0]
        clinic.name = f"Alpha {typed[3]}"
        db.session.commit()
    client_id = ready_client(app, clinic_world, client_fields={"first_name": typed[1]})
    data = builder_data(
        "cold_pack", note=typed[2], **{"b_cold_pack-note": f'<link href="{trap_server.url}x.css">'}
    )
    response = logged_in.post(f"/clients/{client_id}/homecare/new", data=data)
    plan_id = int(location(response).rsplit("/", 1)[1])
    caplog.set_level(logging.WARNING, logger="clinic.pdf")
    issue(logged_in, client_id, plan_id)
    preview = logged_in.get(f"/clients/{client_id}/homecare/{plan_id}/preview.pdf").data
    (handout,) = handouts_of(app, plan_id)
    for pdf in (handout.pdf, preview):
        flat = squash(pdf_text(pdf))
        for value in typed:
            assert squash(value) in flat, value
        assert squash(f'<link href="{trap_server.url}x.css">') in flat
        assert image_count(pdf) == 0
    assert trap_server.hits == []
    # Escaped text is not markup, so the renderer never even asked for a URL.
    assert not [r for r in caplog.records if r.name == "clinic.pdf"]
    assert_trap_was_live(trap_server)


def test_a_new_screening_means_a_new_plan(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id, plan_id = make_ready_plan(app, clinic_world, "cold_pack")
    factories.make_screening(app, client_id, a.therapist_id, neuropathy=True)
    response = issue(logged_in, client_id, plan_id)
    assert response.status_code == 409
    html = page(response)
    assert "screened again after this plan was made" in html
    assert "Build a new plan" in html
    assert handouts_of(app, plan_id) == []
    # Handouts already issued stay downloadable.
    world_handout = f"/clients/{a.client_id}/homecare/handouts/{a.handout_id}.pdf"
    assert logged_in.get(world_handout).status_code == 200


def test_a_warning_sign_at_a_new_screening_stops_issuing(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id, plan_id = make_ready_plan(app, clinic_world, "cold_pack")
    factories.make_screening(app, client_id, a.therapist_id, dvt_signs={"side": "left"})
    assert issue(logged_in, client_id, plan_id).status_code == 409
    assert handouts_of(app, plan_id) == []


def test_handouts_are_never_changed_and_are_checked_on_download(app, clinic_world):
    a = clinic_world.a
    with app.test_request_context():
        handout = db.session.get_one(IssuedHandout, a.handout_id)
        assert ops.handout_pdf(handout).startswith(b"%PDF")
        handout.pdf = b"%PDF-1.7 tampered"
        with pytest.raises(ImmutableRecordError):
            db.session.flush()
        db.session.rollback()
        handout = db.session.get_one(IssuedHandout, a.handout_id)
        # Bytes changed behind the app's back are never handed out as the issued handout.
        db.session.expunge(handout)
        handout.pdf = b"%PDF-1.7 tampered"
        with pytest.raises(RuntimeError, match="SHA-256"):
            ops.handout_pdf(handout)


def test_a_plan_can_be_issued_on_postgresql_and_sqlite_alike(app, logged_in, clinic_world):
    # The PDF goes through LargeBinary (BYTEA / BLOB) and back unchanged.
    client_id, plan_id = make_ready_plan(app, clinic_world, "calf_stretch")
    issue(logged_in, client_id, plan_id)
    (handout,) = handouts_of(app, plan_id)
    assert hashlib.sha256(handout.pdf).hexdigest() == handout.sha256
    assert count_rows(app, IssuedHandout, IssuedHandout.client_id == client_id) == 1


def test_a_small_pain_chart_is_printed_once_there_are_two_scores(app, logged_in, clinic_world):
    a = clinic_world.a
    client_id, plan_id = make_ready_plan(app, clinic_world, "cold_pack")
    issue(logged_in, client_id, plan_id)
    factories.make_visit(
        app, client_id, a.therapist_id, visit_on=date.today() - timedelta(days=14),
        pain_before_left=7,
    )  # fmt: skip
    issue(logged_in, client_id, plan_id)
    factories.make_visit(app, client_id, a.therapist_id, pain_before_left=4)
    issue(logged_in, client_id, plan_id)
    none_yet, one_score, two_scores = (pdf_text(h.pdf) for h in handouts_of(app, plan_id))
    assert "Your knee pain so far" not in none_yet
    assert "Your knee pain so far" not in one_score
    assert "Your knee pain so far" in two_scores
    assert "Left knee" in two_scores
    assert "Pain (0-10)" in two_scores
    first_visit = date.today() - timedelta(days=14)
    assert (
        f"Left knee: 7 at your first visit ({first_visit.day} {first_visit:%b %Y}), 4 at your"
        f" latest ({date.today().day} {date.today():%b %Y})."
    ) in two_scores


def test_a_handout_whose_records_changed_while_it_rendered_is_not_kept(
    app, logged_in, clinic_world, monkeypatch
):
    """The view renders between two transactions; a change in between is caught, not printed."""
    client_id, plan_id = make_ready_plan(app, clinic_world, "cold_pack")
    real_render = ops.HandoutDocument.render

    def render_while_someone_renames_the_client(document: ops.HandoutDocument) -> bytes:
        pdf = real_render(document)
        # Another therapist's save lands while this one's PDF is being drawn.
        client = db.session.get_one(Client, client_id)
        client.first_name = "Renamed"
        db.session.commit()
        return pdf

    monkeypatch.setattr(ops.HandoutDocument, "render", render_while_someone_renames_the_client)
    before = entries(app)
    response = issue(logged_in, client_id, plan_id)
    assert response.status_code == 409
    assert "changed while the handout was being printed" in " ".join(flashes(page(response)))
    assert handouts_of(app, plan_id) == []
    # The plan was shown again (on file); no handout entry was written.
    assert [(e.action, e.record_id) for e in new_entries(app, before)] == [
        (AuditAction.VIEW, plan_id)
    ]
    monkeypatch.setattr(ops.HandoutDocument, "render", real_render)
    assert (
        location(issue(logged_in, client_id, plan_id)) == f"/clients/{client_id}/homecare/{plan_id}"
    )
    (handout,) = handouts_of(app, plan_id)
    assert "Renamed" in pdf_text(handout.pdf)
