"""Forms kept for their author after a sign-in ran out.

Revision ID: 38a4df94a6c2
Revises: 3225cff34041
Create Date: 2026-11-22 16:08:21.776335

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '38a4df94a6c2'
down_revision = '3225cff34041'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_stashes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('form_data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_form_stashes_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_stashes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_stashes')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_form_stashes_token_hash'))
    )
    with op.batch_alter_table('form_stashes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_stashes_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('form_stashes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_stashes_user_id'))

    op.drop_table('form_stashes')
