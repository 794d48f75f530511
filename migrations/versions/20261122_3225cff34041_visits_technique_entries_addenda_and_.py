"""Visits with technique entries, addenda and follow-ups.

Revision ID: 3225cff34041
Revises: 654e7544e33b
Create Date: 2026-11-22 16:03:46.256876

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3225cff34041'
down_revision = '654e7544e33b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=True),
    sa.Column('creation_token', sa.String(length=64), nullable=False),
    sa.Column('visit_on', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('length_minutes', sa.Integer(), nullable=False),
    sa.Column('knees', sa.String(length=13), nullable=False),
    sa.Column('pain_before_left', sa.Integer(), nullable=True),
    sa.Column('pain_after_left', sa.Integer(), nullable=True),
    sa.Column('pain_before_right', sa.Integer(), nullable=True),
    sa.Column('pain_after_right', sa.Integer(), nullable=True),
    sa.Column('subjective', sa.Text(), nullable=False),
    sa.Column('swelling', sa.String(length=16), nullable=True),
    sa.Column('flexion_left_degrees', sa.Integer(), nullable=True),
    sa.Column('flexion_right_degrees', sa.Integer(), nullable=True),
    sa.Column('palpation', sa.Text(), nullable=False),
    sa.Column('assessment', sa.Text(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('next_visit_on', sa.Date(), nullable=True),
    sa.Column('adverse_response', sa.String(length=17), nullable=False),
    sa.Column('adverse_note', sa.Text(), nullable=False),
    sa.Column('adverse_flag', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=14), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=True),
    sa.Column('discarded_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_visits_client_id_clients')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_visits_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['screening_id'], ['screenings.id'], name=op.f('fk_visits_screening_id_screenings')),
    sa.ForeignKeyConstraint(['therapist_id'], ['users.id'], name=op.f('fk_visits_therapist_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('creation_token', name=op.f('uq_visits_creation_token'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_client_id_visit_on', ['client_id', 'visit_on'], unique=False)
        batch_op.create_index('ix_visits_clinic_id_status', ['clinic_id', 'status'], unique=False)

    op.create_table('technique_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('technique', sa.String(length=28), nullable=False),
    sa.Column('target', sa.String(length=25), nullable=False),
    sa.Column('side', sa.String(length=13), nullable=False),
    sa.Column('pressure', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('repetitions', sa.Integer(), nullable=True),
    sa.Column('hold_seconds', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_technique_entries_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_technique_entries_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_technique_entries'))
    )
    with op.batch_alter_table('technique_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_technique_entries_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_addenda',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_visit_addenda_author_id_users')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_visit_addenda_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_addenda_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_addenda'))
    )
    with op.batch_alter_table('visit_addenda', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_addenda_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_visit_follow_ups_author_id_users')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_visit_follow_ups_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_follow_ups_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_follow_ups'))
    )
    with op.batch_alter_table('visit_follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_follow_ups_visit_id'), ['visit_id'], unique=False)



def downgrade():
    with op.batch_alter_table('visit_follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_follow_ups_visit_id'))

    op.drop_table('visit_follow_ups')
    with op.batch_alter_table('visit_addenda', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_addenda_visit_id'))

    op.drop_table('visit_addenda')
    with op.batch_alter_table('technique_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_technique_entries_visit_id'))

    op.drop_table('technique_entries')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_clinic_id_status')
        batch_op.drop_index('ix_visits_client_id_visit_on')

    op.drop_table('visits')
