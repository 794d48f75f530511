"""Compact PDFs: a handout's items flow and never split, five fit three A4 pages with the
two-week record, and a typical signed note fits one page (issue 14).

Page counts and what each page holds are read back from the PDF with pypdf; timings are
for bench/pdf_render.py, never here.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from flask import Flask
from flask_login import login_user
from pypdf import PdfReader

from clinic.audit.trail import Actor
from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.extensions import db
from clinic.homecare import operations as homecare_ops
from clinic.homecare.printing import PrintedItem
from clinic.models import Client, HomeCarePlan, User, Visit
from clinic.pdf import render_pdf
from clinic.visits import operations as visit_ops
from clinic.visits.printing import build_printed_note
from tests import factories

TODAY = date.today()
# Two stretches, two strengthening exercises and a cold pack: a typical plan.
TYPICAL = (
    "quadriceps_stretch",
    "hamstring_stretch",
    "straight_leg_raise",
    "glute_bridge",
    "cold_pack",
)
# The same with the longest item (twelve steps of self-massage) in place of a stretch: four
# pages, the record on the last, but still no item split.
LONGEST = ("self_massage", "hamstring_stretch", "straight_leg_raise", "glute_bridge", "cold_pack")

ENTRIES: list[dict[str, Any]] = [
    {"technique": Technique.EFFLEURAGE, "target": Target.QUADRICEPS, "side": Side.LEFT,
     "pressure": Pressure.LIGHT, "minutes": Decimal("5")},
    {"technique": Technique.PETRISSAGE, "target": Target.QUADRICEPS, "side": Side.LEFT,
     "pressure": Pressure.MEDIUM, "minutes": Decimal("15")},
    {"technique": Technique.PETRISSAGE, "target": Target.HAMSTRINGS, "side": Side.LEFT,
     "pressure": Pressure.MEDIUM, "minutes": Decimal("10"),
     "note": "Tender at the outer hamstring; eased after a few minutes."},
    {"technique": Technique.PETRISSAGE, "target": Target.CALF, "side": Side.LEFT,
     "pressure": Pressure.MEDIUM, "minutes": Decimal("10")},
]  # fmt: skip


def squash(text: str) -> str:
    """Drop all whitespace, so where the PDF's lines break does not matter."""
    return "".join(text.split())


def page_texts(pdf: bytes) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(BytesIO(pdf)).pages]


def client_with_visits(app: Flask, world: factories.World) -> int:
    """A client screened today, with three signed visits (so the handout has a pain chart)."""
    a = world.a
    client_id = factories.make_client(
        app, a.clinic_id, a.therapist_id, first_name="Margaret", last_name="Whitfield"
    )
    factories.make_screening(app, client_id, a.therapist_id)
    for weeks, before in ((6, 7), (4, 6), (2, 5)):
        factories.make_visit(
            app,
            client_id,
            a.therapist_id,
            signed=True,
            visit_on=TODAY - timedelta(weeks=weeks),
            pain_before_left=before,
        )
    return client_id


def render_handout(
    app: Flask, world: factories.World, codes: tuple[str, ...]
) -> tuple[bytes, list[PrintedItem]]:
    """Render the handout of a plan of these built-in items, as issuing it does."""
    client_id = client_with_visits(app, world)
    keys = tuple(f"b_{code}" for code in codes)
    plan_id = factories.make_plan(
        app,
        client_id,
        world.a.therapist_id,
        keys,
        note="Do the stretches after a short walk, when your legs are warm.",
        notes={keys[0]: "Use a chair for balance.", keys[-1]: "After the exercises."},
    )
    with app.test_request_context():
        user = db.session.get_one(User, world.a.therapist_id)
        login_user(user)
        plan = db.session.get_one(HomeCarePlan, plan_id)
        client = db.session.get_one(Client, client_id)
        document = homecare_ops.prepare_handout(plan, client, user.clinic, start_on=TODAY)
        assert document.assets, "the handout carries the pain chart"
        return document.render(), list(document.handout.items)


def test_five_items_and_the_record_fit_three_a4_pages(
    app: Flask, clinic_world: factories.World
) -> None:
    pdf, items = render_handout(app, clinic_world, TYPICAL)
    pages = page_texts(pdf)
    assert len(pages) <= 3, f"{len(pages)} pages"
    assert len(items) == 5
    # The two-week record, whole, on the last page: its heading and its last day.
    last_day = TODAY + timedelta(days=13)
    assert squash("Your two-week record") in pages[-1]
    assert squash(f"{last_day:%a} {last_day.day} {last_day:%b}") in pages[-1]
    assert all(f"Page{n}of{len(pages)}" in text for n, text in enumerate(pages, start=1))


@pytest.mark.parametrize("codes", [TYPICAL, LONGEST], ids=["typical", "longest"])
def test_an_item_is_never_split_across_pages(
    app: Flask, clinic_world: factories.World, codes: tuple[str, ...]
) -> None:
    pdf, items = render_handout(app, clinic_world, codes)
    pages = page_texts(pdf)
    starts = []
    for item in items:
        # The purpose is the item's own text (cautions repeat between items).
        (page,) = [n for n, text in enumerate(pages) if squash(item.purpose) in text]
        for part in (item.title, item.dose, *item.steps, *item.cautions, item.note):
            assert squash(part) in pages[page], f"item {item.number}: {part!r} not on its page"
        starts.append(page)
    # In order, and flowing: never one item a page when the next fits beside it.
    assert starts == sorted(starts)
    assert len(set(starts)) < len(starts)


def test_a_typical_signed_note_fits_one_page(app: Flask, clinic_world: factories.World) -> None:
    a = clinic_world.a
    client_id = client_with_visits(app, clinic_world)
    visit_id = factories.make_visit(
        app,
        client_id,
        a.therapist_id,
        entries=ENTRIES,
        start_time=time(10, 30),
        flexion_left_degrees=115,
        subjective=(
            "Left knee aches on the stairs and after sitting for an hour. Sleeps well. "
            "Walks the dog for 20 minutes a day."
        ),
        palpation="Tight lateral quadriceps and hamstrings; no warmth or swelling at the knee.",
        assessment=(
            "Less guarding after kneading; she climbed the clinic stairs with less pain. "
            "Knee bends 5 degrees further than last time."
        ),
        plan="Home stretches daily, see the home-care plan. Review the exercises next visit.",
        next_visit_on=TODAY + timedelta(weeks=2),
    )
    with app.test_request_context():
        user = db.session.get_one(User, a.therapist_id)
        login_user(user)
        visit = db.session.get_one(Visit, visit_id)
        visit_ops.sign_visit(Actor.of(user), visit, expected_version=visit.version, today=TODAY)
        db.session.commit()
        client = db.session.get_one(Client, client_id)
        note = build_printed_note(visit, client, user.clinic, visit_ops.list_addenda(visit))
        assert note.limits is not None, "signed with the limits in force"
        pdf = render_pdf(
            "pdf/visit_note.html", title="Visit note", author=user.full_name, note=note
        )
    (page,) = page_texts(pdf)
    for words in ("Visit note", "Calf", "Limits in force when signed", note.signed, "Page 1 of 1"):
        assert squash(words) in page, words
