"""Security to ASVS level 2: one-time passwords expire, owners must use two-step sign-in,
new clinics require it, secrets at rest are encrypted or keyed, TRUNCATE of the audit trail
is refused on PostgreSQL.

Revision ID: 9d4b2e6f1a37
Revises: 7c3e9a1f4b26
Create Date: 2026-12-03 11:45:00

"""
import base64
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


# revision identifiers, used by Alembic.
revision = '9d4b2e6f1a37'
down_revision = '7c3e9a1f4b26'
branch_labels = None
depends_on = None

# Row triggers do not fire for TRUNCATE; a statement trigger refuses it too.
POSTGRESQL_NO_TRUNCATE = (
    "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_refuse_change()"
)


# The same as clinic.auth.two_factor (version "v1"), copied so this step never changes with
# the app: TOTP secrets become "v1:" and a Fernet token, with a key derived from SECRET_KEY.
SECRET_PREFIX = "v1:"
TOTP_KEY_PURPOSE = b"clinic totp secrets v1"
# Existing owners without two-step sign-in get as long as a new owner (TWO_STEP_GRACE_DAYS).
DEFAULT_GRACE_DAYS = 7

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("role", sa.String),
    sa.column("totp_secret", sa.String),
    sa.column("totp_enabled_at", sa.DateTime),
    sa.column("totp_last_step", sa.Integer),
    sa.column("two_step_due_at", sa.DateTime),
)
recovery_codes = sa.table("recovery_codes", sa.column("id", sa.Integer))


def _fernet():
    secret_key = current_app.config["SECRET_KEY"]
    if not secret_key:
        raise RuntimeError("SECRET_KEY is not set: two-step sign-in secrets need it.")
    material = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=TOTP_KEY_PURPOSE).derive(
        material
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _encrypt_secrets(bind):
    fernet = _fernet()
    rows = bind.execute(
        sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.is_not(None))
    ).all()
    for user_id, secret in rows:
        if secret.startswith(SECRET_PREFIX):
            continue  # encrypted already
        token = fernet.encrypt(secret.encode("ascii")).decode("ascii")
        bind.execute(
            users.update().where(users.c.id == user_id).values(totp_secret=SECRET_PREFIX + token)
        )


def _decrypt_secrets(bind):
    fernet = _fernet()
    rows = bind.execute(
        sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.is_not(None))
    ).all()
    for user_id, stored in rows:
        if not stored.startswith(SECRET_PREFIX):
            continue  # plain already
        try:
            secret = fernet.decrypt(stored.removeprefix(SECRET_PREFIX).encode("ascii"))
            values = {"totp_secret": secret.decode("ascii")}
        except InvalidToken:
            # Made under another secret key: that account sets two-step sign-in up again.
            values = {"totp_secret": None, "totp_enabled_at": None, "totp_last_step": None}
        bind.execute(users.update().where(users.c.id == user_id).values(**values))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('one_time_password_expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('two_step_due_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255))
    # Recovery codes are stored as argon2id hashes, longer than the SHA-256 they were.
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.alter_column('code_hash', existing_type=sa.String(length=64), type_=sa.String(length=255))
    # New clinics require two-step sign-in for everyone; existing clinics keep their choice.
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.alter_column(
            'require_two_factor',
            existing_type=sa.Boolean(),
            existing_nullable=False,
            server_default=sa.true(),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_NO_TRUNCATE)

    bind = op.get_bind()
    # Owners must use two-step sign-in: those without it have the grace period from now on.
    grace = int(current_app.config.get("TWO_STEP_GRACE_DAYS", DEFAULT_GRACE_DAYS))
    due = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=grace)
    bind.execute(
        users.update()
        .where(
            users.c.role == "owner",
            users.c.two_step_due_at.is_(None),
            sa.or_(users.c.totp_secret.is_(None), users.c.totp_enabled_at.is_(None)),
        )
        .values(two_step_due_at=due)
    )
    _encrypt_secrets(bind)
    # The old codes had about 40 bits and an unsalted, unkeyed hash: they stop working, and the
    # Two-step sign-in page asks each person to make new ones.
    bind.execute(recovery_codes.delete())


def downgrade():
    bind = op.get_bind()
    _decrypt_secrets(bind)
    # The codes now stored are keyed hashes the older code cannot check.
    bind.execute(recovery_codes.delete())
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.alter_column(
            'require_two_factor',
            existing_type=sa.Boolean(),
            existing_nullable=False,
            server_default=sa.false(),
        )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.alter_column('code_hash', existing_type=sa.String(length=255), type_=sa.String(length=64))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64))
        batch_op.drop_column('two_step_due_at')
        batch_op.drop_column('one_time_password_expires_at')
