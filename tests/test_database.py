"""The database layer: SQLite settings, concurrent saves and waiting for a busy lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from clinic.database import normalise_database_url
from clinic.extensions import db
from clinic.models import Client
from tests import factories


def test_sqlite_runs_with_foreign_keys_wal_and_a_busy_timeout(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite settings")
    with app.app_context():
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1
        assert db.session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert db.session.scalar(text("PRAGMA busy_timeout")) >= 5000


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
