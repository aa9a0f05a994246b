"""OCPP-J upstream bridge: per-station link settings and state, the durable queue, the
transaction id map and the authorization cache

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import soapgw.store.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_AT = soapgw.store.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'upstream_station',
        sa.Column('charge_box_id', sa.String(length=255), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('url', soapgw.store.types.BoundedString(length=2048), nullable=True),
        sa.Column('password', sa.LargeBinary(), nullable=True),
        sa.Column('ping_interval', sa.Integer(), nullable=True),
        sa.Column('changed_at', _AT, nullable=False),
        sa.Column('connected', sa.Boolean(), nullable=False),
        sa.Column('state_since', _AT, nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_error_at', _AT, nullable=True),
        sa.Column('boot_status', sa.String(length=20), nullable=True),
        sa.Column('boot_request', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('charge_box_id'),
    )
    op.create_table(
        'upstream_queue',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('charge_box_id', sa.String(length=255), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('response', sa.Text(), nullable=True),
        sa.Column('decided_by', sa.String(length=40), nullable=True),
        sa.Column('created_at', _AT, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_upstream_queue_station', 'upstream_queue', ['charge_box_id', 'id'])
    op.create_table(
        'upstream_transaction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('charge_box_id', sa.String(length=255), nullable=False),
        sa.Column('start_key', sa.String(length=400), nullable=False),
        sa.Column('local_id', sa.Integer(), nullable=True),
        sa.Column('csms_id', sa.Integer(), nullable=True),
        sa.Column('id_tag_status', sa.String(length=20), nullable=True),
        sa.Column('created_at', _AT, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('charge_box_id', 'start_key'),
    )
    op.create_index('ix_upstream_transaction_local', 'upstream_transaction',
                    ['charge_box_id', 'local_id'])
    op.create_index('ix_upstream_transaction_csms', 'upstream_transaction',
                    ['charge_box_id', 'csms_id'])
    op.create_table(
        'upstream_id_tag',
        sa.Column('id_tag', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('expiry_date', _AT, nullable=True),
        sa.Column('parent_id_tag', sa.String(length=255), nullable=True),
        sa.Column('updated_at', _AT, nullable=False),
        sa.PrimaryKeyConstraint('id_tag'),
    )


def downgrade() -> None:
    op.drop_table('upstream_id_tag')
    op.drop_index('ix_upstream_transaction_csms', table_name='upstream_transaction')
    op.drop_index('ix_upstream_transaction_local', table_name='upstream_transaction')
    op.drop_table('upstream_transaction')
    op.drop_index('ix_upstream_queue_station', table_name='upstream_queue')
    op.drop_table('upstream_queue')
    op.drop_table('upstream_station')
