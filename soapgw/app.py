"""Composition: the Gateway builds every part once and hands each what it needs; ``create_app``
makes the WSGI application (SOAP endpoints under /services/, the web UI elsewhere)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from soapgw.bridge.advisor import BridgeAdvisor
from soapgw.bridge.wake import WakeBell
from soapgw import api
from soapgw.config import Settings
from soapgw.core.central_system import CentralSystem
from soapgw.core.commands.runner import Sender, TaskRunner
from soapgw.core.events import EventPublisher
from soapgw.core.housekeeping import Housekeeper
from soapgw.http_out.authorizer import authorization_advisors
from soapgw.soap_in.endpoint import CentralSystemEndpoint
from soapgw.soap_out.client import SoapSender
from soapgw.store.database import make_engine, make_session_factory, writer_lock
from soapgw.web import create_web_app


@dataclass
class Gateway:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    events: EventPublisher
    central_system: CentralSystem
    task_runner: TaskRunner
    housekeeper: Housekeeper

    @classmethod
    def from_settings(cls, settings: Settings, sender: Sender | None = None,
                      max_workers: int | None = None) -> "Gateway":
        """Every part over one engine; ``sender`` replaces the SOAP client (tests, the
        bridge), ``max_workers`` the outbound concurrency (one for ``soapgw call``)."""
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        events = EventPublisher()
        # Decision messages of bridged stations are asked of the upstream central system
        # through the bridge process (soapgw.bridge.advisor) when the bridge is configured.
        advisors = ([BridgeAdvisor(settings.instance_path, settings.upstream_answer_timeout)]
                    if settings.upstream_url else [])
        return cls(settings, engine, sessions, events,
                   CentralSystem(settings, events=events,
                                 advisors=advisors + authorization_advisors(settings, sessions)),
                   TaskRunner(sessions, settings, sender or SoapSender(settings), max_workers,
                              events=events),
                   Housekeeper(sessions, settings))


class PathDispatcher:
    """SOAP traffic skips Flask entirely: it is the hot path."""

    def __init__(self, soap, web):
        self.soap, self.web = soap, web

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/services/"):
            return self.soap(environ, start_response)
        return self.web(environ, start_response)

    def framing_error(self, peer: str | None, raw: bytes, reason: str) -> tuple[str, str, bytes]:
        """(status line, content type, body) for a request the HTTP server could not frame,
        answered as a SOAP Fault and journaled (see soapgw.server_worker.GatewayWorker)."""
        return self.soap.framing_error(peer, raw, reason)


def create_app(settings: Settings | None = None, gateway: Gateway | None = None):
    """The WSGI application (gunicorn calls this through ``soapgw serve``)."""
    gateway = gateway or Gateway.from_settings(settings or Settings.from_env())
    soap = CentralSystemEndpoint(gateway.settings, gateway.engine, gateway.central_system,
                                 writer_lock(gateway.engine),
                                 WakeBell(gateway.settings.instance_path).ring)
    web = create_web_app(gateway.settings, gateway.sessions, gateway.task_runner,
                         gateway.events)
    api.init_app(web)  # the JSON API in the same Flask app, under /api
    return PathDispatcher(soap, web)
