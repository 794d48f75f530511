"""Busy records: a lock held too long answers 503, keeps what was typed and saves nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from psycopg import errors as pg_errors
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from clinic import create_app
from clinic.database import normalise_database_url
from clinic.errors import is_busy_error
from clinic.extensions import db
from clinic.models import Client, Visit
from clinic.visits import operations as visit_ops
from tests import factories
from tests.conftest import ClinicTestClient, make_test_config

BUSY_MESSAGE = "The records are busy: nothing was saved. Please try again in a moment."
# Hostile text: it must come back in the hidden fields escaped, never as markup.
TYPED_NOTE = 'Knee <script>alert("x")</script> & "quotes" \'single\' </form>'


LOCK_WAIT_MS = 200


@pytest.fixture
def app(database_url: str, backend: str) -> Iterator[Flask]:
    """The app with a lock wait short enough for a test to outlast it."""
    overrides: dict[str, Any] = {"SQLITE_BUSY_TIMEOUT_MS": LOCK_WAIT_MS}
    if backend == "postgresql":
        # PostgreSQL waits for a lock for ever unless told otherwise.
        overrides["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "connect_args": {"options": f"-c lock_timeout={LOCK_WAIT_MS}"},
        }
    app = create_app(make_test_config(database_url, **overrides))
    app.test_client_class = ClinicTestClient
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def records_locked(app: Flask, table: str, mode: str = "EXCLUSIVE") -> Iterator[None]:
    """Hold a lock from another connection, as a long save elsewhere would.

    SQLite has one write lock for the whole file (and the app takes it at the start of every
    transaction); PostgreSQL locks the table in the mode given.
    """
    url = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.startswith("sqlite:///"):
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        return
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection, connection.begin() as transaction:
            connection.execute(sa.text(f"LOCK TABLE {table} IN {mode} MODE"))
            yield
            transaction.rollback()
    finally:
        engine.dispose()


class TryAgainForm(HTMLParser):
    """The page's "Try again" form: where it posts and the hidden fields it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append({**values, "fields": []})
        elif tag == "input" and self.forms and values.get("type") == "hidden":
            self.forms[-1]["fields"].append((values["name"], values.get("value", "")))


def try_again_form(page: str) -> dict[str, Any]:
    parser = TryAgainForm()
    parser.feed(page)
    (form,) = [form for form in parser.forms if form.get("method") == "post"]
    return form


def press_try_again(browser: ClinicTestClient, form: dict[str, Any]) -> Any:
    """Send the hidden form as the browser would: the page's own CSRF token, nothing added."""
    return browser.post(form["action"], data=MultiDict(form["fields"]), csrf=False)


def ready_client(app: Flask, world: factories.World) -> int:
    a = world.a
    client_id = factories.make_client(app, a.clinic_id, a.therapist_id, last_name="Waiting")
    factories.make_screening(app, client_id, a.therapist_id)
    return client_id


def visit_form(**overrides: str) -> dict[str, str]:
    data = {
        "creation_token": "busy-token-1",
        "visit_on": date.today().isoformat(),
        "start_time": "10:15",
        "length_minutes": "45",
        "knees": "left",
        "pain_before_left": "7",
        "pain_after_left": "4",
        "subjective": TYPED_NOTE,
        "adverse_response": "none",
        "action": "save",
        "entries-0-technique": "petrissage",
        "entries-0-target": "quadriceps",
        "entries-0-side": "left",
        "entries-0-pressure": "2",
        "entries-0-minutes": "10",
        "entries-1-technique": "passive_stretch",
        "entries-1-target": "hamstrings",
        "entries-1-side": "left",
        "entries-1-pressure": "1",
        "entries-1-minutes": "3",
        "entries-1-hold_seconds": "30",
    }
    data.update(overrides)
    return data


def visits_of(app: Flask, client_id: int) -> list[Visit]:
    with app.app_context():
        visits = db.session.scalars(select(Visit).where(Visit.client_id == client_id)).all()
        for visit in visits:
            _ = visit.entries
            db.session.expunge(visit)
        return list(visits)


def assert_busy_page(response: Any) -> str:
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert BUSY_MESSAGE in page
    assert "Try again" in page
    return str(page)


# --- A lock held longer than the app waits for it ----------------------------------------------


def test_a_visit_saved_while_locked_keeps_its_typing_and_is_saved_once_on_try_again(
    app, logged_in, clinic_world
):
    client_id = ready_client(app, clinic_world)
    url = f"/clients/{client_id}/visits/new"
    posted = {**visit_form(), "csrf_token": logged_in.csrf_token()}
    with records_locked(app, "visits"):
        response = logged_in.post(url, data=posted)
    page = assert_busy_page(response)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    form = try_again_form(page)
    assert form["action"] == url
    assert sorted(form["fields"]) == sorted(posted.items())
    assert visits_of(app, client_id) == []

    saved = press_try_again(logged_in, form)
    assert saved.status_code == 302
    (visit,) = visits_of(app, client_id)
    assert visit.subjective == TYPED_NOTE
    assert [(e.technique.value, e.minutes) for e in visit.entries] == [
        ("petrissage", 10),
        ("passive_stretch", 3),
    ]
    # A second press of "Try again" finds the visit the first one made.
    again = press_try_again(logged_in, form)
    assert again.headers["Location"] == saved.headers["Location"]
    assert len(visits_of(app, client_id)) == 1


def test_an_intake_edit_saved_while_locked_is_saved_once_on_try_again(app, logged_in, clinic_world):
    client_id = clinic_world.a.client_id
    url = f"/clients/{client_id}/edit"
    posted = factories.intake_form_data(
        version="1", last_name="Renamed", goals=TYPED_NOTE, csrf_token=logged_in.csrf_token()
    )
    with records_locked(app, "clients"):
        response = logged_in.post(url, data=posted)
    form = try_again_form(assert_busy_page(response))
    assert sorted(form["fields"]) == sorted(posted.items())
    with app.app_context():
        assert db.session.get_one(Client, client_id).version == 1

    assert press_try_again(logged_in, form).status_code == 302
    # Sent again, the same form is an edit of version 1: a conflict, not a second save.
    assert press_try_again(logged_in, form).status_code == 409
    with app.app_context():
        client = db.session.get_one(Client, client_id)
        assert (client.last_name, client.goals, client.version) == ("Renamed", TYPED_NOTE, 2)


def test_a_page_read_while_locked_offers_a_link_to_try_again(app, logged_in, clinic_world):
    with records_locked(app, "clients", "ACCESS EXCLUSIVE"):
        response = logged_in.get("/clients/?q=Secret&archived=1")
    page = assert_busy_page(response)
    assert 'href="/clients/?q=Secret&amp;archived=1"' in page
    assert '<form method="post"' not in page
    assert logged_in.get("/clients/?q=Secret&archived=1").status_code == 200


def test_a_sign_in_while_locked_never_writes_the_password_into_the_page(app, client, clinic_world):
    with records_locked(app, "users", "ACCESS EXCLUSIVE"):
        response = client.post(
            "/login",
            data={"email": clinic_world.a.therapist_email, "password": factories.PASSWORD},
        )
    page = assert_busy_page(response)
    assert factories.PASSWORD not in page
    assert 'href="/login"' in page
    assert "type it once more" in page


def test_the_sqlite_busy_timeout_is_a_setting(tmp_path):
    url = f"sqlite:///{tmp_path / 'setting.sqlite3'}"
    app = create_app(make_test_config(url, SQLITE_BUSY_TIMEOUT_MS=1234))
    with app.app_context():
        assert db.session.scalar(sa.text("PRAGMA busy_timeout")) == 1234
        db.session.remove()
        db.engine.dispose()
    default = create_app(make_test_config(url))
    with default.app_context():
        assert db.session.scalar(sa.text("PRAGMA busy_timeout")) == 15_000
        db.session.remove()
        db.engine.dispose()


# --- Every backend: the database errors that mean "busy, try again" -------------------------


def wrapped(original: Exception) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("INSERT INTO visits ...", {}, original)


BUSY_ERRORS = {
    "postgres serialization failure": wrapped(
        pg_errors.SerializationFailure("could not serialize access due to concurrent update")
    ),
    "postgres deadlock": wrapped(pg_errors.DeadlockDetected("deadlock detected")),
    "postgres lock timeout": wrapped(
        pg_errors.LockNotAvailable("canceling statement due to lock timeout")
    ),
    "postgres error not wrapped": pg_errors.LockNotAvailable("could not obtain lock"),
    "sqlite locked": wrapped(sqlite3.OperationalError("database is locked")),
    "sqlite table locked": wrapped(sqlite3.OperationalError("database table is locked")),
}

FAULTS = {
    "sqlite disk error": wrapped(sqlite3.OperationalError("disk I/O error")),
    "postgres statement timeout": wrapped(pg_errors.QueryCanceled("canceling statement")),
    "postgres connection lost": wrapped(pg_errors.AdminShutdown("terminating connection")),
}


@pytest.mark.parametrize("error", BUSY_ERRORS.values(), ids=BUSY_ERRORS.keys())
def test_busy_errors_are_recognised(error):
    assert is_busy_error(error)


@pytest.mark.parametrize("error", FAULTS.values(), ids=FAULTS.keys())
def test_other_database_errors_are_faults(error):
    assert not is_busy_error(error)


@pytest.mark.parametrize("error", BUSY_ERRORS.values(), ids=BUSY_ERRORS.keys())
def test_a_busy_error_during_a_save_answers_503_and_keeps_the_form(
    app, logged_in, clinic_world, monkeypatch, error
):
    client_id = ready_client(app, clinic_world)
    url = f"/clients/{client_id}/visits/new"
    posted = {**visit_form(), "csrf_token": logged_in.csrf_token()}
    real_start_visit = visit_ops.start_visit

    def start_then_fail(*args: Any, **kwargs: Any) -> Visit:
        # The rows are flushed, then the database refuses: the rollback must undo them.
        real_start_visit(*args, **kwargs)
        raise error

    monkeypatch.setattr(visit_ops, "start_visit", start_then_fail)
    response = logged_in.post(url, data=posted)
    form = try_again_form(assert_busy_page(response))
    assert sorted(form["fields"]) == sorted(posted.items())
    assert visits_of(app, client_id) == []

    monkeypatch.setattr(visit_ops, "start_visit", real_start_visit)
    assert press_try_again(logged_in, form).status_code == 302
    assert len(visits_of(app, client_id)) == 1


@pytest.mark.parametrize("error", FAULTS.values(), ids=FAULTS.keys())
def test_other_database_errors_still_answer_the_500_page(
    app, logged_in, clinic_world, monkeypatch, error
):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client_id = ready_client(app, clinic_world)

    def fail(*args: Any, **kwargs: Any) -> Visit:
        raise error

    monkeypatch.setattr(visit_ops, "start_visit", fail)
    response = logged_in.post(f"/clients/{client_id}/visits/new", data=visit_form())
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert visits_of(app, client_id) == []


def test_postgresql_connections_wait_for_locks_a_bounded_time() -> None:
    """Production PostgreSQL connections carry a lock timeout, so a busy row gives the busy page."""
    app = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "postgresql://u@127.0.0.1/none"}
    )
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    assert options == "-c lock_timeout=15000"
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
