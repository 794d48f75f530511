"""The SVG charts: valid XML, one marker per score, text escaped, nothing external."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.progress.charts import (
    _TICK_STEPS,
    LEFT,
    RIGHT,
    WIDTH,
    Axis,
    Point,
    Series,
    _calendar_ticks,
    _date_ticks,
    _fmt,
    render_line_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
AXIS = Axis(0, 10, 2, "Pain (0-10)")


def markers(svg: str, series: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [el for el in root.iter() if el.get("data-series") == series]


def test_one_marker_per_score_in_each_series():
    start = date(2026, 1, 5)
    before = [Point(start + timedelta(days=7 * i), v) for i, v in enumerate([8, 7, 5, 4])]
    after = [Point(start + timedelta(days=7 * i), v) for i, v in enumerate([6, 5, 3, 2])]
    home = [Point(start + timedelta(days=3), 7), Point(start + timedelta(days=10), 6)]
    svg = render_line_chart(
        "Left knee",
        [
            Series("Before", before),
            Series("After", after, marker="diamond"),
            Series("Home", home, marker="square", joined=False),
        ],
        AXIS,
    )
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    assert len(markers(svg, "Before")) == 4
    assert len(markers(svg, "After")) == 4
    assert len(markers(svg, "Home")) == 2
    assert len(list(root.iter(f"{SVG}polyline"))) == 2  # the home log is not joined
    assert root.find(f"{SVG}title").text == "Left knee"


def test_markers_sit_where_their_values_are():
    svg = str(
        render_line_chart(
            "x", [Series("S", [Point(date(2026, 1, 1), 0), Point(date(2026, 1, 2), 10)])], AXIS
        )
    )
    low, high = markers(svg, "S")
    assert float(low.get("cy")) > float(high.get("cy"))  # 0 is drawn below 10
    assert float(low.get("cx")) < float(high.get("cx"))  # earlier is further left


def test_text_is_escaped_and_nothing_is_loaded():
    svg = str(
        render_line_chart(
            '<script>alert("x")</script>',
            [Series("<b>&", [Point(date(2026, 1, 1), Decimal("61.583"))])],
            Axis(0, 100, 20, "KOOS"),
        )
    )
    ET.fromstring(svg)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    for forbidden in ("href", "<image", "url(", "<style", "@import"):
        assert forbidden not in svg


def test_an_empty_chart_says_so():
    svg = str(render_line_chart("Nothing", [Series("S", [])], AXIS))
    ET.fromstring(svg)
    assert "No scores yet" in svg


@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 10)), min_size=1, max_size=60))
def test_any_scores_make_valid_svg_with_one_marker_each(raw):
    points = [Point(date(2025, 1, 1) + timedelta(days=day), value) for day, value in raw]
    svg = str(render_line_chart("P", [Series("S", points)], AXIS))
    assert len(markers(svg, "S")) == len(points)


@pytest.mark.parametrize("value", [-3, 14])
def test_values_outside_the_axis_stay_inside_the_plot(value):
    svg = str(render_line_chart("x", [Series("S", [Point(date(2026, 1, 1), value)])], AXIS))
    (marker,) = markers(svg, "S")
    assert 40 <= float(marker.get("cy")) <= 236


def test_each_chart_on_a_page_has_its_own_ids():
    first = str(render_line_chart("A", [Series("S", [])], AXIS, key="pain-left"))
    second = str(render_line_chart("B", [Series("S", [])], AXIS, key="pain-right"))
    ids = {
        el.get("id") for svg in (first, second) for el in ET.fromstring(svg).iter() if el.get("id")
    }
    assert ids == {
        "chart-pain-left-title",
        "chart-pain-left-desc",
        "chart-pain-right-title",
        "chart-pain-right-desc",
    }


@pytest.mark.parametrize("value", [0, 0.04, 0.05, 1, 1.25, 9.95, 10, 99.99, -0.04, -3.5, 640.0])
def test_coordinates_are_written_with_one_decimal_at_most(value):
    written = _fmt(value)
    assert float(written) == pytest.approx(value, abs=0.051)
    assert not written.endswith(".0") and not written.endswith(".")
    # What the charts wrote before the faster version: the same text.
    assert written == f"{value:.1f}".rstrip("0").rstrip(".")


def tick_labels(svg: str) -> list[str]:
    return [
        el.text or ""
        for el in ET.fromstring(svg).iter(f"{SVG}text")
        if el.get("y") == "254"  # the date axis, under the plot
    ]


def tick_xs(svg: str) -> list[float]:
    return [
        float(el.get("x") or 0)
        for el in ET.fromstring(svg).iter(f"{SVG}text")
        if el.get("y") == "254"
    ]


@pytest.mark.parametrize(
    ("first", "last", "labels"),
    [
        # Days, weeks (Mondays), months (the first), quarters and years: round dates only.
        (date(2026, 12, 6), date(2026, 12, 8), ["6 Dec", "7 Dec", "8 Dec"]),
        (date(2026, 10, 26), date(2026, 12, 7), ["26 Oct", "9 Nov", "23 Nov", "7 Dec"]),
        (date(2026, 1, 5), date(2026, 6, 5), ["Feb", "Mar", "Apr", "May", "Jun"]),
        (
            date(2024, 11, 5),
            date(2026, 6, 5),
            ["Jan 2025", "Apr 2025", "Jul 2025", "Oct 2025", "Jan 2026", "Apr 2026"],
        ),
        (date(2020, 3, 1), date(2026, 12, 7), ["2021", "2022", "2023", "2024", "2025", "2026"]),
    ],
)
def test_the_date_axis_is_labelled_on_round_dates_and_names_the_year_across_years(
    first, last, labels
):
    points = [Point(first, 5), Point(last, 4)]
    svg = str(render_line_chart("x", [Series("S", points)], AXIS))
    assert tick_labels(svg) == labels
    # Each label stands where its date falls: equal steps of time, equal steps on the axis
    # (months run 28 to 31 days, quarters 90 to 92).
    xs = tick_xs(svg)
    gaps = [b - a for a, b in pairwise(xs)]
    day = (WIDTH - LEFT - RIGHT) / (last - first).days
    assert max(gaps) - min(gaps) <= 3.5 * day + 0.2


def test_the_date_axis_skips_steps_too_fine_without_changing_the_ticks():
    # Passing over the finest steps unlisted (a long history would list every day) picks the
    # same ticks as trying every step in turn.
    def every_step(first: date, last: date) -> list[date]:
        for unit, every in _TICK_STEPS:
            ticks = _calendar_ticks(first, last, unit, every)
            if len(ticks) <= 6:
                return ticks
        return ticks

    base = date(2024, 1, 1)
    for start in range(0, 400, 37):
        for length in [*range(1, 100), *range(100, 4000, 17)]:
            first = base + timedelta(days=start)
            last = first + timedelta(days=length)
            assert [tick for tick, _ in _date_ticks(first, last)] == every_step(first, last)
