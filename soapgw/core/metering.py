"""Meter values: one row per sampled value, from MeterValues or StopTransaction.transactionData."""
from __future__ import annotations

from soapgw.core.messages import MeterValue
from soapgw.store.database import Db, connection_of
from soapgw.store.meter_keys import NATURAL_KEY, stored_keys
from soapgw.store.models import MeterValueRow
from soapgw.store.types import DriverInsert


_ROWS = MeterValueRow.__table__
_COLUMNS = ("value_timestamp", "value", "context", "format", "measurand", "phase", "location",
            "unit")
_SHARED = ("connector_pk", "transaction_pk", "source")  # one value for a message's rows
# Through the driver: a MeterValues may carry thousands of sampled values (see DriverInsert).
_INSERT = DriverInsert(_ROWS, _COLUMNS, _SHARED)
_TIME = _COLUMNS.index("value_timestamp")
# A row's natural key past its transaction, as stored: text columns keep at most their length
# (BoundedString).
_KEY = tuple((_COLUMNS.index(name), getattr(_ROWS.c[name].type, "length", None))
             for name in NATURAL_KEY[1:])


def _key(transaction_pk: int | None, row: tuple) -> tuple:
    return (transaction_pk, *(row[index][:length] if length and isinstance(row[index], str)
                              else row[index] for index, length in _KEY))


def _rows(meter_values: list[MeterValue]) -> list[tuple]:
    return [(meter_value.timestamp, sample.value, sample.context, sample.format,
             sample.measurand, sample.phase, sample.location, sample.unit)
            for meter_value in meter_values for sample in meter_value.sampled_value]


def store_new_meter_values(db: Db, connector_pk: int, transaction_pk: int | None,
                           meter_values: list[MeterValue]) -> tuple[int, int]:
    """MeterValues, idempotent: a value already stored under its natural key (a resend by a
    station that got no answer, say because the gateway stopped after the commit) is not
    stored again. Returns (stored, already stored)."""
    rows = _rows(meter_values)
    if not rows:
        return 0, 0
    connection = connection_of(db)
    stored = stored_keys(connection, connector_pk, {row[_TIME] for row in rows})
    new = [row for row in rows if _key(transaction_pk, row) not in stored] if stored else rows
    _INSERT.execute(connection, new, (connector_pk, transaction_pk, "MeterValues"))
    return len(new), len(rows) - len(new)


def store_meter_values(db: Db, connector_pk: int, transaction_pk: int | None,
                       meter_values: list[MeterValue], source: str) -> int:
    """Insert every sampled value (one executemany); returns how many were stored."""
    rows = _rows(meter_values)
    _INSERT.execute(connection_of(db), rows, (connector_pk, transaction_pk, source))
    return len(rows)
