"""``soapgw serve``: gunicorn sync workers in the foreground; SIGTERM stops it cleanly."""
from __future__ import annotations

import gc

from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import (InvalidResponseHeader, InvalidResponseHeaderName,
                                  ParseException)
from gunicorn.workers.sync import SyncWorker

from soapgw.config import Settings

# Settings of newer gunicorn releases only: skipped where the installed one lacks them.
_OPTIONAL_SETTINGS = {"control_socket_disable"}


class GatewayServer(BaseApplication):
    def __init__(self, settings: Settings, options: dict):
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if key in _OPTIONAL_SETTINGS and key not in self.cfg.settings:
                continue
            self.cfg.set(key, value)

    def load(self):
        from soapgw.app import create_app
        app = create_app(self.settings)
        # The loaded app (spyne, zeep, SQLAlchemy) is ~100k long-lived objects that every full
        # collection would walk again; freeze them and collect young objects less often.
        # Measured: 10-30% less CPU per message.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        return app


class GatewayWorker(SyncWorker):
    """gunicorn's sync worker, except for requests gunicorn cannot frame before they reach the
    application (a Content-Length that is not a number, conflicting lengths, a bad request
    line or header): those are answered with a SOAP Fault and journaled by the application
    (``framing_error``), not with gunicorn's HTML page. A bad chunk inside the body reaches
    the application itself, which answers it the same way."""

    def handle_error(self, req, client, addr, exc):
        request = req or getattr(exc, "req", None)
        answer = getattr(self.wsgi, "framing_error", None)
        path = getattr(request, "path", None) or ""
        if (answer is None or not isinstance(exc, ParseException)
                or isinstance(exc, (InvalidResponseHeader, InvalidResponseHeaderName))
                or (path and not path.startswith("/services/"))):
            return super().handle_error(req, client, addr, exc)
        peer = addr[0] if addr and isinstance(addr, tuple) else None
        self.log.warning("Invalid request from ip=%s: %s", peer, exc)
        try:
            status, content_type, body = answer(peer, _request_head(request),
                                                str(exc) or type(exc).__name__)
            head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
            client.sendall(head.encode("latin-1") + body)
        except Exception:  # noqa: BLE001  (the client is gone: nothing left to answer)
            self.log.debug("Failed to send the framing error answer.", exc_info=True)


def _request_head(request) -> bytes:
    """What gunicorn read of an unframeable request (its body is never read)."""
    if request is None or getattr(request, "method", None) is None:
        return b""
    version = request.version or (1, 1)
    lines = [f"{request.method} {request.uri} HTTP/{version[0]}.{version[1]}"]
    lines += [f"{name}: {value}" for name, value in request.headers or ()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    GatewayServer(settings, {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "soapgw.server.GatewayWorker",
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,  # stations and benchmarks reuse connections
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "soapgw",
        # gunicorn >= 25.1 opens a control socket at one path per user (~/.gunicorn/
        # gunicorn.ctl): a second instance on the machine would take over the first's.
        # soapgw is run by signals (TERM, HUP, TTIN/TTOU), so there is none.
        "control_socket_disable": True,
    }).run()
