"""Bridge benchmark: the OCPP-J upstream bridge against a minimal OCPP-J central system.

    .venv/bin/python benchmarks/bridge.py [--stations 1000] [--messages 500] [--replay 10000]

Everything on 127.0.0.1 with throw-away SQLite databases. Prints:
1. connecting: ``soapgw serve --workers 2`` with SOAPGW_UPSTREAM_URL and N registered stations;
   the time until every station's WebSocket is open (bridge start to the last one), and the
   bridge process's memory (RSS) with N sockets, against a bridge with no station;
2. latency at 100 messages/s: a forwarded Authorize (SOAP round trip through the gateway, the
   bridge and the CSMS) and a queued MeterValues (SOAP post to its arrival at the CSMS),
   p50/p99, against the same message sent by an OCPP-J client straight to the CSMS;
3. replay: 10,000 MeterValues queued for one station (CSMS down), then the rate at which the
   bridge delivers them once it connects.
The CSMS runs in this process (its own thread and event loop) and answers every CALL at once.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import func, select
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

import soapgw  # noqa: F401
from soapgw.core import upstream_queue
from soapgw.core.enums import EventType
from soapgw.core.events import NewEvent, publish
from soapgw.store.database import make_engine, make_session_factory
from soapgw.store.migrate import upgrade
from soapgw.store.models import UpstreamStation

BIN = Path(sys.executable).with_name("soapgw")
WSA = "http://www.w3.org/2005/08/addressing"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class Csms:
    """A minimal OCPP-J 1.6 central system: answers at once, notes MeterValues arrivals."""

    ANSWERS = {"BootNotification": lambda: {"status": "Accepted", "currentTime": now_iso(),
                                            "interval": 300},
               "Authorize": lambda: {"idTagInfo": {"status": "Accepted"}},
               "Heartbeat": lambda: {"currentTime": now_iso()}}

    def __init__(self):
        self.port = free_port()
        self.arrivals: dict[str, float] = {}
        self.meter_values: dict[str, int] = {}
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.server = None

    def start(self):
        async def _start():
            self.server = await serve(self._handle, "127.0.0.1", self.port,
                                      subprotocols=["ocpp1.6"], compression=None,
                                      ping_interval=None, max_queue=64)
        asyncio.run_coroutine_threadsafe(_start(), self.loop).result(10)

    def stop(self):
        async def _stop():
            self.server.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(30)

    async def _handle(self, ws):
        station = ws.request.path.rsplit("/", 1)[-1]
        try:
            async for text in ws:
                kind, unique_id, action, payload = json.loads(text)
                if action == "MeterValues":
                    marker = payload["meterValue"][0]["sampledValue"][0]["value"]
                    self.arrivals[marker] = time.perf_counter()
                    self.meter_values[station] = self.meter_values.get(station, 0) + 1
                answer = self.ANSWERS.get(action, dict)()
                await ws.send(json.dumps([3, unique_id, answer]))
        except Exception:  # noqa: BLE001  (closed)
            pass


def soap(cb: str, body: str) -> bytes:
    return (f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="{WSA}" '
            f'xmlns:cs="urn://Ocpp/Cs/2015/10/"><s:Header><cs:chargeBoxIdentity>{cb}'
            f'</cs:chargeBoxIdentity><a:MessageID>urn:uuid:{uuid.uuid4()}</a:MessageID>'
            f'<a:From><a:Address>http://127.0.0.1:9/</a:Address></a:From></s:Header>'
            f'<s:Body>{body}</s:Body></s:Envelope>').encode()


def meter_body(marker: str) -> str:
    return (f"<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:meterValue>"
            f"<cs:timestamp>{now_iso()}</cs:timestamp><cs:sampledValue><cs:value>{marker}"
            "</cs:value></cs:sampledValue></cs:meterValue></cs:meterValuesRequest>")


def percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return (statistics.median(values) * 1000,
            values[min(len(values) - 1, int(len(values) * 0.99))] * 1000)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bridge_pid(database_url: str) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if b"bridge" in command and f"SOAPGW_DATABASE_URL={database_url}".encode() in environ:
                return int(entry.name)
    return None


def env_for(folder: Path, url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOAPGW_")}
    env.update(SOAPGW_DATABASE_URL=f"sqlite:///{folder / 'bench.db'}",
               SOAPGW_INSTANCE_PATH=str(folder / "instance"), SOAPGW_UPSTREAM_URL=url, **extra)
    return env


def connected(sessions) -> int:
    with sessions() as db:
        return db.scalar(select(func.count()).where(UpstreamStation.connected.is_(True)))


def paced(count: int, rate: float, work) -> list[float]:
    """``work()`` ``count`` times at ``rate`` per second; each call's duration."""
    durations, start = [], time.perf_counter()
    for n in range(count):
        due = start + n / rate
        if (pause := due - time.perf_counter()) > 0:
            time.sleep(pause)
        began = time.perf_counter()
        work(n, began)
        durations.append(time.perf_counter() - began)
    return durations


def direct_baseline(csms: Csms, count: int, rate: float) -> tuple[list[float], list[float]]:
    """Authorize round trips and MeterValues one-way times of a client straight to the CSMS."""
    async def run():
        async with connect(f"ws://127.0.0.1:{csms.port}/ocpp/DIRECT", subprotocols=["ocpp1.6"],
                           compression=None) as ws:
            authorize, meter = [], []
            start = time.perf_counter()
            for n in range(count):
                due = start + n / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                began = time.perf_counter()
                await ws.send(json.dumps([2, str(n), "Authorize", {"idTag": "T"}]))
                await ws.recv()
                authorize.append(time.perf_counter() - began)
                marker = f"direct-{n}"
                began = time.perf_counter()
                await ws.send(json.dumps([2, f"m{n}", "MeterValues", {
                    "connectorId": 1, "meterValue": [{"timestamp": now_iso(),
                                                      "sampledValue": [{"value": marker}]}]}]))
                await ws.recv()
                meter.append(csms.arrivals[marker] - began)
            return authorize, meter
    return asyncio.run(run())


def bench_connect_and_latency(args, csms: Csms) -> None:
    folder = Path(tempfile.mkdtemp(prefix="soapgw-bridge-bench-"))
    url = f"ws://127.0.0.1:{csms.port}/ocpp"
    env = env_for(folder, url)
    ids = [f"BR{n:05d}" for n in range(args.stations)]
    subprocess.run([str(BIN), "chargebox", "add", *ids], env=env, check=True,
                   capture_output=True)
    sessions = make_session_factory(make_engine(env["SOAPGW_DATABASE_URL"]))
    # memory of a bridge with nothing to do, for comparison
    empty = env_for(folder / "empty", url)
    subprocess.run([str(BIN), "db", "upgrade"], env=empty, check=True, capture_output=True)
    idle = subprocess.Popen([str(BIN), "bridge"], env=empty, stderr=subprocess.DEVNULL)
    time.sleep(4)
    idle_rss = rss_mib(idle.pid)
    idle.terminate()
    idle.wait(10)

    port = free_port()
    server = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--workers", "2",
                               *args.serve_args.split()],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while bridge_pid(env["SOAPGW_DATABASE_URL"]) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.perf_counter()
        while connected(sessions) < len(ids) and time.monotonic() < deadline + 120:
            time.sleep(0.1)
        took = time.perf_counter() - started
        count = connected(sessions)
        pid = bridge_pid(env["SOAPGW_DATABASE_URL"])
        rss = rss_mib(pid)
        print(f"connecting: {count}/{len(ids)} stations connected in {took:.1f} s "
              f"({count / took:.0f}/s); bridge RSS {rss:.0f} MiB with them, {idle_rss:.0f} MiB "
              f"idle: {(rss - idle_rss) * 1024 / max(count, 1):.0f} KiB per connection "
              f"(target: {len(ids)} stations within 1 GiB: {'met' if rss < 1024 else 'MISSED'})")

        http = requests.Session()
        headers = {"Content-Type": "application/soap+xml; charset=utf-8"}
        chosen = ids[:10]

        def authorize(n, _began):
            reply = http.post(f"{base}/services/CentralSystemService", headers=headers,
                              data=soap(chosen[n % 10], "<cs:authorizeRequest><cs:idTag>T"
                                        "</cs:idTag></cs:authorizeRequest>"), timeout=30)
            assert b"Accepted" in reply.content, reply.content[:300]

        sent: dict[str, float] = {}
        answered: dict[str, float] = {}

        def meter(n, began):
            marker = f"bridge-{n}"
            sent[marker] = began
            http.post(f"{base}/services/CentralSystemService", headers=headers,
                      data=soap(chosen[n % 10], meter_body(marker)), timeout=30)
            answered[marker] = time.perf_counter()

        for _ in range(20):  # warm up the workers and the links
            authorize(0, 0)
        through = paced(args.messages, 100, authorize)
        paced(args.messages, 100, meter)
        deadline = time.monotonic() + 30
        while (not all(m in csms.arrivals for m in sent)) and time.monotonic() < deadline:
            time.sleep(0.05)
        queued = [csms.arrivals[m] - t for m, t in sent.items() if m in csms.arrivals]
        soap_part = [answered[m] - t for m, t in sent.items()]
        bridge_part = [csms.arrivals[m] - answered[m] for m in sent if m in csms.arrivals]
        for name, part in (("the SOAP answer", soap_part),
                           ("from the SOAP answer to the CSMS", bridge_part)):
            p50, p99 = percentiles(part)
            print(f"queued MeterValues, {name}: p50 {p50:.1f} ms p99 {p99:.1f} ms")
        direct_auth, direct_meter = direct_baseline(csms, args.messages, 100)
        for name, mine, alone in (("forwarded Authorize (round trip)", through, direct_auth),
                                  ("queued MeterValues (to the CSMS)", queued, direct_meter)):
            p50, p99 = percentiles(mine)
            b50, b99 = percentiles(alone)
            print(f"{name} at 100 msg/s: through soapgw p50 {p50:.1f} ms p99 {p99:.1f} ms; "
                  f"CSMS alone p50 {b50:.2f} ms p99 {b99:.2f} ms; added p50 {p50 - b50:.1f} ms "
                  f"p99 {p99 - b99:.1f} ms (target p99 < 20 ms: "
                  f"{'met' if p99 - b99 < 20 else 'MISSED'}); {len(mine)} messages")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


def bench_replay(args, csms: Csms) -> None:
    folder = Path(tempfile.mkdtemp(prefix="soapgw-bridge-replay-"))
    env = env_for(folder, f"ws://127.0.0.1:{csms.port}/ocpp")
    subprocess.run([str(BIN), "chargebox", "add", "REPLAY"], env=env, check=True,
                   capture_output=True)
    engine = make_engine(env["SOAPGW_DATABASE_URL"])
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as db:
        upstream_queue.cursor(db)
        publish(db, [NewEvent(EventType.STATION_MESSAGE, "REPLAY", {
            "action": "MeterValues", "response": {}, "request": {
                "connectorId": 1, "meterValue": [{"timestamp": now_iso(), "sampledValue": [
                    {"value": f"replay-{n}"}]}]}}) for n in range(args.replay)])
    bridge = subprocess.Popen([str(BIN), "bridge"], env=env, stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    try:
        deadline = time.monotonic() + 300
        while csms.meter_values.get("REPLAY", 0) < args.replay and time.monotonic() < deadline:
            time.sleep(0.05)
        took = time.perf_counter() - started
        got = csms.meter_values.get("REPLAY", 0)
        print(f"replay: {got}/{args.replay} queued MeterValues delivered in {took:.1f} s "
              f"(bridge start included): {got / took:.0f} msg/s (target > 500/s: "
              f"{'met' if got / took > 500 else 'MISSED'})")
    finally:
        bridge.terminate()
        bridge.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--replay", type=int, default=10_000)
    parser.add_argument("--serve-args", default="",
                        help="more soapgw serve options, e.g. '--sync'")
    args = parser.parse_args()
    csms = Csms()
    csms.start()
    bench_connect_and_latency(args, csms)
    bench_replay(args, csms)


if __name__ == "__main__":
    main()
