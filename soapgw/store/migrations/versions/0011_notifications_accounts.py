"""E-mail notifications (recipients and the mail queue); web accounts can be disabled

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import soapgw.store.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_AT = soapgw.store.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('admin_user') as batch:
        batch.add_column(sa.Column('disabled_at', _AT, nullable=True))
    op.create_table(
        'mail_recipient',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('events', sa.Text(), nullable=False),
        sa.Column('created_at', _AT, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('address'),
    )
    op.create_table(
        'mail_message',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=True),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', _AT, nullable=False),
        sa.Column('first_attempt_at', _AT, nullable=True),
        sa.Column('last_attempt_at', _AT, nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', _AT, nullable=False),
        sa.Column('sent_at', _AT, nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_mail_message_queue', 'mail_message', ['state', 'id'])


def downgrade() -> None:
    op.drop_index('ix_mail_message_queue', table_name='mail_message')
    op.drop_table('mail_message')
    op.drop_table('mail_recipient')
    with op.batch_alter_table('admin_user') as batch:
        batch.drop_column('disabled_at')
