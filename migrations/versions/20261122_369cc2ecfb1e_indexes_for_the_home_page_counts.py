"""Indexes for the home page: a month of visits by date; active and flagged clients, covered.

Revision ID: 369cc2ecfb1e
Revises: 2afbbc065e0c
Create Date: 2026-11-22 19:30:45.277024

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '369cc2ecfb1e'
down_revision = '2afbbc065e0c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index('ix_clients_clinic_id_archived_at_screening_tier', ['clinic_id', 'archived_at', 'screening_tier'], unique=False)

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_visit_on', ['visit_on'], unique=False)



def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_visit_on')

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index('ix_clients_clinic_id_archived_at_screening_tier')

