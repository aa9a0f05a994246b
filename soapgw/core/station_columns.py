"""Writing columns of one charge box: registration, notifications, boot data and the
callback guard all do, on the path of every message."""
from __future__ import annotations

from sqlalchemy import bindparam, update

from soapgw.store.database import Db
from soapgw.store.models import ChargeBox

_TABLE = ChargeBox.__table__
# Built once; its SET clause follows the keys of the parameters it runs with.
_UPDATE_STATION = update(_TABLE).where(_TABLE.c.id == bindparam("b_station_pk"))


def update_station(db: Db, station_pk: int, values: dict) -> None:
    """SET the given charge_box columns of one station (building an UPDATE per message cost
    ~0.1 ms)."""
    db.execute(_UPDATE_STATION, {"b_station_pk": station_pk, **values})
