"""People (person records holding id tags), charge point details and location, unknown id tags

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import soapgw.store.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_AT = soapgw.store.types.UtcDateTime(timezone=True)

_STATION_COLUMNS = [
    ('description', sa.Text()), ('street', sa.String(length=255)),
    ('house_number', sa.String(length=20)), ('postal_code', sa.String(length=20)),
    ('city', sa.String(length=100)), ('country', sa.String(length=100)),
    ('latitude', sa.Float()), ('longitude', sa.Float()), ('time_zone', sa.String(length=64)),
    ('admin_address', sa.String(length=2048)),
]


def upgrade() -> None:
    op.create_table(
        'person',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('first_name', sa.String(length=100), nullable=True),
        sa.Column('last_name', sa.String(length=100), nullable=True),
        sa.Column('email', sa.String(length=255), nullable=True),
        sa.Column('phone', sa.String(length=40), nullable=True),
        sa.Column('street', sa.String(length=255), nullable=True),
        sa.Column('house_number', sa.String(length=20), nullable=True),
        sa.Column('postal_code', sa.String(length=20), nullable=True),
        sa.Column('city', sa.String(length=100), nullable=True),
        sa.Column('country', sa.String(length=100), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', _AT, nullable=False),
        sa.Column('updated_at', _AT, nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_person_name', 'person', ['last_name', 'first_name'])
    op.create_index('ix_person_email', 'person', ['email'])
    # batch: SQLite adds the foreign key by copying the table
    with op.batch_alter_table('id_tag') as batch:
        batch.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_id_tag_person_id', 'person', ['person_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index('ix_id_tag_person_id', ['person_id'])
    for name, type_ in _STATION_COLUMNS:
        op.add_column('charge_box', sa.Column(name, type_, nullable=True))
    op.create_table(
        'unknown_id_tag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('id_tag', sa.String(length=255), nullable=False),
        sa.Column('first_seen', _AT, nullable=False),
        sa.Column('last_seen', _AT, nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('last_action', sa.String(length=40), nullable=True),
        sa.Column('last_charge_box_id', sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('id_tag'),
    )
    op.create_index('ix_unknown_id_tag_last_seen', 'unknown_id_tag', ['last_seen'])


def downgrade() -> None:
    op.drop_index('ix_unknown_id_tag_last_seen', table_name='unknown_id_tag')
    op.drop_table('unknown_id_tag')
    with op.batch_alter_table('charge_box') as batch:
        for name, _ in reversed(_STATION_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table('id_tag') as batch:
        batch.drop_index('ix_id_tag_person_id')
        batch.drop_constraint('fk_id_tag_person_id', type_='foreignkey')
        batch.drop_column('person_id')
    op.drop_index('ix_person_email', table_name='person')
    op.drop_index('ix_person_name', table_name='person')
    op.drop_table('person')
