"""The delivery queue of each subscription, in SQL (it survives restarts).

``enqueue`` turns the events past a subscription's cursor into pending deliveries and moves
the cursor, in one transaction: each event is queued exactly once. Deliveries go out in id
order, one at a time per subscription: a message that fails is retried (backoff doubling
from ``RetryPolicy.base`` up to ``cap``) and the ones after it wait, so a receiver sees
every message in order, at least once. After ``window`` (24 h) of failures the subscription
is paused (``subscriptions.resume`` goes on from that message).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select, update

from soapgw.core import events
from soapgw.core.webhooks import subscriptions
from soapgw.store.database import Db
from soapgw.store.models import Event, EventConsumer, Webhook, WebhookDelivery
from soapgw.timestamps import now

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
RESPONSE_KEPT = 1000  # characters of the receiver's answer kept in the log
_EVENTS = Event.__table__


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 5.0  # seconds before the first retry; doubles each time
    cap: float = 3600.0  # at most this long between two tries
    window: float = 86400.0  # then the subscription is paused

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.cap, self.base * 2 ** max(0, attempts - 1)))


def event_data(event_id: int, created_at: datetime, charge_box_id: str | None, type_: str,
               payload: dict) -> dict:
    """An event as the API, the stream and webhooks show it."""
    return {"id": event_id, "type": type_, "chargeBoxId": charge_box_id,
            "createdAt": created_at.isoformat().replace("+00:00", "Z"), "payload": payload}


def message_body(row) -> str:
    """The Standard Webhooks payload: type, timestamp and the event as data."""
    payload = json.loads(row.payload)
    return json.dumps({"type": row.type,
                       "timestamp": row.created_at.isoformat().replace("+00:00", "Z"),
                       "data": event_data(row.id, row.created_at, row.charge_box_id, row.type,
                                          payload)}, separators=(",", ":"))


def cursor(db: Db, webhook_id: int) -> int:
    return db.scalar(select(EventConsumer.last_event_id).where(
        EventConsumer.name == subscriptions.consumer_name(webhook_id))) or 0


def enqueue(db: Db, webhook: Webhook, limit: int = 500) -> int:
    """Queue the events after the subscription's cursor that it wants; returns how many
    were queued."""
    after = cursor(db, webhook.id)
    top = events.last_id(db)
    if top <= after:
        return 0
    query = (select(_EVENTS).where(_EVENTS.c.id > after, _EVENTS.c.id <= top)
             .order_by(_EVENTS.c.id).limit(limit))
    if types := json.loads(webhook.types):
        query = query.where(_EVENTS.c.type.in_(types))
    if stations := json.loads(webhook.stations):
        query = query.where(_EVENTS.c.charge_box_id.in_(stations))
    rows = db.execute(query).all()
    at = now()
    if rows:
        db.execute(insert(WebhookDelivery.__table__), [
            {"webhook_id": webhook.id, "event_id": row.id, "event_type": row.type,
             "message_id": f"msg_{row.id}", "body": message_body(row), "state": PENDING,
             "attempts": 0, "next_attempt_at": at, "created_at": at} for row in rows])
    # ids commit in order (core.events), so nothing below ``top`` can still appear
    events.advance(db, subscriptions.consumer_name(webhook.id),
                   rows[-1].id if len(rows) == limit else top)
    return len(rows)


def due(db: Db, webhook_id: int, at: datetime | None = None, limit: int = 100) -> list:
    """The next pending deliveries in order, when the first of them is due (else none)."""
    rows = db.execute(select(WebhookDelivery.id, WebhookDelivery.message_id,
                             WebhookDelivery.body, WebhookDelivery.next_attempt_at,
                             WebhookDelivery.attempts)
                      .where(WebhookDelivery.webhook_id == webhook_id,
                             WebhookDelivery.state == PENDING)
                      .order_by(WebhookDelivery.id).limit(limit)).all()
    if not rows or rows[0].next_attempt_at > (at or now()):
        return []
    return rows


@dataclass(frozen=True)
class Attempt:
    """What one POST to the receiver gave."""

    delivery_id: int
    status: int | None  # HTTP status, None when there was no answer
    response: str | None = None
    error: str | None = None
    at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def record_delivered(db: Db, attempts: list[Attempt]) -> None:
    if not attempts:
        return
    db.execute(update(WebhookDelivery.__table__)
               .where(WebhookDelivery.__table__.c.id == bindparam("b_id"))
               .values(state=DELIVERED, attempts=WebhookDelivery.__table__.c.attempts + 1,
                       last_status=bindparam("b_status"), last_response=bindparam("b_response"),
                       last_error=None, last_attempt_at=bindparam("b_at"),
                       delivered_at=bindparam("b_at")),
               [{"b_id": a.delivery_id, "b_status": a.status,
                 "b_response": (a.response or "")[:RESPONSE_KEPT], "b_at": a.at or now()}
                for a in attempts])


def record_failure(db: Db, webhook_id: int, attempt: Attempt, policy: RetryPolicy) -> bool:
    """Schedule the retry, or pause the subscription once the window is over; True when it
    paused."""
    at = attempt.at or now()
    delivery = db.get(WebhookDelivery, attempt.delivery_id)
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or at
    delivery.last_attempt_at = at
    delivery.last_status = attempt.status
    delivery.last_response = (attempt.response or "")[:RESPONSE_KEPT] or None
    delivery.last_error = attempt.error
    delivery.next_attempt_at = at + policy.delay(delivery.attempts)
    if (at - delivery.first_attempt_at).total_seconds() >= policy.window:
        reason = (f"message {delivery.message_id} failed for "
                  f"{policy.window / 3600:g} h ({delivery.attempts} attempts): "
                  f"{attempt.error or f'HTTP {attempt.status}'}")
        subscriptions.pause(db, webhook_id, reason)
        return True
    return False


def active_webhooks(db: Db) -> list:
    return db.execute(select(Webhook.id, Webhook.url, Webhook.types, Webhook.stations,
                             Webhook.secret_nonce)
                      .where(Webhook.state == subscriptions.ACTIVE)
                      .order_by(Webhook.id)).all()


def purge(db: Db, retention_days: int, at: datetime | None = None) -> int:
    """Delete delivered messages older than the retention (the log of what failed stays)."""
    if retention_days <= 0:
        return 0
    cutoff = (at or now()) - timedelta(days=retention_days)
    return db.execute(delete(WebhookDelivery).where(
        WebhookDelivery.state == DELIVERED, WebhookDelivery.delivered_at < cutoff)).rowcount
