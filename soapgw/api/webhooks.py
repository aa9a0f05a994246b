"""Webhook subscriptions (admin): create (answers the ``whsec_`` secret), list, read,
change, pause/resume, rotate the secret, delete; the delivery log and redelivery by hand.
``soapgw dispatch`` delivers them (never a request of this API)."""
from __future__ import annotations

import json as jsonlib

from flask import Response as FlaskResponse
from spectree import Response
from sqlalchemy import func, select

from soapgw.api.db import db
from soapgw.api.paging import keyset, page
from soapgw.api.present import iso, link, settings
from soapgw.api.problems import ApiProblem, invalid
from soapgw.api.routing import route
from soapgw.api.schemas import (Delivery, DeliveryPage, DeliveryQuery, PageQuery,
                                Webhook as WebhookModel, WebhookCreate, WebhookPage,
                                WebhookUpdate, WebhookWithSecret)
from soapgw.core.errors import Invalid, NotFound
from soapgw.core.webhooks import keys, subscriptions
from soapgw.core.webhooks.subscriptions import WebhookValues
from soapgw.store.models import Webhook, WebhookDelivery

TAG = "webhooks"
ID_RULE = "<int(max=2147483647):webhook_id>"


def _pending(webhook_id: int) -> int:
    return db().scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.state == "pending"))


def view(hook: Webhook) -> dict:
    return {"id": hook.id, "url": hook.url, "types": jsonlib.loads(hook.types),
            "stations": jsonlib.loads(hook.stations), "description": hook.description,
            "state": hook.state, "pausedReason": hook.paused_reason,
            "pausedAt": iso(hook.paused_at), "pending": _pending(hook.id),
            "createdAt": iso(hook.created_at), "updatedAt": iso(hook.updated_at),
            "links": {"self": link("get_webhook", webhook_id=hook.id),
                      "deliveries": link("list_deliveries", webhook_id=hook.id)}}


def with_secret(hook: Webhook) -> dict:
    return {**view(hook),
            "secret": keys.secret(keys.load_key(settings().instance_path), hook.secret_nonce)}


def _hook(webhook_id: int) -> Webhook:
    try:
        return subscriptions.webhook(db(), webhook_id)
    except NotFound as error:
        raise ApiProblem(404, str(error)) from None


@route("GET", "/webhooks", scope="admin", tag=TAG, query=PageQuery,
       resp=Response(HTTP_200=WebhookPage))
def list_webhooks(query: PageQuery):
    """Subscriptions, oldest first (paused ones with the reason)."""
    rows, cursor = keyset(db(), select(Webhook), Webhook.id, query.limit, query.cursor,
                          descending=False, last=lambda row: row.Webhook.id)
    return page([view(row.Webhook) for row in rows], cursor)


@route("POST", "/webhooks", scope="admin", tag=TAG, json=WebhookCreate,
       resp=Response(HTTP_201=WebhookWithSecret, HTTP_422=None))
def create_webhook(json: WebhookCreate):
    """Subscribe ``url`` to events (``types`` and ``stations`` empty: all). The answer
    carries the signing secret; deliveries start with the next event."""
    try:
        hook = subscriptions.create(db(), WebhookValues(json.url, json.types, json.stations,
                                                        json.description),
                                    settings().webhook_allowed_networks)
    except Invalid as error:
        raise invalid(error.problems) from None
    db().commit()
    return with_secret(hook), 201, {"Location": link("get_webhook", webhook_id=hook.id)}


@route("GET", f"/webhooks/{ID_RULE}", scope="admin", tag=TAG,
       resp=Response(HTTP_200=WebhookModel, HTTP_404=None))
def get_webhook(webhook_id: int):
    """One subscription."""
    return view(_hook(webhook_id))


@route("PATCH", f"/webhooks/{ID_RULE}", scope="admin", tag=TAG, json=WebhookUpdate,
       resp=Response(HTTP_200=WebhookModel, HTTP_404=None, HTTP_422=None))
def update_webhook(webhook_id: int, json: WebhookUpdate):
    """Change URL, filters or description; ``active`` false pauses, true resumes (from the
    message that was failing)."""
    _hook(webhook_id)
    session = db()
    try:
        hook = subscriptions.update(session, webhook_id, WebhookValues(
            json.url, json.types, json.stations, json.description),
            settings().webhook_allowed_networks)
        if json.active is False:
            subscriptions.pause(session, webhook_id, "paused by hand")
        elif json.active is True:
            subscriptions.resume(session, webhook_id)
    except Invalid as error:
        raise invalid(error.problems) from None
    session.commit()
    return view(hook)


@route("POST", f"/webhooks/{ID_RULE}/rotate-secret", scope="admin", tag=TAG,
       resp=Response(HTTP_200=WebhookWithSecret, HTTP_404=None))
def rotate_webhook_secret(webhook_id: int):
    """A new signing secret, used from the next delivery on."""
    _hook(webhook_id)
    hook = subscriptions.rotate_secret(db(), webhook_id)
    db().commit()
    return with_secret(hook)


@route("DELETE", f"/webhooks/{ID_RULE}", scope="admin", tag=TAG,
       resp=Response(HTTP_204=None, HTTP_404=None))
def delete_webhook(webhook_id: int):
    """Unsubscribe (the delivery log goes with it)."""
    _hook(webhook_id)
    subscriptions.delete(db(), webhook_id)
    db().commit()
    return FlaskResponse(status=204)


def delivery_view(row: WebhookDelivery) -> dict:
    pending = row.state == "pending"
    return {"id": row.id, "eventId": row.event_id, "eventType": row.event_type,
            "messageId": row.message_id, "state": row.state, "attempts": row.attempts,
            "nextAttemptAt": iso(row.next_attempt_at) if pending else None,
            "lastAttemptAt": iso(row.last_attempt_at), "lastStatus": row.last_status,
            "lastResponse": row.last_response, "lastError": row.last_error,
            "createdAt": iso(row.created_at), "deliveredAt": iso(row.delivered_at),
            "links": {"redeliver": link("redeliver", webhook_id=row.webhook_id,
                                        delivery_id=row.id)}}


@route("GET", f"/webhooks/{ID_RULE}/deliveries", scope="admin", tag=TAG, query=DeliveryQuery,
       resp=Response(HTTP_200=DeliveryPage, HTTP_404=None))
def list_deliveries(webhook_id: int, query: DeliveryQuery):
    """The delivery log, newest first: state, attempts, the receiver's last answer."""
    _hook(webhook_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if query.state:
        statement = statement.where(WebhookDelivery.state == query.state)
    rows, cursor = keyset(db(), statement, WebhookDelivery.id, query.limit, query.cursor,
                          last=lambda row: row.WebhookDelivery.id)
    return page([delivery_view(row.WebhookDelivery) for row in rows], cursor)


@route("POST", f"/webhooks/{ID_RULE}/deliveries/<int(max=9223372036854775807):delivery_id>"
               "/redeliver", scope="admin", tag=TAG,
       resp=Response(HTTP_201=Delivery, HTTP_404=None))
def redeliver(webhook_id: int, delivery_id: int):
    """Queue the message again (same webhook-id), after those already queued."""
    try:
        again = subscriptions.redeliver(db(), webhook_id, delivery_id)
    except NotFound as error:
        raise ApiProblem(404, str(error)) from None
    db().commit()
    return delivery_view(again), 201
