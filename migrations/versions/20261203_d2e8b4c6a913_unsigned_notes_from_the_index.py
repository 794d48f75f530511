"""The unsigned notes from the index alone: the clinic's drafts index also holds whether a
draft was discarded and its date and time, and each therapist's drafts have an index of their
own, so the home page counts them and the list pages through them without reading each visit.

Revision ID: d2e8b4c6a913
Revises: a7c3e5f90b12
Create Date: 2026-12-03 19:15:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd2e8b4c6a913'
down_revision = 'a7c3e5f90b12'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_visits_clinic_id_status', table_name='visits')
    op.create_index(
        'ix_visits_clinic_id_status', 'visits',
        ['clinic_id', 'status', 'discarded_at', 'visit_on', 'start_time'],
    )
    op.create_index(
        'ix_visits_therapist_id_status', 'visits',
        ['therapist_id', 'status', 'discarded_at', 'clinic_id', 'visit_on', 'start_time'],
    )


def downgrade():
    op.drop_index('ix_visits_therapist_id_status', table_name='visits')
    op.drop_index('ix_visits_clinic_id_status', table_name='visits')
    op.create_index('ix_visits_clinic_id_status', 'visits', ['clinic_id', 'status'])
