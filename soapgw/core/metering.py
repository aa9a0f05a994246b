"""Meter values: one row per sampled value, from MeterValues or StopTransaction.transactionData."""
from __future__ import annotations

from sqlalchemy import Connection, bindparam, select

from soapgw.core.messages import MeterValue
from soapgw.store.database import Db
from soapgw.store.models import MeterValueRow
from soapgw.store.types import DriverInsert


_ROWS = MeterValueRow.__table__
_COLUMNS = ("connector_pk", "transaction_pk", "value_timestamp", "value", "context", "format",
            "measurand", "phase", "location", "unit", "source")
# Through the driver: a MeterValues may carry thousands of sampled values (see DriverInsert).
_INSERT = DriverInsert(_ROWS, _COLUMNS)
# What names one sampled value (OCPP has no id for it): per connector and transaction, one
# value per timestamp, measurand, phase, context and location.
_NATURAL_KEY = ("transaction_pk", "value_timestamp", "measurand", "phase", "context", "location")
_STORED_KEYS = select(*(_ROWS.c[name] for name in _NATURAL_KEY)).where(
    _ROWS.c.connector_pk == bindparam("b_connector"), _ROWS.c.source == "MeterValues",
    _ROWS.c.value_timestamp.in_(bindparam("b_times", expanding=True)))
_TIME = _COLUMNS.index("value_timestamp")
# A row's natural key, as stored: text columns keep at most their length (BoundedString).
_KEY = tuple((_COLUMNS.index(name), getattr(_ROWS.c[name].type, "length", None))
             for name in _NATURAL_KEY)


def _key(row: tuple) -> tuple:
    return tuple(row[index][:length] if length and isinstance(row[index], str) else row[index]
                 for index, length in _KEY)


def _rows(connector_pk: int, transaction_pk: int | None, meter_values: list[MeterValue],
          source: str) -> list[tuple]:
    return [(connector_pk, transaction_pk, meter_value.timestamp, sample.value, sample.context,
             sample.format, sample.measurand, sample.phase, sample.location, sample.unit, source)
            for meter_value in meter_values for sample in meter_value.sampled_value]


def store_new_meter_values(db: Db, connector_pk: int, transaction_pk: int | None,
                           meter_values: list[MeterValue]) -> tuple[int, int]:
    """MeterValues, idempotent: a value already stored under its natural key (a resend by a
    station that got no answer, say because the gateway stopped after the commit) is not
    stored again. Returns (stored, already stored)."""
    rows = _rows(connector_pk, transaction_pk, meter_values, "MeterValues")
    if not rows:
        return 0, 0
    stored = {tuple(row) for row in db.execute(_STORED_KEYS, {
        "b_connector": connector_pk, "b_times": sorted({row[_TIME] for row in rows})})}
    new = [row for row in rows if _key(row) not in stored] if stored else rows
    _INSERT.execute(_connection(db), new)
    return len(new), len(rows) - len(new)


def store_meter_values(db: Db, connector_pk: int, transaction_pk: int | None,
                       meter_values: list[MeterValue], source: str) -> int:
    """Insert every sampled value (one executemany); returns how many were stored."""
    rows = _rows(connector_pk, transaction_pk, meter_values, source)
    _INSERT.execute(_connection(db), rows)
    return len(rows)


def _connection(db: Db) -> Connection:
    return db if isinstance(db, Connection) else db.connection()
