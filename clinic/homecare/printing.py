"""A home-care plan as plain values, ready for the handout print template."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from clinic.domain.catalogue import Side
from clinic.domain.homecare import EMERGENCY_NOTE, REFER_NOTE, SAME_DAY_NOTE
from clinic.models import Client, Clinic, HomeCarePlan
from clinic.pdf import Asset, memory_asset
from clinic.templating import format_date

TRACKING_DAYS = 14
# A line needs two points; one score says nothing about a trend.
MIN_CHART_SCORES = 2
# Notes about when to get help go in their own box, apart from how to do the exercises.
_URGENT_NOTES = (REFER_NOTE, SAME_DAY_NOTE, EMERGENCY_NOTE)


@dataclass(frozen=True)
class PrintedItem:
    """One item of the handout, numbered as in the tracking table."""

    number: int
    title: str
    purpose: str
    steps: Sequence[str]
    dose: str
    changes: Sequence[str]
    cautions: Sequence[str]
    note: str


@dataclass(frozen=True)
class PrintedHandout:
    """Everything the handout shows, as text."""

    clinic_name: str
    clinic_address: Sequence[str]
    clinic_phone: str
    has_logo: bool
    client_name: str
    plan_date: str
    therapist: str
    note: str
    safety_notes: Sequence[str]
    urgent_notes: Sequence[str]
    items: Sequence[PrintedItem]
    tracking_days: Sequence[tuple[str, str]]
    pain_summary: Sequence[str] | None
    preview: bool
    # Why the plan no longer matches the client's screening (previews only; empty when it does).
    mismatch: Sequence[str] = ()


@dataclass(frozen=True)
class PainChart:
    """The client's pain chart as an image for the PDF, and its gist in words."""

    asset: Asset
    # The chart's own labels are small once scaled to the page, so the first and latest
    # scores are printed in full-size type as well.
    summary: Sequence[str]


def pain_chart_for(client: Client) -> PainChart | None:
    """Return a small chart of the client's knee pain at each visit, or None with too few scores.

    Drawn by the progress feature's chart module (the same SVG as on the progress page) and
    handed to the renderer only as the in-memory image clinic:pain-chart.
    """
    if client.id is None:
        return None  # not saved, so no visits yet
    # Imported here: the progress feature is optional for the handout, and loads its own rows.
    from clinic.progress.charts import BLUE, ORANGE, Axis, Point, Series, render_line_chart
    from clinic.progress.operations import load_progress

    series = [
        Series(
            f"{knee.knee.label} knee",
            [Point(v.on, v.before) for v in knee.visits if v.before is not None],
            BLUE if knee.knee is Side.LEFT else ORANGE,
            "circle" if knee.knee is Side.LEFT else "diamond",
            dashed=knee.knee is Side.RIGHT,
        )
        for knee in load_progress(client).knees
    ]
    series = [one for one in series if one.points]
    if sum(len(one.points) for one in series) < MIN_CHART_SCORES:
        return None
    svg = render_line_chart(
        "Your knee pain at the start of each visit",
        series,
        Axis(0, 10, 2, "Pain (0-10)"),
        description="Lower is better.",
        key="handout-pain",
    )
    summary = [
        f"{one.name}: {first.value} at your first visit ({format_date(first.on)}),"
        f" {last.value} at your latest ({format_date(last.on)})."
        for one in series
        if len(one.points) > 1
        for first, last in [(one.points[0], one.points[-1])]
    ]
    return PainChart(memory_asset("pain-chart", str(svg).encode(), "image/svg+xml"), summary)


def _days(start_on: date) -> list[tuple[str, str]]:
    days = (start_on + timedelta(days=offset) for offset in range(TRACKING_DAYS))
    return [(f"{day:%a}", f"{day.day} {day:%b}") for day in days]


def build_handout(
    plan: HomeCarePlan,
    client: Client,
    clinic: Clinic,
    *,
    start_on: date,
    has_logo: bool,
    pain_chart: PainChart | None = None,
    preview: bool = False,
    mismatch: Sequence[str] = (),
) -> PrintedHandout:
    """Turn a plan into the plain text the handout template lays out."""
    return PrintedHandout(
        clinic_name=clinic.name,
        clinic_address=[line for line in clinic.address.splitlines() if line.strip()],
        clinic_phone=clinic.phone,
        has_logo=has_logo,
        client_name=client.full_name,
        plan_date=format_date(start_on),
        therapist=plan.created_by.full_name,
        note=plan.note,
        safety_notes=[n for n in plan.safety_notes if n not in _URGENT_NOTES],
        urgent_notes=[n for n in plan.safety_notes if n in _URGENT_NOTES],
        items=[
            PrintedItem(
                number=number,
                title=item.title,
                purpose=item.purpose,
                steps=list(item.steps),
                dose=item.dose_text,
                changes=list(item.changes),
                cautions=list(item.cautions),
                note=item.note,
            )
            for number, item in enumerate(plan.items, start=1)
        ],
        tracking_days=_days(start_on),
        pain_summary=pain_chart.summary if pain_chart is not None else None,
        preview=preview,
        mismatch=list(mismatch),
    )
