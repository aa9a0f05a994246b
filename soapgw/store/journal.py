"""The message journal: every SOAP message in and out, raw, with what we know about it."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from sqlalchemy import delete

from soapgw.store.database import Db, connection_of
from soapgw.store.models import JournalEntry
from soapgw.store.types import DriverInsert
from soapgw.timestamps import now


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
# A request and its reply in one executemany (see DriverInsert).
_INSERT = DriverInsert(JournalEntry.__table__, _COLUMNS)


def write(db: Db, records: list[JournalRecord]) -> None:
    _INSERT.execute(connection_of(db),
                    [tuple(getattr(record, name) for name in _COLUMNS) for record in records])


def purge(db: Db, retention_days: int, at: datetime | None = None) -> int:
    """Delete entries older than the retention; 0 days keeps everything. Returns the count."""
    if retention_days <= 0:
        return 0
    cutoff = (at or now()) - timedelta(days=retention_days)
    return db.execute(delete(JournalEntry).where(JournalEntry.created_at < cutoff)).rowcount
