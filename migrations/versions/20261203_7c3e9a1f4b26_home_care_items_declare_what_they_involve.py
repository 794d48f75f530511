"""The clinic's own home-care items declare what they involve.

Revision ID: 7c3e9a1f4b26
Revises: 5e1a7c0d9b42
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e9a1f4b26'
down_revision = '5e1a7c0d9b42'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: versions saved before stay undeclared until the owner edits the item.
    with op.batch_alter_table('homecare_library_item_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('areas', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('uses_pressure', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('weight_bearing', sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table('homecare_library_item_versions', schema=None) as batch_op:
        batch_op.drop_column('weight_bearing')
        batch_op.drop_column('uses_pressure')
        batch_op.drop_column('areas')
