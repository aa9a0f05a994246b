"""Connectors are created the first time a station mentions them."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from soapgw.core.errors import ErrorCode, OcppError
from soapgw.store.database import Db
from soapgw.store.driver_query import DriverQuery
from soapgw.store.models import Connector
from soapgw.store.upsert import insert_for


_CONNECTORS = Connector.__table__
_FIND = DriverQuery(select(_CONNECTORS.c.id).where(  # on the path of most messages
    _CONNECTORS.c.charge_box_pk == bindparam("b_station"),
    _CONNECTORS.c.connector_id == bindparam("b_connector")))


def connector_pk(db: Db, charge_box_pk: int, connector_id: int) -> int:
    """The primary key of the station's connector, created when new (safe under concurrency)."""
    keys = {"b_station": charge_box_pk, "b_connector": connector_id}
    found = _FIND.scalar(db, keys)
    if found is None:
        db.execute(insert_for(db, _CONNECTORS).values(
            charge_box_pk=charge_box_pk, connector_id=connector_id).on_conflict_do_nothing())
        found = _FIND.scalar(db, keys)
    return found


def station_connector(db: Db, charge_box_pk: int, connector_id: int, action: str) -> int:
    """``connector_pk`` for a connector a station names in a message: a negative id names no
    connector (0 is the station itself), so it is refused before anything is stored."""
    if connector_id < 0:
        raise OcppError(ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
                        f"{action}: connectorId {connector_id} is negative (0 is the charge "
                        "point itself, connectors count from 1)")
    return connector_pk(db, charge_box_pk, connector_id)
