"""The natural keys of the meter values a connector already has at given times (the
idempotency check of core.metering.store_new_meter_values).

A MeterValues may carry thousands of readings, each with its own timestamp. As one expanding
``IN`` through SQLAlchemy, 4,000 timestamps cost 15 ms (a placeholder and a bind conversion
per timestamp, the rows converted back), of which SQLite's query is 2.5 ms; and for the usual
few timestamps SQLAlchemy's execution costs more than the query. So on SQLite the times go to
the driver as one JSON array (store.driver_cursor).
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from soapgw.store import driver_cursor
from soapgw.store.models import MeterValueRow
from soapgw.store.types import SQLITE_JSON, sqlite_datetime
from soapgw.timestamps import utc

# What names one sampled value (OCPP has no id for it): per connector and transaction, one
# value per timestamp, measurand, phase, context and location.
NATURAL_KEY = ("transaction_pk", "value_timestamp", "measurand", "phase", "context", "location")

_ROWS = MeterValueRow.__table__
# DISTINCT: only the set of keys matters, and a resent message of thousands of readings under
# one timestamp has thousands of rows with few keys (19,990 OCPP 1.5 values: 1 key), each a
# row converted in Python otherwise.
_STORED_KEYS = select(*(_ROWS.c[name] for name in NATURAL_KEY)).distinct().where(
    _ROWS.c.connector_pk == bindparam("b_connector"), _ROWS.c.source == "MeterValues",
    _ROWS.c.value_timestamp.in_(bindparam("b_times", expanding=True)))
_TIME = NATURAL_KEY.index("value_timestamp")
_SQLITE_STORED_KEYS = (
    f"SELECT DISTINCT {', '.join(NATURAL_KEY)} FROM {_ROWS.name} WHERE connector_pk = ? "
    "AND source = 'MeterValues' AND value_timestamp IN (SELECT value FROM json_each(?))")


def stored_keys(connection: Connection, connector_pk: int, times: set[datetime]) -> set[tuple]:
    """The natural keys (NATURAL_KEY order, times as aware UTC datetimes) of the connector's
    stored MeterValues readings at any of ``times``."""
    if connection.dialect.name != "sqlite" or not SQLITE_JSON:
        return {tuple(row) for row in connection.execute(_STORED_KEYS, {
            "b_connector": connector_pk, "b_times": sorted(times)})}
    stamps = json.dumps(sorted({sqlite_datetime(moment) for moment in times}))
    rows = driver_cursor.on_driver(connection, _SQLITE_STORED_KEYS, (connector_pk, stamps))
    return {(*row[:_TIME], utc(datetime.fromisoformat(row[_TIME])), *row[_TIME + 1:])
            for row in rows}
