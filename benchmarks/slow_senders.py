#!/usr/bin/env python3
"""Do slow senders and web UI load starve the stations? Side by side, one HTTP server per row.

    .venv/bin/python benchmarks/slow_senders.py                      # every available server
    .venv/bin/python benchmarks/slow_senders.py --server soapgw --server gunicorn-sync
    .venv/bin/python benchmarks/slow_senders.py --trickles 100 --seconds 30 --rounds 2
    .venv/bin/python benchmarks/slow_senders.py --server soapgw --tree /tmp/main-checkout

For each server (a fresh SQLite file in a temporary instance directory, a registered station,
127.0.0.1 only):
1. Throughput: ``--clients`` clients send Heartbeats as fast as they can, each on a new
   connection (``Connection: close``, as stations talk), for ``--throughput-seconds``.
2. Under attack, for ``--seconds``: ``--trickles`` connections send one byte a second (half of
   them the request head, half a body after a complete head; a connection the server closes
   is opened again), ``--ui`` clients hammer the web UI (GET /login, then POST a wrong
   password, as benchmarks/login_guessing.py), and one well-behaved station sends a Heartbeat
   on a new connection every 0.2 s. Prints the Heartbeats' p50/p99 latency and failures
   against the goal (p99 under 1 s, no legitimate failure).

Servers: ``soapgw`` (``soapgw serve`` of this tree, whatever its default is), ``soapgw-sync``
(``soapgw serve --sync``), and the WSGI
app (``soapgw.app:create_app``) under gunicorn sync (soapgw serve before issue 14), gunicorn
gthread, gunicorn gevent, granian and waitress when installed. Only ``soapgw`` runs the helper
processes; the Heartbeat path needs none. Every loop is bounded in count and time. Not a
test: it prints figures.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SERVICE_PATH = "/services/CentralSystemService"
STATION = "SLOW0"
ADMIN_PASSWORD = "the right password"
HEARTBEAT = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
             'xmlns:cs="urn://Ocpp/Cs/2015/10/"><s:Header><cs:chargeBoxIdentity>'
             f'{STATION}</cs:chargeBoxIdentity></s:Header><s:Body><cs:heartbeatRequest/>'
             '</s:Body></s:Envelope>').encode()
CONTENT_TYPE = 'application/soap+xml; charset=utf-8; action="/Heartbeat"'
TOKEN = re.compile(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
GOAL_P99_MS = 1000.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def module_available(name: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(name) is not None


def app_servers(port: int, workers: int) -> dict[str, list[str] | None]:
    """Command of each candidate server for ``soapgw.app:create_app`` (None: not installed)."""
    bind = f"127.0.0.1:{port}"
    gunicorn = [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(workers),
                "--timeout", "60", "--keep-alive", "5", "--graceful-timeout", "10"]
    factory = "soapgw.app:create_app()"
    return {
        "gunicorn-sync": [*gunicorn, "--worker-class", "sync", factory],
        "gunicorn-gthread": [*gunicorn, "--worker-class", "gthread", "--threads", "4",
                             factory],
        "gunicorn-gevent": ([*gunicorn, "--worker-class", "gevent", "--worker-connections",
                             "1000", factory] if module_available("gevent") else None),
        "granian": ([str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
                     "--port", str(port), "--workers", str(workers), "--blocking-threads",
                     "4", "--factory", "soapgw.app:create_app"]
                    if shutil.which("granian", path=str(BIN)) else None),
        "waitress": ([sys.executable, "-m", "waitress", "--listen", bind, "--threads", "4",
                      "--call", "soapgw.app:create_app"] if module_available("waitress")
                     else None),
    }


class Server:
    def __init__(self, kind: str, workers: int, ui_workers: int | None, root: Path = ROOT):
        self.kind = kind
        self.dir = tempfile.TemporaryDirectory(prefix="soapgw-slow-")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SOAPGW_")}
        self.env.update(SOAPGW_DATABASE_URL=f"sqlite:///{self.dir.name}/bench.db",
                        SOAPGW_INSTANCE_PATH=self.dir.name, SOAPGW_ADMIN_PASSWORD=ADMIN_PASSWORD,
                        PYTHONPATH=str(root))
        soapgw = [sys.executable, "-m", "soapgw"]
        for args in (("db", "upgrade"), ("chargebox", "add", STATION), ("admin", "create",
                                                                           "admin")):
            done = subprocess.run([*soapgw, *args], env=self.env, cwd=root, capture_output=True,
                                  stdin=subprocess.DEVNULL, timeout=120)
            if done.returncode != 0:
                raise SystemExit(f"soapgw {' '.join(args)} failed: {done.stderr.decode()}")
        self.port = free_port()
        if kind in ("soapgw", "soapgw-sync"):
            command = [*soapgw, "serve", "--port", str(self.port), "--workers", str(workers)]
            if kind == "soapgw-sync":
                command.append("--sync")
            elif ui_workers is not None:
                command += ["--ui-workers", str(ui_workers)]
        else:
            command = app_servers(self.port, workers)[kind]
        self.log_path = Path(self.dir.name) / "server.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, env=self.env, cwd=root, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{kind} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if heartbeat(self.port, 5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit(f"{kind} did not answer within 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()
        self.dir.cleanup()


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/") else 0
    return status, received


def heartbeat(port: int, timeout: float) -> tuple[int, bytes]:
    """One Heartbeat on a new connection (Connection: close): (status, whole answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall((f"POST {SERVICE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Content-Type: {CONTENT_TYPE}\r\nContent-Length: {len(HEARTBEAT)}\r\n"
                      "Connection: close\r\n\r\n").encode() + HEARTBEAT)
        return read_answer(sock)


def throughput(port: int, clients: int, seconds: float) -> tuple[float, int]:
    """Heartbeats/s answered 200 by ``clients`` threads, each request on a new connection."""
    counts, failures = [0] * clients, [0] * clients
    until = time.monotonic() + seconds

    def client(index: int) -> None:
        while time.monotonic() < until:
            try:
                status, answer = heartbeat(port, 30)
                ok = status == 200 and b"heartbeatResponse" in answer
            except OSError:
                ok = False
            counts[index] += ok
            failures[index] += not ok

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started), sum(failures)


class Trickles:
    """``count`` connections sending one byte a second; reopened when the server closes one."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.closed_by_server = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _payload(self, index: int) -> tuple[bytes, bytes]:
        """(sent at once, sent one byte a second): a head or a body to trickle."""
        body = HEARTBEAT + b" " * 2000
        head = (f"POST {SERVICE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: {CONTENT_TYPE}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        return (b"", head + body) if index % 2 == 0 else (head, body)

    def _open(self, index: int):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.setblocking(False)
        at_once, slow = self._payload(index)
        if at_once:
            sock.setblocking(True)
            sock.sendall(at_once)
            sock.setblocking(False)
        return [sock, slow, 0]

    def _run(self) -> None:
        conns = {}
        while not self.stop.is_set():
            for index in range(self.count):
                if index not in conns:
                    try:
                        conns[index] = self._open(index)
                    except OSError:
                        continue
                sock, slow, sent = conns[index]
                try:
                    if sock.recv(65536, socket.MSG_PEEK) == b"":
                        raise ConnectionResetError  # closed by the server
                except BlockingIOError:
                    pass
                except OSError:
                    self.closed_by_server += 1
                    sock.close()
                    del conns[index]
                    continue
                if sent < len(slow):
                    try:
                        sock.send(slow[sent:sent + 1])
                        conns[index][2] += 1
                    except OSError:
                        self.closed_by_server += 1
                        sock.close()
                        del conns[index]
            self.stop.wait(1.0)
        for sock, _, _ in conns.values():
            sock.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


def hammer_ui(port: int, until: float, statuses: list) -> None:
    """GET /login and POST a wrong password, over and over (new connections each time)."""
    import requests
    url = f"http://127.0.0.1:{port}/login"
    attempt = 0
    while time.monotonic() < until:
        try:
            with requests.Session() as session:
                page = session.get(url, timeout=90)
                token = TOKEN.search(page.content)
                response = session.post(url, timeout=90, allow_redirects=False, data={
                    "username": "admin", "password": f"guess-{attempt}",
                    "csrf_token": token.group(1).decode() if token else ""})
            statuses.append(response.status_code)
        except requests.RequestException:
            statuses.append(0)
        attempt += 1


def under_attack(port: int, trickles: int, ui_clients: int, seconds: float) -> dict:
    latencies, failures, ui_statuses = [], [], []
    until = time.monotonic() + seconds

    def station() -> None:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                status, answer = heartbeat(port, 60)
                ok = status == 200 and b"heartbeatResponse" in answer
                if not ok:
                    failures.append(f"status {status}")
            except OSError as exc:
                failures.append(type(exc).__name__)
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.2)

    with Trickles(port, trickles) as trickling:
        time.sleep(min(5.0, seconds / 4))  # every trickle open and started
        threads = [threading.Thread(target=station)]
        threads += [threading.Thread(target=hammer_ui, args=(port, until, ui_statuses))
                    for _ in range(ui_clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return {"latencies": latencies, "failures": failures, "ui": ui_statuses,
            "reopened": trickling.closed_by_server}


def pct(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def measure(kind: str, args) -> dict:
    """``kind``: a server of app_servers, or soapgw serve of this tree ("soapgw") or of
    another checkout ("soapgw@DIR")."""
    name, _, tree = kind.partition("@")
    ui_workers = None if tree else args.ui_workers  # another tree may not know the option
    server = Server(name, args.workers, ui_workers, Path(tree) if tree else ROOT)
    try:
        throughput(server.port, 4, 1.0)  # warm-up
        rate, tp_failures = throughput(server.port, args.clients, args.throughput_seconds)
        attack = under_attack(server.port, args.trickles, args.ui, args.seconds)
    finally:
        server.stop()
    ui_errors = sum(1 for s in attack["ui"] if s == 0 or s >= 500)
    return {"rate": rate, "tp_failures": tp_failures, "p50": pct(attack["latencies"], 0.5),
            "p99": pct(attack["latencies"], 0.99), "max": max(attack["latencies"],
                                                              default=float("nan")),
            "heartbeats": len(attack["latencies"]), "failures": len(attack["failures"]),
            "ui_answers": len(attack["ui"]), "ui_errors": ui_errors,
            "reopened": attack["reopened"], "why": sorted(set(attack["failures"]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kinds = ["soapgw", "soapgw-sync", *app_servers(0, 1)]
    parser.add_argument("--server", action="append", choices=kinds,
                        help="a server to measure (repeatable; default: every available one,"
                             " unless --tree is given)")
    parser.add_argument("--trickles", type=int, default=100,
                        help="connections sending one byte a second (default 100)")
    parser.add_argument("--ui", type=int, default=4, help="web UI clients (default 4)")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="length of the attack phase (default 30)")
    parser.add_argument("--clients", type=int, default=24,
                        help="throughput clients, Connection: close (default 24)")
    parser.add_argument("--throughput-seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=2, help="workers (stations' for soapgw)")
    parser.add_argument("--ui-workers", type=int, default=None,
                        help="soapgw serve --ui-workers (default: its own default)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (medians)")
    parser.add_argument("--tree", action="append", type=Path, default=[],
                        help="also soapgw serve of this checkout (e.g. a worktree of main)")
    args = parser.parse_args()
    available = {k for k, command in app_servers(0, 1).items() if command} | {"soapgw",
                                                                                "soapgw-sync"}
    chosen = [k for k in (args.server or ([] if args.tree else kinds)) if k in available]
    chosen += [f"soapgw@{tree.resolve()}" for tree in args.tree]
    print(f"servers: {', '.join(chosen)}; not installed: "
          f"{', '.join(sorted(set(kinds) - available)) or 'none'}", flush=True)
    results: dict[str, list] = {k: [] for k in chosen}
    for round_ in range(args.rounds):
        for kind in chosen:
            row = measure(kind, args)
            results[kind].append(row)
            print(f"round {round_ + 1} {kind}: {row}", flush=True)
    print(f"\n{args.workers} workers; {args.trickles} trickling connections, {args.ui} UI "
          f"clients, {args.seconds:g} s; throughput: {args.clients} clients, Connection: close;"
          f" median over {args.rounds} round(s)")
    print(f"{'server':<18} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'HB fail':>8} "
          f"{'UI ans':>7} {'UI 5xx/err':>10} {'cut':>5} {'HB/s':>8} {'goal':>5}")
    for kind, rows in results.items():
        med = {key: statistics.median(r[key] for r in rows)
               for key in ("p50", "p99", "max", "failures", "ui_answers", "ui_errors",
                           "reopened", "rate")}
        goal = "ok" if med["p99"] < GOAL_P99_MS and med["failures"] == 0 \
            and med["ui_errors"] == 0 else "MISS"
        print(f"{kind[-18:]:<18} {med['p50']:>9.1f} {med['p99']:>9.1f} {med['max']:>9.1f} "
              f"{med['failures']:>8.0f} {med['ui_answers']:>7.0f} {med['ui_errors']:>10.0f} "
              f"{med['reopened']:>5.0f} {med['rate']:>8.0f} {goal:>5}")
    print(f"(goal: Heartbeat p99 under {GOAL_P99_MS:.0f} ms while trickled and UI-hammered, no "
          "Heartbeat failure, no UI 5xx or connection error; cut: trickling connections the "
          "server closed; HB/s: Heartbeats/s with no attack)")


if __name__ == "__main__":
    main()
