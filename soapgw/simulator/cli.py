"""``soapgw simulate``: run N SOAP charge points against a central system until stopped."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time

from soapgw.cli_support import EXIT_USAGE, CliError
from soapgw.simulator.model import StationOptions




def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:9000)")
    return host.strip("[]") or "0.0.0.0", int(port)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError("seconds cannot be negative")
    return value


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def register(subparsers) -> None:
    """Add ``simulate`` to the ``soapgw`` command line."""
    p = subparsers.add_parser(
        "simulate", help="run simulated SOAP charge points against a central system",
        description="Run N OCPP SOAP charge points in one process: each boots, heartbeats, "
                    "reports status, runs charging sessions with meter values, and answers "
                    "every ChargePointService command at http://HOST:PORT/<id>.")
    p.add_argument("--central", required=True, metavar="URL",
                   help="CentralSystemService URL (http://host:port alone means "
                        "/services/CentralSystemService)")
    p.add_argument("--stations", type=_positive, default=1, metavar="N")
    p.add_argument("--ocpp", choices=("1.5", "1.6"), default="1.6")
    p.add_argument("--listen", type=_listen, default=("127.0.0.1", 0), metavar="HOST:PORT",
                   help="where the stations' ChargePointService listens (port 0: any free)")
    p.add_argument("--advertise", metavar="HOST",
                   help="host announced in wsa:From (default: the listen host, or the "
                        "address towards the central system when listening on 0.0.0.0)")
    p.add_argument("--prefix", default="SIM", metavar="ID",
                   help="station ids are PREFIX0001, PREFIX0002, ...")
    p.add_argument("--first", type=_positive, default=1, metavar="N", help="first station number")
    p.add_argument("--connectors", type=_positive, default=1, metavar="N")
    p.add_argument("--heartbeat", type=_positive, metavar="SECONDS",
                   help="heartbeat interval (default: what BootNotification answers)")
    p.add_argument("--meter-interval", type=int, default=30, metavar="SECONDS",
                   help="MeterValues during sessions (0: none)")
    p.add_argument("--session-interval", type=_seconds, default=300, metavar="SECONDS",
                   help="an automatic charging session every SECONDS per station (0: none)")
    p.add_argument("--session-length", type=_seconds, default=120, metavar="SECONDS")
    p.add_argument("--id-tag", default="{id}", metavar="TAG",
                   help="id tag of automatic sessions; {id} and {n} are the station id and "
                        "number (default: the station id)")
    p.add_argument("--max-power", type=float, default=11040, metavar="WATTS")
    p.add_argument("--boot-spread", type=_seconds, metavar="SECONDS",
                   help="spread the first BootNotifications over SECONDS (default 10 ms each)")
    p.add_argument("--duration", type=_seconds, metavar="SECONDS",
                   help="stop after SECONDS (default: until SIGINT/SIGTERM)")
    p.add_argument("--verbose", "-v", action="store_true", help="log every station event")
    p.set_defaults(handler=cmd_simulate)


def _config(args):
    from soapgw.simulator.runner import SimulationConfig  # loads spyne: only when simulating
    options = StationOptions(connectors=args.connectors, heartbeat=args.heartbeat,
                             meter_interval=max(0, args.meter_interval),
                             session_interval=args.session_interval,
                             session_length=args.session_length, id_tag=args.id_tag,
                             max_power_w=args.max_power)
    host, port = args.listen
    return SimulationConfig(central_url=args.central, stations=args.stations,
                            ocpp_version=args.ocpp, listen_host=host, listen_port=port,
                            advertise_host=args.advertise, prefix=args.prefix,
                            first_number=args.first, boot_spread=args.boot_spread,
                            options=options)


def cmd_simulate(settings, args) -> int:
    from soapgw.simulator.runner import Simulation
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.verbose:
        logging.getLogger("soapgw.simulator").setLevel(logging.DEBUG)
    try:
        simulation = Simulation(_config(args))
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    try:
        simulation.start()
    except OSError as exc:
        raise CliError(f"cannot listen on {args.listen[0]}:{args.listen[1]}: {exc}") from None
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for station_id in simulation.ids:
            print(f"{station_id}\t{simulation.url(station_id)}", flush=True)
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            stop.wait(0.5 if deadline is None else min(0.5, max(0.0, deadline - time.monotonic())))
    finally:
        simulation.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    traffic = simulation.traffic()
    print("sent: " + (", ".join(f"{k}={v}" for k, v in sorted(traffic["sent"].items()))
                      or "nothing"), flush=True)
    if traffic["failed"]:
        print("failed: " + ", ".join(f"{k}={v}" for k, v in sorted(traffic["failed"].items())),
              file=sys.stderr)
    if not any(s.boots and s.registration == "Accepted" for s in simulation.stations.values()):
        print(f"soapgw: no station was accepted by {simulation.central_url}", file=sys.stderr)
        return 1
    return 0
