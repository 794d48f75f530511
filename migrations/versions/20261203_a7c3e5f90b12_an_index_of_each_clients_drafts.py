"""An index of each client's visits by status: the client page finds the unsigned drafts
through it, without reading the client's whole history.

Revision ID: a7c3e5f90b12
Revises: f4b1d8e3a602
Create Date: 2026-12-03 19:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c3e5f90b12'
down_revision = 'f4b1d8e3a602'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_visits_client_id_status', 'visits', ['client_id', 'status'])


def downgrade():
    op.drop_index('ix_visits_client_id_status', table_name='visits')
