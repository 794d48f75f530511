"""The main pages run as many queries with a few records as with many: no query per row."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from clinic.audit.trail import Actor
from clinic.domain.catalogue import Pressure, Side, Target, Technique
from clinic.domain.outcomes import KOOS_JR_ITEMS, Measure
from clinic.extensions import db
from clinic.models import Client, User, Visit
from clinic.progress import operations as progress_ops
from tests import factories
from tests.conftest import ClinicTestClient

TODAY = date.today()
ENTRY_ROWS = [
    {"technique": technique, "target": target, "side": Side.LEFT,
     "pressure": Pressure.LIGHT, "minutes": Decimal("5")}
    for technique, target in (
        (Technique.EFFLEURAGE, Target.QUADRICEPS),
        (Technique.PETRISSAGE, Target.HAMSTRINGS),
        (Technique.PASSIVE_STRETCH, Target.CALF),
        (Technique.EFFLEURAGE, Target.ADDUCTORS),
        (Technique.PETRISSAGE, Target.CALF),
        (Technique.EFFLEURAGE, Target.ILIOTIBIAL_BAND),
    )
]  # fmt: skip


class QueryCounter:
    """Counts the statements an engine sends, leaving out the once-a-minute sign-in touch."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Whether a sign-in's last-seen time is written depends on the clock, not the data.
        if not statement.lstrip().upper().startswith("UPDATE LOGIN_SESSIONS"):
            self.statements.append(statement)


@pytest.fixture
def counter(app: Flask) -> Iterator[QueryCounter]:
    """Count every statement the app's engine sends to the database."""
    counting = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counting)
    yield counting
    event.remove(engine, "before_cursor_execute", counting)


@dataclass(frozen=True)
class Records:
    """The ids the measured pages are about."""

    client_id: int
    screening_id: int
    signed_visit_id: int
    plan_id: int
    handout_id: int


def first_records(app: Flask, a: factories.ClinicIds) -> Records:
    """Clinic A small: three clients, the measured one screened today with two visits."""
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Measured")
    factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Other")
    screening_id = factories.make_screening(app, client_id, a.therapist_id, anticoagulants=True)
    signed_visit_id = factories.make_visit(
        app, client_id, a.therapist_id, signed=True, entries=ENTRY_ROWS[:2],
        visit_on=TODAY - timedelta(days=1),
    )  # fmt: skip
    factories.make_visit(app, client_id, a.therapist_id, entries=ENTRY_ROWS[:1])
    plan_id = factories.make_plan(app, client_id, a.therapist_id, ("b_cold_pack",))
    handout_id = factories.make_handout(app, plan_id, a.therapist_id)
    return Records(client_id, screening_id, signed_visit_id, plan_id, handout_id)


def grow(app: Flask, a: factories.ClinicIds, records: Records) -> None:
    """Clinic A large: thirty clients, forty visits of many entries, logs, scores, handouts."""
    for number in range(27):
        other = factories.make_client(
            app, a.clinic_id, a.therapist_id, last_name=f"Client{number:02d}"
        )
        factories.make_screening(app, other, a.therapist_id)
        factories.make_visit(app, other, a.therapist_id, signed=True, entries=ENTRY_ROWS)
        factories.make_visit(app, other, a.therapist_id, entries=ENTRY_ROWS[:3],
                             pain_before_left=7, pain_after_left=4)  # fmt: skip
    # Archived clients too (the home page reads them again once one is archived).
    factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Archived", archived=True)
    for days_ago in range(2, 40):
        factories.make_visit(
            app, records.client_id, a.therapist_id, signed=True, entries=ENTRY_ROWS,
            visit_on=TODAY - timedelta(days=days_ago), pain_before_left=days_ago % 9,
        )  # fmt: skip
    for days_ago in (200, 300, 400):
        factories.make_screening(
            app, records.client_id, a.therapist_id, taken_on=TODAY - timedelta(days=days_ago),
            osteoporosis=True,
        )  # fmt: skip
    for _ in range(4):
        factories.make_handout(app, records.plan_id, a.therapist_id)
    factories.make_plan(app, records.client_id, a.therapist_id, ("b_heat_pack",))
    with app.app_context():
        client = db.session.get_one(Client, records.client_id)
        author = db.session.get_one(User, a.therapist_id)
        for days_ago in range(12):
            progress_ops.record_pain_log(
                Actor.of(author), client, logged_on=TODAY - timedelta(days=days_ago), knee=Side.LEFT,
                score=days_ago % 10, note="", today=TODAY,
            )  # fmt: skip
        for days_ago in (0, 10, 20, 30):
            progress_ops.record_assessment(
                Actor.of(author), client, measure=Measure.KOOS_JR, taken_on=TODAY - timedelta(days=days_ago),
                knee=Side.LEFT, answers={item.value: days_ago % 5 for item in KOOS_JR_ITEMS},
                today=TODAY,
            )  # fmt: skip
        db.session.commit()


def page_urls(records: Records) -> dict[str, str]:
    """The main pages, by name."""
    client = f"/clients/{records.client_id}"
    return {
        "client list": "/clients/",
        "client search": "/clients/?q=client",
        "client page": client,
        "client's visits list": f"{client}/visits/",
        "visit note": f"{client}/visits/{records.signed_visit_id}",
        "new visit form": f"{client}/visits/new",
        "new visit form from the last visit": f"{client}/visits/new?from_last=1",
        "progress page": f"{client}/progress",
        "home (clinic overview)": "/",
        "screening": f"{client}/screening/{records.screening_id}",
        "home-care plan": f"{client}/homecare/{records.plan_id}",
        "unsigned notes": "/visits/unsigned",
        "visits this month": "/visits/this-month",
        "handout download": f"{client}/homecare/handouts/{records.handout_id}.pdf",
    }


def count_queries(
    client: ClinicTestClient, counter: QueryCounter, urls: dict[str, str]
) -> dict[str, int]:
    """Open each page once; return how many statements each one sent."""
    counts = {}
    for name, url in urls.items():
        counter.statements.clear()
        response = client.get(url)
        assert response.status_code == 200, f"{name}: {response.status_code}"
        counts[name] = len(counter.statements)
    return counts


def test_main_pages_send_as_many_queries_for_many_records_as_for_few(
    app: Flask,
    client: ClinicTestClient,
    clinic_world: factories.World,
    counter: QueryCounter,
) -> None:
    a = clinic_world.a
    records = first_records(app, a)
    factories.sign_in(app, client, a.therapist_id)
    urls = page_urls(records)
    # The first request of a process also checks once that the app is set up.
    assert client.get("/account/password").status_code == 200

    few = count_queries(client, counter, urls)
    grow(app, a, records)
    many = count_queries(client, counter, urls)

    # A search whose page is full counts its matches in one more query (and stops counting
    # past the limit); a page that is not full is the last one and tells the count itself.
    assert many == {**few, "client search": few["client search"] + 1}
    # The large data set really is larger where it matters to the pages.
    listing = client.get("/clients/").get_data(as_text=True)
    assert listing.count("/clients/") > 25
    # The client page shows the latest visits and links to the rest, which are paged.
    client_page = client.get(f"/clients/{records.client_id}").get_data(as_text=True)
    assert "All 40 visits" in client_page
    visits_list = client.get(f"/clients/{records.client_id}/visits/").get_data(as_text=True)
    assert "Page 1 of 2" in visits_list


def test_the_counter_sees_a_query_per_row(app: Flask, counter: QueryCounter) -> None:
    """The counter itself: loading a column row by row shows up as one statement per row."""
    world = factories.make_world(app)
    for number in range(3):
        factories.make_visit(app, world.a.client_id, world.a.therapist_id, subjective=f"{number}")
    with app.app_context():
        visits = db.session.scalars(select(Visit).where(Visit.client_id == world.a.client_id)).all()
        before = len(counter.statements)
        for visit in visits:
            db.session.expire(visit, ["subjective"])
            _ = visit.subjective
        assert len(visits) == 4
        assert len(counter.statements) - before == len(visits)


def improvement_card(client: ClinicTestClient) -> str:
    """Return the home page's "N of M clients" figure."""
    page = client.get("/").get_data(as_text=True)
    return page.split("clinically important fall in pain (", 1)[1].split(" clients", 1)[0]


def test_the_overview_follows_new_and_changed_visits(
    app: Flask, client: ClinicTestClient, clinic_world: factories.World
) -> None:
    """The home page keeps its pain figures between requests, but never stale ones."""
    a = clinic_world.a
    factories.sign_in(app, client, a.therapist_id)
    steady = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Steady")
    for days_ago, pain in ((20, 8), (10, 7)):
        factories.make_visit(app, steady, a.therapist_id, signed=True,
                             visit_on=TODAY - timedelta(days=days_ago), pain_before_left=pain)  # fmt: skip
    assert improvement_card(client) == "0 of 1"
    assert improvement_card(client) == "0 of 1"

    draft_id = factories.make_visit(app, steady, a.therapist_id, pain_before_left=3)
    assert improvement_card(client) == "1 of 1"

    with app.app_context():
        draft = db.session.get_one(Visit, draft_id)
        draft.pain_before_left = 7
        db.session.commit()
    assert improvement_card(client) == "0 of 1"

    better = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Better")
    for days_ago, pain in ((9, 9), (1, 2)):
        factories.make_visit(app, better, a.therapist_id, signed=True,
                             visit_on=TODAY - timedelta(days=days_ago), pain_before_left=pain)  # fmt: skip
    assert improvement_card(client) == "1 of 2"
    listing = client.get("/clients/?progress=improved").get_data(as_text=True)
    assert "Better" in listing
    assert "Steady" not in listing
