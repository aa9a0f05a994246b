"""The live event stream: Server-Sent Events of the outbox, in its own process.

A stream is a long-lived response; gunicorn's sync workers (which serve stations) would be
held for as long as a client listens. ``soapgw stream`` serves only this route, with
gunicorn's ``gthread`` worker (one thread per listener, ``--threads``, 100 by default), on
its own port; ``soapgw serve`` starts it beside the workers (``--stream-port``) and the
main port's ``/api/v1/events/stream`` answers 307 to it.

One poller thread per process watches the newest event id (every 0.1 s); listeners sleep
on a condition until it moves, then read their events (filters applied in SQL). Each event
is ``id: <event id>``, ``event: <type>``, ``data: <the event as JSON>``; a comment line
every 15 s keeps proxies from closing an idle stream. ``Last-Event-ID`` (browsers send it
when they reconnect) or ``?after=`` resumes after that id; without either the stream
starts at the newest event.
"""
from __future__ import annotations

import json
import threading
import time

from flask import Flask, Response, request
from gunicorn.app.base import BaseApplication
from sqlalchemy.orm import Session, sessionmaker

from soapgw.api.auth import authenticate
from soapgw.api.events import checked_types
from soapgw.api.problems import ApiProblem, from_http
from soapgw.core import events
from soapgw.core.webhooks.deliveries import event_data
from soapgw.config import Settings
from soapgw.store.database import READ_ONLY, make_engine, make_session_factory
from werkzeug.exceptions import HTTPException

POLL = 0.1
KEEPALIVE = 15.0
BATCH = 500


class Newest:
    """The newest event id, watched by one thread; listeners wait for it to move."""

    def __init__(self, sessions: sessionmaker[Session]):
        engine = sessions.kw["bind"].execution_options(**{READ_ONLY: True})
        self.sessions = lambda: sessions(bind=engine)
        self.value = 0
        self.changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            with self.sessions() as db:
                self.value = events.last_id(db)
            self._thread = threading.Thread(target=self._watch, daemon=True,
                                            name="soapgw-stream-poller")
            self._thread.start()

    def _watch(self) -> None:
        while True:
            try:
                with self.sessions() as db:
                    value = events.last_id(db)
            except Exception:  # noqa: BLE001  (database away for a moment: keep watching)
                value = self.value
            if value != self.value:
                with self.changed:
                    self.value = value
                    self.changed.notify_all()
            time.sleep(POLL)

    def wait_beyond(self, seen: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.value > seen, timeout)
            return self.value


def _start_after(newest: Newest) -> int:
    raw = request.headers.get("Last-Event-ID") or request.args.get("after")
    if raw is None:
        return newest.value
    if not raw.strip().isdigit() or len(raw.strip()) > 18:
        raise ApiProblem(400, "Last-Event-ID (or after) must be an event id",
                         errors=[{"field": "Last-Event-ID", "message": "not an event id"}])
    return int(raw.strip())


def stream(sessions, newest: Newest, after: int, types, station, stop=None):
    """The SSE lines of events after ``after``, for as long as the client listens."""
    read_sessions = newest.sessions
    yield "retry: 2000\n\n"
    last_sent = time.monotonic()
    while stop is None or not stop.is_set():
        top = newest.value  # committed before the read below: nothing at or below it is missing
        with read_sessions() as db:
            batch = events.read(db, after, BATCH, types, station)
        if batch:
            yield "".join(_message(event) for event in batch)
            last_sent = time.monotonic()
            if len(batch) == BATCH:
                after = batch[-1].id
                continue
        after = max(top, batch[-1].id if batch else after)
        if newest.wait_beyond(after, KEEPALIVE) <= after \
                and time.monotonic() - last_sent >= KEEPALIVE:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()


def _message(event) -> str:
    data = json.dumps(event_data(event.id, event.created_at, event.charge_box_id, event.type,
                                 event.payload), separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"


def create_stream_app(sessions: sessionmaker[Session]) -> Flask:
    """The stream server's WSGI app: the stream route and /health only."""
    app = Flask(__name__)
    app.extensions["soapgw_sessions"] = sessions
    newest = Newest(sessions)

    @app.get("/api/v1/events/stream")
    def event_stream():
        authenticate(sessions)
        newest.start()
        after = _start_after(newest)
        types = checked_types(request.args.getlist("type"))
        station = request.args.get("station") or None
        response = Response(stream(sessions, newest, after, types, station),
                            mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"  # nginx: pass events on at once
        return response

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.errorhandler(ApiProblem)
    def problem(error: ApiProblem):
        return error.response()

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return from_http(error).response()

    return app


class StreamServer(BaseApplication):
    """The live event stream (soapgw.api.stream) under gunicorn's gthread worker: one thread
    per listener, in a process of its own, so listeners never hold the sync workers."""

    def __init__(self, settings: Settings, options: dict):
        self.settings, self.options = settings, options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if key == "control_socket_disable" and key not in self.cfg.settings:
                continue  # a setting of gunicorn >= 25.1 only
            self.cfg.set(key, value)

    def load(self):
        return create_stream_app(make_session_factory(make_engine(self.settings.database_url)))


def serve_stream(settings: Settings, host: str, port: int, threads: int) -> None:
    StreamServer(settings, {
        "bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread",
        "threads": threads, "timeout": 60, "graceful_timeout": 5, "keepalive": 5,
        "accesslog": None, "errorlog": "-", "loglevel": "warning",
        "proc_name": "soapgw-stream",
        # as soapgw serve: no per-user control socket that another instance would take over
        "control_socket_disable": True,
    }).run()
