"""Refused requests are in the audit trail: who, from where, which status and path (finding 9).

A 403, or a 404 on an address with a record's id, for a signed-in account, keeps an "access
refused" entry in that account's clinic's trail, saved after the refused request was rolled
back, and limited per account so that nobody can flood the trail.
"""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from flask import Flask

from clinic.extensions import db
from clinic.models import AuditAction, AuditEntry
from tests import factories
from tests.conftest import ClinicTestClient


def refusals(app: Flask, clinic_id: int | None = None) -> list[AuditEntry]:
    with app.app_context():
        query = sa.select(AuditEntry).where(AuditEntry.action == AuditAction.ACCESS_REFUSED)
        if clinic_id is not None:
            query = query.where(AuditEntry.clinic_id == clinic_id)
        entries = list(db.session.scalars(query.order_by(AuditEntry.id)))
        db.session.expunge_all()
        return entries


def test_a_therapist_opening_another_clinics_client_is_refused_and_it_is_in_her_trail(
    app: Flask, logged_in: ClinicTestClient, clinic_world: factories.World
):
    path = f"/clients/{clinic_world.b.client_id}"
    response = logged_in.get(f"{path}?q=Zebulon", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 404
    [entry] = refusals(app)
    assert entry.clinic_id == clinic_world.a.clinic_id
    assert entry.user_id == clinic_world.a.therapist_id
    assert entry.remote_addr == "192.0.2.7"
    assert entry.summary == f"404 Not found: {path}"
    assert entry.client_id is None, "nothing of clinic B's client is written into A's trail"
    assert "Zebulon" not in entry.summary
    assert not refusals(app, clinic_world.b.clinic_id)


def test_a_therapist_posting_to_an_owners_page_is_refused_and_it_is_in_her_trail(
    app: Flask, logged_in: ClinicTestClient, clinic_world: factories.World
):
    path = f"/admin/users/{clinic_world.a.owner_id}/deactivate"
    response = logged_in.post(path)
    assert response.status_code == 403
    [entry] = refusals(app, clinic_world.a.clinic_id)
    assert entry.user_id == clinic_world.a.therapist_id
    assert entry.summary == f"403 Not allowed: {path}"
    assert entry.remote_addr == "127.0.0.1"


def test_a_refused_page_without_ids_is_recorded_too_when_it_is_a_403(
    app: Flask, logged_in: ClinicTestClient, clinic_world: factories.World
):
    assert logged_in.get("/audit/").status_code == 403
    assert [entry.summary for entry in refusals(app)] == ["403 Not allowed: /audit/"]


def test_the_refused_requests_own_changes_are_still_rolled_back(
    app: Flask, logged_in: ClinicTestClient, clinic_world: factories.World
):
    """The entry is saved on its own: the refused request keeps nothing else."""
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    logged_in.get(f"/clients/{clinic_world.b.client_id}")
    with app.app_context():
        after = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    assert after == before + 1


def test_a_404_for_someone_not_signed_in_writes_nothing(
    app: Flask, client: ClinicTestClient, clinic_world: factories.World
):
    client.get(f"/clients/{clinic_world.b.client_id}")
    client.get("/no-such-page")
    assert refusals(app) == []


def test_a_mistyped_address_without_ids_writes_nothing(
    app: Flask, logged_in: ClinicTestClient, clinic_world: factories.World
):
    assert logged_in.get("/no-such-page").status_code == 404
    assert logged_in.get("/clients/not-a-number").status_code == 404
    assert refusals(app) == []


def test_31_refusals_in_a_minute_keep_30_entries_and_one_line_in_the_log(
    app: Flask,
    logged_in: ClinicTestClient,
    clinic_world: factories.World,
    caplog: pytest.LogCaptureFixture,
):
    with caplog.at_level(logging.WARNING, logger="clinic.errors"):
        for _ in range(32):
            assert logged_in.get(f"/clients/{clinic_world.b.client_id}").status_code == 404
    assert len(refusals(app)) == 30
    lines = [r.getMessage() for r in caplog.records if r.name == "clinic.errors"]
    assert len(lines) == 1
    assert "ACCESS_REFUSED_AUDIT_LIMIT" in lines[0]
    assert f"account {clinic_world.a.therapist_id} " in lines[0]


def test_the_limit_is_per_account(
    app: Flask, logged_in: ClinicTestClient, clinic_world: factories.World
):
    app.config["ACCESS_REFUSED_AUDIT_LIMIT"] = "2 per minute"
    for _ in range(3):
        logged_in.get(f"/clients/{clinic_world.b.client_id}")
    other = app.test_client()
    factories.sign_in(app, other, clinic_world.a.owner_id)
    other.get(f"/clients/{clinic_world.b.client_id}")
    assert [entry.user_id for entry in refusals(app)] == [
        clinic_world.a.therapist_id,
        clinic_world.a.therapist_id,
        clinic_world.a.owner_id,
    ]


def test_the_owner_sees_refusals_in_the_trail_and_can_filter_by_them(
    app: Flask, client: ClinicTestClient, clinic_world: factories.World
):
    therapist = app.test_client()
    factories.sign_in(app, therapist, clinic_world.a.therapist_id)
    therapist.get(f"/clients/{clinic_world.b.client_id}")
    factories.sign_in(app, client, clinic_world.a.owner_id)
    page = client.get("/audit/?action=access_refused")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Access refused" in html
    assert f"404 Not found: /clients/{clinic_world.b.client_id}" in html
    other = client.get("/audit/?action=view").get_data(as_text=True)
    assert f"404 Not found: /clients/{clinic_world.b.client_id}" not in other


def test_a_refusal_is_recorded_even_when_the_limiters_storage_is_down(
    app: Flask,
    logged_in: ClinicTestClient,
    clinic_world: factories.World,
    monkeypatch: pytest.MonkeyPatch,
):
    """Redis unreachable: the page is still the calm 404 and the refusal is still on file."""
    from clinic.extensions import limiter

    def storage_down(*args: object, **kwargs: object) -> bool:
        raise ConnectionError("storage unreachable")

    monkeypatch.setattr(limiter.limiter, "hit", storage_down)
    response = logged_in.get(f"/clients/{clinic_world.b.client_id}")
    assert response.status_code == 404
    assert len(refusals(app, clinic_world.a.clinic_id)) == 1
