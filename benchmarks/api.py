#!/usr/bin/env python3
"""REST API and webhook figures (issue 11). Prints three things:

1. events/s the webhook dispatcher delivers to a local receiver (one subscription, events
   already in the outbox: signing, POST, bookkeeping);
2. the delay from a SOAP message's answer to its webhook delivery, p50/p99, with stations
   sending 200 messages/s to a real ``soapgw serve`` (whose own dispatcher delivers);
3. API list latency (median of 7 loads over HTTP) on benchmarks/seed_ui.py's data set
   (1M meter values, 100k transactions), first pages, a deep page, filters.

    .venv/bin/python benchmarks/api.py [--quick]

Targets: delivery delay p99 under 1 s at 200 messages/s; list endpoints under 100 ms.
Everything runs on 127.0.0.1 with throw-away SQLite databases.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402

from soapgw.config import Settings  # noqa: E402
from soapgw.core import api_tokens, events  # noqa: E402
from soapgw.core.enums import EventType  # noqa: E402
from soapgw.core.events import NewEvent  # noqa: E402
from soapgw.core.webhooks import subscriptions  # noqa: E402
from soapgw.store.database import make_engine, make_session_factory  # noqa: E402
from soapgw.store.migrate import upgrade  # noqa: E402

LOCAL = "127.0.0.0/8"
SOAPGW = str(Path(sys.executable).with_name("soapgw"))


class Receiver:
    """Counts deliveries; remembers when each StatusNotification's ``info`` arrived."""

    def __init__(self):
        self.count = 0
        self.arrivals: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.count += 1
                request = body["data"]["payload"].get("request") or {}
                if isinstance(request, dict) and request.get("info"):
                    receiver.arrivals[request["info"]] = time.time()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env_for(database_url: str, instance: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOAPGW_")}
    env.update(SOAPGW_DATABASE_URL=database_url, SOAPGW_INSTANCE_PATH=str(instance),
               SOAPGW_WEBHOOK_ALLOWED_NETWORKS=LOCAL, **extra)
    return env


# --- 1. dispatcher throughput ----------------------------------------------------------------
def dispatcher_throughput(tmp: Path, count: int) -> float:
    import ipaddress
    from soapgw.http_out.webhooks import Dispatcher
    url = f"sqlite:///{tmp / 'throughput.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    settings = Settings(database_url=url, instance_path=tmp / "instance",
                        webhook_allowed_networks=(ipaddress.ip_network(LOCAL),))
    receiver = Receiver()
    with sessions.begin() as db:
        subscriptions.create(db, subscriptions.WebhookValues(receiver.url), (
            ipaddress.ip_network(LOCAL),))
    payload = {"action": "Heartbeat", "request": {}, "response": {
        "currentTime": "2030-01-01T00:00:00Z"}}
    with sessions.begin() as db:
        for start in range(0, count, 1000):
            events.publish(db, [NewEvent(EventType.STATION_MESSAGE, f"CP-{i % 100}", payload)
                                for i in range(start, min(count, start + 1000))])
    dispatcher = Dispatcher(sessions, settings)
    started = time.perf_counter()
    while receiver.count < count:
        dispatcher.run_once()
    elapsed = time.perf_counter() - started
    receiver.server.shutdown()
    return count / elapsed


# --- 2. SOAP answer to webhook delay ---------------------------------------------------------
def delivery_delay(tmp: Path, rate: int, seconds: float) -> tuple[list[float], int, float]:
    url = f"sqlite:///{tmp / 'delay.db'}"
    env = env_for(url, tmp / "instance-delay")
    stations = [f"CP-{i:03d}" for i in range(50)]
    subprocess.run([SOAPGW, "chargebox", "add", *stations], env=env, check=True,
                   capture_output=True)
    receiver = Receiver()
    subprocess.run([SOAPGW, "webhook", "add", receiver.url, "--types", "station.message"],
                   env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([SOAPGW, "serve", "--port", str(port), "--workers", "2",
                               "--stream-port", "0"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/services/CentralSystemService"
    try:
        _wait(f"http://127.0.0.1:{port}/health")
        answered: dict[str, float] = {}
        total = int(rate * seconds)
        local = threading.local()

        def send(index: int, due: float) -> None:
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            info = f"m{index}"
            body = (f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                    f'xmlns:cs="urn://Ocpp/Cs/2015/10/"><s:Header><cs:chargeBoxIdentity>'
                    f'{stations[index % len(stations)]}</cs:chargeBoxIdentity></s:Header>'
                    f'<s:Body><cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>'
                    f'<cs:status>Available</cs:status><cs:errorCode>NoError</cs:errorCode>'
                    f'<cs:info>{info}</cs:info></cs:statusNotificationRequest></s:Body>'
                    f'</s:Envelope>')
            reply = session.post(base, data=body, timeout=30, headers={
                "Content-Type": 'application/soap+xml; charset=utf-8; '
                                'action="/StatusNotification"'})
            if reply.status_code == 200:
                answered[info] = time.time()

        # warm up: the dispatcher helper starts once gunicorn is ready
        send(-1, time.monotonic())
        deadline = time.monotonic() + 60
        while "m-1" not in receiver.arrivals and time.monotonic() < deadline:
            time.sleep(0.05)
        answered.clear()
        started = time.monotonic() + 0.2
        with ThreadPoolExecutor(16) as pool:
            for index in range(total):
                pool.submit(send, index, started + index / rate)
        sent_in = time.monotonic() - started
        deadline = time.monotonic() + 30
        while len(receiver.arrivals) < len(answered) and time.monotonic() < deadline:
            time.sleep(0.1)
        delays = [receiver.arrivals[k] - answered[k] for k in answered if k in receiver.arrivals]
        return delays, len(answered) - len(delays), total / sent_in
    finally:
        server.terminate()
        server.wait(20)
        receiver.server.shutdown()


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


# --- 3. list latency on the big data set -----------------------------------------------------
def list_latency(tmp: Path, scale: float, loads: int) -> list[tuple[str, float]]:
    url = f"sqlite:///{tmp / 'big.db'}"
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "seed_ui.py"), "--scale",
                    str(scale)], env=env_for(url, tmp / "instance-big"), check=True,
                   capture_output=True)
    print(f"  (seeded in {time.perf_counter() - started:.0f} s)")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as db:
        token = api_tokens.create_token(db, "bench", "read").token
    with engine.connect() as connection:
        from sqlalchemy import text
        first_tx = connection.scalar(text("SELECT min(id) FROM \"transaction\""))
        busy_tx = connection.scalar(text(
            "SELECT transaction_pk FROM meter_value WHERE transaction_pk IS NOT NULL "
            "GROUP BY transaction_pk ORDER BY count(*) DESC LIMIT 1"))
        station = connection.scalar(text("SELECT charge_box_id FROM charge_box LIMIT 1 OFFSET 500"))
        tag = connection.scalar(text("SELECT id_tag FROM \"transaction\" LIMIT 1"))
        first_journal = connection.scalar(text("SELECT min(id) FROM journal"))
    port = free_port()
    server = subprocess.Popen([SOAPGW, "serve", "--port", str(port), "--workers", "2",
                               "--stream-port", "0"], env=env_for(url, tmp / "instance-big"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    pages = [
        ("chargepoints, first page (50)", "/api/v1/chargepoints"),
        ("chargepoints, 500 a page", "/api/v1/chargepoints?limit=500"),
        ("tags, first page", "/api/v1/tags"),
        ("transactions, first page", "/api/v1/transactions"),
        ("transactions, deepest page", f"/api/v1/transactions?cursor={first_tx + 51}"),
        ("transactions of a station", f"/api/v1/transactions?station={station}"),
        ("transactions of a tag, closed", f"/api/v1/transactions?idTag={tag}&state=closed"),
        ("transactions, open", "/api/v1/transactions?state=open"),
        ("transaction detail (most meter values)", f"/api/v1/transactions/{busy_tx}"),
        ("reservations, active", "/api/v1/reservations?active=true"),
        ("journal, first page", "/api/v1/journal"),
        ("journal, deepest page", f"/api/v1/journal?cursor={first_journal + 51}"),
        ("journal of a station", f"/api/v1/journal?station={station}"),
        ("tasks", "/api/v1/tasks"),
        ("events after 0", "/api/v1/events"),
    ]
    results = []
    try:
        _wait(f"{base}/health")
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            for name, path in pages:
                timings = []
                for _ in range(loads):
                    started = time.perf_counter()
                    reply = session.get(base + path, timeout=60)
                    timings.append(time.perf_counter() - started)
                    assert reply.status_code == 200, (path, reply.text[:300])
                results.append((name, statistics.median(timings) * 1000))
    finally:
        server.terminate()
        server.wait(20)
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a tenth of the "
                                                             "data set, 5 s of traffic)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="soapgw-api-bench-"))
    load = os.getloadavg()[0]
    print(f"soapgw API benchmark ({os.cpu_count()} cores, load average {load:.2f})")

    count = 3000 if args.quick else 20000
    rate = dispatcher_throughput(tmp, count)
    print(f"1. dispatcher: {rate:,.0f} events/s delivered to a local receiver "
          f"({count:,} events, one subscription)")

    seconds = 5 if args.quick else 20
    delays, missing, achieved = delivery_delay(tmp, 200, seconds)
    print(f"2. SOAP answer -> webhook delivery at {achieved:.0f} msg/s for {seconds} s: "
          f"p50 {percentile(delays, 0.5) * 1000:.0f} ms, p99 {percentile(delays, 0.99) * 1000:.0f} "
          f"ms, max {max(delays) * 1000:.0f} ms ({len(delays):,} delivered, {missing} missing)"
          f"  target p99 < 1000 ms: {'met' if percentile(delays, 0.99) < 1 else 'NOT met'}")

    scale = 0.1 if args.quick else 1.0
    print(f"3. API lists on seed_ui.py --scale {scale} (median of 7 loads over HTTP):")
    results = list_latency(tmp, scale, 7)
    for name, ms in results:
        print(f"   {name:<42} {ms:7.1f} ms")
    worst = max(ms for _, ms in results)
    print(f"   slowest {worst:.1f} ms; target < 100 ms: {'met' if worst < 100 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
