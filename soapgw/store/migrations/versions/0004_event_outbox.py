"""event outbox, its consumers' cursors, and the station's offline mark

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import soapgw.store.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'event',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('created_at', soapgw.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column('charge_box_id', soapgw.store.types.BoundedString(length=255), nullable=True),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_event_station', 'event', ['charge_box_id', 'id'])
    op.create_table(
        'event_consumer',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('last_event_id', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', soapgw.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    with op.batch_alter_table('charge_box') as batch:
        batch.add_column(sa.Column('offline_since', soapgw.store.types.UtcDateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('charge_box') as batch:
        batch.drop_column('offline_since')
    op.drop_table('event_consumer')
    op.drop_index('ix_event_station', table_name='event')
    op.drop_table('event')
