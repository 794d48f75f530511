"""Database plumbing: SQLite pragmas, UTC timestamps and enum columns."""

from __future__ import annotations

import enum
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import DateTime, Engine, Enum, Integer, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

# How long a write waits for another writer before giving up; the app's
# SQLITE_BUSY_TIMEOUT_MS setting overrides it for the connections it opens.
SQLITE_BUSY_TIMEOUT_MS = 15_000


class UTCDateTime(TypeDecorator[datetime]):
    """Store naive UTC, hand back aware UTC, so both databases behave the same."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_type(enum_class: type[enum.Enum]) -> Enum:
    """Return a portable VARCHAR column type that stores an enum's values, not its names."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=max(len(str(member.value)) for member in enum_class) + 8,
        values_callable=lambda members: [str(member.value) for member in members],
        validate_strings=True,
    )


class IntEnumType(TypeDecorator[enum.IntEnum]):
    """Store an IntEnum as its number, so ordinal scales sort and compare in SQL."""

    impl = Integer
    cache_ok = True

    def __init__(self, enum_class: type[enum.IntEnum]) -> None:
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: enum.IntEnum | int | None, dialect: Dialect) -> int | None:
        return None if value is None else int(self.enum_class(value))

    def process_result_value(self, value: int | None, dialect: Dialect) -> enum.IntEnum | None:
        return None if value is None else self.enum_class(value)


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver the app ships with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# Asked for in full; SQLite lowers it to its build's limit (SQLITE_MAX_MMAP_SIZE).
SQLITE_MMAP_BYTES = 8 * 1024**3


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" hook below issue BEGIN itself instead of pysqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    _make_sqlite_files_private(cursor)
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {_sqlite_busy_timeout_ms()}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # FULL: a committed visit note survives a power cut, not just a crash. The begin hook
    # below relaxes it for the transaction of a page view only.
    cursor.execute("PRAGMA synchronous = FULL")
    # Read the database file through memory mapping (up to SQLite's own limit, 2 GiB in
    # Python's build) rather than a read call per page: every page view writes its audit
    # entry, after which the other connections start from an empty page cache, and a search
    # at 100,000 clients reads a thousand clients' rows (twice as fast mapped).
    cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
    cursor.close()


def _make_sqlite_files_private(cursor: sqlite3.Cursor) -> None:
    """Make the database file and its -wal and -shm readable by their owner only (0600).

    SQLite creates the -wal and -shm files with the database file's mode, so making the
    database private before the first statement that opens the WAL covers all three, whatever
    the umask; files left by an earlier run are made private too.
    """
    from clinic.settings import make_private_file

    for _seq, name, path in cursor.execute("PRAGMA database_list").fetchall():
        if name != "main" or not path:  # an in-memory or temporary database: no file
            continue
        make_private_file(Path(path))
        for suffix in ("-wal", "-shm"):
            # Only if present: an empty -shm made here could confuse SQLite.
            make_private_file(Path(path + suffix), create=False)


def _sqlite_busy_timeout_ms() -> int:
    # Flask-SQLAlchemy opens an app's connections inside that app's context.
    if has_app_context():
        return int(current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS))
    return SQLITE_BUSY_TIMEOUT_MS


# Requests that only show something: their one write is the audit entry saying so.
PAGE_VIEW_METHODS = frozenset({"GET", "HEAD"})


def commit_waits_for_disk() -> bool:
    """Return whether this transaction's commit must be on disk before the answer is sent.

    Every change to a record (any POST: a note, a signature, a screening, an account) waits
    for the disk, so it survives a power cut. A page view's transaction holds only its audit
    entry (and the sign-in's "last seen" time): waiting for the disk there costs about a
    millisecond on every page, and what a power cut in that millisecond could lose is the
    entry of a view that was being answered. Such a commit still reaches the disk with the
    next change or checkpoint, and nothing can be half-written: SQLite's WAL
    (synchronous NORMAL) and PostgreSQL (synchronous_commit off) keep the database
    consistent either way.
    """
    return not (has_request_context() and request.method in PAGE_VIEW_METHODS)


@event.listens_for(Engine, "begin")
def _begin_immediately(connection: Connection) -> None:
    durable = commit_waits_for_disk()
    if connection.dialect.name == "sqlite":
        # The level can only change between transactions, so it is set on every begin.
        connection.exec_driver_sql(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        # A deferred transaction that later needs to write fails at once with "database is
        # locked" instead of waiting; taking the write lock up front lets busy_timeout queue
        # it.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql" and durable:
        # Connections start with it off (below): a page view, the most frequent transaction,
        # then needs no statement of its own.
        connection.exec_driver_sql("SET LOCAL synchronous_commit = on")


@event.listens_for(Engine, "connect")
def _configure_postgresql(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    # Every transaction that changes a record turns it on again (the begin hook above).
    dbapi_connection.execute("SET synchronous_commit = off")
    dbapi_connection.commit()
