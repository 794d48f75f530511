"""Short phrases for screening findings, as the banners and the visit form show them."""

from __future__ import annotations

from flask import Flask

from clinic.domain.catalogue import Laterality, Region
from clinic.domain.screening import Finding

_REGION_WORDS = {
    Region.THIGH: "thigh",
    Region.KNEE: "knee",
    Region.CALF: "calf",
    Region.SHIN: "shin",
    Region.LOWER_LEG: "lower leg",
    Region.WHOLE_LEG: "leg",
}


def describe_area(finding: Finding) -> str:
    """Return where a finding holds, e.g. "left lower leg" or "calves of both legs"."""
    region = _REGION_WORDS[finding.region] if finding.region is not None else "leg"
    if finding.side in (Laterality.LEFT, Laterality.RIGHT):
        return f"{finding.side.value} {region}"
    if finding.region is None:
        return "both legs"
    return f"both legs ({region})" if region != "leg" else "both legs"


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
