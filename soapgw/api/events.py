"""The event outbox as a feed (``GET /events?after=ID``), and where its live stream is."""
from __future__ import annotations

from flask import Response as FlaskResponse, request
from spectree import Response

from soapgw.api.db import db
from soapgw.api.present import link
from soapgw.api.problems import invalid
from soapgw.api.root import stream_url
from soapgw.api.routing import route
from soapgw.api.schemas import EventPage, EventQuery
from soapgw.core import events
from soapgw.core.enums import EventType, values
from soapgw.core.webhooks.deliveries import event_data

TAG = "events"
EVENT_TYPES = values(EventType)


def checked_types(types: list[str] | None) -> list[str] | None:
    unknown = [t for t in types or () if t not in EVENT_TYPES]
    if unknown:
        raise invalid({"query.type": f"unknown event type(s) {', '.join(map(repr, unknown))}; "
                                     f"use {', '.join(EVENT_TYPES)}"}, status=400)
    return types or None


def stored(event: events.StoredEvent) -> dict:
    return event_data(event.id, event.created_at, event.charge_box_id, event.type,
                      event.payload)


@route("GET", "/events", tag=TAG, query=EventQuery, resp=Response(HTTP_200=EventPage))
def list_events(query: EventQuery):
    """Events after the id ``after``, oldest first: read on with ``nextAfter``. Types and
    payloads: see the README's Events section."""
    found = events.read(db(), query.after, query.limit, checked_types(query.type),
                        query.station)
    next_after = found[-1].id if found else query.after
    args = request.args.to_dict(flat=False)
    args["after"] = [str(next_after)]
    return {"items": [stored(e) for e in found], "nextAfter": next_after,
            "links": {"self": request.full_path.rstrip("?"),
                      "next": link("list_events", **args), "stream": stream_url()}}


@route("GET", "/events/stream", tag=TAG, resp=Response(HTTP_307=None))
def event_stream_redirect():
    """The live stream (Server-Sent Events) is served by its own server, so that long-lived
    connections never hold the workers that serve stations: this answers 307 with its URL.
    Connect there with the same token (``curl -N -H 'Authorization: Bearer ...'``); it
    resumes after ``Last-Event-ID`` (or ``?after=``) and filters by ``type`` and
    ``station`` like this feed."""
    target = stream_url()
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return FlaskResponse(status=307, headers={"Location": target})
