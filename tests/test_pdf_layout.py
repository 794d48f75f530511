"""Compact PDFs: a handout's items flow and never split, five fit three A4 pages with the
two-week record, and a typical signed note fits one page (issue 14).

Page counts and what each page holds are read back from the PDF with pypdf; timings are
for bench/pdf_render.py, never here.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, time, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from flask import Flask
from flask_login import login_user
from pypdf import PdfReader

from clinic import pdf as pdf_module
from clinic.audit.trail import Actor
from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.homecare import ITEMS_BY_CODE
from clinic.extensions import db
from clinic.homecare import operations as homecare_ops
from clinic.homecare.printing import TRACKING_DAYS, PrintedItem
from clinic.models import Client, HomeCarePlan, User, Visit
from clinic.pdf import PageSize, render_pdf
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
# Every built-in item: a plan of the most items there can be (MAX_PLAN_ITEMS).
EVERY_ITEM = tuple(ITEMS_BY_CODE)
# Width and height in points.
PAPER = {"A4": (595, 842), "Letter": (612, 792)}

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


@contextmanager
def prepared_handout(
    app: Flask, world: factories.World, codes: tuple[str, ...], **plan_options: Any
) -> Iterator[homecare_ops.HandoutDocument]:
    """Prepare the handout of a plan of these built-in items, as issuing it does; render it
    inside the block."""
    client_id = client_with_visits(app, world)
    keys = tuple(f"b_{code}" for code in codes)
    plan_id = factories.make_plan(app, client_id, world.a.therapist_id, keys, **plan_options)
    with app.test_request_context():
        user = db.session.get_one(User, world.a.therapist_id)
        login_user(user)
        plan = db.session.get_one(HomeCarePlan, plan_id)
        client = db.session.get_one(Client, client_id)
        yield homecare_ops.prepare_handout(plan, client, user.clinic, start_on=TODAY)


def render_handout(
    app: Flask, world: factories.World, codes: tuple[str, ...]
) -> tuple[bytes, list[PrintedItem]]:
    """Render the handout of a plan of these built-in items, with notes, as issuing does."""
    keys = tuple(f"b_{code}" for code in codes)
    with prepared_handout(
        app,
        world,
        codes,
        note="Do the stretches after a short walk, when your legs are warm.",
        notes={keys[0]: "Use a chair for balance.", keys[-1]: "After the exercises."},
    ) as document:
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


# --- The two-week record ----------------------------------------------------------------------
# Each day's boxes are drawn by the background of the record's cells, one rule every ROW_PITCH
# points beside the days set one to a line of the same height: these tests read back what the
# client sees (the days, the columns, the page) and check the days line up with that pitch.
ROW_PITCH = 18.0


def render_plan(
    app: Flask,
    world: factories.World,
    codes: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
    page_size: PageSize = "A4",
) -> tuple[bytes, str, list[PrintedItem]]:
    """Render a plan of these items (no screening checks) on this paper; return the PDF, the
    HTML WeasyPrint was handed, and the items as printed."""
    seen: list[str] = []
    real = pdf_module.html_to_pdf

    def spy(
        html: str,
        assets: tuple[pdf_module.Asset, ...] = (),
        stylesheets: Sequence[str] = pdf_module.DEFAULT_STYLESHEETS,
    ) -> bytes:
        seen.append(html)
        return real(html, assets, stylesheets)

    monkeypatch.setattr(pdf_module, "html_to_pdf", spy)
    with prepared_handout(app, world, codes, checked=False) as document:
        pdf = dataclasses.replace(document, page_size=page_size).render()
        items = list(document.handout.items)
    (html,) = seen
    return pdf, html, items


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def text_lines(page: Any) -> list[tuple[str, float]]:
    """Return the page's pieces of text, each with its baseline's height on the page."""
    found: list[tuple[str, float]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            found.append((text.strip(), cm[5] + tm[5] * cm[3]))

    page.extract_text(visitor_text=visit)
    return found


@pytest.mark.parametrize("page_size", ["A4", "Letter"])
@pytest.mark.parametrize("codes", [("cold_pack",), EVERY_ITEM], ids=["1-item", "10-items"])
def test_the_record_has_a_box_for_every_item_and_day(
    app: Flask,
    clinic_world: factories.World,
    monkeypatch: pytest.MonkeyPatch,
    codes: tuple[str, ...],
    page_size: PageSize,
) -> None:
    pdf, html, items = render_plan(app, clinic_world, codes, monkeypatch, page_size)
    assert [item.number for item in items] == list(range(1, len(codes) + 1))
    reader = PdfReader(BytesIO(pdf))
    assert {tuple(round(v) for v in page.mediabox[2:]) for page in reader.pages} == {
        PAPER[page_size]
    }
    days = [day_label(TODAY + timedelta(days=n)) for n in range(TRACKING_DAYS)]

    # Laid out: a column per item, numbered as the items are, between the day and the pain.
    (record,) = re.findall(r'<table class="record">.*?</table>', html, re.S)
    (head,) = re.findall(r"<thead>.*?</thead>", record, re.S)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head) == [
        "Day",
        *(str(item.number) for item in items),
        "Pain 0-10",
    ]
    # One row of cells, each drawing the fourteen days' boxes: one per item, one for the pain.
    assert record.count('<td class="record__boxes"></td>') == len(items) + 1
    (listed,) = re.findall(r'<td class="record__days">([^<]*)</td>', record)
    assert listed.split("\n") == days

    # Printed: the record whole on the last page, in reading order, and the key names each
    # number's item.
    last = reader.pages[-1]
    text = squash(last.extract_text())
    start = text.index(squash("Your two-week record"))
    order = [
        "Tick a box each time you do an item.",
        " · ".join(f"{item.number} = {item.title}" for item in items),
        "Day",
        *(str(item.number) for item in items),
        "Pain 0-10",
        *days,
    ]
    for phrase in order:
        found = text.find(squash(phrase), start)
        assert found >= start, f"{phrase!r} missing or out of order"
        start = found + len(squash(phrase))
    # The days one to a row of boxes: their lines exactly a row apart, top to bottom.
    heights = [y for words, y in text_lines(last) if words in days]
    assert len(heights) == TRACKING_DAYS
    steps = {round(above - below, 2) for above, below in itertools.pairwise(heights)}
    assert steps == {ROW_PITCH}


def test_steps_read_as_typed_and_in_order(
    app: Flask, clinic_world: factories.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step numbers are drawn apart from the steps: extracted, the steps read as typed,
    one after another in order, also for the twelve-step item."""
    pdf, html, items = render_plan(app, clinic_world, LONGEST, monkeypatch)
    pages = page_texts(pdf)
    text = "".join(pages)
    start = 0
    for item in items:
        steps = squash("".join(item.steps))
        found = text.find(steps, start)
        assert found >= start, f"item {item.number}: the steps do not read as typed, in order"
        start = found + len(steps)
    # Numbered all the same: 1 to 12 beside the longest item's steps.
    numbers = re.findall(r'<span class="step__number">(\d+)\.</span>', html)
    assert numbers == [str(n) for item in items for n in range(1, len(item.steps) + 1)]
