"""The gateway as one WSGI application: SOAP endpoints under /services/, the web UI elsewhere."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from soapgw.config import Settings
from soapgw.core.central_system import CentralSystem
from soapgw.soap_in.endpoint import CentralSystemEndpoint
from soapgw.store.database import make_engine, make_session_factory, writer_lock
from soapgw.store.housekeeping import JournalHousekeeper
from soapgw.web import create_web_app


@dataclass
class Gateway:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    central_system: CentralSystem

    @classmethod
    def from_settings(cls, settings: Settings) -> "Gateway":
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine), CentralSystem(settings))


class PathDispatcher:
    """SOAP traffic skips Flask entirely: it is the hot path."""

    def __init__(self, soap, web, housekeeper: JournalHousekeeper):
        self.soap, self.web, self.housekeeper = soap, web, housekeeper

    def __call__(self, environ, start_response):
        self.housekeeper.start_once()
        if environ.get("PATH_INFO", "").startswith("/services/"):
            return self.soap(environ, start_response)
        return self.web(environ, start_response)

    def framing_error(self, peer: str | None, raw: bytes, reason: str) -> tuple[str, str, bytes]:
        """(status line, content type, body) for a request the HTTP server could not frame,
        answered as a SOAP Fault and journaled (see soapgw.server.GatewayWorker)."""
        return self.soap.framing_error(peer, raw, reason)


def create_app(settings: Settings | None = None, gateway: Gateway | None = None):
    """The WSGI application (gunicorn calls this through ``soapgw serve``)."""
    gateway = gateway or Gateway.from_settings(settings or Settings.from_env())
    soap = CentralSystemEndpoint(gateway.settings, gateway.engine, gateway.central_system,
                                 writer_lock(gateway.engine))
    web = create_web_app(gateway.settings, gateway.sessions)
    return PathDispatcher(soap, web, JournalHousekeeper(gateway.sessions, gateway.settings))
