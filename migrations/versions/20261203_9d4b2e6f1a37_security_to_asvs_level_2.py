"""Security to ASVS level 2: one-time passwords expire, owners must use two-step sign-in,
new clinics require it, secrets at rest are encrypted or keyed, TRUNCATE of the audit trail
is refused on PostgreSQL.

Revision ID: 9d4b2e6f1a37
Revises: 7c3e9a1f4b26
Create Date: 2026-12-03 11:45:00

"""
from alembic import op
import sqlalchemy as sa


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


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('one_time_password_expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('two_step_due_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_NO_TRUNCATE)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64))
        batch_op.drop_column('two_step_due_at')
        batch_op.drop_column('one_time_password_expires_at')
