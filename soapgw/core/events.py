"""The event outbox: what the JSON side (API, webhooks, live stream, the OCPP-J bridge) hears.

Every message in and out and every fact derived from them is one row of the ``event`` table,
written in the database transaction of the data it describes: an event exists exactly when
its data was committed, and an acknowledged message always has its event. Consumers read by
id (``read(after=...)``) and record how far they got (``advance``); ``purge`` removes events
past the retention that every registered consumer has read.

Payloads are OCPP-J 1.6 shaped (see ``EventType`` for each type's keys); the codec in
``soapgw.core.ocppj`` makes them from the typed messages.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, text, update

from soapgw.core.enums import EventType
from soapgw.core.ocppj import encode, to_json
from soapgw.store.database import Db, connection_of
from soapgw.store.models import Event, EventConsumer
from soapgw.store.types import DriverInsert
from soapgw.store.upsert import upsert
from soapgw.timestamps import now

_EVENTS = Event.__table__
_INSERT = DriverInsert(_EVENTS, ("created_at", "charge_box_id", "type", "payload"))
# Any fixed number: the key of the PostgreSQL advisory lock that orders event writers.
_ORDER_LOCK = text("SELECT pg_advisory_xact_lock(7357001)")


@dataclass
class NewEvent:
    type: EventType
    charge_box_id: str | None
    payload: dict
    created_at: datetime = field(default_factory=now)


@dataclass(frozen=True)
class StoredEvent:
    id: int
    created_at: datetime
    charge_box_id: str | None
    type: str
    payload: dict


def publish(db: Db, events: list[NewEvent]) -> None:
    """Write the events in the caller's transaction, in one statement.

    On PostgreSQL two transactions could draw ids 5 and 6 and commit 6 first: a consumer that
    read up to 6 would never see 5. A transaction-scoped advisory lock taken before drawing
    ids (held until commit, which follows at once) makes ids commit in order. SQLite has one
    writer at a time, so its ids are in commit order already.
    """
    if not events:
        return
    connection = connection_of(db)
    if connection.dialect.name == "postgresql":
        connection.execute(_ORDER_LOCK)
    # Straight to the driver: on the path of every station message, SQLAlchemy's statement
    # handling cost three times the INSERT itself (the row is four plain values).
    _INSERT.execute(connection, [(e.created_at, e.charge_box_id, e.type.value,
                                  to_json(e.payload)) for e in events])



def read(db: Db, after: int = 0, limit: int = 100, types: list[str] | None = None,
         station: str | None = None) -> list[StoredEvent]:
    """Events with an id above ``after``, oldest first, optionally of some types or one
    station."""
    query = select(_EVENTS).where(_EVENTS.c.id > after).order_by(_EVENTS.c.id).limit(limit)
    if types:
        query = query.where(_EVENTS.c.type.in_(types))
    if station is not None:
        query = query.where(_EVENTS.c.charge_box_id == station)
    return [StoredEvent(row.id, row.created_at, row.charge_box_id, row.type,
                        json.loads(row.payload)) for row in db.execute(query)]


def last_id(db: Db) -> int:
    return db.scalar(select(func.max(_EVENTS.c.id))) or 0


_CONSUMERS = EventConsumer.__table__
_ADVANCE = upsert(_CONSUMERS, keys=["name"],
                  values=dict(name=bindparam("b_name"), last_event_id=bindparam("b_id"),
                              updated_at=bindparam("b_at")),
                  update=lambda new: {"last_event_id": new.last_event_id,
                                      "updated_at": new.updated_at})


def advance(db: Db, consumer: str, event_id: int) -> None:
    """Record that ``consumer`` has handled every event up to ``event_id``."""
    db.execute(_ADVANCE(db), {"b_name": consumer, "b_id": event_id, "b_at": now()})


def forget_consumer(db: Db, consumer: str) -> None:
    db.execute(delete(EventConsumer).where(EventConsumer.name == consumer))


def purge(db: Db, retention_days: int, at: datetime | None = None) -> int:
    """Delete events older than the retention that every registered consumer has read
    (0 days keeps everything). Returns the count."""
    if retention_days <= 0:
        return 0
    cutoff = (at or now()) - timedelta(days=retention_days)
    # Ids grow with time: the first event young enough to keep bounds the purge, found by
    # walking ids from the oldest (no index on the time: it would cost every message).
    first_kept = db.scalar(select(_EVENTS.c.id).where(_EVENTS.c.created_at >= cutoff)
                           .order_by(_EVENTS.c.id).limit(1))
    # ... and never the newest event: SQLite gives max(id) + 1 next, so an id is never reused.
    newest = db.scalar(select(func.max(_EVENTS.c.id)))
    if newest is None:
        return 0
    condition = [_EVENTS.c.id < min(newest, first_kept or newest)]
    slowest = db.scalar(select(func.min(_CONSUMERS.c.last_event_id)))
    if slowest is not None:
        condition.append(_EVENTS.c.id <= slowest)
    return db.execute(delete(Event).where(*condition)).rowcount


def touch_consumer(db: Db, consumer: str) -> None:
    """Keep a consumer's cursor fresh without moving it (shows it is alive)."""
    db.execute(update(EventConsumer).where(EventConsumer.name == consumer)
               .values(updated_at=now()))


class EventPublisher:
    """Writes events in the caller's transaction. The Gateway builds one and hands it to the
    central system, the task runner and the services that change state."""

    def publish(self, db: Db, events: list[NewEvent]) -> None:
        publish(db, events)

    def message(self, db: Db, call, request, response=None, error=None) -> None:
        """A station's message with its answer (or the OcppError that refused it), then the
        facts its handling derived (``call.events``). ``request`` None: refused unread
        (CentralSystem.process), ``"request": null``."""
        payload = {"action": call.action,
                   "request": encode(request) if request is not None else None}
        if call.advice is not None:
            payload["decidedBy"] = call.advice.source
        if error is not None:
            payload["error"] = {"code": error.code.value, "description": error.reason}
        else:
            payload["response"] = encode(response)
        publish(db, [NewEvent(EventType.STATION_MESSAGE, call.charge_box_id, payload,
                              call.received_at), *call.events])
