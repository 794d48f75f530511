"""Tallies of clients (active, archived, by tier) and of visits per month, kept by triggers;
the client list's order and the clients due a recheck, by index.

Revision ID: e2a9c4d17b58
Revises: c5f8a2d71e94
Create Date: 2026-12-03 15:20:00

"""
from alembic import op
import sqlalchemy as sa

from clinic.models.tally import TIER_COLUMNS, tally_triggers


# revision identifiers, used by Alembic.
revision = 'e2a9c4d17b58'
down_revision = 'c5f8a2d71e94'
branch_labels = None
depends_on = None

TRIGGERS = {
    "sqlite": [
        "clients_tally_insert", "clients_tally_delete", "clients_tally_update",
        "visits_tally_insert", "visits_tally_delete", "visits_tally_update",
    ],
    "postgresql": ["clients_tally ON clients", "visits_tally ON visits"],
}


def _count(condition):
    return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def upgrade():
    op.create_table(
        'clinic_tallies',
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        *[
            sa.Column(name, sa.Integer(), nullable=False, server_default='0')
            for name in ('active_clients', 'archived_clients', *TIER_COLUMNS.values(), 'archive_changes')
        ],
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_clinic_tallies_clinic_id_clinics')),
        sa.PrimaryKeyConstraint('clinic_id', name=op.f('pk_clinic_tallies')),
    )
    op.create_table(
        'visit_month_tallies',
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('visits', sa.Integer(), nullable=False, server_default='0'),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_visit_month_tallies_clinic_id_clinics')),
        sa.PrimaryKeyConstraint('clinic_id', 'month', name=op.f('pk_visit_month_tallies')),
    )
    dialect = op.get_bind().dialect.name
    active = "archived_at IS NULL"
    tiers = ", ".join(
        _count(f"{active} AND screening_tier IS NULL" if tier is None
               else f"{active} AND screening_tier = '{tier}'")
        for tier in TIER_COLUMNS
    )
    columns = ", ".join(TIER_COLUMNS.values())
    op.execute(
        f"INSERT INTO clinic_tallies (clinic_id, active_clients, archived_clients, {columns}) "
        f"SELECT clinic_id, {_count(active)}, {_count('archived_at IS NOT NULL')}, {tiers} "
        "FROM clients GROUP BY clinic_id"
    )
    month = (
        "date(visit_on, 'start of month')" if dialect == "sqlite"
        else "CAST(date_trunc('month', visit_on) AS date)"
    )
    op.execute(
        "INSERT INTO visit_month_tallies (clinic_id, month, visits) "
        f"SELECT clinic_id, {month}, {_count('discarded_at IS NULL')} "
        f"FROM visits GROUP BY clinic_id, {month}"
    )
    for statement in tally_triggers(dialect):
        op.execute(statement)
    op.create_index(
        'ix_clients_clinic_id_sort_name', 'clients',
        ['clinic_id', sa.text('lower(last_name)'), sa.text('lower(first_name)'), 'id'],
    )
    op.create_index(
        'ix_clients_clinic_id_screening_recheck_on', 'clients',
        ['clinic_id', 'screening_recheck_on'],
    )


def downgrade():
    op.drop_index('ix_clients_clinic_id_screening_recheck_on', table_name='clients')
    op.drop_index('ix_clients_clinic_id_sort_name', table_name='clients')
    dialect = op.get_bind().dialect.name
    for trigger in TRIGGERS[dialect]:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS clients_keep_tally()")
        op.execute("DROP FUNCTION IF EXISTS visits_keep_tally()")
    op.drop_table('visit_month_tallies')
    op.drop_table('clinic_tallies')
