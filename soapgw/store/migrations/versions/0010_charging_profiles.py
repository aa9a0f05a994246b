"""Charging profile library: profiles stored to be sent with SetChargingProfile and
RemoteStartTransaction

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 11:40:00
"""
from alembic import op
import sqlalchemy as sa
import soapgw.store.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_AT = soapgw.store.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'stored_charging_profile',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('charging_profile_id', sa.Integer(), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('stack_level', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('recurrency_kind', sa.String(length=20), nullable=True),
        sa.Column('valid_from', _AT, nullable=True),
        sa.Column('valid_to', _AT, nullable=True),
        sa.Column('charging_rate_unit', sa.String(length=4), nullable=False),
        sa.Column('duration', sa.Integer(), nullable=True),
        sa.Column('start_schedule', _AT, nullable=True),
        sa.Column('min_charging_rate', sa.String(length=20), nullable=True),
        sa.Column('periods', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', _AT, nullable=False),
        sa.Column('updated_at', _AT, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('charging_profile_id'),
    )


def downgrade() -> None:
    op.drop_table('stored_charging_profile')
