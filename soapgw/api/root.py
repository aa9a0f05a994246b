"""GET /api/v1: who am I, and where everything is."""
from __future__ import annotations

from flask import request
from spectree import Response

from soapgw import __version__
from soapgw.api import auth
from soapgw.api.present import link, settings
from soapgw.api.routing import route
from soapgw.api.schemas import Index


def stream_url() -> str:
    """Where the live event stream is served: its own server (``soapgw serve`` starts it on
    --stream-port), or SOAPGW_STREAM_URL when a proxy publishes it elsewhere."""
    configured = settings()
    if configured.stream_url:
        return configured.stream_url
    path = "/api/v1/events/stream"
    if configured.stream_port:
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") \
            else request.host
        return f"{request.scheme}://{host}:{configured.stream_port}{path}"
    return request.host_url.rstrip("/") + path


@route("GET", "", tag="api", resp=Response(HTTP_200=Index))
def index():
    """The API's entry point: the caller's token and links to every collection."""
    caller = auth.caller()
    return {"version": __version__,
            "caller": {"name": caller.name, "scope": caller.scope},
            "links": {"self": link("index"), "openapi": link("openapi"), "docs": "/api/docs",
                      "chargepoints": link("list_chargepoints"), "tags": link("list_tags"),
                      "transactions": link("list_transactions"),
                      "reservations": link("list_reservations"), "tasks": link("list_tasks"),
                      "journal": link("list_journal"),
                      "unknownStations": link("list_unknown_stations"),
                      "settings": link("get_settings"), "events": link("list_events"),
                      "eventStream": stream_url(), "webhooks": link("list_webhooks"),
                      "tokens": link("list_tokens")}}
