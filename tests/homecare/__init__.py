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


def dose_data(key: str, dose: Dose) -> dict[str, str]:
    """Return the builder fields of one row for a dose."""
    data = {
        f"{key}-{name}": str(getattr(dose, name))
        for name in DOSE_FIELDS
        if getattr(dose, name) is not None
    }
    data[f"{key}-each"] = dose.each.value if dose.each is not None else ""
    return data


def builder_data(*codes: str, note: str = "", **extra: str) -> dict[str, str]:
    """Return what the builder posts with the built-in items given ticked at their usual dose."""
    data: dict[str, str] = {"creation_token": "", "note": note}
    for code in codes:
        key = f"b_{code}"
        item = ITEMS_BY_CODE[code]
        data[f"{key}-include"] = "y"
        data[f"{key}-version"] = str(item.version)
        data.update(dose_data(key, item.dose))
    data.update(extra)
    return data


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
