"""Meter values: one row per sampled value, from MeterValues or StopTransaction.transactionData."""
from __future__ import annotations

from sqlalchemy import insert

from soapgw.core.messages import MeterValue
from soapgw.store.database import Db
from soapgw.store.models import MeterValueRow


_INSERT = insert(MeterValueRow.__table__)


def store_meter_values(db: Db, connector_pk: int, transaction_pk: int | None,
                       meter_values: list[MeterValue], source: str) -> int:
    """Insert every sampled value (one multi-row statement); returns how many were stored."""
    rows = [{"connector_pk": connector_pk, "transaction_pk": transaction_pk,
             "value_timestamp": meter_value.timestamp, "value": sample.value,
             "context": sample.context, "format": sample.format, "measurand": sample.measurand,
             "phase": sample.phase, "location": sample.location, "unit": sample.unit,
             "source": source}
            for meter_value in meter_values for sample in meter_value.sampled_value]
    if rows:
        # Core INSERT of the table: one executemany for all rows (the ORM bulk insert splits
        # rows whose None columns differ, e.g. with and without phase, into several).
        db.execute(_INSERT, rows)
    return len(rows)
