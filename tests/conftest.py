"""Fixtures: an app with a fresh database per test, on SQLite or PostgreSQL."""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from clinic import create_app
from clinic.database import normalise_database_url
from clinic.extensions import db
from clinic.models import AuditAction
from tests import factories

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="database to run the suite on; postgresql reads CLINIC_TEST_DATABASE_URL",
    )


def _backend(config: pytest.Config) -> str:
    return str(config.getoption("--backend"))


def _postgres_url() -> str:
    return normalise_database_url(os.environ.get("CLINIC_TEST_DATABASE_URL", ""))


def _worker_postgres_url(url: str) -> str:
    """Give each pytest-xdist worker a database of its own beside the configured one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker:
        return url
    base = sa.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def pytest_report_header(config: pytest.Config) -> str:
    backend = _backend(config)
    if backend == "postgresql":
        url = sa.make_url(_postgres_url()) if _postgres_url() else None
        where = (
            url.render_as_string(hide_password=True) if url else "(CLINIC_TEST_DATABASE_URL unset)"
        )
        return f"database backend: PostgreSQL at {where}"
    return "database backend: SQLite (a fresh file per test)"


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> str:
    """The database the suite runs on: sqlite or postgresql."""
    return _backend(pytestconfig)


def _fail_or_skip(message: str) -> None:
    if IN_CI:
        pytest.exit(f"{message} (CI=true: this is a failure)", returncode=1)
    pytest.skip(message)


@pytest.fixture(scope="session")
def database_template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Create the schema once per run; return the template SQLite file or the PostgreSQL URL."""
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        engine = sa.create_engine(f"sqlite:///{path}")
        with app.app_context():
            db.metadata.create_all(engine)
        engine.dispose()
        return str(path)
    url = _postgres_url()
    if not url:
        _fail_or_skip("CLINIC_TEST_DATABASE_URL is not set")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
        url = _worker_postgres_url(url)
        engine = sa.create_engine(url)
    except sa.exc.OperationalError as error:
        _fail_or_skip(f"PostgreSQL is unreachable at {url}: {error.orig}")
    reset_postgres_schema(engine)
    with app.app_context():
        db.metadata.create_all(engine)
    engine.dispose()
    return url


def reset_postgres_schema(engine: sa.Engine) -> None:
    """Drop everything in the test database's public schema."""
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture
def database_url(backend: str, database_template: str, tmp_path: Path) -> Iterator[str]:
    """A database with an empty schema for one test."""
    if backend == "sqlite":
        path = tmp_path / "clinic.sqlite3"
        shutil.copyfile(database_template, path)
        yield f"sqlite:///{path}"
        return
    empty_postgres_tables(database_template)
    yield database_template


_RESET_ENGINES: dict[str, sa.Engine] = {}


def empty_postgres_tables(url: str) -> None:
    """Empty every table of a test database, the audit trail included, and restart its ids.

    DELETE is used rather than TRUNCATE: a test leaves a few rows, and TRUNCATE's new files cost
    about ten times as much per test. The audit trail refuses deletion through triggers; this one
    transaction runs as a replica (`session_replication_role`), which fires no ordinary triggers
    and checks no foreign keys (tests/audit/test_append_only.py proves the refusal holds otherwise).
    """
    engine = _RESET_ENGINES.get(url)
    if engine is None:
        engine = _RESET_ENGINES[url] = sa.create_engine(url, poolclass=sa.pool.StaticPool)
    with engine.begin() as connection:
        sequences = connection.execute(
            sa.text(
                "SELECT sequence_name FROM information_schema.sequences"
                " WHERE sequence_schema = current_schema()"
            )
        ).scalars()
        statements = [
            "SET LOCAL session_replication_role = replica",
            # Names from the app's own metadata and the database's catalogue, not from input.
            *(f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)),  # noqa: S608
            *(f'ALTER SEQUENCE "{name}" RESTART' for name in sequences),
        ]
        connection.exec_driver_sql(";\n".join(statements))


def make_test_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    """Return the configuration tests run the app with."""
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        # In the test process, where tests can watch what the renderer fetches;
        # tests/test_pdf.py checks that the renderer processes give the same bytes.
        "PDF_RENDER_PROCESSES": 0,
        # argon2id at its cheapest: the suite makes and signs in thousands of accounts.
        # tests/auth/test_login.py checks the production parameters.
        "ARGON2_PROFILE": "cheapest",
    }
    config.update(overrides)
    return config


class ClinicTestClient(FlaskClient):
    """A test client that adds a valid CSRF token to form posts unless told not to."""

    def csrf_token(self, base_url: str | None = None) -> str:
        """Return a token valid for this client's session, as the page would carry it."""
        # Over HTTPS the session cookie has another name (__Host-), so the scheme matters.
        where = {"base_url": base_url} if base_url else {}
        with self.session_transaction(**where) as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return str(serializer.dumps(raw))

    def post(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)):
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token(kwargs.get("base_url")))
            kwargs["data"] = data
        return super().post(*args, **kwargs)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The app on a fresh database."""
    app = create_app(make_test_config(database_url))
    app.test_client_class = ClinicTestClient
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> ClinicTestClient:
    """A browser-like client for the app."""
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    """A runner for the app's CLI commands."""
    return app.test_cli_runner()


@pytest.fixture
def clinic_world(app: Flask) -> factories.World:
    """Two clinics, each with an owner, a therapist and a client."""
    return factories.make_world(app)


class AuthActions:
    """Signing in and out through the real forms."""

    def __init__(self, client: ClinicTestClient) -> None:
        self.client = client

    def login(self, email: str, password: str = factories.PASSWORD) -> Any:
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self) -> Any:
        return self.client.post("/logout")


@pytest.fixture
def auth(client: ClinicTestClient) -> AuthActions:
    """Sign in and out through the real login form."""
    return AuthActions(client)


@pytest.fixture
def logged_in(
    app: Flask, client: ClinicTestClient, clinic_world: factories.World
) -> ClinicTestClient:
    """The client signed in as clinic A's therapist (a shortcut past the login form)."""
    factories.sign_in(app, client, clinic_world.a.therapist_id)
    return client


def extract_csrf(html: str) -> str:
    """Return the CSRF token from a rendered form."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def failing_audit(app: Flask, backend: str) -> Iterator[Callable[[AuditAction], None]]:
    """Make inserts of audit entries of one action fail inside the database.

    The app answers as in production (a 500 page) rather than raising into the test.
    """
    app.config["PROPAGATE_EXCEPTIONS"] = False
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    made = []

    def fail_for(action: AuditAction) -> None:
        value = action.value
        assert re.fullmatch(r"[a-z_]+", value)
        with engine.begin() as connection:
            if backend == "sqlite":
                connection.exec_driver_sql(
                    f"CREATE TRIGGER audit_insert_fails_{value} BEFORE INSERT ON audit_entries "
                    f"WHEN NEW.action = '{value}' "
                    "BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END"
                )
            else:
                connection.exec_driver_sql(
                    "CREATE OR REPLACE FUNCTION audit_insert_fails() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected audit failure'; "
                    "END $$"
                )
                connection.exec_driver_sql(
                    f"CREATE TRIGGER audit_insert_fails_{value} BEFORE INSERT ON audit_entries "
                    f"FOR EACH ROW WHEN (NEW.action = '{value}') "
                    "EXECUTE FUNCTION audit_insert_fails()"
                )
        made.append(value)

    yield fail_for
    with engine.begin() as connection:
        for value in made:
            if backend == "sqlite":
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS audit_insert_fails_{value}")
            else:
                connection.exec_driver_sql(
                    f"DROP TRIGGER IF EXISTS audit_insert_fails_{value} ON audit_entries"
                )
        if backend != "sqlite" and made:
            connection.exec_driver_sql("DROP FUNCTION IF EXISTS audit_insert_fails()")
    engine.dispose()


@pytest.fixture
def empty_database_url(backend: str, database_template: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend under test, with no tables at all."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    # A database of its own, so the suite's shared schema is left alone.
    url = sa.make_url(database_template)
    name = f"{url.database}_migrations"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.DBAPIError as error:
        admin.dispose()
        _fail_or_skip(f"cannot create a scratch database for migration tests: {error.orig}")
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def migration_app(empty_database_url: str) -> Iterator[Flask]:
    app = create_app(make_test_config(empty_database_url))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
