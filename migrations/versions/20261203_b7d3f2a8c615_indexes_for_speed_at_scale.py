"""Indexes for speed at scale: a screening's confirmations, by day.

Revision ID: b7d3f2a8c615
Revises: 9d4b2e6f1a37
Create Date: 2026-12-03 15:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7d3f2a8c615'
down_revision = '9d4b2e6f1a37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('screening_confirmations', schema=None) as batch_op:
        batch_op.create_index(
            'ix_screening_confirmations_screening_id_confirmed_on',
            ['screening_id', 'confirmed_on'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('screening_confirmations', schema=None) as batch_op:
        batch_op.drop_index('ix_screening_confirmations_screening_id_confirmed_on')
