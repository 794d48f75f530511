"""Short phrases for screening findings, as the banners and the visit form show them."""

from __future__ import annotations

from flask import Flask

from clinic.domain.screening import Finding


def describe_area(finding: Finding) -> str:
    """Return where a finding holds, e.g. "left lower leg" or "both legs (calf)"."""
    return finding.area_phrase


def describe_cap(finding: Finding) -> str:
    """Return a finding's pressure cap in words, e.g. "medium pressure at most on the left calf"."""
    if finding.max_pressure is None:
        return ""
    words = f"{finding.max_pressure.label.lower()} pressure at most"
    if finding.region is None and finding.side is None:
        return words
    return f"{words} on the {describe_area(finding)}"


def register_display_filters(app: Flask) -> None:
    """Make the phrases available to templates."""
    app.add_template_filter(describe_area, "area")
    app.add_template_filter(describe_cap, "cap")
