#!/usr/bin/env python3
"""Throughput side by side (issue 14, goal 3): soapgw serve of this checkout, of another checkout
(today's main) and the raw lxml handler, each request on a new connection.

    .venv/bin/python benchmarks/throughput.py                        # about 4 minutes
    .venv/bin/python benchmarks/throughput.py --against /tmp/main     # another checkout
    .venv/bin/python benchmarks/throughput.py --rounds 1 --seconds 3  # a quick look, ~1 min
    .venv/bin/python benchmarks/throughput.py --json figures.json     # also write the figures

Goal: with 32 clients, SQLite, every message persisted and journaled before its answer, the
Heartbeat and the mixed load run at least 2x as fast on this checkout as on today's main,
measured side by side in one run, and at least 0.40x as fast as the raw lxml handler under
the same server settings.

Three servers, each started anew in every round with its own fresh SQLite file in a
temporary directory, on a free 127.0.0.1 port, with the same registered stations and tags:

- ``soapgw serve --workers W`` of this checkout (its default server mode);
- ``soapgw serve --workers W`` of ``--against TREE`` (default /work/base where it exists),
  run with that tree's own code (PYTHONPATH and working directory), its schema made and its
  stations and tags registered by its own code;
- the raw handler (benchmarks/http_load.py ``baseline_app``: read, safe lxml parse, a reply
  template) under gunicorn with the settings soapgw serve gives it by default.

Each server is first left until it idles (soapgw's helper processes started: their imports are
not serving), then warmed up for ``--warmup`` seconds, unmeasured. Scenarios, driven by wrk
(``apt-get install wrk``) with a Lua script, every request with ``Connection: close``: (a)
Heartbeats from all the stations in turn, (b) a session per client (BootNotification,
StatusNotification, Authorize, StartTransaction, 3x MeterValues, StopTransaction, a unique
transaction each; each client's sessions go round its own share of the stations). Rounds are
interleaved, the servers' order rotated each round; the figures are medians over the rounds,
the ratios medians of each round's ratios. After each soapgw run the journal rows (in and out)
and the transactions it added are counted in its database and checked against the requests wrk
saw answered. Next to each figure: the server's CPU per message and the CPU every other process
on the machine used meanwhile (the figures are only comparable when that is low).

Every loop is bounded in count and in time, only 127.0.0.1 is contacted, the servers are
stopped and the temporary directory is removed at the end, also on Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from http_load import (  # also puts this checkout first on sys.path
    BASELINE_GUNICORN, ROOT, Server, measure, run_wrk)

TARGET_AGAINST = 2.0  # this checkout / today's main
TARGET_RAW = 0.40  # this checkout / the raw lxml handler
DEFAULT_AGAINST = Path("/work/base")
SCENARIOS = (("heartbeat", "Heartbeat", "req/s"),
             ("mixed", "mixed session (8 msgs)", "msg/s"))
SERVERS = ("this", "against", "raw")


def revision(tree: Path) -> str:
    """The commit a checkout is at, and whether it has uncommitted changes."""
    def git(*args):
        done = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True,
                              timeout=30, stdin=subprocess.DEVNULL)
        return done.stdout.strip() if done.returncode == 0 else None
    commit = git("rev-parse", "--short", "HEAD")
    if commit is None:
        return "not a git checkout"
    return commit + (" + uncommitted changes" if git("status", "--porcelain", "--",
                                                     "soapgw") else "")


def settled(server: Server, timeout: float = 10.0) -> dict:
    """The database's counts once the requests still in flight when wrk stopped are done:
    until two reads 0.3 s apart agree (at most ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    summary = server.database_summary()
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = server.database_summary()
        if again == summary:
            break
        summary = again
    return summary


def check(result: dict, clients: int, journaled: bool) -> list[str]:
    """What is wrong with one measurement: faults, socket errors, and (soapgw) answered
    messages without their two journal rows."""
    problems = [f"{key} {result[key]}" for key in ("faults", "socket_errors", "status_errors",
                                                    "timeouts", "anomalies") if result.get(key)]
    if journaled:
        j_in, j_out, answered = result["journal_in"], result["journal_out"], result["requests"]
        if j_in != j_out:
            problems.append(f"journal in {j_in} != out {j_out}")
        # wrk counts the answers it read; up to one request per client was still in flight
        if not answered <= j_in <= answered + clients:
            problems.append(f"journal in {j_in} for {answered} answered")
        if result["journal_faults"]:
            problems.append(f"journaled faults {result['journal_faults']}")
    return problems


def run_server(key: str, args, directory: Path, stations, tags) -> dict:
    """One server, started anew: a warm-up, then each scenario measured."""
    server = Server(directory, args.workers, stations, tags, baseline=key == "raw",
                    tree=args.against if key == "against" else None,
                    serve_args=tuple(shlex.split(args.this_args)) if key == "this" else ())
    results = {}
    try:
        def load(scenario: str, seconds: float) -> dict:
            return run_wrk(server.url, directory, scenario, stations, tags,
                           clients=args.clients, threads=args.wrk_threads, seconds=seconds,
                           max_rps=args.max_rps, close=True)
        server.settle()  # the helper processes' start is not part of serving
        load("heartbeat", args.warmup)  # workers import lazily, SQLite pages: not measured
        for scenario, _label, _unit in SCENARIOS:
            before = settled(server) if key != "raw" else None
            result = measure(server, lambda: load(scenario, args.seconds))
            if before is not None:
                after = settled(server)
                for name in ("journal_in", "journal_out", "transactions", "stopped"):
                    result[name] = after[name] - before[name]
                result["journal_faults"] = after["faults"] - before["faults"]
            result["problems"] = check(result, args.clients, before is not None)
            results[scenario] = result
        if any(r["problems"] for r in results.values()):
            results["log_tail"] = server.log_tail()
    finally:
        server.stop()
    return results


def progress(round_number: int, key: str, scenario: str, r: dict) -> str:
    line = (f"  round {round_number} {key:<8}{scenario:<10}{r['rate']:>7.0f}/s  p50 "
            f"{r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  cpu/msg "
            f"{r['server_cpu_s'] / max(r['requests'], 1) * 1e6:.0f} µs  answered "
            f"{r['requests']}  faults {r['faults']}  socket errors {r['socket_errors']}")
    if "journal_in" in r:
        line += f"  journal +{r['journal_in']} in/+{r['journal_out']} out"
        if scenario == "mixed":
            line += f"  transactions +{r['transactions']} ({r['stopped']} stopped)"
    line += f"  others {r['others_cpu_s'] / r['seconds']:.0%}"
    return line + ("  PROBLEM: " + ", ".join(r["problems"]) if r["problems"] else "")


def median_of(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def summarise(rounds: list[dict]) -> dict:
    """Medians over the rounds, per server and scenario, and the ratios with their targets."""
    figures = {}
    for scenario, _label, _unit in SCENARIOS:
        per_server = {}
        for key in SERVERS:
            rows = [r[key][scenario] for r in rounds]
            per_server[key] = {
                "rate": median_of(rows, "rate"), "p50_ms": median_of(rows, "p50_ms"),
                "p99_ms": median_of(rows, "p99_ms"),
                "cpu_per_msg_us": statistics.median(r["server_cpu_s"] / max(r["requests"], 1)
                                                    * 1e6 for r in rows),
                "others_cores": statistics.median(r["others_cpu_s"] / r["seconds"]
                                                  for r in rows),
                "answered": sum(r["requests"] for r in rows),
                "faults": sum(r["faults"] for r in rows),
                "socket_errors": sum(r["socket_errors"] for r in rows),
                "problems": sum(len(r["problems"]) for r in rows)}
            if key != "raw":
                for name in ("journal_in", "journal_out", "transactions", "stopped"):
                    per_server[key][name] = sum(r[name] for r in rows)
        ratios = {}
        for other, target in (("against", TARGET_AGAINST), ("raw", TARGET_RAW)):
            each = [r["this"][scenario]["rate"] / r[other][scenario]["rate"] for r in rounds]
            ratios[f"this/{other}"] = {"median": statistics.median(each), "rounds": each,
                                       "target": target,
                                       "met": statistics.median(each) >= target}
        figures[scenario] = {"servers": per_server, "ratios": ratios}
    return figures


def print_table(figures: dict, args, names: dict) -> None:
    print(f"\nMedians of {args.rounds} interleaved round(s), {args.seconds:g} s per scenario, "
          f"{args.clients} clients, Connection: close, --workers {args.workers}:")
    for scenario, label, unit in SCENARIOS:
        servers = figures[scenario]["servers"]
        print(f"\n  {label}")
        print(f"    {'server':<34}{'rate':>14}{'p50 ms':>8}{'p99 ms':>8}{'cpu/msg':>10}"
              f"{'answered':>10}{'faults':>7}{'sock.err':>9}{'journal in/out':>16}"
              f"{'others':>8}")
        for key in SERVERS:
            s = servers[key]
            journal = (f"{s['journal_in']}/{s['journal_out']}" if "journal_in" in s else "-")
            print(f"    {names[key]:<34}{s['rate']:>8.0f} {unit}{s['p50_ms']:>8.1f}"
                  f"{s['p99_ms']:>8.1f}{s['cpu_per_msg_us']:>7.0f} µs{s['answered']:>10}"
                  f"{s['faults']:>7}{s['socket_errors']:>9}{journal:>16}"
                  f"{s['others_cores']:>8.0%}")
        if scenario == "mixed":
            for key in ("this", "against"):
                s = servers[key]
                print(f"    {names[key]}: {s['transactions']} transactions added "
                      f"({s['stopped']} stopped) for {s['answered']} answered messages "
                      f"(~{s['answered'] // 8} sessions)")
        for name, ratio in figures[scenario]["ratios"].items():
            each = ", ".join(f"{x:.2f}" for x in ratio["rounds"])
            print(f"    {name:<16}{ratio['median']:>6.2f}x   target >= {ratio['target']:.2f}x "
                  f"[{'met' if ratio['met'] else 'MISSED'}]   (rounds: {each})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path,
                        default=DEFAULT_AGAINST if DEFAULT_AGAINST.is_dir() else None,
                        help="the checkout to compare with (default /work/base where it "
                             "exists; required otherwise)")
    parser.add_argument("--workers", type=int, default=2,
                        help="soapgw serve --workers and the raw handler's (default 2, soapgw "
                             "serve's default)")
    parser.add_argument("--this-args", default="", metavar="OPTIONS",
                        help="more soapgw serve options for this checkout, e.g. '--sync'")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--stations", type=int, default=500,
                        help="registered stations (and tags), at least one per client")
    parser.add_argument("--seconds", type=int, default=8, help="per measurement (whole)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds, not measured")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    args.max_rps = 20_000  # a count bound on top of the time bound
    if args.against is None:
        parser.error("--against TREE is required (no /work/base here)")
    args.against = args.against.resolve()
    if not (args.against / "soapgw" / "cli.py").is_file():
        parser.error(f"{args.against} is not a soapgw checkout")
    if not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk)")
    if (not 1 <= args.clients <= 1000 or not 1 <= args.seconds <= 120
            or not 1 <= args.rounds <= 20 or not 1 <= args.workers <= 16
            or not args.clients <= args.stations <= 10_000 or not 1 <= args.warmup <= 30
            or args.clients % args.wrk_threads):
        parser.error("--clients 1 to 1000 (a multiple of --wrk-threads), --stations from "
                     "--clients to 10000, --seconds 1 to 120, --rounds 1 to 20, --workers "
                     "1 to 16, --warmup 1 to 30")
    # SIGTERM ends the run as Ctrl-C does: servers stopped, temporary directory removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    import gunicorn
    names = {"this": f"this checkout ({revision(ROOT)})",
             "against": f"{args.against.name} ({revision(args.against)})",
             "raw": "raw lxml handler"}
    load_start = os.getloadavg()
    print(f"soapgw throughput side by side: Python {sys.version.split()[0]}, gunicorn "
          f"{gunicorn.__version__}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in load_start)} at the start")
    print(f"  this checkout: {ROOT} ({revision(ROOT)}): soapgw serve --workers {args.workers}"
          + (f" {args.this_args}" if args.this_args else ""))
    print(f"  against: {args.against} ({revision(args.against)}): soapgw serve --workers "
          f"{args.workers}, its own code and schema")
    print(f"  raw lxml handler: gunicorn --workers {args.workers} {' '.join(BASELINE_GUNICORN)}"
          " http_load:baseline_app (soapgw serve's default settings)")
    print(f"  load: wrk, {args.wrk_threads} thread(s), {args.clients} clients, every request "
          f"with Connection: close; {args.stations} stations and tags registered; "
          f"{args.seconds:g} s per scenario after a {args.warmup:g} s warm-up; fresh SQLite "
          "file per server and round", flush=True)

    stations = [f"CB-TP-{i:04d}" for i in range(1, args.stations + 1)]
    tags = [f"TP{i:04d}" for i in range(1, args.stations + 1)]
    directory = Path(tempfile.mkdtemp(prefix="soapgw-throughput-"))
    rounds: list[dict] = []
    try:
        for number in range(args.rounds):
            shift = number % len(SERVERS)
            measured = {}
            for key in SERVERS[shift:] + SERVERS[:shift]:
                where = directory / f"round{number + 1}-{key}"
                measured[key] = run_server(key, args, where, stations, tags)
                shutil.rmtree(where, ignore_errors=True)  # its SQLite file: disk, not needed
                for scenario, _label, _unit in SCENARIOS:
                    print(progress(number + 1, key, scenario, measured[key][scenario]),
                          flush=True)
                if "log_tail" in measured[key]:
                    print(f"  {names[key]} log (tail):\n"
                          + textwrap.indent(measured[key]["log_tail"], "   | "))
            rounds.append(measured)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    load_end = os.getloadavg()

    figures = summarise(rounds)
    print_table(figures, args, names)
    problems = sum(s["problems"] for f in figures.values() for s in f["servers"].values())
    print(f"\n  load average {' '.join(f'{x:.2f}' for x in load_start)} at the start, "
          f"{' '.join(f'{x:.2f}' for x in load_end)} at the end; 'others' = CPU every other "
          "process on the machine used during a run, in cores (100% = one; the generator "
          "and the server not counted): the figures are only comparable when that is low")
    print("  cpu/msg: CPU of the server (gunicorn master, workers and, for soapgw, its helper "
          "processes) per answered message; journal in/out: rows added during the "
          "scenarios, every answered message needs one of each (in flight at the end: up to "
          "one per client more)")
    print("  all answered, no fault, no socket error, every answer journaled"
          if not problems else f"  {problems} PROBLEM(S): see the rounds above")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "settings": {k: (str(v) if isinstance(v, Path) else v)
                         for k, v in vars(args).items()},
            "servers": names, "baseline_gunicorn": list(BASELINE_GUNICORN),
            "load_average": {"start": load_start, "end": load_end},
            "figures": figures, "rounds": rounds}, indent=1))
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: the servers are stopped, the temporary directory removed")
        sys.exit(130)
