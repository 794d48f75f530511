"""Client search through an index: a stored search text on clients, with an FTS5 trigram table
kept in step by triggers on SQLite and a pg_trgm GIN index on PostgreSQL.

Revision ID: c5f8a2d71e94
Revises: b7d3f2a8c615
Create Date: 2026-12-03 15:30:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5f8a2d71e94'
down_revision = 'b7d3f2a8c615'
branch_labels = None
depends_on = None

# The same as clinic.domain.client_search.client_search_text, copied so this step never changes
# with the app: names, email and phone digits in lower case, then a mark and the first two
# letters of each word start.
WORD_START_MARK = "\x01\x01"
_WORD_BREAKS = re.compile(r"[\s\-'\u2018\u2019]+")
_NOT_A_DIGIT = re.compile(r"\D")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def client_search_text(first_name, last_name, email, phone_digits):
    parts = [_CONTROL.sub("", text or "").lower() for text in (first_name, last_name, email)]
    starts = []
    for part in parts:
        for word in _WORD_BREAKS.split(part):
            token = WORD_START_MARK + word[:2]
            if word and token not in starts:
                starts.append(token)
    return " ".join([*parts, _NOT_A_DIGIT.sub("", phone_digits or ""), *starts])


# The same as clinic.models.client (CLIENT_SEARCH_SQLITE, CLIENT_SEARCH_POSTGRESQL).
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE clients_search USING fts5(search_text, content='clients', "
    "content_rowid='id', tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER clients_search_after_insert AFTER INSERT ON clients BEGIN "
    "INSERT INTO clients_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER clients_search_after_update AFTER UPDATE OF id, search_text ON clients BEGIN "
    "INSERT INTO clients_search(clients_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO clients_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER clients_search_after_delete AFTER DELETE ON clients BEGIN "
    "INSERT INTO clients_search(clients_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
]
SQLITE_TRIGGERS = [
    "clients_search_after_insert",
    "clients_search_after_update",
    "clients_search_after_delete",
]
POSTGRESQL_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_clients_search_text_trgm ON clients USING gin (search_text gin_trgm_ops)",
]

clients = sa.table(
    "clients",
    sa.column("id", sa.Integer),
    sa.column("first_name", sa.String),
    sa.column("last_name", sa.String),
    sa.column("email", sa.String),
    sa.column("phone_digits", sa.String),
    sa.column("search_text", sa.Text),
)
BATCH = 2000


def _fill_search_text(bind):
    after = 0
    while True:
        rows = bind.execute(
            sa.select(
                clients.c.id,
                clients.c.first_name,
                clients.c.last_name,
                clients.c.email,
                clients.c.phone_digits,
            )
            .where(clients.c.id > after)
            .order_by(clients.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            sa.update(clients)
            .where(clients.c.id == sa.bindparam("row_id"))
            .values(search_text=sa.bindparam("text")),
            [
                {"row_id": row.id, "text": client_search_text(*row[1:])}
                for row in rows
            ],
        )
        after = rows[-1].id


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
    _fill_search_text(bind)
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.alter_column('search_text', existing_type=sa.Text(), nullable=False)
    # After the batch step above, which may rebuild the table (and would drop its triggers).
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
        # Index the rows that exist already; the triggers keep it in step from here on.
        op.execute("INSERT INTO clients_search(clients_search) VALUES ('rebuild')")
    elif bind.dialect.name == "postgresql":
        for statement in POSTGRESQL_SEARCH:
            op.execute(statement)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS clients_search")
    elif bind.dialect.name == "postgresql":
        # pg_trgm stays: other objects may use it, and it holds no data.
        op.execute("DROP INDEX IF EXISTS ix_clients_search_text_trgm")
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('search_text')
