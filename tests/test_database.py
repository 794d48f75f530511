"""The database layer: SQLite settings, concurrent saves and waiting for a busy lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from clinic.database import normalise_database_url
from clinic.extensions import db
from clinic.models import Client
from tests import factories


def test_sqlite_runs_with_foreign_keys_wal_a_busy_timeout_and_memory_mapping(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite settings")
    with app.app_context():
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1
        assert db.session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert db.session.scalar(text("PRAGMA busy_timeout")) >= 5000
        # As much of the file as SQLite's build allows is read through memory mapping.
        assert db.session.scalar(text("PRAGMA mmap_size")) >= 2**30


def test_foreign_keys_are_enforced(app):
    with app.app_context():
        db.session.add(factories_client_row(clinic_id=424242))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def factories_client_row(**overrides):
    intake = factories.intake()
    values = {name: getattr(intake, name) for name in intake.__dataclass_fields__}
    values.update(overrides)
    return Client(**values)


def test_concurrent_saves_from_many_threads_all_land(app, clinic_world):
    """Eight therapists press save at the same moment, five times each."""
    a = clinic_world.a
    clients = []
    for _ in range(8):
        browser = app.test_client()
        factories.sign_in(app, browser, a.therapist_id)
        clients.append(browser)
    start = threading.Barrier(len(clients))

    def save_five(index: int) -> list[int]:
        browser = clients[index]
        start.wait()
        codes = []
        for number in range(5):
            data = factories.intake_form_data(last_name=f"Thread{index}-{number}")
            codes.append(browser.post("/clients/new", data=data).status_code)
        return codes

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        results = list(pool.map(save_five, range(len(clients))))
    assert all(code == 302 for codes in results for code in codes), results
    with app.app_context():
        saved = db.session.scalar(
            select(func.count(Client.id)).where(Client.last_name.like("Thread%"))
        )
    assert saved == 40


def test_a_save_waits_for_a_busy_sqlite_writer_instead_of_failing(app, logged_in, backend):
    if backend != "sqlite":
        pytest.skip("SQLite locking")
    path = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"]).removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release_soon() -> None:
        time.sleep(0.6)
        holder.execute("COMMIT")
        released.set()

    threading.Thread(target=release_soon, daemon=True).start()
    response = logged_in.post("/clients/new", data=factories.intake_form_data(last_name="Waiter"))
    assert released.is_set(), "the save should have waited for the other writer"
    assert response.status_code == 302
    holder.close()


def _statements_during(app, request):
    sent: list[str] = []

    def note(conn, cursor, statement, *args):
        sent.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        response = request()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return response, sent


def test_a_page_view_commits_without_waiting_for_the_disk_a_change_waits(
    app, client, clinic_world, backend
):
    a = clinic_world.a
    factories.sign_in(app, client, a.therapist_id)
    client.get("/clients/")

    shown, view_statements = _statements_during(app, lambda: client.get("/clients/"))
    saved, save_statements = _statements_during(
        app, lambda: client.post("/clients/new", data=factories.intake_form_data(last_name="Kept"))
    )

    assert shown.status_code == 200
    assert saved.status_code == 302
    assert any(s.startswith("INSERT INTO audit_entries") for s in view_statements)
    if backend == "sqlite":
        # The level is set before each transaction begins: it cannot change inside one.
        assert view_statements[:2] == ["PRAGMA synchronous = NORMAL", "BEGIN IMMEDIATE"]
        assert save_statements[:2] == ["PRAGMA synchronous = FULL", "BEGIN IMMEDIATE"]
    else:
        # Connections start with synchronous_commit off; a change turns it on for itself.
        assert not any("synchronous_commit" in s for s in view_statements)
        assert save_statements[0] == "SET LOCAL synchronous_commit = on"
    with app.app_context():
        kept = db.session.scalar(select(func.count()).where(Client.last_name == "Kept"))
        assert kept == 1


def test_work_outside_a_request_always_waits_for_the_disk(app, backend):
    with app.app_context():
        _, sent = _statements_during(app, lambda: db.session.execute(text("SELECT 1")))
        db.session.rollback()
    if backend == "sqlite":
        assert sent[:2] == ["PRAGMA synchronous = FULL", "BEGIN IMMEDIATE"]
    else:
        assert sent[0] == "SET LOCAL synchronous_commit = on"


@pytest.mark.parametrize(("method", "waits"), [("GET", False), ("HEAD", False), ("POST", True)])
def test_the_database_is_told_whether_to_wait(app, backend, method, waits):
    asked = "PRAGMA synchronous" if backend == "sqlite" else "SHOW synchronous_commit"
    with app.test_request_context("/", method=method):
        level = db.session.execute(text(asked)).scalar()
        db.session.rollback()
    if backend == "sqlite":
        assert level == (2 if waits else 1)  # FULL, NORMAL
    else:
        assert level == ("on" if waits else "off")
