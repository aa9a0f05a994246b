"""Does password guessing on the web UI slow the SOAP endpoint down?

Starts ``soapgw serve --workers 2`` on a throw-away SQLite database (from this tree, or from
another checkout with ``--tree DIR``, e.g. a worktree of an older commit), then measures
Heartbeat latency from ``--stations`` sequential SOAP clients for ``--seconds``, first alone,
then while ``--guessers`` clients post wrong passwords to /login as fast as they can.
Prints p50/p99 of both phases and what the guessers achieved. Several ``--tree`` values are
measured in turn, ``--rounds`` times, interleaved (the machine is shared: compare side by
side). Not a test: it prints figures.

    .venv/bin/python benchmarks/login_guessing.py --tree . --tree /tmp/sec-before
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

HEARTBEAT = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
             'xmlns:cs="urn://Ocpp/Cs/2015/10/"><s:Header><cs:chargeBoxIdentity>{id}'
             '</cs:chargeBoxIdentity></s:Header><s:Body><cs:heartbeatRequest/></s:Body>'
             '</s:Envelope>')
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ADMIN_PASSWORD = "the right password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def soapgw(tree: Path, env: dict, *args: str, **kwargs):
    """``soapgw`` from ``tree`` (its package first on the path), with this interpreter."""
    env = {**env, "PYTHONPATH": str(tree)}
    # run from the tree itself: ``python -c`` puts the working directory first on the path
    return subprocess.Popen([sys.executable, "-c", "import sys; from soapgw.cli import main; "
                             "sys.exit(main())", *args], env=env, cwd=tree, **kwargs)


class Server:
    def __init__(self, tree: Path, stations: int):
        self.dir = tempfile.TemporaryDirectory(prefix="soapgw-bench-")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SOAPGW_")}
        self.env.update(SOAPGW_DATABASE_URL=f"sqlite:///{self.dir.name}/bench.db",
                        SOAPGW_INSTANCE_PATH=self.dir.name,
                        SOAPGW_ADMIN_PASSWORD=ADMIN_PASSWORD)
        ids = [f"BENCH{i}" for i in range(stations)]
        for args in (("chargebox", "add", *ids), ("admin", "create", "admin")):
            done = soapgw(tree, self.env, *args, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if done.wait(120) != 0:
                raise SystemExit(f"{tree}: soapgw {' '.join(args[:2])} failed: "
                                 f"{done.stderr.read().decode()}")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = soapgw(tree, self.env, "serve", "--port", str(self.port), "--workers",
                              "2", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise SystemExit(f"{tree}: soapgw serve did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(30)
        self.dir.cleanup()


def heartbeats(url: str, identity: str, until: float, latencies: list) -> None:
    session = requests.Session()
    data = HEARTBEAT.format(id=identity).encode()
    headers = {"Content-Type": 'application/soap+xml; charset=utf-8; action="/Heartbeat"'}
    while time.monotonic() < until:
        started = time.perf_counter()
        response = session.post(f"{url}/services/CentralSystemService", data=data,
                                headers=headers, timeout=30)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"Heartbeat answered {response.status_code}")
        time.sleep(0.01)  # a fleet's steady trickle, not a flood


def guess(url: str, until: float, statuses: list) -> None:
    session = requests.Session()
    attempt = 0
    while time.monotonic() < until:
        page = session.get(f"{url}/login", timeout=30).text
        token = TOKEN.search(page).group(1)
        response = session.post(f"{url}/login", timeout=30, allow_redirects=False, data={
            "username": "admin", "password": f"guess-{attempt}", "csrf_token": token})
        statuses.append(response.status_code)
        attempt += 1


def phase(server: Server, stations: int, guessers: int, seconds: float) -> tuple[list, list]:
    until = time.monotonic() + seconds
    latencies, statuses = [], []
    threads = [threading.Thread(target=heartbeats, args=(server.url, f"BENCH{i}", until,
                                                         latencies)) for i in range(stations)]
    threads += [threading.Thread(target=guess, args=(server.url, until, statuses))
                for _ in range(guessers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def pct(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(tree: Path, args) -> dict:
    server = Server(tree, args.stations)
    try:
        phase(server, args.stations, 0, 1.0)  # warm-up
        alone, _ = phase(server, args.stations, 0, args.seconds)
        loaded, statuses = phase(server, args.stations, args.guessers, args.seconds)
    finally:
        server.stop()
    return {"alone": alone, "loaded": loaded, "statuses": statuses, "seconds": args.seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path,
                        help="a soapgw checkout to measure (repeatable; default: this one)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--stations", type=int, default=2, help="Heartbeat clients")
    parser.add_argument("--guessers", type=int, default=4, help="password-guessing clients")
    args = parser.parse_args()
    trees = [t.resolve() for t in (args.tree or [Path(__file__).resolve().parents[1]])]
    results: dict[Path, list] = {t: [] for t in trees}
    for tree in trees:
        version = subprocess.run([sys.executable, "-c", "import soapgw, sys; "
                                  "print(soapgw.__file__)"], cwd=tree, capture_output=True,
                                 text=True, env={**os.environ, "PYTHONPATH": str(tree)})
        print(f"{tree}: soapgw from {version.stdout.strip()}")
    for round_ in range(args.rounds):
        for tree in trees:
            result = measure(tree, args)
            results[tree].append(result)
            print(f"round {round_ + 1} {tree}: {summary(result)}", flush=True)
    print(f"\n{args.stations} Heartbeat clients, {args.guessers} guessers, {args.seconds:g} s "
          f"per phase, median over {args.rounds} rounds:")
    print(f"{'tree':<40} {'alone p50':>10} {'alone p99':>10} {'guessed p50':>12} "
          f"{'guessed p99':>12} {'p99 ratio':>10} {'guesses/s':>10} {'checked/s':>10}")
    for tree, rows in results.items():
        med = {key: statistics.median(r[key] for r in map(figures, rows))
               for key in figures(rows[0])}
        print(f"{str(tree)[-40:]:<40} {med['alone_p50']:>10.1f} {med['alone_p99']:>10.1f} "
              f"{med['loaded_p50']:>12.1f} {med['loaded_p99']:>12.1f} "
              f"{med['loaded_p99'] / med['alone_p99']:>10.1f} {med['guesses']:>10.1f} "
              f"{med['checked']:>10.1f}")
    print("(milliseconds; guesses/s: answered sign-in posts; checked/s: those answered 401, "
          "i.e. whose password was checked)")


def figures(result: dict) -> dict:
    seconds = result["seconds"]
    return {"alone_p50": pct(result["alone"], 0.5), "alone_p99": pct(result["alone"], 0.99),
            "loaded_p50": pct(result["loaded"], 0.5), "loaded_p99": pct(result["loaded"], 0.99),
            "guesses": len(result["statuses"]) / seconds,
            "checked": result["statuses"].count(401) / seconds}


def summary(result: dict) -> str:
    f = figures(result)
    codes = {code: result["statuses"].count(code) for code in sorted(set(result["statuses"]))}
    return (f"alone p50 {f['alone_p50']:.1f} ms p99 {f['alone_p99']:.1f} ms; while guessing "
            f"p50 {f['loaded_p50']:.1f} ms p99 {f['loaded_p99']:.1f} ms; "
            f"{len(result['loaded'])} heartbeats; sign-in answers {codes}")


if __name__ == "__main__":
    main()
