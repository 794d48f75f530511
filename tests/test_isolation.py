"""Clinic isolation: every URL rule, given another clinic's ids, answers 404 and leaks nothing.

The walk is generated from the app's own URL map, so a route added later is covered the
moment it exists. A new kind of id in a URL must be added to OTHER_CLINIC_IDS: the test
fails until it is, rather than silently skipping the route.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.extensions import db
from clinic.models import (
    Addendum,
    Clearance,
    Client,
    Clinic,
    FindingOverride,
    HomeCarePlan,
    HomeCarePlanItem,
    IssuedHandout,
    LibraryItem,
    LibraryItemVersion,
    LoginSession,
    Screening,
    ScreeningConfirmation,
    User,
    Visit,
    VisitFollowUp,
)
from tests import factories

# How to find clinic B's row for each kind of id that appears in a URL.
OTHER_CLINIC_IDS: dict[str, Callable[[factories.World], int]] = {
    "client_id": lambda world: world.b.client_id,
    "user_id": lambda world: world.b.therapist_id,
    "screening_id": lambda world: world.b.screening_id,
    "visit_id": lambda world: world.b.visit_id,
    "plan_id": lambda world: world.b.plan_id,
    "handout_id": lambda world: world.b.handout_id,
    "item_id": lambda world: world.b.library_item_id,
}
OWN_CLINIC_IDS: dict[str, Callable[[factories.World], int]] = {
    "client_id": lambda world: world.a.client_id,
    "user_id": lambda world: world.a.therapist_id,
    "screening_id": lambda world: world.a.screening_id,
    "visit_id": lambda world: world.a.visit_id,
    "plan_id": lambda world: world.a.plan_id,
    "handout_id": lambda world: world.a.handout_id,
    "item_id": lambda world: world.a.library_item_id,
}
# Blueprints only the owner may use: a therapist gets 403 before any row is looked up.
OWNER_ONLY_BLUEPRINTS = ("admin.", "homecare_library.")
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.setup"}
# Words that only clinic B's rows contain; none may appear in anything clinic A is shown.
CLINIC_B_MARKERS = (
    "SecretBeta",
    "ClientBeta",
    "client-Beta@",
    "Clinic Beta",
    "therapist-Beta",
    "Therapist Beta",
)


def snapshot_clinic_b(app: Flask, world: factories.World) -> dict[str, object]:
    """Return everything about clinic B that a write route could change."""
    with app.app_context():
        clinic = db.session.get_one(Clinic, world.b.clinic_id)
        clients = db.session.scalars(select(Client).where(Client.clinic_id == clinic.id)).all()
        users = db.session.scalars(select(User).where(User.clinic_id == clinic.id)).all()
        screenings = db.session.scalars(
            select(Screening).where(Screening.clinic_id == clinic.id)
        ).all()
        counts = {
            model.__name__: db.session.scalar(
                select(func.count()).select_from(model).where(model.clinic_id == clinic.id)
            )
            for model in (
                Clearance,
                FindingOverride,
                ScreeningConfirmation,
                Addendum,
                VisitFollowUp,
                HomeCarePlan,
                HomeCarePlanItem,
                IssuedHandout,
                LibraryItemVersion,
            )
        }
        sessions = db.session.scalars(
            select(LoginSession).join(User).where(User.clinic_id == clinic.id)
        ).all()
        return {
            "clinic": (
                clinic.name,
                clinic.address,
                clinic.phone,
                clinic.version,
                clinic.paper_size,
                clinic.logo,
            ),
            "clients": [(c.id, c.version, c.archived_at, c.main_complaint) for c in clients],
            "users": [(u.id, u.active, u.password_hash, u.version) for u in users],
            "sessions": [(s.id, s.ended_at) for s in sessions],
            "screenings": [(s.id, s.taken_on) for s in screenings],
            "records": counts,
            "library_items": [
                (i.id, i.version, i.current_number, i.archived_at)
                for i in db.session.scalars(
                    select(LibraryItem).where(LibraryItem.clinic_id == clinic.id)
                )
            ],
            "visits": [
                (v.id, v.version, v.status, v.discarded_at)
                for v in db.session.scalars(select(Visit).where(Visit.clinic_id == clinic.id))
            ],
        }


def build_url(rule, ids: dict[str, int]) -> str:
    url = rule.rule
    for name, value in ids.items():
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    return url


def urls_with_a_foreign_id(rule, world: factories.World) -> list[str]:
    """Return the rule with all ids from clinic B, and with each id alone from clinic B."""
    foreign = {name: OTHER_CLINIC_IDS[name](world) for name in rule.arguments}
    urls = [build_url(rule, foreign)]
    if len(rule.arguments) > 1:
        for name in rule.arguments:
            mixed = {other: OWN_CLINIC_IDS[other](world) for other in rule.arguments}
            mixed[name] = foreign[name]
            urls.append(build_url(rule, mixed))
    return urls


def id_rules(app: Flask) -> list:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC_ENDPOINTS and rule.arguments
    ]


@pytest.mark.parametrize("role", ["owner", "therapist"])
def test_every_rule_with_an_id_answers_404_for_another_clinic(app, client, clinic_world, role):
    a = clinic_world.a
    factories.sign_in(app, client, a.owner_id if role == "owner" else a.therapist_id)
    # Sign clinic B's users in too, so that a leak that ends their sign-ins would show.
    factories.sign_in(app, app.test_client(), clinic_world.b.therapist_id)
    before = snapshot_clinic_b(app, clinic_world)

    rules = id_rules(app)
    assert rules, "the walk found no routes with ids"
    checked = 0
    for rule in rules:
        unknown = set(rule.arguments) - set(OTHER_CLINIC_IDS)
        assert not unknown, f"{rule.rule}: add {sorted(unknown)} to OTHER_CLINIC_IDS"
        for url in urls_with_a_foreign_id(rule, clinic_world):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                data = None
                if method == "POST":
                    data = factories.intake_form_data(version="1", csrf_token=client.csrf_token())
                response = client.open(url, method=method, data=data)
                denied = rule.endpoint.startswith(OWNER_ONLY_BLUEPRINTS) and role != "owner"
                expected = 403 if denied else 404
                assert response.status_code == expected, f"{method} {url}: {response.status_code}"
                body = response.get_data(as_text=True)
                for marker in CLINIC_B_MARKERS:
                    assert marker not in body, f"{method} {url} shows {marker!r}"
                checked += 1
    assert checked >= 6
    assert snapshot_clinic_b(app, clinic_world) == before, "a route changed another clinic's rows"


def test_pages_without_ids_show_nothing_of_another_clinic(app, client, clinic_world):
    factories.sign_in(app, client, clinic_world.a.owner_id)
    for rule in app.url_map.iter_rules():
        if rule.arguments or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if "GET" not in (rule.methods or set()):
            continue
        for query in ("", "?q=Beta", "?q=Secret&archived=1"):
            response = client.get(rule.rule + query, follow_redirects=True)
            assert response.status_code == 200, rule.rule
            body = response.get_data(as_text=True)
            for marker in CLINIC_B_MARKERS:
                assert marker not in body, f"{rule.rule}{query} shows {marker!r}"


def test_own_clinic_ids_still_work(app, logged_in, clinic_world):
    """The walk above would pass for an app that 404s everything; this one would not."""
    response = logged_in.get(f"/clients/{clinic_world.a.client_id}")
    assert response.status_code == 200
    assert "SecretAlpha" in response.get_data(as_text=True)
