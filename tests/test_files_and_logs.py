"""Records stay on disk for their owner only, and no log line repeats what a client told us.

Findings 6 (the database, its -wal and -shm readable by every local user) and 7 (search terms
in gunicorn's access log), checked on the server `make run` starts, and in the app itself.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

import clinic
from clinic import backup, create_app, settings
from clinic.extensions import db
from tests import factories
from tests.conftest import ClinicTestClient, make_test_config
from tests.served import GUNICORN_CONFIG, MAKEFILE, Served, migrate, serve

SEARCHED_NAME = ("Zebulon", "Quartz")
# Built, not written out, so the line of code that raises it does not hold the name itself.
QUOTING_MESSAGE = "duplicate key value (name)=({}) already exists".format(" ".join(SEARCHED_NAME))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    """Run a block under a umask, restoring the test process's own afterwards."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield os.umask
    os.umask(saved)


# --- the server `make run` starts -------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app served as `make run` serves it, under umask 000, with a client named Zebulon
    Quartz, and a signed-in therapist's search for her already sent."""
    root = tmp_path_factory.mktemp("served")
    instance = root / "instance"
    migrate(instance, umask=0o000)
    secret_key = (instance / "secret_key").read_text(encoding="ascii").strip()
    app = create_app(
        make_test_config(f"sqlite:///{instance / 'clinic.sqlite3'}", SECRET_KEY=secret_key)
    )
    app.test_client_class = ClinicTestClient
    world = factories.make_world(app)
    factories.make_client(
        app,
        world.a.clinic_id,
        world.a.therapist_id,
        first_name=SEARCHED_NAME[0],
        last_name=SEARCHED_NAME[1],
        phone="07700 900123",
        email="zebulon.quartz@example.com",
    )
    client = app.test_client()
    factories.sign_in(app, client, world.a.therapist_id)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    with app.app_context():
        db.engine.dispose()
    with serve(instance, root, umask=0o000) as server:
        headers = {"Cookie": f"{cookie.key}={cookie.value}"}
        response, body = server.request(
            "GET", "/clients/?q=Zebulon+Quartz&phone=07700+900123", headers
        )
        assert response.status == 200, body[:500]
        assert b"Zebulon" in body, "the search found the client it looked for"
        server.wait_for_log('"GET /clients/"')
        yield server


def test_make_run_serves_with_the_gunicorn_config_that_keeps_query_strings_out():
    recipe = MAKEFILE.read_text(encoding="utf-8").split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert f"--config {GUNICORN_CONFIG}" in recipe
    assert "--access-logfile" not in recipe, "the config decides where the access log goes"


def test_a_client_search_by_name_and_phone_reaches_no_log_of_the_server(served: Served):
    logs = served.logs()
    assert '"GET /clients/" 200' in logs, logs
    for word in (*SEARCHED_NAME, "07700", "900123", "q="):
        assert word not in logs, f"{word!r} is in the server's logs:\n{logs}"


def test_the_live_database_its_wal_and_shm_and_the_instance_folder_are_private(served: Served):
    """Finding 6, under umask 000: written by `flask db upgrade` and by the running server."""
    for suffix in ("-wal", "-shm"):
        assert Path(f"{served.database}{suffix}").exists(), "the server has the database open"
    assert mode(served.instance) == 0o700
    for path in (
        served.database,
        Path(f"{served.database}-wal"),
        Path(f"{served.database}-shm"),
        served.instance / "secret_key",
    ):
        assert mode(path) == 0o600, f"{path.name} is {oct(mode(path))}"


# --- the same files written by the app in this process ----------------------------------------


@pytest.fixture
def own_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance folder, used as the app's default (no DATABASE_URL, no secret key set)."""
    instance = tmp_path / "instance"
    monkeypatch.setattr(settings, "INSTANCE_DIR", instance)
    monkeypatch.setattr(clinic, "INSTANCE_DIR", instance)
    for name in list(os.environ):
        if name.startswith("CLINIC_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    return instance


def stamp(app: Flask) -> None:
    """Mark a create_all database with the migrations' head, as `flask db upgrade` would."""
    with app.app_context():
        db.session.execute(
            sa.text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32))")
        )
        db.session.execute(
            sa.text("INSERT INTO alembic_version VALUES (:head)"),
            {"head": backup.migrations_head()},
        )
        db.session.commit()


def write_records_and_back_up(instance: Path, backups: Path, *, first: bool = True) -> Path:
    app = create_app()
    database = instance / "clinic.sqlite3"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{database}"
    if first:
        with app.app_context():
            db.create_all()
        stamp(app)
    with app.app_context():
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        db.session.rollback()
    factories.make_clinic(app, name="Written in WAL mode")
    target = backups / "clinic-backup.sqlite3"
    backup.backup_database(app.config["SQLALCHEMY_DATABASE_URI"], target)
    with app.app_context():
        # Held open, as a running server holds it: the -wal and -shm files are there.
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT count(*) FROM clients"))
            private = [instance / "secret_key", database, target]
            private += [Path(f"{database}{suffix}") for suffix in ("-wal", "-shm")]
            modes = {path.name: oct(mode(path)) for path in private}
        db.engine.dispose()
    assert modes == dict.fromkeys(modes, "0o600")
    assert mode(instance) == 0o700
    return target


@pytest.mark.parametrize("mask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_the_database_wal_shm_secret_key_and_backups_are_written_private_whatever_the_umask(
    own_instance: Path, tmp_path: Path, umask, mask: int
):
    umask(mask)
    backups = tmp_path / "backups"
    backups.mkdir()
    write_records_and_back_up(own_instance, backups)


def test_files_an_earlier_version_left_readable_are_made_private_at_the_next_start(
    own_instance: Path, tmp_path: Path, umask
):
    umask(0o022)
    backups = tmp_path / "backups"
    backups.mkdir()
    write_records_and_back_up(own_instance, backups)
    database = own_instance / "clinic.sqlite3"
    for path in (own_instance / "secret_key", database):
        path.chmod(0o644)
    own_instance.chmod(0o755)
    write_records_and_back_up(own_instance, tmp_path, first=False)


def test_a_restored_database_is_private(tmp_path: Path, own_instance: Path, umask):
    """SQLite whatever the suite's backend: a restore writes a database file of its own."""
    umask(0o000)
    app = create_app()
    with app.app_context():
        db.create_all()
    stamp(app)
    made = tmp_path / "made.sqlite3"
    backup.backup_database(app.config["SQLALCHEMY_DATABASE_URI"], made)
    with app.app_context():
        db.engine.dispose()
    restored = tmp_path / "restored.sqlite3"
    backup.restore_database(f"sqlite:///{restored}", made)
    assert mode(restored) == 0o600


# --- application log lines ------------------------------------------------------------------


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The app as in production (a 500 page rather than an exception), with a view whose
    error message quotes what a client typed, as a database error quotes its values."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/_test/fails")
    def fails() -> str:
        raise ValueError(QUOTING_MESSAGE)

    return app


def test_an_error_page_logs_the_traceback_without_the_error_message_that_quotes_a_client(
    failing_app: Flask, logged_in: ClinicTestClient, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.ERROR):
        response = logged_in.get("/_test/fails?q=Zebulon")
    assert response.status_code == 500
    text = caplog.text
    assert "ValueError" in text
    assert "/_test/fails" in text
    for word in SEARCHED_NAME:
        assert word not in text, text


def test_a_failed_commit_logs_no_value_of_the_rows_it_could_not_save(
    logged_in: ClinicTestClient,
    app: Flask,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
):
    def refuse() -> None:
        raise sa.exc.IntegrityError(
            "INSERT INTO clients (first_name) VALUES (?)", SEARCHED_NAME, Exception(QUOTING_MESSAGE)
        )

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(db.session, "commit", refuse)
    with caplog.at_level(logging.ERROR):
        response = logged_in.get("/clients/")
    assert response.status_code == 500
    assert "IntegrityError" in caplog.text
    for word in SEARCHED_NAME:
        assert word not in caplog.text, caplog.text
