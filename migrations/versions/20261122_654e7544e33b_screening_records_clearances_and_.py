"""Screening records, confirmations, clearances and one-visit overrides.

Revision ID: 654e7544e33b
Revises: 116a8575b5ea
Create Date: 2026-11-22 15:46:56.860480

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '654e7544e33b'
down_revision = '116a8575b5ea'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('screenings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('questionnaire_version', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('tier', sa.String(length=19), nullable=False),
    sa.Column('client_age', sa.Integer(), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_screenings_client_id_clients')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_screenings_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_screenings_signed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screenings'))
    )
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.create_index('ix_screenings_client_id_taken_on', ['client_id', 'taken_on'], unique=False)

    op.create_table('clearances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=False),
    sa.Column('finding_code', sa.String(length=60), nullable=False),
    sa.Column('given_by', sa.String(length=200), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_clearances_client_id_clients')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_clearances_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_clearances_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['screening_id'], ['screenings.id'], name=op.f('fk_clearances_screening_id_screenings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clearances'))
    )
    with op.batch_alter_table('clearances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clearances_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clearances_screening_id'), ['screening_id'], unique=False)

    op.create_table('finding_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=False),
    sa.Column('finding_code', sa.String(length=60), nullable=False),
    sa.Column('visit_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_finding_overrides_client_id_clients')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_finding_overrides_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_finding_overrides_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['screening_id'], ['screenings.id'], name=op.f('fk_finding_overrides_screening_id_screenings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_overrides'))
    )
    with op.batch_alter_table('finding_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_overrides_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_overrides_screening_id'), ['screening_id'], unique=False)

    op.create_table('screening_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_on', sa.Date(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_screening_confirmations_client_id_clients')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_screening_confirmations_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_screening_confirmations_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['screening_id'], ['screenings.id'], name=op.f('fk_screening_confirmations_screening_id_screenings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_confirmations'))
    )
    with op.batch_alter_table('screening_confirmations', schema=None) as batch_op:
        batch_op.create_index('ix_screening_confirmations_client_id_confirmed_on', ['client_id', 'confirmed_on'], unique=False)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screening_tier', sa.String(length=19), nullable=True))
        batch_op.add_column(sa.Column('screened_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('screening_recheck_on', sa.Date(), nullable=True))

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screening_valid_days', sa.Integer(), nullable=False, server_default='30'))



def downgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('screening_valid_days')

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('screening_recheck_on')
        batch_op.drop_column('screened_on')
        batch_op.drop_column('screening_tier')

    with op.batch_alter_table('screening_confirmations', schema=None) as batch_op:
        batch_op.drop_index('ix_screening_confirmations_client_id_confirmed_on')

    op.drop_table('screening_confirmations')
    with op.batch_alter_table('finding_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_overrides_screening_id'))
        batch_op.drop_index(batch_op.f('ix_finding_overrides_client_id'))

    op.drop_table('finding_overrides')
    with op.batch_alter_table('clearances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clearances_screening_id'))
        batch_op.drop_index(batch_op.f('ix_clearances_client_id'))

    op.drop_table('clearances')
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.drop_index('ix_screenings_client_id_taken_on')

    op.drop_table('screenings')
