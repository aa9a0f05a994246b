"""Outbound benchmark: one command to 1, 100 and 500 simulated SOAP stations, end to end.

    .venv/bin/python benchmarks/outbound.py [--stations 1,100,500] [--rounds 3]

Starts ``soapgw serve --workers 2`` on a free 127.0.0.1 port with a throw-away SQLite
database (auto-registration on), boots the largest number of simulated OCPP 1.6 stations
(soapgw.simulator) against it, then sends GetConfiguration to the first N stations through the
task runner (zeep client, tasks in SQL, bounded pool of SOAPGW_OUTBOUND_CONCURRENCY) and
prints, per N: the median end-to-end time of the task (submit to the last result stored), the
slowest station's own answer time (measured inside the simulator's WSGI app) and their ratio.
Everything stays on 127.0.0.1; every wait is bounded.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

import soapgw  # noqa: F401  (spyne compatibility shim first)
from soapgw.config import Settings
from soapgw.core.commands.runner import TaskRunner
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.simulator.runner import start_simulation
from soapgw.soap_out.client import SoapSender
from soapgw.store.database import make_engine, make_session_factory
from soapgw.store.migrate import upgrade
from soapgw.store.models import TaskResult


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TimedApp:
    """Wraps the simulator's WSGI app: how long each station takes to answer a command."""

    def __init__(self, app):
        self.app, self.durations, self.lock = app, [], threading.Lock()

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        body = b"".join(self.app(environ, start_response))
        with self.lock:
            self.durations.append(time.perf_counter() - started)
        return [body]

    def take(self) -> list[float]:
        with self.lock:
            taken, self.durations = self.durations, []
        return taken


def serve(database_url: str, port: int, directory: Path) -> subprocess.Popen:
    env = {**os.environ, "SOAPGW_DATABASE_URL": database_url}
    script = Path(sys.executable).with_name("soapgw")
    process = subprocess.Popen([str(script), "serve", "--port", str(port), "--workers", "2"],
                               env=env, stdout=open(directory / "serve.log", "w"),
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("soapgw serve did not start: see " + str(directory / "serve.log"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", default="1,100,500")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = sorted({int(n) for n in args.stations.split(",")})
    directory = Path(tempfile.mkdtemp(prefix="soapgw-bench-out-"))
    database_url = f"sqlite:///{directory / 'bench.db'}"
    settings = Settings.from_env({"SOAPGW_DATABASE_URL": database_url,
                                  "SOAPGW_INSTANCE_PATH": str(directory)})
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as db:
        RuntimeSettings.save(db, {"auto_register": True})
    port = free_port()
    server = serve(database_url, port, directory)
    simulation = None
    try:
        simulation = start_simulation(f"http://127.0.0.1:{port}", sizes[-1], "1.6",
                                      heartbeat=3600, session_interval=0, meter_interval=0)
        timed = TimedApp(simulation.app)
        simulation._server.set_app(timed)  # measure the stations' own answer time
        if not simulation.wait_booted(timeout=120):
            raise SystemExit("the simulated stations did not all boot within 120 s")
        timed.take()
        runner = TaskRunner(sessions, settings, SoapSender(settings))
        print(f"soapgw outbound benchmark: GetConfiguration to N simulated OCPP 1.6 stations, "
              f"pool of {settings.outbound_concurrency}, {os.cpu_count()} CPUs, "
              f"median of {args.rounds} rounds")
        print(f"   {'N':>5} {'end to end ms':>14} {'slowest station ms':>19} {'ratio':>7} "
              f"{'answered':>9}")
        for size in sizes:
            ids = simulation.ids[:size]
            totals, slowest, answered = [], [], 0
            for _ in range(args.rounds):
                started = time.perf_counter()
                task_id = runner.run("GetConfiguration", {"key": ["HeartbeatInterval"]}, ids,
                                     "benchmark")
                totals.append(time.perf_counter() - started)
                slowest.append(max(timed.take(), default=0.0))
                with sessions() as db:
                    answered = db.query(TaskResult).filter(
                        TaskResult.task_id == task_id, TaskResult.state == "answered").count()
            total, station = statistics.median(totals), statistics.median(slowest)
            print(f"   {size:>5} {total * 1000:>14.1f} {station * 1000:>19.1f} "
                  f"{total / station if station else float('nan'):>6.1f}x {answered:>5}/{size}")
        runner.shutdown()
    finally:
        if simulation is not None:
            simulation.stop(finish_sessions=False, timeout=5)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        engine.dispose()


if __name__ == "__main__":
    main()
