"""Visits keep the limits in force at signing; heat, cold and mobilisation have no pressure.

Revision ID: 5e1a7c0d9b42
Revises: 369cc2ecfb1e
Create Date: 2026-12-03 09:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1a7c0d9b42'
down_revision = '369cc2ecfb1e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('limits_in_force', sa.JSON(), nullable=True))
    with op.batch_alter_table('technique_entries', schema=None) as batch_op:
        batch_op.alter_column('pressure', existing_type=sa.Integer(), nullable=True)


def downgrade():
    # Entries without a pressure level go back to the lightest one, which the old schema needs.
    op.execute('UPDATE technique_entries SET pressure = 1 WHERE pressure IS NULL')
    with op.batch_alter_table('technique_entries', schema=None) as batch_op:
        batch_op.alter_column('pressure', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('limits_in_force')
