"""A covering index of each client's visits: the client list's last visit dates from the index.

Revision ID: f4b1d8e3a602
Revises: e2a9c4d17b58
Create Date: 2026-12-03 16:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f4b1d8e3a602'
down_revision = 'e2a9c4d17b58'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_visits_client_id_visit_on_covering', 'visits',
        ['client_id', 'visit_on', 'discarded_at', 'clinic_id'],
    )
    op.drop_index('ix_visits_client_id_visit_on', table_name='visits')


def downgrade():
    op.create_index('ix_visits_client_id_visit_on', 'visits', ['client_id', 'visit_on'])
    op.drop_index('ix_visits_client_id_visit_on_covering', table_name='visits')
