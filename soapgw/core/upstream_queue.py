"""What the bridge keeps in SQL: the per-station queue (filled from the event outbox), the
transaction id map, the authorization cache, and each station's link state.

The queue is a consumer of the outbox: every station message has its ``station.message``
event from the commit that journaled it, so an acknowledged SOAP message is never lost, even
when the bridge is not running. ``copy_events`` moves new events into ``upstream_queue`` and
advances the bridge's cursor in one transaction (a crash copies nothing twice, misses
nothing). What is never replayed is not copied: Authorize (answered locally during an outage,
never sent later), BootNotification (kept as the station's cached boot, sent first on every
connection), DataTransfer the upstream central system already decided.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, update

from soapgw.core.enums import EventType
from soapgw.core.events import advance, forget_consumer, last_id, read
from soapgw.core.ocppj import to_json
from soapgw.core.upstream import CONSUMER
from soapgw.store.database import Db
from soapgw.store.journal import JournalRecord
from soapgw.store.models import (ChargeBox, EventConsumer, UpstreamIdTag, UpstreamQueued,
                                 UpstreamStation, UpstreamTransaction)
from soapgw.store.upsert import insert_for
from soapgw.timestamps import now, parse_timestamp

NOT_QUEUED = frozenset({"Authorize", "BootNotification"})
DROP_FIRST = "MeterValues"


@dataclass(frozen=True)
class Queued:
    id: int
    charge_box_id: str
    action: str
    payload: dict
    response: dict | None
    decided_by: str | None
    created_at: datetime


def cursor(db: Db) -> int:
    """The bridge's place in the outbox; registered (at the outbox's end) on first use."""
    value = db.scalar(select(EventConsumer.last_event_id).where(EventConsumer.name == CONSUMER))
    if value is None:
        value = last_id(db)
        advance(db, CONSUMER, value)
    return value


def prepare(db: Db, bridging: bool) -> None:
    """Before the gateway serves: with the bridge configured, its place in the outbox is
    registered now, so every message from the first one on reaches the queue even when the
    bridge process starts a little later; without it, a cursor left by an earlier set-up
    would keep every event from being purged, and is forgotten."""
    if bridging:
        cursor(db)
    else:
        forget_consumer(db, CONSUMER)


def bridged_ids(db: Db, charge_box_ids: set[str], default_url: bool) -> set[str]:
    """Those of the stations that are bridged: Accepted, not switched off, with a URL."""
    if not charge_box_ids:
        return set()
    accepted = set(db.scalars(select(ChargeBox.charge_box_id).where(
        ChargeBox.charge_box_id.in_(charge_box_ids), ChargeBox.registration_status == "Accepted")))
    links = {row.charge_box_id: row for row in db.execute(
        select(UpstreamStation.charge_box_id, UpstreamStation.enabled, UpstreamStation.url)
        .where(UpstreamStation.charge_box_id.in_(charge_box_ids)))}
    chosen = set()
    for cb in accepted:
        link = links.get(cb)
        if link is not None and not link.enabled:
            continue
        if default_url or (link is not None and link.url):
            chosen.add(cb)
    return chosen


@dataclass
class Copied:
    """What one ``copy_events`` did: per station, how many messages it got (its cached boot
    counts as one) and the queue rows made, in order; ``complete`` when nothing is left."""

    counts: dict[str, int] = field(default_factory=dict)
    rows: dict[str, list[Queued]] = field(default_factory=dict)
    complete: bool = True
    boots: set[str] = field(default_factory=set)  # a new boot the CSMS has not seen yet


def copy_events(db: Db, default_url: bool, limit: int = 2000) -> Copied:
    """Copy the outbox's new station messages of bridged stations into the queue."""
    after = cursor(db)
    events = read(db, after=after, limit=limit, types=[EventType.STATION_MESSAGE.value])
    copied = Copied(complete=len(events) < limit)
    if not events:
        return copied
    bridged = bridged_ids(db, {e.charge_box_id for e in events if e.charge_box_id}, default_url)
    rows, boots, counts = [], {}, copied.counts
    for event in events:
        payload = event.payload
        cb = event.charge_box_id
        if cb not in bridged or "error" in payload:  # refused messages stay with soapgw
            continue
        action = payload["action"]
        if action == "BootNotification":
            boots[cb] = payload["request"]
            if not payload.get("decidedBy"):  # decided here: the link was not up
                copied.boots.add(cb)
        elif action in NOT_QUEUED:
            continue
        elif action == "DataTransfer" and payload.get("decidedBy"):
            continue
        else:
            rows.append({"charge_box_id": cb, "event_id": event.id, "action": action,
                         "payload": to_json(payload["request"]),
                         "response": to_json(payload["response"]),
                         "decided_by": payload.get("decidedBy"),
                         "created_at": event.created_at})
        counts[cb] = counts.get(cb, 0) + 1
    if rows:
        table = UpstreamQueued.__table__
        ids = db.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True),
                         rows).scalars().all()
        for queue_id, row in zip(ids, rows):
            copied.rows.setdefault(row["charge_box_id"], []).append(Queued(
                queue_id, row["charge_box_id"], row["action"], json.loads(row["payload"]),
                json.loads(row["response"]), row["decided_by"], row["created_at"]))
    for cb, request in boots.items():
        _ensure_link(db, cb)
        db.execute(update(UpstreamStation).where(UpstreamStation.charge_box_id == cb)
                   .values(boot_request=to_json(request)))
    advance(db, CONSUMER, events[-1].id)
    return copied


def _ensure_link(db: Db, cb: str) -> None:
    db.execute(insert_for(db, UpstreamStation).values(
        charge_box_id=cb, enabled=True, connected=False, changed_at=now())
        .on_conflict_do_nothing())


def bound(db: Db, charge_box_id: str, maximum: int) -> list[JournalRecord]:
    """Keep at most ``maximum`` queued messages: the oldest MeterValues go first, then the
    oldest of the rest; each drop is journaled (returned, written by the caller)."""
    table = UpstreamQueued.__table__
    count = db.scalar(select(func.count()).where(table.c.charge_box_id == charge_box_id))
    excess = count - maximum
    if excess <= 0:
        return []
    dropped = []
    for condition in (table.c.action == DROP_FIRST, table.c.action != DROP_FIRST):
        if excess <= 0:
            break
        victims = db.execute(select(table.c.id, table.c.action, table.c.payload,
                                    table.c.created_at)
                             .where(table.c.charge_box_id == charge_box_id, condition)
                             .order_by(table.c.id).limit(excess)).all()
        if victims:
            db.execute(delete(table).where(table.c.id.in_([v.id for v in victims])))
            excess -= len(victims)
            dropped.extend(victims)
    return [JournalRecord(direction="out", raw=v.payload.encode(), charge_box_id=charge_box_id,
                          action=f"Dropped:{v.action}", ocpp_version="1.6", peer="upstream",
                          fault_code="QueueFull") for v in dropped]


def _queued(row) -> Queued:
    return Queued(row.id, row.charge_box_id, row.action, json.loads(row.payload),
                  json.loads(row.response) if row.response else None, row.decided_by,
                  row.created_at)


def queued(db: Db, charge_box_id: str, after: int = 0, limit: int = 100) -> list[Queued]:
    table = UpstreamQueued.__table__
    return [_queued(r) for r in db.execute(select(table).where(
        table.c.charge_box_id == charge_box_id, table.c.id > after)
        .order_by(table.c.id).limit(limit))]


def whole_queues(db: Db, charge_box_ids: list[str]) -> dict[str, list[Queued]]:
    """Every queued message of these stations, in order, by station (none: an empty list)."""
    table = UpstreamQueued.__table__
    queues: dict[str, list[Queued]] = {cb: [] for cb in charge_box_ids}
    for row in db.execute(select(table).where(table.c.charge_box_id.in_(charge_box_ids))
                          .order_by(table.c.id)):
        queues[row.charge_box_id].append(_queued(row))
    return queues


def remove(db: Db, ids: list[int]) -> None:
    if ids:
        db.execute(delete(UpstreamQueued).where(UpstreamQueued.id.in_(ids)))


def depth(db: Db, charge_box_id: str) -> int:
    return db.scalar(select(func.count()).where(UpstreamQueued.charge_box_id == charge_box_id))


# --- transaction ids ------------------------------------------------------------------------
def start_key(request: dict) -> str:
    """What makes a start unique in soapgw (core.transactions): connector, tag, time, meter."""
    stamp = parse_timestamp(request["timestamp"])[0].isoformat()
    return f"{request['connectorId']}|{request['idTag']}|{stamp}|{request['meterStart']}"[:400]


def upstream_start(db: Db, charge_box_id: str, key: str) -> UpstreamTransaction | None:
    return db.scalars(select(UpstreamTransaction).where(
        UpstreamTransaction.charge_box_id == charge_box_id,
        UpstreamTransaction.start_key == key)).one_or_none()


def record_start(db: Db, charge_box_id: str, key: str, csms_id: int | None,
                 id_tag_status: str | None, local_id: int | None = None) -> None:
    """The upstream answer to a start (live or replayed), and soapgw's id when known."""
    table = UpstreamTransaction.__table__
    values = {"csms_id": csms_id, "id_tag_status": id_tag_status}
    if local_id is not None:
        values["local_id"] = local_id
    statement = insert_for(db, table).values(charge_box_id=charge_box_id, start_key=key,
                                             created_at=now(), **values)
    db.execute(statement.on_conflict_do_update(
        index_elements=["charge_box_id", "start_key"], set_=values))


def link_local(db: Db, charge_box_id: str, key: str, local_id: int) -> None:
    db.execute(update(UpstreamTransaction).where(
        UpstreamTransaction.charge_box_id == charge_box_id,
        UpstreamTransaction.start_key == key).values(local_id=local_id))


def csms_id_of(db: Db, charge_box_id: str, local_id: int) -> int | None:
    return db.scalar(select(UpstreamTransaction.csms_id).where(
        UpstreamTransaction.charge_box_id == charge_box_id,
        UpstreamTransaction.local_id == local_id).order_by(UpstreamTransaction.id.desc()).limit(1))


def local_id_of(db: Db, charge_box_id: str, csms_id: int) -> int | None:
    return db.scalar(select(UpstreamTransaction.local_id).where(
        UpstreamTransaction.charge_box_id == charge_box_id,
        UpstreamTransaction.csms_id == csms_id).order_by(UpstreamTransaction.id.desc()).limit(1))


def refused_starts(db: Db, charge_box_id: str | None = None) -> list[UpstreamTransaction]:
    """Starts the upstream central system answered with a non-Accepted idTagInfo."""
    query = select(UpstreamTransaction).where(
        UpstreamTransaction.id_tag_status.is_not(None),
        UpstreamTransaction.id_tag_status != "Accepted")
    if charge_box_id is not None:
        query = query.where(UpstreamTransaction.charge_box_id == charge_box_id)
    return list(db.scalars(query.order_by(UpstreamTransaction.id.desc()).limit(100)))


# --- authorization cache --------------------------------------------------------------------
def cache_id_tag_info(db: Db, id_tag: str, info: dict) -> None:
    table = UpstreamIdTag.__table__
    values = {"status": info["status"], "parent_id_tag": info.get("parentIdTag"),
              "expiry_date": (parse_timestamp(info["expiryDate"])[0]
                              if info.get("expiryDate") else None), "updated_at": now()}
    db.execute(insert_for(db, table).values(id_tag=id_tag, **values)
               .on_conflict_do_update(index_elements=["id_tag"], set_=values))


def cached_id_tag_info(db: Db, id_tag: str, at: datetime | None = None) -> dict | None:
    row = db.get(UpstreamIdTag, id_tag)
    if row is None:
        return None
    info = {"status": row.status}
    if row.expiry_date is not None:
        info["expiryDate"] = row.expiry_date.isoformat().replace("+00:00", "Z")
        if row.status == "Accepted" and row.expiry_date < (at or now()):
            info["status"] = "Expired"
    if row.parent_id_tag:
        info["parentIdTag"] = row.parent_id_tag
    return info


# --- link state -----------------------------------------------------------------------------
def set_link_state(db: Db, charge_box_id: str, connected: bool, since: datetime | None,
                   error: str | None = None, keep_error: bool = False) -> None:
    _ensure_link(db, charge_box_id)
    values = {"connected": connected, "state_since": since}
    if not keep_error:
        values.update(last_error=error, last_error_at=now() if error else None)
    db.execute(update(UpstreamStation).where(UpstreamStation.charge_box_id == charge_box_id)
               .values(**values))


def set_boot_status(db: Db, charge_box_id: str, status: str) -> None:
    db.execute(update(UpstreamStation).where(UpstreamStation.charge_box_id == charge_box_id)
               .values(boot_status=status))


def set_password_token(db: Db, charge_box_id: str, token: bytes | None) -> None:
    """The password the upstream central system set (ChangeConfiguration AuthorizationKey)."""
    _ensure_link(db, charge_box_id)
    db.execute(update(UpstreamStation).where(UpstreamStation.charge_box_id == charge_box_id)
               .values(password=token, changed_at=now()))


def set_ping_interval(db: Db, charge_box_id: str, seconds: int) -> None:
    _ensure_link(db, charge_box_id)
    db.execute(update(UpstreamStation).where(UpstreamStation.charge_box_id == charge_box_id)
               .values(ping_interval=seconds))


def reset_link_states(db: Db) -> None:
    """At the bridge's start: nothing is connected yet."""
    db.execute(update(UpstreamStation).where(UpstreamStation.connected.is_(True))
               .values(connected=False, state_since=now()))
