"""Meter values: one row per sampled value, from MeterValues or StopTransaction.transactionData."""
from __future__ import annotations

from sqlalchemy import bindparam, insert, select

from soapgw.core.messages import MeterValue
from soapgw.store.database import Db
from soapgw.store.models import MeterValueRow


_INSERT = insert(MeterValueRow.__table__)
_ROWS = MeterValueRow.__table__
# What names one sampled value (OCPP has no id for it): per connector and transaction, one
# value per timestamp, measurand, phase, context and location.
_NATURAL_KEY = ("transaction_pk", "value_timestamp", "measurand", "phase", "context", "location")
_STORED_KEYS = select(*(_ROWS.c[name] for name in _NATURAL_KEY)).where(
    _ROWS.c.connector_pk == bindparam("b_connector"), _ROWS.c.source == "MeterValues",
    _ROWS.c.value_timestamp.in_(bindparam("b_times", expanding=True)))


# Text columns keep at most their length (BoundedString): compare what was kept.
_LENGTHS = {name: getattr(_ROWS.c[name].type, "length", None) for name in _NATURAL_KEY}


def _key(row: dict) -> tuple:
    return tuple(row[name][:_LENGTHS[name]] if _LENGTHS[name] and isinstance(row[name], str)
                 else row[name] for name in _NATURAL_KEY)


def _rows(connector_pk: int, transaction_pk: int | None, meter_values: list[MeterValue],
          source: str) -> list[dict]:
    return [{"connector_pk": connector_pk, "transaction_pk": transaction_pk,
             "value_timestamp": meter_value.timestamp, "value": sample.value,
             "context": sample.context, "format": sample.format, "measurand": sample.measurand,
             "phase": sample.phase, "location": sample.location, "unit": sample.unit,
             "source": source}
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
        "b_connector": connector_pk, "b_times": sorted({r["value_timestamp"] for r in rows})})}
    new = [row for row in rows if _key(row) not in stored]
    if new:
        db.execute(_INSERT, new)
    return len(new), len(rows) - len(new)


def store_meter_values(db: Db, connector_pk: int, transaction_pk: int | None,
                       meter_values: list[MeterValue], source: str) -> int:
    """Insert every sampled value (one multi-row statement); returns how many were stored."""
    rows = _rows(connector_pk, transaction_pk, meter_values, source)
    if rows:
        # Core INSERT of the table: one executemany for all rows (the ORM bulk insert splits
        # rows whose None columns differ, e.g. with and without phase, into several).
        db.execute(_INSERT, rows)
    return len(rows)
