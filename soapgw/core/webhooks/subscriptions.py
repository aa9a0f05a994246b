"""Webhook subscriptions as integrators and operators manage them: create, change, pause and
resume, rotate the secret, delete; redeliver a message by hand.

One function per act, in the caller's transaction, raising ``Invalid`` (field -> reason) or
``NotFound`` before writing anything. A new subscription starts at the newest event: it
receives what happens from then on. Its cursor is registered as the event consumer
``webhook:<id>``, so the event purge waits for it.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from soapgw.core import events
from soapgw.core.commands.callback_policy import resolve
from soapgw.core.enums import EventType, values
from soapgw.core.errors import Invalid, NotFound
from soapgw.core.identifiers import CHARGE_BOX_ID_LENGTH, identifier_problem
from soapgw.core.webhooks import keys
from soapgw.core.webhooks.policy import judge_webhook
from soapgw.store.models import Webhook, WebhookDelivery
from soapgw.timestamps import now

EVENT_TYPES = values(EventType)
ACTIVE, PAUSED = "active", "paused"
MAX_FILTER_ITEMS = 1000


def consumer_name(webhook_id: int) -> str:
    return f"webhook:{webhook_id}"


@dataclass
class WebhookValues:
    """What a subscriber sets; None leaves a value as it is (on update)."""

    url: str | None = None
    types: list[str] | None = None  # empty: every event
    stations: list[str] | None = None  # empty: every station
    description: str | None = None


def _checked(values: WebhookValues, allowed_networks: tuple,
             resolver: Callable[[str], list[str]]) -> dict:
    problems, columns = {}, {}
    if values.url is not None:
        url = values.url.strip()
        verdict = judge_webhook(url, resolver(url), allowed_networks)
        if len(url) > 2048:
            problems["url"] = "at most 2048 characters"
        elif not verdict.allowed:
            problems["url"] = verdict.reason
        columns["url"] = url
    if values.types is not None:
        unknown = [t for t in values.types if t not in EVENT_TYPES]
        if unknown:
            problems["types"] = (f"unknown event type(s) {', '.join(map(repr, unknown[:5]))}; "
                                 f"use {', '.join(EVENT_TYPES)}")
        elif len(values.types) > MAX_FILTER_ITEMS:
            problems["types"] = f"at most {MAX_FILTER_ITEMS}"
        columns["types"] = json.dumps(sorted(set(values.types)))
    if values.stations is not None:
        bad = [f"{s!r}: {p}" for s in values.stations
               if (p := identifier_problem(s, "charge point id", CHARGE_BOX_ID_LENGTH))]
        if bad:
            problems["stations"] = "; ".join(bad[:5])
        elif len(values.stations) > MAX_FILTER_ITEMS:
            problems["stations"] = f"at most {MAX_FILTER_ITEMS}"
        columns["stations"] = json.dumps(list(dict.fromkeys(values.stations)))
    if values.description is not None:
        if len(values.description) > 1000:
            problems["description"] = "at most 1000 characters"
        columns["description"] = values.description.strip() or None
    if problems:
        raise Invalid(problems)
    return columns


def create(db: Session, values: WebhookValues, allowed_networks: tuple = (),
           resolver: Callable[[str], list[str]] = resolve) -> Webhook:
    if values.url is None:
        raise Invalid({"url": "a URL is needed"})
    columns = _checked(WebhookValues(values.url, values.types or [], values.stations or [],
                                     values.description or ""), allowed_networks, resolver)
    at = now()
    webhook = Webhook(**columns, secret_nonce=keys.new_nonce(), state=ACTIVE, created_at=at,
                      updated_at=at)
    db.add(webhook)
    db.flush()
    events.advance(db, consumer_name(webhook.id), events.last_id(db))
    return webhook


def webhook(db: Session, webhook_id: int) -> Webhook:
    found = db.get(Webhook, webhook_id)
    if found is None:
        raise NotFound(f"no webhook {webhook_id}")
    return found


def update(db: Session, webhook_id: int, values: WebhookValues, allowed_networks: tuple = (),
           resolver: Callable[[str], list[str]] = resolve) -> Webhook:
    """Change the URL or the filters; they apply to events not yet queued."""
    found = webhook(db, webhook_id)
    for name, value in _checked(values, allowed_networks, resolver).items():
        setattr(found, name, value)
    found.updated_at = now()
    return found


def pause(db: Session, webhook_id: int, reason: str) -> Webhook:
    found = webhook(db, webhook_id)
    if found.state != PAUSED:
        found.state, found.paused_reason, found.paused_at = PAUSED, reason, now()
    return found


def resume(db: Session, webhook_id: int) -> Webhook:
    """Deliver again, starting with the message that was retried when it paused (whose 24 h
    of retries start anew)."""
    found = webhook(db, webhook_id)
    if found.state == PAUSED:
        found.state, found.paused_reason, found.paused_at = ACTIVE, None, None
        head = db.scalars(select(WebhookDelivery).where(
            WebhookDelivery.webhook_id == found.id, WebhookDelivery.state == "pending")
            .order_by(WebhookDelivery.id).limit(1)).one_or_none()
        if head is not None:
            head.first_attempt_at, head.next_attempt_at = None, now()
    return found


def rotate_secret(db: Session, webhook_id: int) -> Webhook:
    found = webhook(db, webhook_id)
    found.secret_nonce = keys.new_nonce()
    found.updated_at = now()
    return found


def delete(db: Session, webhook_id: int) -> None:
    """Delete the subscription with its delivery log; its cursor no longer holds events."""
    found = webhook(db, webhook_id)
    db.delete(found)
    events.forget_consumer(db, consumer_name(webhook_id))


def redeliver(db: Session, webhook_id: int, delivery_id: int) -> WebhookDelivery:
    """Queue a logged message again (same ``webhook-id``, so receivers can tell), after what
    is already queued."""
    found = db.get(WebhookDelivery, delivery_id)
    if found is None or found.webhook_id != webhook_id:
        raise NotFound(f"no delivery {delivery_id} of webhook {webhook_id}")
    again = WebhookDelivery(webhook_id=webhook_id, event_id=found.event_id,
                            event_type=found.event_type, message_id=found.message_id,
                            body=found.body, state="pending", attempts=0,
                            next_attempt_at=now(), created_at=now())
    db.add(again)
    db.flush()
    return again
