"""Connectors are created the first time a station mentions them."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from soapgw.store.models import Connector
from soapgw.store.upsert import insert_for


def connector_pk(db: Session, charge_box_pk: int, connector_id: int) -> int:
    """The primary key of the station's connector, created when new (safe under concurrency)."""
    query = select(Connector.id).where(Connector.charge_box_pk == charge_box_pk,
                                       Connector.connector_id == connector_id)
    found = db.scalar(query)
    if found is None:
        db.execute(insert_for(db, Connector).values(
            charge_box_pk=charge_box_pk, connector_id=connector_id).on_conflict_do_nothing())
        found = db.scalar(query)
    return found
