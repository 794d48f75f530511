"""No main page reads a table's rows for the whole clinic: each query goes through an index
that narrows it to the record, the client or the page.

SQLite has no statistics (the app never runs ANALYZE), so it picks an index by the shape of
the query alone; with a clinic condition beside a client condition it may pick the clinic
index and read every visit of the clinic, which is fast with a hundred visits and slow with a
million. The plan is the same whatever the data size, so it is checked here with a small data
set: every SELECT a main page sends (the second time it is opened, as a running server
answers it) is explained, and a full scan or a clinic-wide read of a table that grows with the
clinic fails the test. The check runs on SQLite in both runs of the suite; PostgreSQL plans
by its statistics.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event

from clinic import create_app
from clinic.extensions import db
from tests import factories
from tests.conftest import ClinicTestClient, make_test_config
from tests.test_query_counts import first_records, grow, page_urls

# Tables whose rows grow with the clinic's clients and their history.
GROWING = {
    "clients", "visits", "technique_entries", "screenings", "screening_confirmations",
    "clearances", "finding_overrides", "pain_log_entries", "outcome_assessments",
    "homecare_plans", "homecare_plan_items", "issued_handouts", "visit_addenda",
    "visit_follow_ups", "audit_entries", "login_sessions", "form_stashes",
}  # fmt: skip
# The client list pages through the clinic's clients in name order, LIMIT and OFFSET: read in
# index order, it stops at the page.
ORDERED_PAGE = "SEARCH clients USING INDEX ix_clients_clinic_id_sort_name (clinic_id=?)"
# Lists that are not opened all day and list a period's rows by design.
NOT_MAIN = {"visits this month"}

_FULL_SCAN = re.compile(r"^SCAN (\w+)(?! VIRTUAL TABLE)")
_CLINIC_WIDE = re.compile(r"^SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \(clinic_id=\?\)$")


def problems_in(plan: list[str]) -> list[str]:
    """Return the steps of a query plan that read a growing table for the whole clinic."""
    found = []
    for step in plan:
        for pattern in (_FULL_SCAN, _CLINIC_WIDE):
            match = pattern.match(step)
            if match and match.group(1) in GROWING and step != ORDERED_PAGE:
                found.append(step)
    return found


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    """The app on a SQLite file of its own made by the migrations, as a clinic's is.

    Without statistics, SQLite's choice between two usable indexes can depend on the order
    they were made in, so the schema is the migrations' and not create_all's.
    """
    path = tmp_path / "plans.sqlite3"
    app = create_app(make_test_config(f"sqlite:///{path}"))
    app.test_client_class = ClinicTestClient
    with app.app_context():
        upgrade()
    app.config["PLANS_DATABASE"] = str(path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def explain(connection: sqlite3.Connection, statement: str, parameters: Any) -> list[str]:
    """Return the steps of SQLite's plan for a statement."""
    rows = connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
    return [str(row[3]) for row in rows]


def explained_selects(app: Flask, client: ClinicTestClient, url: str) -> list[tuple[str, Any]]:
    """Open a page and return each SELECT it sent, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200, url
    return sent


def test_no_main_page_reads_a_growing_table_for_the_whole_clinic(sqlite_app: Flask) -> None:
    app = sqlite_app
    world = factories.make_world(app)
    records = first_records(app, world.a)
    grow(app, world.a, records)
    client = app.test_client()
    factories.sign_in(app, client, world.a.therapist_id)
    urls = {name: url for name, url in page_urls(records).items() if name not in NOT_MAIN}
    urls["client list, page 2"] = "/clients/?page=2"
    urls["client list, not screened"] = "/clients/?screening=none"

    found: dict[str, list[str]] = {}
    explained = 0
    # A connection of its own, outside the app's transactions (each takes the write lock).
    with closing(sqlite3.connect(app.config["PLANS_DATABASE"])) as connection:
        for name, url in urls.items():
            explained_selects(app, client, url)  # the first time fills per-process caches
            for statement, parameters in explained_selects(app, client, url):
                plan = explain(connection, statement, parameters)
                explained += 1
                for step in problems_in(plan):
                    found.setdefault(name, []).append(f"{step}  <-  {statement[:160]}")
    assert explained > 60
    assert found == {}


def test_the_check_sees_a_clinic_wide_read() -> None:
    """The check itself: the plans it must refuse, and ones it must let through."""
    assert problems_in(["SEARCH visits USING INDEX ix_visits_clinic_id_status (clinic_id=?)"])
    assert problems_in(["SCAN visits"])
    assert problems_in(["SCAN screening_confirmations USING INDEX ix_x"])
    assert not problems_in(["SEARCH visits USING INDEX ix_visits_client_id_visit_on (client_id=?)"])
    assert not problems_in(["SCAN clients_search VIRTUAL TABLE INDEX 0:M0"])
    assert not problems_in([ORDERED_PAGE])
    assert not problems_in(
        ["SEARCH visits USING INDEX ix_visits_clinic_id_status (clinic_id=? AND status=?)"]
    )


def test_the_check_finds_a_clinic_wide_read_in_a_real_plan(sqlite_app: Flask) -> None:
    """Visits of a given length asked for by clinic: SQLite reads the clinic's all, through the
    clinic index (or every visit, without it)."""
    statement = "SELECT count(id) FROM visits WHERE clinic_id = ? AND length_minutes = ?"
    with closing(sqlite3.connect(sqlite_app.config["PLANS_DATABASE"])) as connection:
        assert problems_in(explain(connection, statement, (1, 60)))
        assert problems_in(
            explain(connection, statement.replace("= ? AND", "+ 0 = ? AND"), (1, 60))
        )
        client_visits = "SELECT max(visit_on) FROM visits WHERE clinic_id = ? AND client_id = ?"
        assert not problems_in(explain(connection, client_visits, (1, 2)))
