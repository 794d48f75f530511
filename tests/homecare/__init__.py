"""Tests for home-care plans: the library, the builder, handouts and the clinic's logo."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO
from typing import Any

from flask import Flask
from pypdf import PdfReader

from clinic.domain.homecare import ITEMS_BY_CODE, Dose
from clinic.homecare.operations import DOSE_FIELDS
from tests import factories


def ready_client(
    app: Flask,
    world: factories.World,
    *,
    client_fields: dict[str, Any] | None = None,
    **answers: Any,
) -> int:
    """A client of clinic A screened today with the answers given (yes to those named).

    Born in 1990, so a knee injury alone does not meet the Ottawa age rule.
    """
    a = world.a
    fields = {"last_name": "Planner", "date_of_birth": date(1990, 5, 17), **(client_fields or {})}
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, **fields)
    factories.make_screening(app, client_id, a.therapist_id, **answers)
    return client_id


def dose_data(prefix: str, dose: Dose) -> dict[str, str]:
    """Return the builder fields of one row (its prefix: "items-3") for a dose."""
    data = {
        f"{prefix}-{name}": str(getattr(dose, name))
        for name in DOSE_FIELDS
        if getattr(dose, name) is not None
    }
    data[f"{prefix}-each"] = dose.each.value if dose.each is not None else ""
    return data


def builder_data(*codes: str, note: str = "", **extra: str) -> dict[str, str]:
    """Return what the builder posts with the built-in items given ticked at their usual dose.

    The rows are the builder form's list "items", one per item ("items-0-key" names the
    library item). An extra "<library key>-<field>" (e.g. "b_cold_pack-note", "c_7-include")
    goes to that item's row, which is added (not ticked) if it is not among the codes.
    """
    data: dict[str, str] = {"creation_token": "", "note": note}
    rows: dict[str, str] = {}

    def row(key: str) -> str:
        if key not in rows:
            rows[key] = f"items-{len(rows)}"
            data[f"{rows[key]}-key"] = key
        return rows[key]

    for code in codes:
        prefix = row(f"b_{code}")
        item = ITEMS_BY_CODE[code]
        data[f"{prefix}-include"] = "y"
        data[f"{prefix}-version"] = str(item.version)
        data.update(dose_data(prefix, item.dose))
    for name, value in extra.items():
        if re.fullmatch(r"[bc]_[a-z0-9_]+-[a-z_]+", name):
            key, field = name.split("-", 1)
            data[f"{row(key)}-{field}"] = value
        else:
            data[name] = value
    return data


def row_name(html: str, key: str, field: str) -> str:
    """Return the name (and id) of a field of a library item's row on a builder page."""
    found = re.search(rf'name="(items-\d+)-key" type="hidden" value="{re.escape(key)}"', html)
    assert found, f"no row for {key} on the page"
    return f"{found.group(1)}-{field}"


def row_prefix(data: dict[str, str], key: str) -> str:
    """Return the prefix ("items-3") of a library item's row in data posted to the builder."""
    return next(name.removesuffix("-key") for name, value in data.items() if value == key)


def has_tick_box(html: str, key: str) -> bool:
    """Whether a library item's row on a builder page can be ticked."""
    return re.search(r'name="items-\d+-include"', row_html(html, key)) is not None


def row_errors(html: str, key: str) -> list[str]:
    """Return the messages shown for a builder row as a whole."""
    return re.findall(rf'<p class="field__error" id="{re.escape(key)}-error">(.*?)</p>', html, re.S)


def row_html(html: str, key: str) -> str:
    """Return one builder row's markup."""
    start = html.index(f'id="item-{key}"')
    end = html.find("</fieldset>", start)
    return html[start:end]


def pdf_text(pdf: bytes) -> str:
    """Return a PDF's text with all whitespace collapsed to single spaces."""
    reader = PdfReader(BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
