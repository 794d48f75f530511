"""The hostile-text corpus in the clinical forms: screening, clearance, override, visit, progress."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from clinic.domain.screening import OTTAWA_CRITERIA, QUESTIONS
from clinic.forms import clean_text
from tests import factories
from tests.test_bad_input import PAYLOADS, shown

TODAY = date.today().isoformat()
_tokens = itertools.count()


@dataclass(frozen=True)
class Ids:
    """A client of clinic A, screened today, with a signed and flagged visit."""

    client_id: int
    screening_id: int
    visit_id: int


def screening_data() -> dict[str, Any]:
    data: dict[str, Any] = {"taken_on": TODAY, "sign": "y"}
    for question in QUESTIONS:
        if question.code not in OTTAWA_CRITERIA:
            data[f"{question.code}-answer"] = "no"
    return data


def visit_data() -> dict[str, Any]:
    return {
        "creation_token": f"hostile-{next(_tokens)}",
        "visit_on": TODAY, "start_time": "10:00", "length_minutes": "60", "knees": "left",
        "pain_before_left": "5", "pain_after_left": "3", "adverse_response": "none",
        "action": "save", "entries-0-technique": "effleurage", "entries-0-target": "calf",
        "entries-0-side": "right", "entries-0-pressure": "1", "entries-0-minutes": "5",
    }  # fmt: skip


@dataclass(frozen=True)
class ClinicalForm:
    """A clinical form: where it posts, valid data and its free-text fields."""

    name: str
    url: Callable[[Ids], str]
    data: Callable[[Ids], dict[str, Any]]
    text_fields: tuple[str, ...]


FORMS = [
    ClinicalForm(
        "screening",
        lambda ids: f"/clients/{ids.client_id}/screening/new",
        lambda ids: screening_data(),
        ("dvt_signs-detail", "cancer-detail", "product_allergy-detail"),
    ),
    ClinicalForm(
        "clearance",
        lambda ids: f"/clients/{ids.client_id}/screening/{ids.screening_id}/clearance",
        lambda ids: {
            "finding_code": "hypertension_uncontrolled",
            "given_by": "Dr. Lee",
            "given_on": TODAY,
        },
        ("given_by", "note"),
    ),
    ClinicalForm(
        "override",
        lambda ids: f"/clients/{ids.client_id}/screening/{ids.screening_id}/override",
        lambda ids: {"finding_code": "skin_break", "reason": "Healed and dry today"},
        ("reason",),
    ),
    ClinicalForm(
        "visit",
        lambda ids: f"/clients/{ids.client_id}/visits/new",
        lambda ids: visit_data(),
        (
            "subjective",
            "palpation",
            "assessment",
            "plan",
            "entries-0-note",
            "entries-0-override_reason",
        ),
    ),
    ClinicalForm(
        "addendum",
        lambda ids: f"/clients/{ids.client_id}/visits/{ids.visit_id}/addenda",
        lambda ids: {"reason": "Late entry", "text": "Client phoned."},
        ("reason", "text"),
    ),
    ClinicalForm(
        "home pain log",
        lambda ids: f"/clients/{ids.client_id}/progress/pain-log",
        lambda ids: {"logged_on": TODAY, "knee": "left", "score": "4"},
        ("note",),
    ),
]


@pytest.fixture
def ids(app, clinic_world) -> Ids:
    a = clinic_world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Hostile")
    screening_id = factories.make_screening(
        app, client_id, a.therapist_id,
        skin_break={"side": "left", "region": "thigh"}, hypertension_uncontrolled=True,
    )  # fmt: skip
    visit_id = factories.make_visit(app, client_id, a.therapist_id, signed=True, adverse_flag=True)
    return Ids(client_id, screening_id, visit_id)


@pytest.mark.parametrize("case", FORMS, ids=lambda case: case.name)
def test_hostile_text_in_clinical_forms_never_fails(app, logged_in, ids, case):
    if case.name == "visit":
        # Visits need the referral cleared first.
        logged_in.post(
            f"/clients/{ids.client_id}/screening/{ids.screening_id}/clearance",
            data={
                "finding_code": "hypertension_uncontrolled",
                "given_by": "Dr. Lee",
                "given_on": TODAY,
            },
        )
    for field in case.text_fields:
        for payload in PAYLOADS:
            data = case.data(ids)
            data[field] = payload
            if field.endswith("-detail"):
                data[field.replace("-detail", "-answer")] = "no"
            response = logged_in.post(case.url(ids), data=data)
            where = f"{case.name}: {field}={payload[:30]!r}"
            assert response.status_code < 500, where
            body = response.get_data(as_text=True)
            assert "<script>alert(" not in body, where
            assert "onerror=alert(1)>" not in body, where
            if response.status_code in (200, 409) and clean_text(payload):
                assert shown(payload) in body, f"{where}: the typed text was not kept"
            if response.status_code == 302:
                page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
                assert "<script>alert(" not in page, where
