"""Alembic: one head, the migrated schema equals the models, each revision goes down and up."""

from __future__ import annotations

import re
import warnings

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade

from clinic.extensions import db
from clinic.models.client import is_client_search_index
from clinic.settings import MIGRATIONS_DIR


def script_directory() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def schema_differences(app: Flask) -> list[object]:
    with app.app_context(), db.engine.connect() as connection, warnings.catch_warnings():
        # Neither SQLAlchemy's reflection nor autogenerate compares indexes on expressions
        # (the client list's lower-case name order); test_tallies checks the migration's.
        warnings.filterwarnings("ignore", message=".*expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    return [
        d for d in differences if not (_is_alembic_bookkeeping(d) or _is_client_search_index(d))
    ]


def _is_alembic_bookkeeping(difference: object) -> bool:
    return isinstance(difference, tuple) and "alembic_version" in repr(difference)


def _is_client_search_index(difference: object) -> bool:
    # Made by DDL beside the models (FTS5 tables on SQLite, a GIN index on PostgreSQL);
    # tests/clients/test_search_index.py checks that the migration makes them.
    return (
        isinstance(difference, tuple)
        and difference[0] in ("remove_table", "remove_index")
        and is_client_search_index(getattr(difference[1], "name", None))
    )


def test_single_head() -> None:
    assert len(script_directory().get_heads()) == 1


def test_revision_files_are_date_prefixed() -> None:
    names = [path.name for path in (MIGRATIONS_DIR / "versions").glob("*.py")]
    assert names
    for name in names:
        assert re.match(r"^\d{8}_[0-9a-f]+_\w+\.py$", name), name


def test_upgrade_head_gives_the_models_schema(migration_app: Flask) -> None:
    with migration_app.app_context():
        upgrade()
    assert schema_differences(migration_app) == []


def test_each_revision_goes_down_and_up_again(migration_app: Flask) -> None:
    revisions = list(reversed(list(script_directory().walk_revisions())))
    assert revisions
    with migration_app.app_context():
        for revision in revisions:
            upgrade(revision=revision.revision)
            downgrade(revision=revision.down_revision or "base")
            upgrade(revision=revision.revision)
        with db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
    assert current == script_directory().get_current_head()
    assert schema_differences(migration_app) == []


def test_upgrading_again_keeps_the_data(migration_app: Flask) -> None:
    """What `make run` does on every start: the second upgrade must change nothing."""
    with migration_app.app_context():
        upgrade()
        db.session.execute(
            sa.text(
                "INSERT INTO clinics (name, address, phone, is_demo, version, created_at, updated_at) VALUES ('Kept', '', '', false, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        db.session.commit()
        upgrade()
        assert db.session.scalar(sa.text("SELECT name FROM clinics")) == "Kept"
