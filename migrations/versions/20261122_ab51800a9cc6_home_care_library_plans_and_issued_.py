"""The clinic's own home-care items (versioned), plans, issued handouts; paper size and logo.

Revision ID: ab51800a9cc6
Revises: dbfdc38de8fe
Create Date: 2026-11-22 16:59:12.440857

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ab51800a9cc6'
down_revision = 'dbfdc38de8fe'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('homecare_library_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('current_number', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_homecare_library_items_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_homecare_library_items_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_homecare_library_items'))
    )
    with op.batch_alter_table('homecare_library_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_homecare_library_items_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('homecare_library_item_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('cautions', sa.JSON(), nullable=False),
    sa.Column('excluded_by', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('hold_seconds', sa.Integer(), nullable=True),
    sa.Column('repetitions', sa.Integer(), nullable=True),
    sa.Column('sets', sa.Integer(), nullable=True),
    sa.Column('times_per_day', sa.Integer(), nullable=True),
    sa.Column('times_per_week', sa.Integer(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('each', sa.String(length=14), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_homecare_library_item_versions_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_homecare_library_item_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['homecare_library_items.id'], name=op.f('fk_homecare_library_item_versions_item_id_homecare_library_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_homecare_library_item_versions')),
    sa.UniqueConstraint('item_id', 'number', name=op.f('uq_homecare_library_item_versions_item_id_number'))
    )
    with op.batch_alter_table('homecare_library_item_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_homecare_library_item_versions_item_id'), ['item_id'], unique=False)

    op.create_table('homecare_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('creation_token', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('safety_notes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_homecare_plans_client_id_clients')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_homecare_plans_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_homecare_plans_created_by_id_users')),
    sa.ForeignKeyConstraint(['screening_id'], ['screenings.id'], name=op.f('fk_homecare_plans_screening_id_screenings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_homecare_plans')),
    sa.UniqueConstraint('creation_token', name=op.f('uq_homecare_plans_creation_token'))
    )
    with op.batch_alter_table('homecare_plans', schema=None) as batch_op:
        batch_op.create_index('ix_homecare_plans_client_id_created_at', ['client_id', 'created_at'], unique=False)

    op.create_table('homecare_plan_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('builtin_code', sa.String(length=60), nullable=True),
    sa.Column('library_version_id', sa.Integer(), nullable=True),
    sa.Column('item_version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('cautions', sa.JSON(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('dose_text', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('hold_seconds', sa.Integer(), nullable=True),
    sa.Column('repetitions', sa.Integer(), nullable=True),
    sa.Column('sets', sa.Integer(), nullable=True),
    sa.Column('times_per_day', sa.Integer(), nullable=True),
    sa.Column('times_per_week', sa.Integer(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('each', sa.String(length=14), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_homecare_plan_items_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['library_version_id'], ['homecare_library_item_versions.id'], name=op.f('fk_homecare_plan_items_library_version_id_homecare_library_item_versions')),
    sa.ForeignKeyConstraint(['plan_id'], ['homecare_plans.id'], name=op.f('fk_homecare_plan_items_plan_id_homecare_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_homecare_plan_items')),
    sa.UniqueConstraint('plan_id', 'position', name=op.f('uq_homecare_plan_items_plan_id_position'))
    )
    op.create_table('issued_handouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('page_size', sa.String(length=10), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_issued_handouts_client_id_clients')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_issued_handouts_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_issued_handouts_issued_by_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['homecare_plans.id'], name=op.f('fk_issued_handouts_plan_id_homecare_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_handouts'))
    )
    with op.batch_alter_table('issued_handouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issued_handouts_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_issued_handouts_plan_id_issued_at', ['plan_id', 'issued_at'], unique=False)

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_size', sa.String(length=10), server_default='A4', nullable=False))
        batch_op.add_column(sa.Column('logo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('logo_media_type', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('logo_width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('logo_height', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('logo_height')
        batch_op.drop_column('logo_width')
        batch_op.drop_column('logo_media_type')
        batch_op.drop_column('logo')
        batch_op.drop_column('paper_size')

    with op.batch_alter_table('issued_handouts', schema=None) as batch_op:
        batch_op.drop_index('ix_issued_handouts_plan_id_issued_at')
        batch_op.drop_index(batch_op.f('ix_issued_handouts_client_id'))

    op.drop_table('issued_handouts')
    op.drop_table('homecare_plan_items')
    with op.batch_alter_table('homecare_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_homecare_plans_client_id_created_at')

    op.drop_table('homecare_plans')
    with op.batch_alter_table('homecare_library_item_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_homecare_library_item_versions_item_id'))

    op.drop_table('homecare_library_item_versions')
    with op.batch_alter_table('homecare_library_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_homecare_library_items_clinic_id'))

    op.drop_table('homecare_library_items')
