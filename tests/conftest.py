"""Shared fixtures: real databases (SQLite, and PostgreSQL when SOAPGW_TEST_POSTGRES_URL is
set), the gateway as a WSGI app, and real HTTP servers on 127.0.0.1."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests

from soapgw.app import Gateway, create_app
from soapgw.config import Settings
from soapgw.store.migrate import upgrade
from soapgw.store.scratch_schema import scratch_schema

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OFFICIAL_WSDL = SHARED / "ocpp-wsdl"
SAMPLES = SHARED / "soap-samples"
POSTGRES_URL = os.environ.get("SOAPGW_TEST_POSTGRES_URL")
NO_POSTGRES = ("PostgreSQL tests skipped: set SOAPGW_TEST_POSTGRES_URL "
               "(e.g. postgresql://postgres@127.0.0.1:5432/test) to run them")


def pytest_report_header(config):
    return f"soapgw: PostgreSQL {'at ' + POSTGRES_URL if POSTGRES_URL else 'not configured'}"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_admin_url):
    """A fresh, private schema in the test database; dropped afterwards."""
    with scratch_schema(postgres_admin_url, "soapgw_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """Run the test on SQLite and (when configured) on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'soapgw.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'soapgw.db'}"


def make_settings(database_url: str, tmp_path: Path, **overrides) -> Settings:
    return Settings(database_url=database_url, instance_path=tmp_path / "instance", **overrides)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def gateway(settings) -> Gateway:
    gateway = Gateway.from_settings(settings)
    upgrade(gateway.engine)
    yield gateway
    gateway.task_runner.shutdown()
    gateway.engine.dispose()


@pytest.fixture
def app(gateway):
    return create_app(gateway=gateway)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):  # keep test output readable
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's default backlog of 5 overflows when a test sends 20 requests at once:
    # connections were retried a second later or reset (a flaky test_concurrency)
    request_queue_size = 128


def serve_wsgi(app):
    """Serve ``app`` on 127.0.0.1 (a free port) in a thread; returns (base_url, server)."""
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture
def live_url(app):
    """The gateway over real HTTP on 127.0.0.1."""
    url, server = serve_wsgi(app)
    yield url
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def soapgw_command(*args: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed ``soapgw`` console script."""
    script = Path(sys.executable).with_name("soapgw")
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True,
                          timeout=120, **kwargs)


def command_env(database_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOAPGW_")}
    env["SOAPGW_DATABASE_URL"] = database_url
    env.update(extra)
    return env


@pytest.fixture
def served_gateway(tmp_path):
    """Start ``soapgw serve`` (gunicorn) on a free port; yields a function making it."""
    processes = []

    def start(database_url: str, workers: int = 1, serve_args: tuple = (),
              **extra_env: str) -> str:
        port = free_port()
        env = command_env(database_url, **extra_env)
        script = Path(sys.executable).with_name("soapgw")
        log = open(tmp_path / f"serve-{port}.log", "w")
        process = subprocess.Popen([str(script), "serve", "--port", str(port),
                                    "--workers", str(workers), *serve_args], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    return url
            except requests.RequestException:  # not listening yet, or its worker is booting
                time.sleep(0.1)
        raise RuntimeError(f"soapgw serve did not start: {(tmp_path / f'serve-{port}.log').read_text()}")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


class Seed:
    """Registers stations and tags straight in the gateway's database."""

    def __init__(self, gateway: Gateway):
        self.gateway = gateway

    def station(self, charge_box_id: str, status: str = "Accepted", **fields):
        from soapgw.store.models import ChargeBox
        with self.gateway.sessions.begin() as db:
            db.add(ChargeBox(charge_box_id=charge_box_id, registration_status=status, **fields))

    def tag(self, id_tag: str, **fields):
        from soapgw.store.models import IdTag
        with self.gateway.sessions.begin() as db:
            db.add(IdTag(id_tag=id_tag, **fields))

    def rows(self, statement):
        with self.gateway.sessions() as db:
            return db.execute(statement).all()

    def scalars(self, statement):
        with self.gateway.sessions() as db:
            return db.scalars(statement).all()


@pytest.fixture
def seed(gateway) -> Seed:
    return Seed(gateway)
