"""``soapgw serve``: gunicorn in the foreground (two pools of workers reading requests whole
on one port: stations' /services/ and the web UI with the API, see soapgw.server_worker; or
with ``--sync`` gunicorn's sync workers for everything), with the gateway's helper
processes beside them (``soapgw housekeep``, and ``soapgw bridge`` when SOAPGW_UPSTREAM_URL
is set); SIGTERM stops it all cleanly."""
from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
import threading

from gunicorn.app.base import BaseApplication

from soapgw.config import ConfigError, Settings
from soapgw.heap import settle_heap
from soapgw.server_worker import Pools

log = logging.getLogger(__name__)

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
        settle_heap()
        return app


def local_proxy_problem(settings: Settings, host: str) -> str | None:
    """Served on a loopback address while stations are told a public URL: only a reverse proxy
    on this host can reach soapgw, and without SOAPGW_TRUSTED_PROXIES every station would look
    like 127.0.0.1 (source networks meaningless, callbacks to any local port allowed)."""
    from urllib.parse import urlsplit

    from soapgw.core.commands.callback_policy import parse_ip
    bound = parse_ip("127.0.0.1" if host == "localhost" else host)
    public = urlsplit(settings.public_url or "").hostname
    if settings.trusted_proxies or bound is None or not bound.is_loopback or not public:
        return None
    public_ip = parse_ip(public)
    if public == "localhost" or (public_ip is not None and public_ip.is_loopback):
        return None
    return (f"soapgw serves {host} (this host only) while SOAPGW_PUBLIC_URL is "
            f"{settings.public_url}: a reverse proxy on this host forwards the stations, so set "
            "SOAPGW_TRUSTED_PROXIES=127.0.0.1/32,::1/128, or every station looks like "
            "127.0.0.1 and may be called back on any local port")


# Held while a helper is being started and while gunicorn forks a worker. Popen waits for
# its child's exec on a pipe whose write end a worker forked meanwhile would inherit (the
# worker never execs): that Popen never returned, so the helper was never restarted.
_FORKING = threading.Lock()
_fork_guard_installed = False


def _guard_forks() -> None:
    global _fork_guard_installed
    if not _fork_guard_installed:
        _fork_guard_installed = True
        os.register_at_fork(before=_FORKING.acquire, after_in_parent=_FORKING.release,
                            after_in_child=_FORKING.release)


class Helpers:
    """Processes that run beside the workers, one of each (a loop that must not run once per
    worker, nor in a request's path): started when gunicorn is ready, restarted when one
    dies, stopped with it."""

    RESTART_DELAY = 5.0

    def __init__(self, commands: list[list[str]]):
        self.commands = commands
        self.processes: dict[int, subprocess.Popen] = {}
        self._stopping = threading.Event()

    def start(self, _arbiter=None) -> None:
        _guard_forks()
        for index, command in enumerate(self.commands):
            threading.Thread(target=self._keep, args=(index, command), daemon=True,
                             name=f"helper-{command[-1]}").start()

    def _keep(self, index: int, command: list[str]) -> None:
        while not self._stopping.is_set():
            with _FORKING:
                process = subprocess.Popen([sys.executable, "-m", "soapgw", *command])
            self.processes[index] = process
            # Polled, not wait(): gunicorn's SIGCHLD handler reaps any child (waitpid(-1)),
            # and a blocking wait() on a child it reaped first was seen never to return.
            while (code := process.poll()) is None:
                self._stopping.wait(0.5)
            if self._stopping.wait(self.RESTART_DELAY):
                return
            log.warning("soapgw %s exited with %s: restarting it", " ".join(command), code)

    def stop(self, _arbiter=None) -> None:
        self._stopping.set()
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def prepare_bridge(settings: Settings) -> bool:
    """Whether the OCPP-J bridge runs beside the workers; its outbox cursor is registered
    before the first message can come in (or forgotten when no station is bridged)."""
    from sqlalchemy import select

    from soapgw.core.upstream_queue import prepare
    from soapgw.store.database import make_engine, make_session_factory
    from soapgw.store.models import UpstreamStation
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as db:
            own_urls = db.scalar(select(UpstreamStation.charge_box_id).where(
                UpstreamStation.url.is_not(None)).limit(1)) is not None
            prepare(db, settings.upstream_url is not None or own_urls)
    finally:
        engine.dispose()
    return settings.upstream_url is not None


# Threads per worker: a request reaches a thread only once read whole (server_worker), so a
# thread waits only on the database (SQLite's writer lock, PostgreSQL's round trips), never
# on a client: a few per process suffice, so that a slow database or advisor call does not
# stop the process. More threads make larger group-commit batches (the messages a process has
# ready together share one COMMIT and one turn of SQLite's writer lock). Heartbeats, 32
# clients, Connection: close, --workers 2, side by side (2026-12-05): 4 threads 1,455 and
# 1,504 req/s, 8 threads 1,712 and 1,788, 16 threads 1,654 and 1,679.
THREADS = 8


def serve(settings: Settings, host: str, port: int, workers: int,
          stream_port: int | None = None, ui_workers: int = 1, buffered: bool = True,
          threads: int = THREADS) -> None:
    """``workers`` processes for the stations (/services/) that read each request whole
    before a thread runs it, and ``ui_workers`` for the web UI and the API (0: one pool for
    all), on one port; or (not ``buffered``) ``workers`` gunicorn sync processes for
    everything. Beside them housekeeping, the webhook dispatcher, the OCPP-J bridge (when
    configured) and (``stream_port``) the event stream server."""
    problem = local_proxy_problem(settings, host)
    if problem:
        raise ConfigError(problem)
    # Import the application's modules here, before gunicorn binds and forks: each worker
    # then only builds the app (tens of ms) instead of importing Flask, spyne, zeep, pydantic
    # and the API models itself (about a second on a busy machine, while requests wait).
    import soapgw.app  # noqa: F401
    from soapgw.store import wal_checkpoint
    # The housekeeper checkpoints SQLite's WAL; the workers and helpers, forked or started
    # from here, leave it to it (soapgw.store.wal_checkpoint).
    os.environ[wal_checkpoint.ENV] = "background"
    stream_port = settings.stream_port or stream_port or None
    helpers = Helpers([["housekeep"], ["dispatch"]]
                      + ([["bridge"]] if prepare_bridge(settings) else [])
                      + ([["stream", "--host", host, "--port", str(stream_port)]]
                         if stream_port else []))
    settings = dataclasses.replace(settings, stream_port=stream_port)
    if buffered:
        pools = Pools(ui_workers)
        workers_options = {"workers": workers + ui_workers, "pre_fork": pools.assign,
                           "worker_class": "soapgw.server_worker.GatewayWorker",
                           "threads": threads}
    else:
        workers_options = {"workers": workers,
                           "worker_class": "soapgw.server_worker.SyncWorker"}
    GatewayServer(settings, {
        "when_ready": helpers.start,
        "on_exit": helpers.stop,
        "bind": f"{host}:{port}",
        **workers_options,
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

