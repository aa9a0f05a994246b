"""Helpers for the outbound (command) tests: registered stations, runners, test stations."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sqlalchemy import select

from soapgw.core.commands.runner import TaskRunner
from soapgw.soap_out.client import SoapSender
from soapgw.store.models import ChargeBox, Task, TaskResult

from cp_station import ChargePointStation


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _BusyServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 512  # hundreds of stations connect at once


def serve_wsgi(app, host: str = "127.0.0.1"):
    """Serve ``app`` on ``host`` (a free port) in a thread; returns (base_url, server)."""
    server = make_server(host, 0, app, server_class=_BusyServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://{host}:{server.server_port}", server


def register_station(sessions, charge_box_id: str, version: str, address: str | None,
                     peer_host: str | None = "127.0.0.1", pinned: bool = False) -> None:
    with sessions.begin() as db:
        db.add(ChargeBox(charge_box_id=charge_box_id, registration_status="Accepted",
                         ocpp_version=version, ocpp_transport="SOAP", soap_version="1.2",
                         endpoint_address=address, endpoint_source="wsa:From",
                         endpoint_pinned=pinned, endpoint_peer_host=peer_host))


@contextmanager
def station_server(version: str = "1.6", host: str = "127.0.0.1"):
    """A ChargePointStation served on ``host``; yields (station, url)."""
    station = ChargePointStation(version)
    url, server = serve_wsgi(station, host)
    try:
        yield station, f"{url}/Ocpp/ChargePointService/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def task_runner(gateway, max_workers: int | None = None, settings=None):
    settings = settings or gateway.settings
    runner = TaskRunner(gateway.sessions, settings, SoapSender(settings), max_workers)
    try:
        yield runner
    finally:
        runner.shutdown()


def results(sessions, task_id: int) -> list[TaskResult]:
    with sessions() as db:
        return db.scalars(select(TaskResult).where(TaskResult.task_id == task_id)
                          .order_by(TaskResult.charge_box_id)).all()


def task(sessions, task_id: int) -> Task:
    with sessions() as db:
        return db.get(Task, task_id)
