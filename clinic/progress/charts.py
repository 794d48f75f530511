"""Line charts drawn as SVG on the server: readable on screen, on paper and inside a PDF.

Only presentation attributes are used (no <style>, no script), so a chart needs nothing but
itself: the page's Content Security Policy, WeasyPrint and a printer all see the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from markupsafe import Markup, escape

from clinic import clock

# Colours that stay apart for the common colour-vision differences, plus marker shapes and
# dashes so the series differ without colour too (and in black-and-white print).
BLUE = "#1f5fb4"
ORANGE = "#b3541e"
GREY = "#4a5766"
GREEN = "#1e6b3a"


@dataclass(frozen=True)
class Point:
    """One score on one day; text is how the score reads (the value rounded), if not as drawn."""

    on: date
    value: int | Decimal
    text: str | None = None


@dataclass(frozen=True)
class Series:
    """A named run of scores drawn with one colour, marker and line style."""

    name: str
    points: Sequence[Point]
    colour: str = BLUE
    marker: str = "circle"  # circle, square or diamond
    dashed: bool = False
    joined: bool = True


@dataclass(frozen=True)
class Axis:
    """The value axis: its range, gridline step and what it measures."""

    low: int
    high: int
    step: int
    label: str


WIDTH = 680
HEIGHT = 280
LEFT, RIGHT, TOP, BOTTOM = 52, 40, 40, 44


def _fmt(number: float) -> str:
    text = f"{number:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _marker_style(colour: str, series: str) -> str:
    """The attributes every marker of a series shares (made once per series)."""
    return f'fill="{colour}" stroke="#fff" stroke-width="1.5" data-series="{escape(series)}"'


def _marker(
    kind: str, x: float, y: float, common: str, title: str, fmt: Callable[[float], str] = _fmt
) -> str:
    """One marker with its tooltip; title is escaped already. fmt may be a cached _fmt."""
    title = f"<title>{title}</title>"
    if kind == "square":
        return (
            f'<rect class="point" x="{fmt(x - 4.5)}" y="{fmt(y - 4.5)}" width="9" height="9" '
            f"{common}>{title}</rect>"
        )
    if kind == "diamond":
        left, middle, right = fmt(x - 6), fmt(x), fmt(x + 6)
        top, centre, bottom = fmt(y - 6), fmt(y), fmt(y + 6)
        points = f"{middle},{top} {right},{centre} {middle},{bottom} {left},{centre}"
        return f'<polygon class="point" points="{points}" {common}>{title}</polygon>'
    return f'<circle class="point" cx="{fmt(x)}" cy="{fmt(y)}" r="5" {common}>{title}</circle>'


def render_line_chart(
    title: str, series: Sequence[Series], axis: Axis, *, description: str = "", key: str = "chart"
) -> Markup:
    """Draw dated scores as an SVG line chart with a legend; one marker per score.

    key makes the chart's element ids ("chart-<key>-title") unique on a page of several.
    """
    key = "chart-" + re.sub(r"[^a-z0-9-]", "-", key.lower())
    all_points = [point for one in series for point in one.points]
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    if all_points:
        first = min(point.on for point in all_points)
        last = max(point.on for point in all_points)
    else:
        first = last = clock.today()
    if first == last:
        first, last = first - timedelta(days=1), last + timedelta(days=1)
    span = (last - first).days

    def x_of(day: date) -> float:
        return LEFT + plot_width * (day - first).days / span

    def y_of(value: float) -> float:
        clamped = min(max(value, axis.low), axis.high)
        return TOP + plot_height * (axis.high - clamped) / (axis.high - axis.low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{key}-title {key}-desc" '
        f'font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">',
        f'<title id="{key}-title">{escape(title)}</title>',
        f'<desc id="{key}-desc">{escape(description or title)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
    ]
    for value in range(axis.low, axis.high + 1, axis.step):
        y = y_of(value)
        parts.append(
            f'<line x1="{LEFT}" y1="{_fmt(y)}" x2="{WIDTH - RIGHT}" y2="{_fmt(y)}" '
            f'stroke="#d5dbe1" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 8}" y="{_fmt(y + 4)}" text-anchor="end" '
            f'fill="#1d2733">{value}</text>'
        )
    parts.append(
        f'<text x="14" y="{_fmt(TOP + plot_height / 2)}" fill="#1d2733" text-anchor="middle" '
        f'transform="rotate(-90 14 {_fmt(TOP + plot_height / 2)})">{escape(axis.label)}</text>'
    )
    for tick, label in _date_ticks(first, last):
        x = x_of(tick)
        parts.append(
            f'<text x="{_fmt(x)}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
            f'fill="#1d2733">{label}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_height}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_height}" stroke="#4a5766" stroke-width="1"/>'
    )
    legend_x = LEFT
    for one in series:
        legend_style = _marker_style(one.colour, "legend")
        parts.append(_marker(one.marker, legend_x + 6, 16, legend_style, escape(one.name)))
        parts.append(f'<text x="{legend_x + 16}" y="20" fill="#1d2733">{escape(one.name)}</text>')
        legend_x += 24 + 7 * len(one.name)
    # A long history repeats days and values: each position is worked out and written once.
    fmt = cache(_fmt)
    x_at = cache(x_of)
    y_at = cache(lambda value: y_of(float(value)))
    for one in series:
        ordered = sorted(one.points, key=lambda point: point.on)
        if one.joined and len(ordered) > 1:
            path = " ".join(f"{fmt(x_at(p.on))},{fmt(y_at(p.value))}" for p in ordered)
            dash = ' stroke-dasharray="6 4"' if one.dashed else ""
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{one.colour}" '
                f'stroke-width="2.5"{dash}/>'
            )
        style = _marker_style(one.colour, one.name)
        name = escape(one.name)
        for point in ordered:
            shown = escape(point.text) if point.text is not None else fmt(float(point.value))
            tooltip = f"{name}: {shown} on {point.on.isoformat()}"
            parts.append(
                _marker(one.marker, x_at(point.on), y_at(point.value), style, tooltip, fmt)
            )
    if not all_points:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{TOP + plot_height / 2}" text-anchor="middle" '
            f'fill="#4a5766">No scores yet</text>'
        )
    parts.append("</svg>")
    # Every piece of text above went through escape(); numbers and colours are our own.
    return Markup("".join(parts))  # noqa: S704  # nosec B704


# Calendar steps for the date axis, finest first: the first that needs at most `most` ticks
# is used, each tick on a round date (a Monday, the first of a month, the first of a year).
_TICK_STEPS: tuple[tuple[str, int], ...] = (
    ("day", 1), ("day", 2), ("week", 1), ("week", 2), ("month", 1), ("month", 2),
    ("month", 3), ("month", 6), ("year", 1), ("year", 2), ("year", 5), ("year", 10),
)  # fmt: skip


# The longest each unit can be: a step is passed over only when it surely makes too many ticks.
_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 31.0, "year": 366.0}


def _calendar_ticks(first: date, last: date, unit: str, every: int) -> list[date]:
    """The round dates from first to last, one per `every` units."""
    if unit == "day":
        return [first + timedelta(days=n) for n in range(0, (last - first).days + 1, every)]
    if unit == "week":
        monday = first + timedelta(days=-first.weekday() % 7)
        return [monday + timedelta(weeks=n) for n in range(0, (last - monday).days // 7 + 1, every)]
    if unit == "month":
        months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
        found = [date(m // 12, m % 12 + 1, 1) for m in months if (m % 12) % every == 0]
        return [day for day in found if first <= day <= last]
    years = range(first.year, last.year + 1)
    return [date(y, 1, 1) for y in years if y % every == 0 and first <= date(y, 1, 1) <= last]


def _date_ticks(first: date, last: date, most: int = 6) -> list[tuple[date, str]]:
    """Return the date axis's ticks and their labels: round dates, evenly spaced in time."""
    span = (last - first).days
    for unit, every in _TICK_STEPS:
        # Steps far too fine are passed over without listing their dates (a long history
        # would list a thousand days for nothing).
        if span / (_UNIT_DAYS[unit] * every) > most + 1:
            continue
        ticks = _calendar_ticks(first, last, unit, every)
        if len(ticks) <= most:
            break
    if not ticks:
        ticks = [first]
        unit = "day"
    return [(tick, _tick_label(tick, unit, first, last)) for tick in ticks]


def _tick_label(tick: date, unit: str, first: date, last: date) -> str:
    if unit in ("day", "week"):
        # Days within a year; the year too when the axis crosses into another.
        return f"{tick.day} {tick:%b}" + (f" {tick.year}" if first.year != last.year else "")
    if unit == "month":
        # A month's name; January (and a first tick in another year) says which year.
        return f"{tick:%b}" + (
            f" {tick.year}" if tick.month == 1 or first.year != last.year else ""
        )
    return str(tick.year)
