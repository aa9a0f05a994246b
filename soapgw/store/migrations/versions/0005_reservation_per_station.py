"""reservation ids per station: a surrogate key, charge_box_pk and the OCPP reservation_id

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00

Existing reservations keep their row id, which was their OCPP reservationId: it becomes their
reservation_id, and charge_box_pk is their connector's station.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charge_box_pk', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reservation_id', sa.Integer(), nullable=True))
    op.execute("UPDATE reservation SET reservation_id = id, charge_box_pk = "
               "(SELECT connector.charge_box_pk FROM connector "
               "WHERE connector.id = reservation.connector_pk)")
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.alter_column('charge_box_pk', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('reservation_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key('fk_reservation_charge_box_pk', 'charge_box',
                                    ['charge_box_pk'], ['id'], ondelete='CASCADE')
        batch_op.create_unique_constraint('uq_reservation_station_id',
                                          ['charge_box_pk', 'reservation_id'])
    if op.get_bind().dialect.name == 'postgresql':
        # rows were inserted with explicit ids (the OCPP ones): the sequence must move past them
        op.execute("SELECT setval(pg_get_serial_sequence('reservation', 'id'), "
                   "COALESCE(MAX(id), 0) + 1, false) FROM reservation")


def downgrade() -> None:
    # OCPP ids were global before: only possible while no id is used by two stations
    shared = op.get_bind().execute(sa.text(
        "SELECT reservation_id FROM reservation GROUP BY reservation_id HAVING COUNT(*) > 1"
    )).scalars().all()
    if shared:
        raise RuntimeError(f"cannot downgrade: reservation ids {sorted(shared)[:10]} are used "
                           "by several stations")
    op.execute("UPDATE reservation SET id = -id")  # in two steps: no primary key clash
    op.execute("UPDATE reservation SET id = reservation_id")
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reservation_station_id', type_='unique')
        batch_op.drop_constraint('fk_reservation_charge_box_pk', type_='foreignkey')
        batch_op.drop_column('reservation_id')
        batch_op.drop_column('charge_box_pk')
