"""`clinic backup` and `clinic restore`: a seeded database goes out and comes back unchanged."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_migrate import upgrade

from clinic import backup, create_app
from clinic.audit.trail import Actor, record_event
from clinic.auth import operations as auth_ops
from clinic.domain.catalogue import Side
from clinic.domain.outcomes import Measure
from clinic.extensions import db
from clinic.models import (
    Addendum,
    AuditAction,
    Clearance,
    Clinic,
    FindingOverride,
    FormStash,
    OutcomeAssessment,
    PainLogEntry,
    RecoveryCode,
    ScreeningConfirmation,
    User,
    VisitFollowUp,
)
from tests import factories
from tests.conftest import _fail_or_skip, make_test_config

NEWER_REVISION = "ffffffffffff"
# Every byte value, so a backup that mangles binary columns (the logo, handout PDFs) shows.
ALL_BYTES = bytes(range(256))


# --- scratch databases ----------------------------------------------------------------------------


@pytest.fixture
def make_database(
    backend: str, database_template: str, tmp_path: Path
) -> Iterator[Callable[[str], str]]:
    """Return a function that makes an empty scratch database of the backend under test."""
    if backend == "sqlite":
        yield lambda suffix: f"sqlite:///{tmp_path / f'{suffix}.sqlite3'}"
        return
    made: list[str] = []
    admin = sa.create_engine(database_template, isolation_level="AUTOCOMMIT")

    def make(suffix: str) -> str:
        url = sa.make_url(database_template)
        name = f"{url.database}_backup_{suffix}"
        try:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except sa.exc.DBAPIError as error:
            _fail_or_skip(f"cannot create a scratch database for backup tests: {error.orig}")
        made.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def app_on(url: str) -> Flask:
    return create_app(make_test_config(url))


@pytest.fixture
def apps() -> Iterator[list[Flask]]:
    """Apps made by a test, closed after it so scratch databases can be dropped."""
    made: list[Flask] = []
    yield made
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def live(make_database: Callable[[str], str], apps: list[Flask]) -> Flask:
    """The app on a database built by the migrations and seeded in every table."""
    app = app_on(make_database("live"))
    apps.append(app)
    with app.app_context():
        upgrade()
    seed_every_table(app)
    return app


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    """A folder for backup files, apart from the SQLite databases."""
    folder = tmp_path / "backups"
    folder.mkdir()
    return folder


@pytest.fixture
def runner(live: Flask) -> FlaskCliRunner:
    return live.test_cli_runner()


def seed_every_table(app: Flask) -> None:
    """Two clinics from make_world, then a row or more in every table the world leaves empty."""
    world = factories.make_world(app)
    a = world.a
    extra_client = factories.make_client(
        app, a.clinic_id, a.therapist_id, first_name="Zoë", last_name="Ünïcode ☃", archived=True
    )
    factories.make_visit(
        app,
        extra_client,
        a.therapist_id,
        signed=True,
        visit_on=date(2015, 2, 28),
        plan="",
    )
    with app.app_context():
        clinic = db.session.get_one(Clinic, a.clinic_id)
        clinic.logo, clinic.logo_media_type = ALL_BYTES, "image/png"
        owner = db.session.get_one(User, a.owner_id)
        auth_ops.start_login_session(owner, remote_addr="127.0.0.1", user_agent="pytest")
        db.session.add(RecoveryCode(user_id=a.owner_id, code_hash="0" * 64))
        db.session.add(
            FormStash(
                token_hash="1" * 64,
                clinic_id=a.clinic_id,
                user_id=a.therapist_id,
                path="/clients/new",
                form_data=[["first_name", "Kept"]],
            )
        )
        common = {"clinic_id": a.clinic_id, "client_id": a.client_id}
        db.session.add(
            PainLogEntry(
                **common, logged_on=date(2026, 1, 2), knee=Side.LEFT, score=4,
                note="Stairs", recorded_by_id=a.therapist_id,
            )
        )  # fmt: skip
        db.session.add(
            OutcomeAssessment(
                **common, measure=Measure.LEFS, taken_on=date(2026, 1, 3), knee=Side.LEFT,
                answers={"q1": 3}, raw_score=40, score=Decimal("50.000"),
                recorded_by_id=a.therapist_id,
            )
        )  # fmt: skip
        screening = {**common, "screening_id": a.screening_id}
        db.session.add(
            ScreeningConfirmation(
                **screening, confirmed_on=date(2026, 1, 4), confirmed_by_id=a.therapist_id
            )
        )
        db.session.add(
            Clearance(
                **screening, finding_code="anticoagulants", given_by="Dr. Chen",
                given_on=date(2026, 1, 5), note="Light only", expires_on=None,
                recorded_by_id=a.therapist_id,
            )
        )  # fmt: skip
        db.session.add(
            FindingOverride(
                **screening, finding_code="skin_break", visit_on=date(2026, 1, 6),
                reason="Healed since, checked today", recorded_by_id=a.therapist_id,
            )
        )  # fmt: skip
        visit = {"clinic_id": a.clinic_id, "visit_id": a.visit_id, "author_id": a.therapist_id}
        db.session.add(Addendum(**visit, reason="Typo", text="Left, not right."))
        db.session.add(VisitFollowUp(**visit, text="Called: pain settled."))
        record_event(
            Actor(clinic_id=a.clinic_id, user=None),
            AuditAction.VIEW,
            user_id=a.owner_id,
            client_id=a.client_id,
            record_type="client",
            record_id=a.client_id,
            summary="Client record",
        )
        db.session.commit()


# --- comparing databases --------------------------------------------------------------------------


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Return the full contents of every table of the models, and alembic_version."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            contents = {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        sa.select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in db.metadata.sorted_tables
            }
            contents["alembic_version"] = [
                tuple(row) for row in connection.execute(sa.text("SELECT * FROM alembic_version"))
            ]
    finally:
        engine.dispose()
    return contents


def url_of(app: Flask) -> str:
    return str(app.config["SQLALCHEMY_DATABASE_URI"])


def damage(app: Flask) -> None:
    """Add, change and delete rows, as a day of work (or a mistake) after the backup would."""
    with app.app_context():
        clinic_id = db.session.scalars(sa.select(Clinic.id).order_by(Clinic.id)).first()
        assert clinic_id is not None
        user_id = db.session.scalars(sa.select(User.id).order_by(User.id)).first()
        for table in ("recovery_codes", "form_stashes", "visit_follow_ups"):
            db.session.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608
        db.session.execute(sa.text("UPDATE clinics SET name = 'Renamed'"))
        record_event(
            Actor(clinic_id=clinic_id, user=None),
            AuditAction.EXPORT,
            record_type="client_list",
            user_id=user_id,
            summary="Later",
        )
        db.session.commit()
    factories.make_client(app, clinic_id, user_id, first_name="Added", last_name="Later")


def invoke(runner: FlaskCliRunner, *args: str, **kwargs: Any) -> Any:
    return runner.invoke(args=["clinic", *args], **kwargs)


def assert_refused(result: Any, message: str) -> None:
    """A refusal: a non-zero exit and a one-line message, never a traceback."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert message in result.output
    assert "Traceback" not in result.output


# --- the round trip -------------------------------------------------------------------------------


def test_the_seeded_database_has_rows_in_every_table(live):
    contents = snapshot(url_of(live))
    # A table added later must be seeded here too, or the round trip would not cover it.
    assert set(contents) == {table.name for table in db.metadata.sorted_tables} | {
        "alembic_version"
    }
    empty = sorted(name for name, rows in contents.items() if not rows)
    assert empty == []


def test_backup_then_restore_gives_back_every_row(live, runner, backups):
    path = backups / "clinic-backup"
    before = snapshot(url_of(live))

    result = invoke(runner, "backup", str(path))

    assert result.exit_code == 0, result.output
    assert str(path) in result.output
    assert f"database revision {backup.migrations_head()}" in result.output
    assert "3 client(s), 3 visit(s)" in result.output
    assert path.is_file()
    # Health records: the file is readable by its owner only.
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    assert [p.name for p in backups.iterdir()] == ["clinic-backup"]

    damage(live)
    assert snapshot(url_of(live)) != before

    result = invoke(runner, "restore", str(path), "--yes")

    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    assert "db upgrade" not in result.output
    assert snapshot(url_of(live)) == before
    # The app carries on: new rows get new ids (PostgreSQL's sequences came back too).
    with live.app_context():
        clinic_id = db.session.scalars(sa.select(Clinic.id).order_by(Clinic.id)).first()
        user_id = db.session.scalars(sa.select(User.id).order_by(User.id)).first()
    assert clinic_id is not None and user_id is not None
    factories.make_client(live, clinic_id, user_id, first_name="After")


def test_restore_onto_a_new_empty_database(live, runner, make_database, apps, backups):
    path = backups / "clinic-backup"
    before = snapshot(url_of(live))
    assert invoke(runner, "backup", str(path)).exit_code == 0

    fresh = app_on(make_database("fresh"))
    apps.append(fresh)
    result = invoke(fresh.test_cli_runner(), "restore", str(path), "--yes")

    assert result.exit_code == 0, result.output
    assert snapshot(url_of(fresh)) == before


def test_backup_while_a_write_is_under_way_keeps_only_committed_rows(live, runner, backups):
    path = backups / "clinic-backup"
    engine = sa.create_engine(url_of(live))
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("UPDATE clinics SET name = 'Uncommitted'"))
            result = invoke(runner, "backup", str(path))
            connection.rollback()
    finally:
        engine.dispose()

    assert result.exit_code == 0, result.output
    damage(live)
    assert invoke(runner, "restore", str(path), "--yes").exit_code == 0
    names = [row[1] for row in snapshot(url_of(live))["clinics"]]
    assert names == ["Clinic Alpha", "Clinic Beta"]


# --- refusals -------------------------------------------------------------------------------------


def test_backup_refuses_to_overwrite_without_force(live, runner, backups):
    path = backups / "existing"
    path.write_bytes(b"keep me")

    assert_refused(invoke(runner, "backup", str(path)), "already exists")
    assert path.read_bytes() == b"keep me"

    result = invoke(runner, "backup", str(path), "--force")

    assert result.exit_code == 0, result.output
    assert backup.check_backup(url_of(live), path).revision == backup.migrations_head()
    assert sorted(p.name for p in backups.iterdir()) == ["existing"]


def test_backup_into_a_missing_folder_is_refused(runner, backups):
    path = backups / "no-such-folder" / "backup"
    assert_refused(invoke(runner, "backup", str(path)), "does not exist")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"name,phone\nAda,555\n",
        b"PGDMP\x01\x0e\x00 pretend dump",
        b"SQLite format 3\x00" + b"\x00" * 200,
    ],
    ids=["empty", "csv", "other-kind-pg", "broken-sqlite"],
)
def test_restore_refuses_a_file_that_is_not_a_backup(live, runner, backups, content):
    path = backups / "not-a-backup"
    path.write_bytes(content)
    before = snapshot(url_of(live))

    assert_refused(invoke(runner, "restore", str(path), "--yes"), str(path))

    assert snapshot(url_of(live)) == before


def test_restore_refuses_a_backup_of_the_other_kind(live, runner, backups, backend):
    path = backups / "other-kind"
    if backend == "sqlite":
        path.write_bytes(b"PGDMP" + b"\x00" * 100)
        expected = "it looks like a PostgreSQL backup"
    else:
        path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
        expected = "it looks like a SQLite backup"
    assert_refused(invoke(runner, "restore", str(path), "--yes"), expected)


def test_restore_refuses_a_missing_file(runner, backups):
    path = backups / "missing"
    assert_refused(invoke(runner, "restore", str(path), "--yes"), f"{path} does not exist")


def test_restore_refuses_a_database_that_is_not_the_clinics(
    backend, make_database, runner, backups
):
    path = backups / "other"
    if backend == "sqlite":
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
        message = "not a clinic database"
    else:
        # A real pg_dump file, of a database with nothing of the clinic's in it.
        target = sa.make_url(make_database("other")).set(drivername="postgresql")
        dumped = subprocess.run(
            ["pg_dump", "--format=custom",
             f"--dbname={target.render_as_string(hide_password=False)}", f"--file={path}"],
            check=False, capture_output=True,
        )  # fmt: skip
        assert dumped.returncode == 0, dumped.stderr
        message = "not of a clinic database"
    assert_refused(invoke(runner, "restore", str(path), "--yes"), message)


def set_revision(url: str, revision: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE alembic_version SET version_num = :revision"),
                {"revision": revision},
            )
    finally:
        engine.dispose()


def test_restore_refuses_a_backup_from_a_newer_version(live, runner, backups, backend):
    path = backups / "newer"
    if backend == "sqlite":
        assert invoke(runner, "backup", str(path)).exit_code == 0
        set_revision(f"sqlite:///{path}", NEWER_REVISION)
    else:
        set_revision(url_of(live), NEWER_REVISION)
        assert invoke(runner, "backup", str(path)).exit_code == 0
        set_revision(url_of(live), backup.migrations_head())
    damage(live)
    before = snapshot(url_of(live))

    result = invoke(runner, "restore", str(path), "--yes")

    assert_refused(result, "made by a newer version of clinic")
    assert NEWER_REVISION in result.output and "Update clinic" in result.output
    assert snapshot(url_of(live)) == before


@pytest.mark.parametrize("answer", [None, "n\n", "\n"])
def test_restore_without_yes_asks_and_aborts_unless_told_yes(live, runner, backups, answer):
    path = backups / "backup"
    assert invoke(runner, "backup", str(path)).exit_code == 0
    damage(live)
    before = snapshot(url_of(live))

    result = invoke(runner, "restore", str(path), input=answer)

    assert result.exit_code == 1
    assert "will be replaced by the backup" in result.output
    assert "Stop the app before restoring" in result.output
    assert "Aborted" in result.output
    assert snapshot(url_of(live)) == before


def test_restore_after_answering_yes(live, runner, backups):
    path = backups / "backup"
    before = snapshot(url_of(live))
    assert invoke(runner, "backup", str(path)).exit_code == 0
    damage(live)

    result = invoke(runner, "restore", str(path), input="y\n")

    assert result.exit_code == 0, result.output
    assert snapshot(url_of(live)) == before


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_an_older_backup_is_restored_and_the_upgrade_is_explained(make_database, apps, backups):
    app = app_on(make_database("older"))
    apps.append(app)
    # The first revision: every later one that adds a table makes the restore drop it.
    older = list(backup._script_directory().walk_revisions())[-1].revision
    with app.app_context():
        upgrade(revision=older)
        # Raw SQL: the models describe the newest schema, not this older one.
        db.session.execute(
            sa.text(
                "INSERT INTO clinics (name, address, phone, is_demo, version, created_at, "
                "updated_at) VALUES ('Before the upgrade', '', '', false, 1, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"
            )
        )
        db.session.commit()
    tables_then = table_names(url_of(app))
    path = backups / "older-backup"
    runner = app.test_cli_runner()
    assert invoke(runner, "backup", str(path)).exit_code == 0
    with app.app_context():
        upgrade()
    factories.make_clinic(app, name="After the upgrade")
    assert table_names(url_of(app)) > tables_then

    result = invoke(runner, "restore", str(path), "--yes")

    assert result.exit_code == 0, result.output
    assert "flask --app clinic db upgrade" in result.output
    engine = sa.create_engine(url_of(app))
    try:
        with engine.connect() as connection:
            revisions = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert revisions.all() == [(older,)]
    finally:
        engine.dispose()
    # Tables that came with the newer revisions went with the restore, so the upgrade runs.
    assert table_names(url_of(app)) == tables_then
    with app.app_context():
        upgrade()
        assert db.session.scalars(sa.select(Clinic.name)).all() == ["Before the upgrade"]


# --- PostgreSQL's programs and password -----------------------------------------------------------


def test_a_missing_pg_dump_is_a_clear_message(tmp_path, monkeypatch, apps):
    app = app_on("postgresql+psycopg://clinic:s3cret-pw@127.0.0.1:1/nowhere")
    apps.append(app)
    monkeypatch.setenv("PATH", str(tmp_path))

    result = invoke(app.test_cli_runner(), "backup", str(tmp_path / "backup"))

    assert_refused(result, "pg_dump was not found on PATH")
    assert "s3cret-pw" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_the_password_never_goes_on_a_command_line(live, runner, backups, monkeypatch, backend):
    calls: list[tuple[list[str], dict[str, str]]] = []
    real_run = subprocess.run

    def recording_run(arguments: list[str], **kwargs: Any) -> Any:
        calls.append((list(arguments), dict(kwargs.get("env") or {})))
        return real_run(arguments, **kwargs)

    monkeypatch.setattr(backup.subprocess, "run", recording_run)
    # The local test server trusts every password, so any will do.
    password = "pa ss/w@rd:1"
    if backend == "postgresql":
        url = sa.make_url(url_of(live)).set(password=password)
        live.config["SQLALCHEMY_DATABASE_URI"] = url.render_as_string(hide_password=False)
    path = backups / "backup"

    result = invoke(runner, "backup", str(path))
    assert result.exit_code == 0, result.output
    result = invoke(runner, "restore", str(path), "--yes")
    assert result.exit_code == 0, result.output

    assert password not in result.output
    if backend == "sqlite":
        # SQLite backups use the online backup API: no program runs at all.
        assert calls == []
        return
    programs = [Path(arguments[0]).name for arguments, _env in calls]
    assert "pg_dump" in programs and "pg_restore" in programs
    for arguments, environment in calls:
        assert not any(password in argument for argument in arguments), arguments
        assert not any("pa%20ss" in argument for argument in arguments), arguments
        if Path(arguments[0]).name == "pg_dump":
            assert environment["PGPASSWORD"] == password


def test_restore_of_a_damaged_copy_is_refused(live, runner, backups, backend):
    path = backups / "backup"
    assert invoke(runner, "backup", str(path)).exit_code == 0
    data = bytearray(path.read_bytes())
    # Cut the file short: a copy interrupted on its way to a USB stick.
    path.write_bytes(bytes(data[: len(data) // 2]))
    before = snapshot(url_of(live))

    result = invoke(runner, "restore", str(path), "--yes")

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert snapshot(url_of(live)) == before
