"""Backing up and restoring the database: SQLite's online backup, or pg_dump and pg_restore."""

from __future__ import annotations

import contextlib
import enum
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

from clinic.settings import MIGRATIONS_DIR, make_private_file

SQLITE_HEADER = b"SQLite format 3\x00"
PGDUMP_HEADER = b"PGDMP"
# What the summary counts, table by table.
COUNT_QUERIES = {
    "clients": "SELECT count(*) FROM clients",
    "visits": "SELECT count(*) FROM visits",
}


class BackupError(Exception):
    """An expected failure, with a one-line message for the person at the terminal."""


class Backend(enum.StrEnum):
    """The kinds of database the app runs on, and so the kinds of backup file."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"

    @property
    def label(self) -> str:
        """Name shown to the user."""
        return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[self.value]


class RevisionState(enum.StrEnum):
    """How a backup's schema revision compares with this code's migrations."""

    CURRENT = "current"
    OLDER = "older"
    NEWER = "newer"


@dataclass(frozen=True)
class BackupSummary:
    """What a finished backup holds, for the summary printed after it."""

    path: Path
    size: int
    backend: Backend
    revision: str
    clients: int
    visits: int


@dataclass(frozen=True)
class BackupCheck:
    """A backup file found fit to restore: its kind and schema revision."""

    path: Path
    backend: Backend
    revision: str
    state: RevisionState


def backend_of(database_url: str) -> Backend:
    """Return the kind of database a SQLAlchemy URL points at."""
    name = sa.make_url(database_url).get_backend_name()
    try:
        return Backend(name)
    except ValueError:
        raise BackupError(
            f"Backups are only supported for SQLite and PostgreSQL, not {name}."
        ) from None


def describe_database(database_url: str) -> str:
    """Return where the database is, for prompts, with any password hidden."""
    url = sa.make_url(database_url)
    if backend_of(database_url) is Backend.SQLITE:
        return f"the SQLite database {url.database}"
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return f"the PostgreSQL database {url.database} on {where}"


# --- migrations -----------------------------------------------------------------------------------


def _script_directory() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def migrations_head() -> str:
    """Return the newest schema revision this code knows."""
    head = _script_directory().get_current_head()
    assert head is not None, "the migrations have a single head"
    return head


def compare_revision(revision: str) -> RevisionState:
    """Say whether a backup's schema revision is this code's head, older, or unknown (newer)."""
    if revision == migrations_head():
        return RevisionState.CURRENT
    known = {script.revision for script in _script_directory().walk_revisions()}
    # A revision this code has never seen was made by a newer version of the app.
    return RevisionState.OLDER if revision in known else RevisionState.NEWER


def _check_revision(path: Path, revision: str) -> RevisionState:
    state = compare_revision(revision)
    if state is RevisionState.NEWER:
        raise BackupError(
            f"{path} was made by a newer version of clinic (database revision {revision}; "
            f"this version knows up to {migrations_head()}). Update clinic, then restore it."
        )
    return state


# --- files ----------------------------------------------------------------------------------------


def _check_target(path: Path, force: bool) -> None:
    if path.is_dir():
        raise BackupError(f"{path} is a folder: give the name of the backup file to write.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists. Choose another name, or add --force.")


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    """Yield a new empty file in the target's folder; remove it unless it was renamed."""
    try:
        # mkstemp makes the file readable by its owner only: backups hold health records.
        descriptor, name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
        )
    except OSError as error:
        raise BackupError(f"Cannot write in {path.parent}: {error.strerror}.") from error
    os.close(descriptor)
    temporary = Path(name)
    # mkstemp already made it 0600; said again so the rename below keeps a private file.
    make_private_file(temporary, create=False)
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def _move_into_place(temporary: Path, path: Path) -> None:
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    try:
        os.replace(temporary, path)
    except OSError as error:
        raise BackupError(f"Cannot write {path}: {error.strerror}.") from error
    # The rename itself must reach the disk, or a power cut could lose the new name.
    with contextlib.suppress(OSError):
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _read_header(path: Path, length: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(length)
    except FileNotFoundError as error:
        raise BackupError(f"{path} does not exist.") from error
    except IsADirectoryError as error:
        raise BackupError(f"{path} is a folder, not a backup file.") from error
    except OSError as error:
        raise BackupError(f"Cannot read {path}: {error.strerror}.") from error


# --- SQLite ---------------------------------------------------------------------------------------


def _sqlite_path(database_url: str) -> Path:
    database = sa.make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(
            "The configured SQLite database is not a file, so it cannot be backed up."
        )
    return Path(database)


def _open_sqlite(path: Path, mode: str) -> sqlite3.Connection:
    # URI form so that a missing file is an error rather than a new empty database.
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode={mode}", uri=True)


def _sqlite_facts(connection: sqlite3.Connection, path: Path) -> tuple[str, dict[str, int]]:
    """Check a SQLite copy is whole and a clinic database; return its revision and counts."""
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"{path} is damaged: {problems[0]}.")
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "alembic_version" not in tables:
            raise BackupError(f"{path} is a SQLite file but not a clinic database.")
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        if len(rows) != 1:
            raise BackupError(f"{path} has no single database revision, so it cannot be restored.")
        counts = {
            table: int(connection.execute(query).fetchone()[0])
            for table, query in COUNT_QUERIES.items()
            if table in tables
        }
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database: {error}.") from error
    return str(rows[0][0]), counts


def _backup_sqlite(database_url: str, path: Path) -> BackupSummary:
    source_path = _sqlite_path(database_url)
    if not source_path.is_file():
        raise BackupError(f"There is no database at {source_path} to back up.")
    with _temporary_beside(path) as temporary:
        try:
            # Read-write only so a WAL database opens without its -shm file; nothing is written.
            source = _open_sqlite(source_path, "rw")
            try:
                copy = sqlite3.connect(temporary)
                try:
                    # One step under a read lock: a consistent snapshot while the app writes.
                    source.backup(copy)
                    # A single self-contained file: no -wal or -shm files to carry along.
                    copy.execute("PRAGMA journal_mode = DELETE")
                    revision, counts = _sqlite_facts(copy, path)
                finally:
                    copy.close()
            finally:
                source.close()
        except sqlite3.Error as error:
            raise BackupError(f"The backup of {source_path} failed: {error}.") from error
        size = temporary.stat().st_size
        _move_into_place(temporary, path)
    return BackupSummary(
        path=path,
        size=size,
        backend=Backend.SQLITE,
        revision=revision,
        clients=counts.get("clients", 0),
        visits=counts.get("visits", 0),
    )


def _check_sqlite_backup(path: Path) -> BackupCheck:
    header = _read_header(path, len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        hint = " (it looks like a PostgreSQL backup)" if header.startswith(PGDUMP_HEADER) else ""
        raise BackupError(f"{path} is not a SQLite backup{hint}.")
    try:
        connection = _open_sqlite(path, "ro")
    except sqlite3.Error as error:
        raise BackupError(f"Cannot open {path}: {error}.") from error
    try:
        revision, _counts = _sqlite_facts(connection, path)
    finally:
        connection.close()
    return BackupCheck(path, Backend.SQLITE, revision, _check_revision(path, revision))


def _restore_sqlite(database_url: str, path: Path) -> None:
    target_path = _sqlite_path(database_url)
    if not target_path.parent.is_dir():
        raise BackupError(f"The folder {target_path.parent} does not exist.")
    try:
        # Health records: the restored database (and so its -wal and -shm) is the owner's only.
        make_private_file(target_path)
    except OSError as error:
        raise BackupError(f"Cannot write {target_path}: {error.strerror}.") from error
    try:
        source = _open_sqlite(path, "ro")
        try:
            target = sqlite3.connect(target_path, timeout=15)
            try:
                # The backup API replaces every page of the target in one locked step.
                source.backup(target)
                target.execute("PRAGMA journal_mode = WAL")
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        raise BackupError(f"The restore into {target_path} failed: {error}.") from error


# --- PostgreSQL -----------------------------------------------------------------------------------


def _find_program(name: str) -> str:
    program = shutil.which(name)
    if program is None:
        raise BackupError(
            f"{name} was not found on PATH: install the PostgreSQL client tools of the "
            "server's version (e.g. apt-get install postgresql-client)."
        )
    return program


def _libpq_target(database_url: str) -> tuple[str, dict[str, str]]:
    """Return a libpq connection URI without the password, and the environment to run with."""
    url = sa.make_url(database_url)
    if not url.database:
        raise BackupError("The configured PostgreSQL URL names no database.")
    environment = dict(os.environ)
    if url.password is not None:
        # Never on the command line, where other users of the machine could read it.
        environment["PGPASSWORD"] = str(url.password)
    target = url.set(drivername="postgresql", password=None)
    return target.render_as_string(hide_password=False), environment


def _run(arguments: Sequence[str], environment: dict[str, str], what: str) -> str:
    try:
        result = subprocess.run(  # noqa: S603 (fixed programs, no shell)
            list(arguments), env=environment, capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise BackupError(f"Could not run {arguments[0]}: {error.strerror}.") from error
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        # The first error says what went wrong; later lines repeat the SQL that failed.
        errors = [line for line in lines if "error:" in line.lower()]
        detail = (errors or lines or [f"exit status {result.returncode}"])[0]
        raise BackupError(f"{what} failed: {detail}")
    return result.stdout


def _postgres_facts(connection: sa.Connection) -> tuple[str, dict[str, int]]:
    tables = set(sa.inspect(connection).get_table_names())
    if "alembic_version" not in tables:
        raise BackupError("The configured database has no migrations applied: nothing to back up.")
    revision: str = connection.execute(
        sa.text("SELECT version_num FROM alembic_version")
    ).scalar_one()
    counts = {
        table: int(connection.execute(sa.text(query)).scalar_one())
        for table, query in COUNT_QUERIES.items()
        if table in tables
    }
    return str(revision), counts


def _backup_postgres(database_url: str, path: Path) -> BackupSummary:
    pg_dump = _find_program("pg_dump")
    pg_restore = _find_program("pg_restore")
    target, environment = _libpq_target(database_url)
    engine = sa.create_engine(database_url)
    try:
        with (
            _temporary_beside(path) as temporary,
            engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection,
        ):
            # pg_dump reads the snapshot this transaction exports, so the printed counts and
            # revision describe exactly what is in the file.
            snapshot: str = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            revision, counts = _postgres_facts(connection)
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    f"--snapshot={snapshot}",
                    f"--file={temporary}",
                    f"--dbname={target}",
                ],
                environment,
                "pg_dump",
            )
            connection.rollback()
            if _read_header(temporary, len(PGDUMP_HEADER)) != PGDUMP_HEADER:
                raise BackupError("pg_dump wrote something that is not a custom-format backup.")
            # Reading the table of contents back proves the file is whole.
            _run([pg_restore, "--list", str(temporary)], environment, "Checking the backup")
            size = temporary.stat().st_size
            _move_into_place(temporary, path)
    except sa.exc.OperationalError as error:
        raise BackupError(f"Cannot connect to the database: {_first_line(error.orig)}") from error
    finally:
        engine.dispose()
    return BackupSummary(
        path=path,
        size=size,
        backend=Backend.POSTGRESQL,
        revision=revision,
        clients=counts.get("clients", 0),
        visits=counts.get("visits", 0),
    )


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() else ""


_TOC_ENTRY = re.compile(r"^\d+; \d+ \d+ (TABLE|FUNCTION) (\S+) ([^\s(]+)")


def _dump_objects(pg_restore: str, path: Path, environment: dict[str, str]) -> set[str]:
    """Return the tables and functions in a backup, as "TABLE name" and "FUNCTION name"."""
    listing = _run([pg_restore, "--list", str(path)], environment, f"Reading {path}")
    return {
        f"{match.group(1)} {match.group(3)}"
        for line in listing.splitlines()
        if (match := _TOC_ENTRY.match(line))
    }


# The schema's own functions, leaving out those that belong to an extension.
_LIVE_FUNCTIONS = sa.text(
    "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() "
    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
)


def _drop_newer_objects(connection: sa.Connection, in_backup: set[str]) -> list[str]:
    """Drop the tables and functions the backup does not have; return what was dropped."""
    dropped = []
    for table in sorted(sa.inspect(connection).get_table_names()):
        if f"TABLE {table}" not in in_backup:
            connection.execute(sa.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
            dropped.append(table)
    for name, arguments in connection.execute(_LIVE_FUNCTIONS).all():
        if f"FUNCTION {name}" not in in_backup:
            connection.execute(sa.text(f'DROP FUNCTION IF EXISTS "{name}"({arguments}) CASCADE'))
            dropped.append(f"{name}()")
    return dropped


def _dump_revision(pg_restore: str, path: Path, environment: dict[str, str]) -> str | None:
    script = _run(
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)],
        environment,
        f"Reading {path}",
    )
    lines = script.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line:
            rows = lines[index + 1 : lines.index("\\.", index)]
            return rows[0].strip() if len(rows) == 1 else None
    return None


def _check_postgres_backup(path: Path) -> BackupCheck:
    header = _read_header(path, len(SQLITE_HEADER))
    if not header.startswith(PGDUMP_HEADER):
        hint = " (it looks like a SQLite backup)" if header == SQLITE_HEADER else ""
        raise BackupError(f"{path} is not a PostgreSQL backup made by pg_dump{hint}.")
    pg_restore = _find_program("pg_restore")
    revision = _dump_revision(pg_restore, path, dict(os.environ))
    if revision is None:
        raise BackupError(f"{path} is a PostgreSQL backup but not of a clinic database.")
    return BackupCheck(path, Backend.POSTGRESQL, revision, _check_revision(path, revision))


def _restore_postgres(database_url: str, path: Path) -> None:
    pg_restore = _find_program("pg_restore")
    target, environment = _libpq_target(database_url)
    in_backup = _dump_objects(pg_restore, path, environment)
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            # Tables made by migrations newer than the backup would keep rows pointing at
            # replaced records and stop the next `db upgrade`; their foreign keys would also
            # block pg_restore's DROP TABLE. The backup's own objects are replaced by it.
            dropped = _drop_newer_objects(connection, in_backup)
    except sa.exc.OperationalError as error:
        raise BackupError(f"Cannot connect to the database: {_first_line(error.orig)}") from error
    finally:
        engine.dispose()
    try:
        _run(
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={target}",
                str(path),
            ],
            environment,
            "pg_restore",
        )
    except BackupError as error:
        if not dropped:
            raise
        raise BackupError(
            f"{error} Nothing was restored, but the tables newer than the backup were already "
            f"removed ({', '.join(dropped)}): fix the problem and restore again."
        ) from error


# --- the operations -------------------------------------------------------------------------------


def backup_database(database_url: str, path: Path, *, force: bool = False) -> BackupSummary:
    """Copy the configured database to a backup file, checked, then renamed into place."""
    path = Path(path)
    _check_target(path, force)
    if backend_of(database_url) is Backend.SQLITE:
        return _backup_sqlite(database_url, path)
    return _backup_postgres(database_url, path)


def check_backup(database_url: str, path: Path) -> BackupCheck:
    """Check a file is a backup of the configured kind of database, from a known revision."""
    path = Path(path)
    if backend_of(database_url) is Backend.SQLITE:
        return _check_sqlite_backup(path)
    return _check_postgres_backup(path)


def restore_database(database_url: str, path: Path) -> BackupCheck:
    """Replace the configured database's contents with a checked backup's."""
    check = check_backup(database_url, path)
    if check.backend is Backend.SQLITE:
        _restore_sqlite(database_url, check.path)
    else:
        _restore_postgres(database_url, check.path)
    return check
