"""Progress on the write path: a refused score is shown on file, each score saved has one entry."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask_login import login_user
from sqlalchemy import func, select

from clinic.audit.trail import Actor
from clinic.domain.catalogue import Side
from clinic.domain.errors import RuleViolations
from clinic.domain.outcomes import KOOS_JR_ITEMS, LEFS_ITEMS
from clinic.extensions import db
from clinic.models import AuditAction, Client, OutcomeAssessment, PainLogEntry, User
from clinic.progress import operations as ops
from tests.audit import Entry, entries, new_entries
from tests.auth import field_errors, page

TODAY = date.today()


def one(written: list[Entry]) -> Entry:
    assert len(written) == 1, written
    return written[0]


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def only_id(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalars(select(model.id)).one())


def koos_jr_data(**changes: str) -> dict[str, str]:
    data = {"taken_on": TODAY.isoformat(), "knee": "left"}
    data.update({f"item-{item.value}": "2" for item in KOOS_JR_ITEMS})
    data.update(changes)
    return data


def test_a_pain_score_of_99_is_refused_beside_it_and_the_page_is_on_file(
    app, logged_in, clinic_world
):
    a = clinic_world.a
    url = f"/clients/{a.client_id}/progress/pain-log"
    form = {"logged_on": TODAY.isoformat(), "knee": "left", "score": "99", "note": "kept"}
    before = entries(app)
    response = logged_in.post(url, data=form)
    assert response.status_code == 200
    html = page(response)
    assert field_errors(html, "score") == ["Pain is a whole number from 0 to 10."]
    assert 'value="99"' in html
    assert count(app, PainLogEntry) == 0
    shown = one(new_entries(app, before))
    assert (shown.action, shown.record_type, shown.client_id, shown.user_id) == (
        AuditAction.VIEW,
        "pain_log",
        a.client_id,
        a.therapist_id,
    )
    assert shown.summary == "Home pain log form (shown again, not saved)"


def test_a_pain_score_saved_is_on_file_once_with_its_id(app, logged_in, clinic_world):
    a = clinic_world.a
    url = f"/clients/{a.client_id}/progress/pain-log"
    form = {"logged_on": TODAY.isoformat(), "knee": "left", "score": "4", "note": ""}
    before = entries(app)
    assert logged_in.post(url, data=form).status_code == 302
    created = one(new_entries(app, before))
    assert (created.action, created.record_type, created.record_id, created.client_id) == (
        AuditAction.CREATE,
        "pain_log",
        only_id(app, PainLogEntry),
        a.client_id,
    )
    assert created.summary == "Added a home pain log score"


@pytest.mark.parametrize("score", [-1, 11, 99, True])
def test_the_operation_itself_refuses_a_score_off_the_scale(app, clinic_world, score):
    a = clinic_world.a
    with app.test_request_context():
        user = db.session.get_one(User, a.therapist_id)
        login_user(user)
        client = db.session.get_one(Client, a.client_id)
        with pytest.raises(RuleViolations) as caught:
            ops.record_pain_log(
                Actor.of(user), client, logged_on=TODAY, knee=Side.LEFT, score=score,
                note="", today=TODAY,
            )  # fmt: skip
        assert caught.value.fields == ("score",)
        db.session.rollback()
    assert count(app, PainLogEntry) == 0


def test_an_invalid_koos_jr_is_shown_again_on_file(app, logged_in, clinic_world):
    a = clinic_world.a
    url = f"/clients/{a.client_id}/progress/koos-jr/new"
    before = entries(app)
    response = logged_in.post(url, data=koos_jr_data(**{"item-pain_stairs": ""}))
    assert response.status_code == 200
    assert field_errors(page(response), "item-pain_stairs") == ["Every question needs an answer."]
    assert count(app, OutcomeAssessment) == 0
    shown = one(new_entries(app, before))
    assert (shown.action, shown.record_type, shown.client_id, shown.summary) == (
        AuditAction.VIEW,
        "assessment",
        a.client_id,
        "KOOS JR form (shown again, not saved)",
    )


def test_a_refusal_of_the_scoring_lands_beside_the_item(app, logged_in, clinic_world, monkeypatch):
    # An answer the form accepts but the scoring refuses is placed on that item's field.
    a = clinic_world.a
    real = ops.score_koos_jr

    def refuse_one(answers):
        real(answers)
        raise RuleViolations.one("pain_stairs", "Choose an answer from 0 (none) to 4 (extreme).")

    monkeypatch.setattr(ops, "score_koos_jr", refuse_one)
    url = f"/clients/{a.client_id}/progress/koos-jr/new"
    html = page(logged_in.post(url, data=koos_jr_data()))
    assert field_errors(html, "item-pain_stairs") == [
        "Choose an answer from 0 (none) to 4 (extreme)."
    ]
    assert count(app, OutcomeAssessment) == 0


@pytest.mark.parametrize(
    ("path", "data", "summary"),
    [
        ("koos-jr", koos_jr_data(), "Recorded a KOOS JR questionnaire"),
        (
            "lefs",
            {"taken_on": TODAY.isoformat(), **{f"item-{i.value}": "3" for i in LEFS_ITEMS}},
            "Recorded a LEFS questionnaire",
        ),
    ],
)
def test_a_questionnaire_saved_is_on_file_once_with_its_id(
    app, logged_in, clinic_world, path, data, summary
):
    a = clinic_world.a
    before = entries(app)
    response = logged_in.post(f"/clients/{a.client_id}/progress/{path}/new", data=data)
    assert response.status_code == 302
    created = one(new_entries(app, before))
    assert (created.action, created.record_type, created.record_id, created.client_id) == (
        AuditAction.CREATE,
        "assessment",
        only_id(app, OutcomeAssessment),
        a.client_id,
    )
    assert created.summary == summary


def test_the_progress_page_and_its_csv_are_on_file(app, logged_in, clinic_world):
    a = clinic_world.a
    before = entries(app)
    assert logged_in.get(f"/clients/{a.client_id}/progress").status_code == 200
    assert logged_in.get(f"/clients/{a.client_id}/progress.csv").status_code == 200
    shown, exported = new_entries(app, before)
    assert (shown.action, shown.client_id, shown.summary) == (
        AuditAction.VIEW,
        a.client_id,
        "Progress charts and tables",
    )
    assert (exported.action, exported.client_id, exported.summary) == (
        AuditAction.EXPORT,
        a.client_id,
        "Progress data (CSV)",
    )


def test_the_overview_writes_nothing(app, logged_in, clinic_world):
    before = entries(app)
    assert logged_in.get("/").status_code == 200
    assert new_entries(app, before) == []
