"""station authentication (networks, password, client certificate, callback policy, refusals),
revocable web sessions, web sign-in throttling

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
import soapgw.store.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('charge_box', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_networks', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('auth_password_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('auth_certificate', sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column('callback_policy', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('last_peer_host', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('auth_refusals', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('auth_refused_at',
                                      soapgw.store.types.UtcDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('auth_refusal', sa.Text(), nullable=True))
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False,
                                      server_default='0'))
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failure_at', soapgw.store.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_failure_at', soapgw.store.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', soapgw.store.types.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('login_throttle')
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
    with op.batch_alter_table('charge_box', schema=None) as batch_op:
        for column in ('auth_refusal', 'auth_refused_at', 'auth_refusals', 'last_peer_host',
                       'callback_policy', 'auth_certificate', 'auth_password_hash',
                       'auth_networks'):
            batch_op.drop_column(column)
