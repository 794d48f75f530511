"""An index of visits by their last change, for the overview's up-to-date check.

Revision ID: 2afbbc065e0c
Revises: ab19d6130d58
Create Date: 2026-11-22 18:28:34.047664

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2afbbc065e0c'
down_revision = 'ab19d6130d58'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_updated_at', ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_updated_at')
