"""Time a home-care handout against WeasyPrint's trivial page (target: 400 ms median).

Run: .venv/bin/python bench/handout_render.py [--runs 20] [--warmup 3] [--items cold_pack]
     [--out handout.pdf]

Both are rendered in the same process, warm, one after the other, so the ratio says how much
the handout costs beyond WeasyPrint's own floor on this machine. The handout goes through the
same code as issuing one (clinic.homecare.operations.render_handout: plain values, the handout
template and print CSS, the deny-all fetcher, embedded font subsets), with rows that are never
saved, so no database time is counted. Nothing here runs in `make test`.

The issue sets its target for a two-page handout. The smallest real handout is three pages:
the safety page (who, when to get help), one page of items, and the two-week record on a page
of its own so it can be brought back. So the default, one short item, times three pages: an
upper bound for two. Pass more codes to --items to time longer handouts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader
from weasyprint import HTML

from clinic import create_app
from clinic.domain.homecare import ITEMS_BY_CODE, assess_item, describe_dose, safety_notes
from clinic.domain.screening import evaluate_screening
from clinic.homecare.operations import render_handout
from clinic.models import Client, Clinic, HomeCarePlan, HomeCarePlanItem, User
from tests.factories import screening_answers

DEFAULT_ITEMS = ("cold_pack",)
TRIVIAL_HTML = "<!doctype html><title>Trivial</title><p>Hello.</p>"


def build_rows(codes: Sequence[str]) -> tuple[HomeCarePlan, Client, Clinic]:
    """Return an unsaved plan, client and clinic as the handout sees them."""
    result = evaluate_screening(screening_answers(), age=70)
    therapist = User(full_name="Tess Therapist, LMT")
    plan = HomeCarePlan(
        note="",
        safety_notes=list(safety_notes(result)),
        created_by=therapist,
    )
    for position, code in enumerate(codes):
        item = ITEMS_BY_CODE[code]
        plan.items.append(
            HomeCarePlanItem(
                position=position,
                builtin_code=code,
                item_version=item.version,
                kind=item.kind,
                title=item.title,
                purpose=item.purpose,
                steps=list(item.steps),
                cautions=list(item.cautions),
                changes=list(assess_item(item, result).changes),
                dose_text=describe_dose(item.dose),
                note="",
            )
        )
    client = Client(first_name="Margaret", last_name="Whitfield")
    clinic = Clinic(name="Riverside Massage", address="1 River Road\nKneeton", phone="555 0100")
    clinic.paper_size = "A4"
    return plan, client, clinic


def median_ms(render: Callable[[], bytes], runs: int, warmup: int) -> tuple[float, bytes]:
    """Return the median wall time of `runs` renders after `warmup` untimed ones."""
    pdf = b""
    for _ in range(warmup):
        pdf = render()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        pdf = render()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), pdf


def pages(pdf: bytes) -> int:
    return len(PdfReader(BytesIO(pdf)).pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--items", nargs="+", default=DEFAULT_ITEMS, choices=sorted(ITEMS_BY_CODE))
    parser.add_argument("--out", type=Path, help="also write the handout PDF here")
    args = parser.parse_args()

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        plan, client, clinic = build_rows(args.items)

        def handout() -> bytes:
            return render_handout(plan, client, clinic, start_on=date.today())

        handout_ms, pdf = median_ms(handout, args.runs, args.warmup)

    def trivial() -> bytes:
        return bytes(HTML(string=TRIVIAL_HTML).write_pdf())

    trivial_ms, trivial_pdf = median_ms(trivial, args.runs, args.warmup)

    if args.out:
        args.out.write_bytes(pdf)
    print(
        f"handout:      {pages(pdf)} pages, median {handout_ms:7.1f} ms over {args.runs} warm runs"
    )
    print(
        f"trivial page: {pages(trivial_pdf)} page,  median {trivial_ms:7.1f} ms"
        f" over {args.runs} warm runs"
    )
    print(
        f"ratio:        {handout_ms / trivial_ms:.1f} x the trivial page (target: 400 ms or less)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
