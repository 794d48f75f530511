"""The counts the database keeps (clinic_tallies, visit_month_tallies) equal real counts.

Every path that changes a client or a visit is taken here, through the app where there is
one: new clients, archiving and bringing back, a screening that changes the stored tier,
visits saved and discarded, a visit moved to another month, rows deleted, and two clinics
side by side. After each step the tallies must equal a COUNT over the rows themselves.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import case, func, select

from clinic.extensions import db
from clinic.models import Client, ClinicTally, TechniqueEntry, Visit, VisitMonthTally
from clinic.models.tally import TIER_COLUMNS
from tests import factories
from tests.conftest import ClinicTestClient

# The revision before the one that made the tallies.
BEFORE_TALLIES = "c5f8a2d71e94"


def real_client_counts(clinic_id: int) -> dict[str, int]:
    active = Client.archived_at.is_(None)

    def counted(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    columns = {
        "active_clients": counted(active),
        "archived_clients": counted(Client.archived_at.is_not(None)),
    }
    for tier, name in TIER_COLUMNS.items():
        matches = Client.screening_tier.is_(None) if tier is None else Client.screening_tier == tier
        columns[name] = counted(sa.and_(active, matches))
    row = db.session.execute(
        select(*[c.label(n) for n, c in columns.items()]).where(Client.clinic_id == clinic_id)
    ).one()
    return {name: int(value) for name, value in row._mapping.items()}


def tallied_client_counts(clinic_id: int) -> dict[str, int]:
    tally = db.session.get(ClinicTally, clinic_id)
    names = ["active_clients", "archived_clients", *TIER_COLUMNS.values()]
    return {name: 0 if tally is None else getattr(tally, name) for name in names}


def real_visit_months(clinic_id: int) -> dict[date, int]:
    visits = db.session.scalars(
        select(Visit.visit_on).where(Visit.clinic_id == clinic_id, Visit.discarded_at.is_(None))
    ).all()
    months: dict[date, int] = {}
    for day in visits:
        months[day.replace(day=1)] = months.get(day.replace(day=1), 0) + 1
    return months


def tallied_visit_months(clinic_id: int) -> dict[date, int]:
    rows = db.session.execute(
        select(VisitMonthTally.month, VisitMonthTally.visits).where(
            VisitMonthTally.clinic_id == clinic_id, VisitMonthTally.visits != 0
        )
    ).all()
    return {row.month: row.visits for row in rows}


def assert_tallies_hold(app: Flask, *clinic_ids: int) -> None:
    with app.app_context():
        for clinic_id in clinic_ids:
            assert tallied_client_counts(clinic_id) == real_client_counts(clinic_id)
            assert tallied_visit_months(clinic_id) == real_visit_months(clinic_id)


def test_tallies_follow_every_change_to_clients_and_visits(
    app: Flask, client: ClinicTestClient, clinic_world: factories.World
) -> None:
    a, b = clinic_world.a, clinic_world.b
    assert_tallies_hold(app, a.clinic_id, b.clinic_id)
    factories.sign_in(app, client, a.therapist_id)

    # New clients through the intake form.
    for name in ("Tallyone", "Tallytwo", "Tallythree"):
        response = client.post("/clients/new", data=factories.intake_form_data(last_name=name))
        assert response.status_code == 302
    assert_tallies_hold(app, a.clinic_id, b.clinic_id)
    with app.app_context():
        ids = db.session.scalars(
            select(Client.id).where(Client.last_name.like("Tally%")).order_by(Client.id)
        ).all()
    first, second, third = ids

    # Screenings change the stored tier: clear, then one that refers.
    factories.make_screening(app, first, a.therapist_id)
    factories.make_screening(app, second, a.therapist_id, dvt_signs={"side": "left"})
    assert_tallies_hold(app, a.clinic_id, b.clinic_id)
    with app.app_context():
        assert tallied_client_counts(a.clinic_id)["refer_clients"] >= 1

    # Archived, and one brought back, through the client page's buttons.
    for client_id in (first, third):
        with app.app_context():
            version = db.session.get_one(Client, client_id).version
        answer = client.post(f"/clients/{client_id}/archive", data={"version": str(version)})
        assert answer.status_code == 302
    with app.app_context():
        version = db.session.get_one(Client, third).version
    assert (
        client.post(f"/clients/{third}/unarchive", data={"version": str(version)}).status_code
        == 302
    )
    assert_tallies_hold(app, a.clinic_id, b.clinic_id)

    # Visits: saved this month and last month, one discarded, one moved to another month.
    today = date.today()
    kept = factories.make_visit(app, first, a.therapist_id)
    factories.make_visit(app, first, a.therapist_id, visit_on=today - timedelta(days=40))
    moved = factories.make_visit(app, first, a.therapist_id)
    discarded = client.post(f"/clients/{first}/visits/{kept}/discard", data={"version": "1"})
    assert discarded.status_code == 302
    with app.app_context():
        db.session.get_one(Visit, moved).visit_on = today - timedelta(days=70)
        db.session.commit()
    assert_tallies_hold(app, a.clinic_id, b.clinic_id)

    # Rows deleted outright (as a retention purge would) leave no count behind.
    with app.app_context():
        db.session.execute(sa.delete(TechniqueEntry).where(TechniqueEntry.visit_id == moved))
        db.session.execute(sa.delete(Visit).where(Visit.id == moved))
        db.session.commit()
    assert_tallies_hold(app, a.clinic_id, b.clinic_id)


def test_the_home_page_and_client_list_show_the_tallied_counts(
    app: Flask, client: ClinicTestClient, clinic_world: factories.World
) -> None:
    a = clinic_world.a
    for number in range(3):
        factories.make_client(app, a.clinic_id, a.therapist_id, last_name=f"Counted{number}")
    factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Gone", archived=True)
    factories.make_visit(app, a.client_id, a.therapist_id)
    factories.sign_in(app, client, a.therapist_id)
    with app.app_context():
        # The counts are read from the tallies: make them say something no COUNT would.
        db.session.execute(
            sa.update(ClinicTally)
            .where(ClinicTally.clinic_id == a.clinic_id)
            .values(active_clients=1234, archived_clients=56)
        )
        db.session.execute(
            sa.update(VisitMonthTally)
            .where(VisitMonthTally.clinic_id == a.clinic_id)
            .values(visits=789)
        )
        db.session.commit()
    home = " ".join(client.get("/").get_data(as_text=True).split())
    listing = " ".join(client.get("/clients/").get_data(as_text=True).split())
    assert '<span class="card__number">1234</span> <span class="card__label">active clients' in home
    assert (
        '<span class="card__number">789</span> <span class="card__label">visits this month' in home
    )
    assert "1234 clients." in listing


def test_the_migration_counts_the_rows_already_there(migration_app: Flask) -> None:
    app = migration_app
    with app.app_context():
        upgrade(revision=BEFORE_TALLIES)
    clinic_id = factories.make_clinic(app)
    user_id = factories.make_user(app, clinic_id)
    first = factories.make_client(app, clinic_id, user_id, last_name="Before")
    factories.make_client(app, clinic_id, user_id, last_name="Archived", archived=True)
    factories.make_screening(app, first, user_id, dvt_signs={"side": "left"})
    factories.make_visit(app, first, user_id)
    factories.make_visit(app, first, user_id, visit_on=date.today() - timedelta(days=40))
    with app.app_context():
        upgrade()
    assert_tallies_hold(app, clinic_id)
    with app.app_context():
        assert tallied_client_counts(clinic_id)["archived_clients"] == 1
        assert sum(tallied_visit_months(clinic_id).values()) == 2

    # From then on the triggers keep them.
    factories.make_client(app, clinic_id, user_id, last_name="After")
    factories.make_visit(app, first, user_id)
    assert_tallies_hold(app, clinic_id)
