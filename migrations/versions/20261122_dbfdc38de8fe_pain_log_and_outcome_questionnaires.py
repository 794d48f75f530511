"""The home pain log and the knee questionnaires (KOOS JR, LEFS).

Revision ID: dbfdc38de8fe
Revises: 38a4df94a6c2
Create Date: 2026-11-22 16:22:29.858700

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dbfdc38de8fe'
down_revision = '38a4df94a6c2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outcome_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=15), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('knee', sa.String(length=13), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('raw_score', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_outcome_assessments_client_id_clients')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_outcome_assessments_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_outcome_assessments_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_assessments'))
    )

    with op.batch_alter_table('outcome_assessments', schema=None) as batch_op:
        batch_op.create_index('ix_outcome_assessments_client_id_taken_on', ['client_id', 'taken_on'], unique=False)

    op.create_table('pain_log_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('logged_on', sa.Date(), nullable=False),
    sa.Column('knee', sa.String(length=13), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_pain_log_entries_client_id_clients')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_pain_log_entries_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_pain_log_entries_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pain_log_entries'))
    )

    with op.batch_alter_table('pain_log_entries', schema=None) as batch_op:
        batch_op.create_index('ix_pain_log_entries_client_id_logged_on', ['client_id', 'logged_on'], unique=False)


def downgrade():
    with op.batch_alter_table('pain_log_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_pain_log_entries_client_id_logged_on')

    op.drop_table('pain_log_entries')

    with op.batch_alter_table('outcome_assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_outcome_assessments_client_id_taken_on')

    op.drop_table('outcome_assessments')
