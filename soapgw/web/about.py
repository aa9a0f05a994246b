"""About: the version, the database schema revision, the addresses to give stations and
integrators, the server's time."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from soapgw import __version__
from soapgw.store.migrate import revisions
from soapgw.timestamps import now
from soapgw.web.db import db

bp = Blueprint("about", __name__, url_prefix="/about")

# Served by soapgw.soap_in (its PATHS) and soapgw.api; tests/test_web_accounts_about.py
# fetches each one, so a moved endpoint fails there.
STATION_ENDPOINTS = (
    ("OCPP 1.6 and 1.5 (the version is told by the message's namespace)",
     "/services/CentralSystemService"),
    ("OCPP 1.6 only", "/services/CentralSystemServiceOCPP16"),
    ("OCPP 1.5 only", "/services/CentralSystemServiceOCPP15"),
)
STREAM_PATH = "/api/v1/events/stream"


def _base_url() -> str:
    configured = current_app.config["SOAPGW_SETTINGS"].public_url
    return (configured or request.host_url).rstrip("/")


def _stream_url(base: str) -> str:
    """As soapgw.api.root.stream_url: its own port under ``soapgw serve``, or the URL set."""
    settings = current_app.config["SOAPGW_SETTINGS"]
    if settings.stream_url:
        return settings.stream_url
    if settings.stream_port:
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") \
            else request.host
        return f"{request.scheme}://{host}:{settings.stream_port}{STREAM_PATH}"
    return base + STREAM_PATH


@bp.get("")
def index():
    base = _base_url()
    current, heads = revisions(db().connection())
    stations = [(label, base + path, base + path + "?wsdl") for label, path in STATION_ENDPOINTS]
    integrators = [("REST API", base + "/api/v1"),
                   ("OpenAPI document", base + "/api/v1/openapi.json"),
                   ("API documentation", base + "/api/docs"),
                   ("Event stream (server-sent events)", _stream_url(base))]
    return render_template("about.html", version=__version__, revision=current, heads=heads,
                           stations=stations, integrators=integrators, server_time=now(),
                           public_url=current_app.config["SOAPGW_SETTINGS"].public_url)
