"""The message journal: every SOAP message in and out, raw, with what we know about it."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete

from soapgw.store.database import Db
from soapgw.store.models import JournalEntry
from soapgw.store.types import driver_insert, sqlite_datetime
from soapgw.timestamps import now, utc


@dataclass
class JournalRecord:
    direction: str  # in | out
    raw: bytes
    charge_box_id: str | None = None
    action: str | None = None
    message_id: str | None = None
    relates_to: str | None = None
    ocpp_version: str | None = None
    soap_version: str | None = None
    http_status: int | None = None
    duration_ms: float | None = None
    peer: str | None = None
    fault_code: str | None = None
    created_at: datetime = field(default_factory=now)


_COLUMNS = tuple(f.name for f in fields(JournalRecord))
# Straight through the driver, a request and its reply in one executemany: on the path of
# every message, SQLAlchemy's statement handling cost more than the INSERT itself. Text is
# cut to its column's width as BoundedString would (the whole message is in ``raw``).
_SQLITE, _POSTGRES, _WIDTHS = driver_insert(JournalEntry.__table__, _COLUMNS)
_WIDTH = tuple(_WIDTHS.get(name) for name in _COLUMNS)
_TIME = _COLUMNS.index("created_at")


def write(db: Db, records: list[JournalRecord]) -> None:
    connection = db if isinstance(db, Connection) else db.connection()
    postgres = connection.dialect.name == "postgresql"
    rows = []
    for record in records:
        row = [getattr(record, name) for name in _COLUMNS]
        for index, width in enumerate(_WIDTH):
            if width and isinstance(row[index], str) and len(row[index]) > width:
                row[index] = row[index][:width]
        row[_TIME] = utc(row[_TIME]) if postgres else sqlite_datetime(row[_TIME])
        rows.append(tuple(row))
    connection.exec_driver_sql(_POSTGRES if postgres else _SQLITE, rows)


def purge(db: Db, retention_days: int, at: datetime | None = None) -> int:
    """Delete entries older than the retention; 0 days keeps everything. Returns the count."""
    if retention_days <= 0:
        return 0
    cutoff = (at or now()) - timedelta(days=retention_days)
    return db.execute(delete(JournalEntry).where(JournalEntry.created_at < cutoff)).rowcount
