"""Time the app's PDFs against two WeasyPrint floors, side by side in one run.

Run: .venv/bin/python bench/pdf_render.py [--runs 15] [--warmup 2] [--items CODE ...]
     [--out-dir DIR]

It builds a throwaway SQLite database with the project's factories: one clinic, a therapist,
a client with a screening and three signed visits (so the handout carries the pain chart), a
5-item home-care plan with a plan note and two item notes, and a signed visit note with four
techniques and the limits in force. Then, for the handout and for the note, it times in
turn (the order rotates every round, so drift and warm caches fall on each alike):

  app    the app's own render: clinic.homecare.operations.prepare_handout(...).render() as
         issuing does, and render_pdf("pdf/visit_note.html", ...) as the note's route does
  bare   weasyprint.HTML(string=html, base_url=...).write_pdf() on the HTML the app laid
         out, its stylesheets and images read by WeasyPrint's own fetcher: no app machinery
  plain  WeasyPrint on a plain document of the same words (paragraphs, default fonts)

With --stripped, also (handout only, not a target):

  stripped  the bare HTML without what costs most to lay out, all at once: the two-week
            record's boxes, the page header and footer, the positioned step numbers, the
            keep-whole rules and the pain chart. How close to the plain document the
            handout could come while it still looks like itself.

and prints the median and p95 of N warm runs, the two ratios (app / plain, app / bare) and
the page counts. It exits 1 if a target is missed:

  app / plain at most 2.0 and app / bare at most 1.15 (medians), a 5-item handout on at most
  3 pages including the two-week record, and the signed note on 1 page.

Times are the process's CPU time (time.process_time) for each render, and the ratios are
taken from them: a render is single-threaded, CPU-bound work, and on a shared machine the
wall clock also counts the time spent waiting for a core, which swings by 2x between runs
of the same code. The wall-clock median is printed beside it. WeasyPrint subsets fonts with
HarfBuzz when libharfbuzz-subset0 is installed and falls back to fontTools (several times
slower for the DejaVu fonts, the same for every render) otherwise: the first line says which.

Nothing here runs in `make test`; tests/test_pdf_layout.py checks the page counts.
"""

from __future__ import annotations

import argparse
import base64
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as dtime
from decimal import Decimal
from html import escape
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from flask_login import login_user
from pypdf import PdfReader
from weasyprint import HTML

from clinic import create_app
from clinic import pdf as pdf_module
from clinic.audit.trail import Actor
from clinic.clock import utcnow
from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.homecare import ITEMS_BY_CODE
from clinic.extensions import db
from clinic.homecare import operations as homecare_ops
from clinic.models import Client, HomeCarePlan, User, Visit
from clinic.pdf import render_pdf
from clinic.settings import PROJECT_DIR
from clinic.visits import operations as visit_ops
from clinic.visits.printing import build_printed_note
from tests import factories

# A plan a therapist might give a client with knee arthritis: two stretches, two
# strengthening exercises and a cold pack.
DEFAULT_ITEMS = (
    "quadriceps_stretch",
    "hamstring_stretch",
    "straight_leg_raise",
    "glute_bridge",
    "cold_pack",
)
MAX_PLAIN_RATIO = 2.0
MAX_BARE_RATIO = 1.15
MAX_HANDOUT_PAGES = 3
NOTE_PAGES = 1

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


@dataclass(frozen=True)
class Document:
    """One PDF to time: the app's render, and what it handed WeasyPrint."""

    name: str
    render: Callable[[], bytes]
    html: str
    assets: tuple[pdf_module.Asset, ...]
    stylesheets: tuple[str, ...]


# --- The data -------------------------------------------------------------------------------


def seed(app: Flask, items: Sequence[str]) -> tuple[int, int, int]:
    """Fill the database; return the therapist's, the plan's and the signed visit's ids."""
    clinic_id = factories.make_clinic(
        app, name="Riverside Massage", address="1 River Road\nKneeton KN1 2AB"
    )
    user_id = factories.make_user(app, clinic_id, full_name="Tess Whitmore, LMT")
    client_id = factories.make_client(
        app,
        clinic_id,
        user_id,
        first_name="Margaret",
        last_name="Whitfield",
        date_of_birth=date(1952, 3, 14),
    )
    today = date.today()
    factories.make_screening(app, client_id, user_id, taken_on=today)
    for weeks, before in ((6, 7), (4, 6), (2, 5)):
        factories.make_visit(
            app,
            client_id,
            user_id,
            signed=True,
            visit_on=today - timedelta(weeks=weeks),
            pain_before_left=before,
            pain_after_left=before - 2,
        )
    keys = tuple(f"b_{code}" for code in items)
    plan_id = factories.make_plan(
        app,
        client_id,
        user_id,
        keys,
        note=(
            "Do the stretches after a short walk, when your legs are warm. "
            "Bring the record to your next visit."
        ),
        notes={keys[0]: "Use a chair for balance.", keys[-1]: "After the exercises."},
    )
    visit_id = factories.make_visit(
        app,
        client_id,
        user_id,
        entries=ENTRIES,
        start_time=dtime(10, 30),
        length_minutes=60,
        pain_before_left=5,
        pain_after_left=3,
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
        next_visit_on=today + timedelta(weeks=2),
    )
    with app.test_request_context():
        user = db.session.get_one(User, user_id)
        login_user(user)
        visit = db.session.get_one(Visit, visit_id)
        visit_ops.sign_visit(Actor.of(user), visit, expected_version=visit.version, today=today)
        db.session.commit()
    return user_id, plan_id, visit_id


def documents(app: Flask, user_id: int, plan_id: int, visit_id: int) -> list[Document]:
    """Return the handout and the note, each rendered by the app as it does for a therapist."""
    with app.test_request_context():
        user = db.session.get_one(User, user_id)
        login_user(user)
        plan = db.session.get_one(HomeCarePlan, plan_id)
        client = db.session.get_one(Client, plan.client_id)
        # As issuing does: everything gathered as plain values, then laid out.
        handout = homecare_ops.prepare_handout(
            plan,
            client,
            user.clinic,
            start_on=date.today(),
            created=utcnow().replace(microsecond=0),
        )
        visit = db.session.get_one(Visit, visit_id)
        note = build_printed_note(visit, client, user.clinic, visit_ops.list_addenda(visit))
        note_values = {
            "title": f"Visit note: {client.full_name}, {visit.visit_on.isoformat()}",
            "author": visit.therapist.full_name,
            "page_size": "A4",
            "note": note,
        }

    def app_handout() -> bytes:
        with app.app_context():
            return handout.render()

    def app_note() -> bytes:
        with app.app_context():
            return render_pdf("pdf/visit_note.html", **note_values)

    return [
        Document("handout", app_handout, *captured(app_handout)),
        Document("signed note", app_note, *captured(app_note)),
    ]


Captured = tuple[str, tuple[pdf_module.Asset, ...], tuple[str, ...]]


def captured(render: Callable[[], bytes]) -> Captured:
    """Return the HTML, in-memory images and stylesheets the app hands WeasyPrint."""
    seen: list[Captured] = []
    original = pdf_module.html_to_pdf

    def spy(
        html: str,
        assets: tuple[pdf_module.Asset, ...] = (),
        stylesheets: Sequence[str] = pdf_module.DEFAULT_STYLESHEETS,
    ) -> bytes:
        seen.append((html, assets, tuple(stylesheets)))
        return original(html, assets, stylesheets)

    pdf_module.html_to_pdf = spy  # type: ignore[assignment]
    try:
        render()
    finally:
        pdf_module.html_to_pdf = original  # type: ignore[assignment]
    (only,) = seen
    return only


# --- The two floors -------------------------------------------------------------------------


def bare_html(doc: Document) -> tuple[str, str]:
    """Return the same document as WeasyPrint alone would load it, and the base URL.

    The app's print stylesheets (which the app applies already parsed) go into the head as
    <style>, clinic: URLs become plain relative paths (read by WeasyPrint's default fetcher
    from the project folder) and in-memory images become data: URLs.
    """
    styles = "".join(
        f"<style>{pdf_module.stylesheet_text(name)}</style>" for name in doc.stylesheets
    )
    html = doc.html.replace("<head>", f"<head>{styles}", 1)
    for asset in doc.assets:
        data = base64.b64encode(asset.data).decode()
        html = html.replace(f'"{asset.url}"', f'"data:{asset.media_type};base64,{data}"')
    html = html.replace('"clinic:pdf/', '"templates/pdf/').replace(
        '"clinic:static/', '"clinic/static/'
    )
    return html, PROJECT_DIR.as_uri() + "/"


_BLOCKS = frozenset(
    [
        "p",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "tr",
        "div",
        "section",
        "article",
        "header",
        "main",
        "ol",
        "ul",
        "table",
        "dt",
        "dd",
    ]
)


class _Words(HTMLParser):
    """Collects the visible text of a document, one paragraph per block."""

    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self._words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("head", "style", "script"):
            self._skip += 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "script"):
            self._skip -= 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._words.extend(data.split())

    def _flush(self) -> None:
        if self._words:
            self.paragraphs.append(" ".join(self._words))
            self._words = []


def plain_html(html: str) -> tuple[str, int]:
    """Return a plain document with the same words (paragraphs, default fonts), and its words."""
    parser = _Words()
    parser.feed(html)
    parser.close()
    words = sum(len(p.split()) for p in parser.paragraphs)
    body = "\n".join(f"<p>{escape(p)}</p>" for p in parser.paragraphs)
    return (
        f"<!doctype html><html><head><title>Plain</title></head><body>{body}</body></html>",
        words,
    )


def stripped_html(bare: str) -> str:
    """Return the bare handout without its costliest parts (see --stripped)."""
    for rule in ("@top-center", "@bottom-center"):
        bare = re.sub(rf"{rule} \{{[^}}]*\}}", "", bare)
    for declaration in (
        "background: linear-gradient(#fff 17pt, #000 17pt) 0 0 / 100% 18pt repeat-y;",
        "position: absolute;",
        "break-inside: avoid;",
    ):
        bare = bare.replace(declaration, "")
    return re.sub(r'<img class="pain-chart"[^>]*>', "", bare)


# --- Timing ---------------------------------------------------------------------------------


def font_subsetter() -> str:
    """Say which library WeasyPrint subsets fonts with here."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    if harfbuzz_subset and harfbuzz.hb_version_atleast(4, 1, 0):
        return "HarfBuzz"
    return "fontTools (install libharfbuzz-subset0 for HarfBuzz)"


def pages(pdf: bytes) -> int:
    return len(PdfReader(BytesIO(pdf)).pages)


def p95(times: Sequence[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def time_side_by_side(
    renders: dict[str, Callable[[], bytes]], runs: int, warmup: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, bytes]]:
    """Time each render `runs` times, in turn, rotating which goes first each round.

    Returns the CPU milliseconds and the wall-clock milliseconds of every run, and each
    render's last PDF.
    """
    names = list(renders)
    last: dict[str, bytes] = {}
    for _ in range(warmup):
        for name in names:
            last[name] = renders[name]()
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(runs):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            started_cpu, started = time.process_time(), time.perf_counter()
            last[name] = renders[name]()
            cpu[name].append((time.process_time() - started_cpu) * 1000)
            wall[name].append((time.perf_counter() - started) * 1000)
    return cpu, wall, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--items", nargs="+", default=DEFAULT_ITEMS, choices=sorted(ITEMS_BY_CODE), metavar="CODE"
    )
    parser.add_argument("--out-dir", type=Path, help="also write the PDFs here")
    parser.add_argument(
        "--stripped", action="store_true", help="also time the handout without its costliest parts"
    )
    args = parser.parse_args()

    failures: list[str] = []
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
                "RATELIMIT_STORAGE_URI": "memory://",
                # In this process, as the floors are: the pool would add a process hop.
                "PDF_RENDER_PROCESSES": 0,
            }
        )
        with app.app_context():
            db.create_all()
        user_id, plan_id, visit_id = seed(app, args.items)
        docs = documents(app, user_id, plan_id, visit_id)

        header = (
            f"{'document':<12} {'render':<8} {'CPU median':>10} {'CPU p95':>8} {'wall median':>11}"
            f" {'pages':>6} {'vs plain':>9} {'vs bare':>8}"
        )
        rows += [header, "-" * len(header)]
        for doc in docs:
            bare, base_url = bare_html(doc)
            plain, words = plain_html(doc.html)

            def run_bare(bare: str = bare, base_url: str = base_url) -> bytes:
                return bytes(HTML(string=bare, base_url=base_url).write_pdf())

            def run_plain(plain: str = plain) -> bytes:
                return bytes(HTML(string=plain).write_pdf())

            renders = {"app": doc.render, "bare": run_bare, "plain": run_plain}
            if args.stripped and doc.name == "handout":
                stripped = stripped_html(bare)

                def run_stripped(stripped: str = stripped, base_url: str = base_url) -> bytes:
                    return bytes(HTML(string=stripped, base_url=base_url).write_pdf())

                renders["stripped"] = run_stripped
            times, wall, pdfs = time_side_by_side(renders, args.runs, args.warmup)
            medians = {name: statistics.median(values) for name, values in times.items()}
            page_counts = {name: pages(pdf) for name, pdf in pdfs.items()}
            vs_plain = medians["app"] / medians["plain"]
            vs_bare = medians["app"] / medians["bare"]
            for name in renders:
                ratios = (
                    f" {medians[name] / medians['plain']:>8.2f}x {vs_bare:>7.2f}x"
                    if name == "app"
                    else f" {medians[name] / medians['plain']:>8.2f}x {'':>8}"
                    if name == "stripped"
                    else f" {'':>9} {'':>8}"
                )
                rows.append(
                    f"{doc.name if name == 'app' else '':<12} {name:<8}"
                    f" {medians[name]:>10.1f} {p95(times[name]):>8.1f}"
                    f" {statistics.median(wall[name]):>11.1f} {page_counts[name]:>6}" + ratios
                )
            rows.append(f"{'':<12} ({words} words)")
            if vs_plain > MAX_PLAIN_RATIO:
                failures.append(f"{doc.name}: {vs_plain:.2f}x the plain document (max 2)")
            if vs_bare > MAX_BARE_RATIO:
                failures.append(f"{doc.name}: {vs_bare:.2f}x WeasyPrint bare (max 1.15)")
            if doc.name == "handout" and page_counts["app"] > MAX_HANDOUT_PAGES:
                failures.append(f"handout: {page_counts['app']} pages (max {MAX_HANDOUT_PAGES})")
            if doc.name == "signed note" and page_counts["app"] != NOTE_PAGES:
                failures.append(f"signed note: {page_counts['app']} pages (want {NOTE_PAGES})")
            if args.out_dir:
                args.out_dir.mkdir(parents=True, exist_ok=True)
                stem = re.sub(r"\W+", "-", doc.name)
                for name, pdf in pdfs.items():
                    (args.out_dir / f"{stem}-{name}.pdf").write_bytes(pdf)

    print(f"font subsetting: {font_subsetter()}")
    print(
        f"{len(args.items)}-item handout ({', '.join(args.items)}) and a signed note;"
        f" {args.runs} warm runs each, after {args.warmup}, in turn; milliseconds"
    )
    print("\n".join(rows))
    print(
        f"targets: app at most {MAX_PLAIN_RATIO}x plain and {MAX_BARE_RATIO}x bare (CPU medians);"
        f" handout at most {MAX_HANDOUT_PAGES} pages; signed note {NOTE_PAGES} page"
    )
    for failure in failures:
        print(f"MISSED: {failure}")
    print("all targets met" if not failures else f"{len(failures)} target(s) missed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
