#!/usr/bin/env python3
"""Inbound benchmark of the soapgw CentralSystemService (OCPP 1.6 over SOAP 1.2).

    .venv/bin/python benchmarks/inbound.py              # about 1 minute
    .venv/bin/python benchmarks/inbound.py --quick      # about 25 seconds
    .venv/bin/python benchmarks/inbound.py --breakdown  # + CPU per pipeline phase, SQL per message
    .venv/bin/python benchmarks/inbound.py --profile    # + cProfile of the in-process path
    .venv/bin/python benchmarks/inbound.py --postgres postgresql://postgres@127.0.0.1/test
                                                        # HTTP scenarios on PostgreSQL

1. In process: the gateway's WSGI app (``create_app``, SQLite file database, a registered
   station and tags) called directly with prepared environs, for each of the ten OCPP 1.6
   CentralSystemService operations, against a raw baseline WSGI app that parses the same
   envelope with the same safe lxml parser and answers a reply template formatted with the
   current time. Rounds of the two are interleaved (alternating which goes first); the
   figures are medians over the rounds of the mean cost per message in a round.
2. Over HTTP: ``soapgw serve --workers 2`` started as a subprocess on a free 127.0.0.1 port
   with a fresh SQLite file in a temporary directory (``--postgres URL``: a private schema of
   that PostgreSQL database instead), loaded by 32 concurrent keep-alive
   clients: (a) Heartbeat, (b) a session per client (Boot, Status, Authorize, Start,
   3x MeterValues, Stop) with unique transactions; then, as the ceiling of the set-up, the
   raw baseline app under the same gunicorn settings. The load generator is wrk with a Lua
   script when ``wrk`` is installed (``apt-get install wrk``), else an asyncio client over
   raw sockets. Next to each figure: the server's CPU per message and the CPU every other
   process on the machine used meanwhile (the figures are only comparable when that is low).

Only the Python standard library, lxml and soapgw itself are needed. Every loop is bounded
in count and in time, and only 127.0.0.1 is ever contacted (and the PostgreSQL server that
``--postgres`` names).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

from http_load import (  # also puts this checkout first on sys.path
    CONTENT_TYPE, SERVICE_PATH, SESSION, TRANSACTION_ID, Server, baseline_app, body, envelope,
    measure, register, run_wrk)

TARGET_HEARTBEAT_RPS = 1500
TARGET_MIXED_MPS = 800
TARGET_P99_MS = 50.0

OPERATIONS = ("Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
              "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
              "StatusNotification", "StopTransaction")


# --- 1. in process ---------------------------------------------------------------------------
class InProcess:
    STATION = "CB-INPROC-0001"

    def __init__(self, directory: Path, batch: int):
        from soapgw.app import Gateway, create_app
        from soapgw.config import Settings
        self.batch = batch
        self.tags = [f"BT{i:04d}" for i in range(batch)]
        url = f"sqlite:///{directory / 'inprocess.db'}"
        register(url, [self.STATION], self.tags)
        self.gateway = Gateway.from_settings(Settings(database_url=url,
                                                      instance_path=directory / "instance"))
        self.app = create_app(gateway=self.gateway)
        self.counter = 0
        self.started: list[int] = []  # by the last StartTransaction batch, stopped by the next Stop
        self.meter_transaction = 0

    def close(self) -> None:
        self.gateway.engine.dispose()

    def message_id(self) -> str:
        self.counter += 1
        return f"urn:uuid:{uuid.uuid4()}"

    @staticmethod
    def environ(data: bytes, operation: str) -> dict:
        return {"REQUEST_METHOD": "POST", "PATH_INFO": SERVICE_PATH, "QUERY_STRING": "",
                "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080", "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(data)),
                "CONTENT_TYPE": f'{CONTENT_TYPE}; action="/{operation}"',
                "wsgi.input": io.BytesIO(data), "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr, "wsgi.multithread": False,
                "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0)}

    def call(self, app, environ) -> tuple[str, bytes]:
        status = []
        chunks = app(environ, lambda s, h, exc_info=None: status.append(s))
        return status[0], b"".join(chunks)

    def setup(self) -> None:
        """A transaction for MeterValues to refer to (its own tag, never stopped)."""
        register_tag = f"BTMV{uuid.uuid4().hex[:6]}"
        from soapgw.store.models import IdTag
        with self.gateway.sessions.begin() as db:
            db.add(IdTag(id_tag=register_tag, max_active_transactions=0))
        data = envelope(self.STATION, "StartTransaction",
                        body("StartTransaction", tag=register_tag, meter=1), self.message_id())
        status, reply = self.call(self.app, self.environ(data, "StartTransaction"))
        self.meter_transaction = int(TRANSACTION_ID.search(reply).group(1))

    def messages(self, operation: str) -> list[bytes]:
        """``batch`` envelopes for one round (unique MessageIDs, starts, stops)."""
        out = []
        for i in range(self.batch):
            self.counter += 1
            kwargs = {}
            if operation == "StartTransaction":
                kwargs = dict(tag=self.tags[i], meter=self.counter)
            elif operation == "StopTransaction":
                kwargs = dict(tag=self.tags[i], transaction_id=self.started[i],
                              meter=self.counter + 10_000_000)
            elif operation == "MeterValues":
                kwargs = dict(transaction_id=self.meter_transaction, meter=self.counter)
            out.append(envelope(self.STATION, operation, body(operation, **kwargs),
                                f"urn:uuid:{uuid.uuid4()}"))
        return out

    def run_batch(self, app, operation: str, messages: list[bytes]) -> tuple[float, float, list]:
        environs = [self.environ(data, operation) for data in messages]
        replies = []
        start_response = lambda s, h, exc_info=None: replies.append(s)  # noqa: E731
        cpu0, wall0 = time.process_time(), time.perf_counter()
        bodies = [b"".join(app(environ, start_response)) for environ in environs]
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        return wall / len(messages), cpu / len(messages), list(zip(replies, bodies))


def check_replies(operation: str, results: list) -> None:
    for status, reply in results:
        if not status.startswith("200") or b"Fault" in reply:
            raise SystemExit(f"{operation}: unexpected reply {status}: {reply[:600]!r}")


def bench_in_process(args, directory: Path) -> list[dict]:
    bench = InProcess(directory, args.batch)
    try:
        bench.setup()
        # Warm up both paths for every operation (imports, spyne caches, SQLite pages).
        for operation in OPERATIONS:
            if operation == "StopTransaction":
                continue
            messages = bench.messages(operation)
            if operation == "StartTransaction":
                _w, _c, results = bench.run_batch(bench.app, operation, messages)
                check_replies(operation, results)
                bench.started = [int(TRANSACTION_ID.search(r).group(1)) for _s, r in results]
                stops = bench.messages("StopTransaction")
                check_replies("StopTransaction",
                              bench.run_batch(bench.app, "StopTransaction", stops)[2])
            else:
                check_replies(operation, bench.run_batch(bench.app, operation, messages)[2])
            bench.run_batch(baseline_app, operation, messages[:10])
        samples = {op: {"gateway": [], "gateway_cpu": [], "baseline": []} for op in OPERATIONS}
        deadline = time.monotonic() + args.inprocess_budget
        rounds_done = 0
        for round_number in range(args.rounds):
            for operation in OPERATIONS:
                messages = bench.messages(operation)
                order = ("gateway", "baseline")
                if round_number % 2:
                    order = order[::-1]
                for variant in order:
                    if variant == "gateway":
                        wall, cpu, results = bench.run_batch(bench.app, operation, messages)
                        check_replies(operation, results)
                        if operation == "StartTransaction":
                            bench.started = [int(TRANSACTION_ID.search(r).group(1))
                                             for _s, r in results]
                        samples[operation]["gateway"].append(wall)
                        samples[operation]["gateway_cpu"].append(cpu)
                    else:
                        wall, _cpu, results = bench.run_batch(baseline_app, operation, messages)
                        check_replies(operation, results)
                        samples[operation]["baseline"].append(wall)
            rounds_done += 1
            if time.monotonic() > deadline:
                print(f"  (in-process time budget of {args.inprocess_budget:.0f} s reached "
                      f"after {rounds_done} rounds)")
                break
    finally:
        bench.close()
    rows = []
    for operation in OPERATIONS:
        gateway = statistics.median(samples[operation]["gateway"]) * 1e6
        cpu = statistics.median(samples[operation]["gateway_cpu"]) * 1e6
        baseline = statistics.median(samples[operation]["baseline"]) * 1e6
        rows.append(dict(operation=operation, gateway_us=gateway, gateway_cpu_us=cpu,
                         baseline_us=baseline, ratio=gateway / baseline, rounds=rounds_done))
    return rows


def print_in_process(rows: list[dict], args) -> None:
    print(f"\n1. In-process cost per message (WSGI app called directly, SQLite file, "
          f"median of {rows[0]['rounds']} interleaved rounds x {args.batch} messages)")
    print(f"   {'operation':<31}{'gateway µs':>11}{'(cpu µs)':>10}{'baseline µs':>13}"
          f"{'ratio':>8}")
    for row in rows:
        print(f"   {row['operation']:<31}{row['gateway_us']:>11.0f}{row['gateway_cpu_us']:>10.0f}"
              f"{row['baseline_us']:>13.1f}{row['ratio']:>7.0f}x")
    gateway = statistics.median(r["gateway_us"] for r in rows)
    baseline = statistics.median(r["baseline_us"] for r in rows)
    print(f"   {'median over operations':<31}{gateway:>11.0f}{'':>10}{baseline:>13.1f}"
          f"{gateway / baseline:>7.0f}x")
    print("   baseline = read + safe lxml parse + reply template formatted with the current "
          "time (no database)")


def profile_in_process(args, directory: Path) -> None:
    """cProfile over the gateway path, all ten operations; self time grouped by component."""
    bench = InProcess(directory, args.batch)
    try:
        bench.setup()
        batches = []
        for _ in range(3):
            for operation in OPERATIONS:
                if operation == "StopTransaction":
                    continue  # below, after its start batch
                batches.append(operation)
                if operation == "StartTransaction":
                    batches.append("StopTransaction")
        profiler = cProfile.Profile()
        total = 0.0
        for operation in batches:
            messages = bench.messages(operation)
            profiler.enable()
            wall, _cpu, results = bench.run_batch(bench.app, operation, messages)
            profiler.disable()
            total += wall * len(messages)
            check_replies(operation, results)
            if operation == "StartTransaction":
                bench.started = [int(TRANSACTION_ID.search(r).group(1)) for _s, r in results]
    finally:
        bench.close()
    stats = pstats.Stats(profiler)
    groups: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        groups[_component(filename, name)] = groups.get(_component(filename, name), 0) + tottime
    all_self = sum(groups.values())
    print(f"\n4. Profile of the in-process gateway path (cProfile, {len(batches)} batches x "
          f"{args.batch} messages, all ten operations; self time by component)")
    for component, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"   {component:<44}{seconds / all_self:>6.1%}")
    print("\n   top functions by cumulative time:")
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(40)
    print(textwrap.indent(buffer.getvalue().split("\n", 6)[-1].rstrip(), "   "))
    buffer = io.StringIO()
    print("\n   top functions by self time:")
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(25)
    print(textwrap.indent(buffer.getvalue().split("\n", 6)[-1].rstrip(), "   "))


def _component(filename: str, name: str) -> str:
    if filename == "~":  # built-ins: classify by their qualified name
        if "sqlite3" in name:
            return "sqlite3 (C: SQL execution, commit)"
        if "lxml" in name:
            return "lxml (C)"
        return "other built-ins"
    for marker, label in (("/spyne/", "spyne"), ("/sqlalchemy/", "SQLAlchemy (Python)"),
                          ("/lxml/", "lxml"), ("/soapgw/", "soapgw"),
                          ("benchmarks/", "benchmark harness")):
        if marker in filename:
            return label
    return "Python stdlib"


class _Phases:
    """CPU time per pipeline phase (time.thread_time: robust when other processes compete
    for the cores), by wrapping the gateway's functions (about 1 µs each)."""

    def __init__(self, engine):
        self.seconds: dict[str, float] = {}
        self.statements: list[str] = []
        self._undo: list = []
        self._engine = engine
        self._started: list[float] = []

    def wrap(self, owner, name: str, label: str) -> None:
        own = vars(owner) if hasattr(owner, "__dict__") else {}
        raw = own[name] if name in own else getattr(owner, name)
        kind = type(raw) if isinstance(raw, (classmethod, staticmethod)) else None
        function = raw.__func__ if kind else raw
        seconds = self.seconds

        def timed(*args, **kwargs):
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[label] = seconds.get(label, 0.0) + time.thread_time() - started
        setattr(owner, name, kind(timed) if kind else timed)
        self._undo.append((owner, name, raw if name in own else None))

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._started.append(time.thread_time())
        self.statements.append(" ".join(statement.split()[:3]) + (" (many)" if executemany
                                                                   else ""))

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.seconds["sqlite3 execute"] = (self.seconds.get("sqlite3 execute", 0.0)
                                           + time.thread_time() - self._started.pop())

    def _list_driver_statements(self) -> None:
        """Statements run on the driver's cursor (store.driver_cursor: BEGIN, the gate, the
        look-ups, the journal's and events' rows) pass no cursor event: listed here as the
        events list the others, and timed the same way."""
        from soapgw.store import driver_cursor
        original = driver_cursor.on_driver

        def on_driver(connection, sql, parameters=(), many=False, **options):
            self._before(connection, None, sql, parameters, None, many)
            try:
                return original(connection, sql, parameters, many, **options)
            finally:
                self._after(connection, None, sql, parameters, None, many)
        driver_cursor.on_driver = on_driver
        self._undo.append((driver_cursor, "on_driver", original))

    def __enter__(self):
        from sqlalchemy import event

        from soapgw.app import PathDispatcher
        from soapgw.core import central_system
        from soapgw.soap.mapping import cs15, cs16
        from soapgw.soap_in import endpoint
        self.wrap(PathDispatcher, "__call__", "total")
        self.wrap(endpoint.CentralSystemEndpoint, "_station_call", "read")
        self.wrap(endpoint, "parse_envelope", "read")
        self.wrap(endpoint, "read_addressing", "read")
        self.wrap(endpoint, "write_reply", "write")
        for mapping in (cs15, cs16):
            self.wrap(mapping, "request_to_core", "mapping")
            self.wrap(mapping, "response_from_core", "mapping")
        self.wrap(central_system.CentralSystem, "process", "core")
        self.wrap(central_system, "admit", "admit")
        from soapgw.core import registration
        if hasattr(registration, "_learn_callback"):
            self.wrap(registration, "_learn_callback", "callback")
        self.wrap(central_system, "record_quirks", "core other")
        self.wrap(central_system.RuntimeSettings, "load", "core other")
        handlers = central_system._HANDLERS
        for action, function in list(handlers.items()):
            def timed(ctx, request, _function=function):
                started = time.thread_time()
                try:
                    return _function(ctx, request)
                finally:
                    self.seconds["handler"] = (self.seconds.get("handler", 0.0)
                                               + time.thread_time() - started)
            handlers[action] = timed
            self._undo.append((handlers, action, function))
        self.wrap(endpoint, "reply_envelope", "reply")
        self.wrap(endpoint.CentralSystemEndpoint, "_journal", "journal")
        self.wrap(self._engine.dialect, "do_commit", "sqlite3 commit")
        self._list_driver_statements()
        event.listen(self._engine, "before_cursor_execute", self._before)
        event.listen(self._engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event
        event.remove(self._engine, "before_cursor_execute", self._before)
        event.remove(self._engine, "after_cursor_execute", self._after)
        for owner, name, original in reversed(self._undo):
            if isinstance(owner, dict):
                owner[name] = original
            elif original is None:  # was inherited from the class: drop our instance attribute
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        return False


BREAKDOWN_COLUMNS = (
    ("read", "parse+WS-A+headers+lenient reader (which builds the request object)"),
    ("write", "the reply body element written from the definitions"),
    ("mapping", "request/response objects <-> core messages"),
    ("admit", "admit() less callback: UPDATE charge_box RETURNING (incl. BEGIN)"),
    ("callback", "admit(): learning and judging the wsa:From callback address"),
    ("handler", "the action's handler"),
    ("core other", "savepoint, RuntimeSettings, quirks"),
    ("reply", "reply envelope (WS-A headers from a template, the body's tostring)"),
    ("journal", "journal INSERT (2 rows)"),
    ("commit etc.", "connection begin/COMMIT, WSGI, rest"),
)


def breakdown_in_process(args, directory: Path) -> None:
    """Where the gateway's time goes per operation: phases (wall µs per message) and SQL."""
    bench = InProcess(directory, args.batch)
    totals = {op: {} for op in OPERATIONS}
    statements = {}
    counts = {op: 0 for op in OPERATIONS}
    try:
        bench.setup()
        for repeat in range(3):
            for operation in OPERATIONS:
                messages = bench.messages(operation)
                phases = _Phases(bench.gateway.engine)
                with phases:
                    _wall, _cpu, results = bench.run_batch(bench.app, operation, messages)
                check_replies(operation, results)
                if operation == "StartTransaction":
                    bench.started = [int(TRANSACTION_ID.search(r).group(1)) for _s, r in results]
                if repeat == 0:
                    continue  # warm-up
                for label, seconds in phases.seconds.items():
                    totals[operation][label] = totals[operation].get(label, 0.0) + seconds
                counts[operation] += len(messages)
                statements[operation] = phases.statements
    finally:
        bench.close()
    print(f"\n3. Where the time goes, per operation (CPU µs per message, functions wrapped "
          f"with timers; {counts[OPERATIONS[0]]} messages each)")
    header = "".join(f"{label[:9]:>10}" for label, _ in BREAKDOWN_COLUMNS)
    print(f"   {'operation':<20}{'total':>7}{header}{'sqlite3':>9}{'SQL/msg':>8}")
    for operation in OPERATIONS:
        t = {k: v / counts[operation] * 1e6 for k, v in totals[operation].items()}
        core = t.get("core", 0.0)
        derived = dict(t)
        derived["core other"] = core - t.get("admit", 0) - t.get("handler", 0)
        derived["admit"] = t.get("admit", 0) - t.get("callback", 0)
        derived["commit etc."] = t["total"] - core - sum(
            t.get(k, 0) for k in ("read", "write", "mapping", "reply", "journal"))
        sql_time = t.get("sqlite3 execute", 0) + t.get("sqlite3 commit", 0)
        per_message = len(statements[operation]) / args.batch + 1  # + COMMIT
        cells = "".join(f"{derived.get(label, 0):>10.0f}" for label, _ in BREAKDOWN_COLUMNS)
        print(f"   {operation[:19]:<20}{t['total']:>7.0f}{cells}{sql_time:>9.0f}"
              f"{per_message:>8.1f}")
    print("   columns: " + "; ".join(f"{label} = {text}" for label, text in BREAKDOWN_COLUMNS))
    print("   sqlite3 = CPU inside the sqlite3 driver (execute + commit), already part of the "
          "columns; SQL/msg counts COMMIT")
    print("\n   SQL of one message (the first of a batch):")
    for operation in OPERATIONS:
        first = statements[operation][:len(statements[operation]) // args.batch]
        print(f"   {operation:<31}{'; '.join(first)}; COMMIT")


# --- 2. over HTTP ----------------------------------------------------------------------------
def postgres_schema(base_url: str | None):
    """A private schema in ``base_url``'s database for one run, dropped afterwards (as the
    tests do); None without a URL (SQLite)."""
    if not base_url:
        return contextlib.nullcontext(None)
    from soapgw.store.scratch_schema import scratch_schema
    return scratch_schema(base_url, "soapgw_bench")




class _Client:
    def __init__(self, number: int, station: str, tag: str):
        self.number, self.station, self.tag = number, station, tag
        self.counter = 0

    def request(self, operation: str, inner: str) -> bytes:
        self.counter += 1
        data = envelope(self.station, operation, inner,
                        f"urn:bench:{self.number}:{self.counter}")
        return (f"POST {SERVICE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f'Content-Type: {CONTENT_TYPE}; action="/{operation}"\r\n'
                f"Content-Length: {len(data)}\r\n\r\n").encode() + data


async def _exchange(reader, writer, data: bytes) -> tuple[int, bytes, bool]:
    """One request on a connection: (status, body, whether the server closes it)."""
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    body = await reader.readexactly(int(match.group(1))) if match else b""
    closes = re.search(rb"(?i)\r\nconnection:\s*close", head) is not None
    return status, body, closes


async def _python_load(port: int, scenario: str, clients: list[_Client], duration: float,
                       max_requests: int) -> dict:
    latencies: list[float] = []
    counts = {"requests": 0, "faults": 0, "anomalies": 0, "socket_errors": 0}
    deadline = time.perf_counter() + duration

    async def one(client: _Client) -> None:
        # Keep-alive: one connection while the server keeps it open; like wrk, reconnect
        # when it answers 'Connection: close' (the connect is not part of the latency).
        connection = None
        step, transaction, meter, failures = 0, "0", 0, 0
        while (time.perf_counter() < deadline and counts["requests"] < max_requests
               and failures < 10):
            operation = "Heartbeat" if scenario == "heartbeat" else SESSION[step]
            if operation == "StartTransaction":
                meter = client.number * 10_000_000 + client.counter * 10
                inner = body(operation, tag=client.tag, meter=meter)
            elif operation in ("MeterValues", "StopTransaction"):
                meter += 1
                inner = body(operation, tag=client.tag, meter=meter, transaction_id=transaction)
            else:
                inner = body(operation, tag=client.tag, status="Preparing")
            data = client.request(operation, inner)
            try:
                if connection is None:
                    connection = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", port), 10)
                started = time.perf_counter()
                status, reply, closes = await asyncio.wait_for(
                    _exchange(*connection, data), 10)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                counts["socket_errors"] += 1
                failures += 1
                if connection is not None:
                    connection[1].close()
                connection = None
                continue
            failures = 0
            latencies.append(time.perf_counter() - started)
            counts["requests"] += 1
            if closes:
                connection[1].close()
                connection = None
            if status != 200 or b"Fault>" in reply:
                counts["faults"] += 1
            if operation == "StartTransaction":
                found = TRANSACTION_ID.search(reply)
                if found is None:
                    counts["anomalies"] += 1
                    step = 0
                    continue
                transaction = found.group(1).decode()
            if scenario != "heartbeat":
                step = (step + 1) % len(SESSION)
        if connection is not None:
            connection[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(one(client) for client in clients))
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return dict(counts, seconds=elapsed, p50_ms=pick(0.50) * 1000, p90_ms=pick(0.90) * 1000,
                p99_ms=pick(0.99) * 1000, max_ms=latencies[-1] * 1000)


def run_python(server: Server, scenario: str, args, stations, tags, duration: float) -> dict:
    clients = [_Client(i + 1, stations[i], tags[i]) for i in range(args.clients)]
    cpu0 = time.process_time()
    result = asyncio.run(_python_load(server.port, scenario, clients, duration,
                                      int(args.max_rps * duration)))
    result["generator_cpu_s"] = time.process_time() - cpu0
    return result


def bench_http(args, directory: Path, generator: str) -> dict:
    stations = [f"CB-HTTP-{i:04d}" for i in range(1, args.clients + 1)]
    tags = [f"HT{i:04d}" for i in range(1, args.clients + 1)]
    results = {}
    plan = [("soapgw", False, ("heartbeat", "mixed"))]
    if not args.no_http_baseline:
        plan.append(("baseline", True, ("heartbeat",)))
    for name, baseline, scenarios in plan:
        server = Server(directory / name, args.workers, stations, tags, baseline=baseline,
                        database_url=None if baseline else args.http_database_url)
        results.setdefault("keeps_alive", server.keeps_alive)
        try:
            def runner(scenario, seconds):
                if generator == "wrk":
                    return run_wrk(server.url, directory, scenario, stations, tags,
                                   clients=args.clients, threads=args.wrk_threads,
                                   seconds=seconds, max_rps=args.max_rps)
                return run_python(server, scenario, args, stations, tags, seconds)
            runner("heartbeat", args.warmup)  # workers import lazily: not measured
            for scenario in scenarios:
                result = measure(server, lambda: runner(scenario, args.duration),
                                 generator_in_process=generator != "wrk")
                results[scenario if not baseline else f"baseline {scenario}"] = result
        finally:
            server.stop()
        if not baseline:
            results["database"] = server.database_summary()
        if any(r.get("faults") or r.get("socket_errors") for r in results.values()
               if isinstance(r, dict) and "faults" in r):
            print("   server log (tail):\n" + textwrap.indent(server.log_tail(), "   | "))
    return results


def print_http(results: dict, args, generator: str) -> None:
    print(f"\n2. HTTP: soapgw serve --workers {args.workers} (gunicorn sync workers) on "
          f"127.0.0.1, {args.clients} concurrent keep-alive clients, {args.duration:g} s per "
          f"scenario, {'PostgreSQL' if args.postgres else 'a fresh SQLite file'}")
    if generator == "wrk":
        print(f"   load generator: wrk ({args.wrk_threads} thread(s), Lua script)")
    else:
        print("   load generator: Python asyncio raw-socket client (wrk not installed or not "
              "chosen)")
    if results.get("keeps_alive") is False:
        print("   note: the server answers 'Connection: close' (gunicorn sync workers ignore "
              "keep-alive): every request is a new TCP connection")
    print(f"   {'scenario':<26}{'rate':>13}{'p50 ms':>8}{'p99 ms':>8}{'faults':>7}"
          f"{'server cpu/msg':>15}{'gen.':>6}{'others':>7}   target")
    rows = [("heartbeat", "Heartbeat", "req/s", TARGET_HEARTBEAT_RPS),
            ("mixed", "mixed session (8 msgs)", "msg/s", TARGET_MIXED_MPS),
            ("baseline heartbeat", "Heartbeat, raw baseline", "req/s", None)]
    for key, label, unit, target in rows:
        if key not in results:
            continue
        r = results[key]
        cpu_per = r["server_cpu_s"] / max(r["requests"], 1) * 1e6
        line = (f"   {label:<26}{r['rate']:>7.0f} {unit}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}"
                f"{r['faults']:>7}{cpu_per:>12.0f} µs{r['generator_cpu_s'] / r['seconds']:>6.0%}"
                f"{r['others_cpu_s'] / r['seconds']:>7.0%}   ")
        if target is None:
            line += "(app = read + parse + template; same gunicorn settings: the ceiling)"
        else:
            line += (f"≥ {target:,} {unit} [{'met' if r['rate'] >= target else 'MISSED'}], "
                     f"p99 ≤ {TARGET_P99_MS:g} ms "
                     f"[{'met' if r['p99_ms'] <= TARGET_P99_MS else 'MISSED'}]")
        print(line)
    for key, _label, _unit, _target in rows:
        r = results.get(key, {})
        problems = {k: r.get(k, 0) for k in ("socket_errors", "timeouts", "status_errors",
                                             "anomalies") if r.get(k, 0)}
        if problems:
            print(f"   {key}: " + ", ".join(f"{k} {v}" for k, v in problems.items()))
    db = results["database"]
    print(f"   database after the run: {db['transactions']} transactions, {db['stopped']} "
          f"stopped, {db['failed_stops']} failed stops, {db['meter_values']} meter values, "
          f"{db['journal']} journal rows ({db['faults']} faults)")
    print("   server cpu/msg: CPU of the gunicorn master and workers per message; gen.: load "
          "generator, others: every other process on the machine, in cores (100% = one)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, 3 s per scenario")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--skip-inprocess", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--no-http-baseline", action="store_true",
                        help="skip the raw baseline app under gunicorn")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the pipeline phases and list the SQL per operation")
    parser.add_argument("--profile", action="store_true",
                        help="also profile the in-process path with cProfile")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--duration", type=float, help="seconds per HTTP scenario")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--postgres", metavar="URL",
                        help="serve the HTTP scenarios from this PostgreSQL database (a private "
                             "schema, dropped afterwards) instead of SQLite, e.g. "
                             "postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 9)
    args.batch = args.batch or (20 if args.quick else 50)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = 1.0 if args.quick else 2.0
    args.inprocess_budget = 30.0 if args.quick else 120.0
    args.max_rps = 20_000  # a count bound on top of the time bound
    if not 1 <= args.clients <= 1000 or args.duration > 120:
        parser.error("--clients from 1 to 1000, --duration at most 120 s")

    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    elif generator == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk), use --generator python")

    import lxml
    import spyne
    import sqlalchemy
    print(f"soapgw inbound benchmark: Python {sys.version.split()[0]}, spyne {spyne.__version__}, "
          f"lxml {lxml.__version__}, SQLAlchemy {sqlalchemy.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
          + (" (--quick)" if args.quick else ""))
    directory = Path(tempfile.mkdtemp(prefix="soapgw-bench-"))
    try:
        figures = {}
        if not args.skip_inprocess:
            figures["in_process"] = bench_in_process(args, directory / "inprocess")
            print_in_process(figures["in_process"], args)
        if not args.skip_http:
            with postgres_schema(args.postgres) as args.http_database_url:
                figures["http"] = bench_http(args, directory / "http", generator)
            figures["http"]["generator"] = generator
            print_http(figures["http"], args, generator)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1, default=str))
        if args.breakdown:
            breakdown_in_process(args, directory / "breakdown")
        if args.profile:
            profile_in_process(args, directory / "profile")
    finally:
        if args.keep:
            print(f"\n(kept {directory})")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
