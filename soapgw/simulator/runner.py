"""Runs N simulated stations in one process: their HTTP server and one thread per station.

A thread per station keeps each station's messages in order with no scheduler to share (a
station is mostly asleep; hundreds of threads are fine). The Python API is what tests, the
demo and the benchmarks use::

    with Simulation(SimulationConfig(central_url, stations=3)) as sim:
        sim.wait_for(lambda s: s.registration == "Accepted", timeout=10)
        sim.url(sim.ids[0])   # the station's ChargePointService, as announced in wsa:From
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from urllib.parse import urlsplit, urlunsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from soapgw.simulator.central_client import CentralClient
from soapgw.simulator.dialect import VERSIONS, central_service
from soapgw.simulator.model import StationOptions
from soapgw.simulator.service import ChargePointApp
from soapgw.simulator.station import Station

log = logging.getLogger(__name__)
SERVICE_PATH = "/services/CentralSystemService"
_ANY_HOST = ("", "0.0.0.0", "::")


@dataclass
class SimulationConfig:
    central_url: str  # the CentralSystemService URL (a bare http://host:port gets SERVICE_PATH)
    stations: int = 1
    ocpp_version: str = "1.6"
    listen_host: str = "127.0.0.1"
    listen_port: int = 0  # 0: any free port
    advertise_host: str | None = None  # host in the announced URLs (default: see _advertised)
    prefix: str = "SIM"
    first_number: int = 1
    boot_spread: float | None = None  # seconds over which stations boot; default ~10 ms each
    options: StationOptions = field(default_factory=StationOptions)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def station_ids(self) -> list[str]:
        width = max(4, len(str(self.first_number + self.stations - 1)))
        return [f"{self.prefix}{n:0{width}d}"
                for n in range(self.first_number, self.first_number + self.stations)]


def central_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--central {url!r} is not an http(s) URL")
    if parts.path in ("", "/"):
        return urlunsplit((parts.scheme, parts.netloc, SERVICE_PATH, parts.query, ""))
    return url


def _advertised(listen_host: str, central: str) -> str:
    """A host the central system can reach us at when we listen on every interface."""
    if listen_host not in _ANY_HOST:
        return listen_host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:  # no packet is sent: this only asks the OS which source address it would use
            probe.connect((urlsplit(central).hostname, 9))
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostname()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256  # a gateway may command many stations at once


class Simulation:
    def __init__(self, config: SimulationConfig):
        if config.ocpp_version not in VERSIONS:
            raise ValueError(f"OCPP {config.ocpp_version} is not simulated: use 1.5 or 1.6")
        if config.stations < 1:
            raise ValueError("at least one station is needed")
        central_service(config.ocpp_version)  # fails early when the version is unavailable
        try:
            config.options.id_tag.format(id="SIM0001", n=1)
        except (KeyError, IndexError, ValueError):
            raise ValueError(f"id tag {config.options.id_tag!r}: only {{id}} and {{n}} "
                             "may be filled in") from None
        self.config = config
        self.central_url = central_url(config.central_url)
        self.app = ChargePointApp()
        self.stations: dict[str, Station] = {}
        self.clients: dict[str, CentralClient] = {}
        self._server: WSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.base_url: str | None = None

    # --- life cycle -------------------------------------------------------------------------
    def start(self) -> "Simulation":
        config = self.config
        self._server = make_server(config.listen_host, config.listen_port, self.app,
                                   server_class=_Server, handler_class=_QuietHandler)
        host = config.advertise_host or _advertised(config.listen_host, self.central_url)
        host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{host}:{self._server.server_port}"
        ids = config.station_ids()
        spread = (config.boot_spread if config.boot_spread is not None
                  else min(10.0, 0.01 * len(ids)))
        for index, station_id in enumerate(ids):
            url = f"{self.base_url}/{station_id}"
            client = CentralClient(self.central_url, station_id, url, config.ocpp_version,
                                   connect_timeout=config.connect_timeout,
                                   read_timeout=config.read_timeout)
            options = StationOptions(**{**vars(config.options),
                                        "boot_delay": spread * index / len(ids)})
            station = Station(station_id, config.ocpp_version, client, options,
                              number=config.first_number + index)
            self.stations[station_id], self.clients[station_id] = station, client
            self.app.add(station, url)
        threading.Thread(target=self._server.serve_forever, name="sim-http", daemon=True).start()
        for station in self.stations.values():
            station.start()
            thread = threading.Thread(target=self._work, args=(station,), daemon=True,
                                      name=f"sim-{station.charge_box_id}")
            thread.start()
            self._threads.append(thread)
        log.info("%d OCPP %s station(s) at %s/<id>, central system %s", len(ids),
                 config.ocpp_version, self.base_url, self.central_url)
        return self

    def _work(self, station: Station) -> None:
        while not self._stop.is_set():
            try:
                due = station.run_due()
            except Exception:  # noqa: BLE001  (keep the station alive; the log tells why)
                log.exception("%s: station thread error", station.charge_box_id)
                due = None
            wait = 1.0 if due is None else (due - station.clock()).total_seconds()
            station.wakeup.wait(min(max(wait, 0.0), 1.0))
            station.wakeup.clear()

    def stop(self, finish_sessions: bool = True, timeout: float = 5.0) -> None:
        """Stop every station; running sessions first send StopTransaction (bounded)."""
        if finish_sessions and not self._stop.is_set():
            for station in self.stations.values():
                for connector_id, connector in station.connectors.items():
                    if connector.transaction is not None:
                        station.later(0, lambda s=station, c=connector_id:
                                      s.end_session(c, "Local"))
            self.wait_for(lambda s: not s.transaction_ids(), timeout=timeout)
        self._stop.set()
        for station in self.stations.values():
            station.wakeup.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for client in self.clients.values():
            client.close()

    def __enter__(self) -> "Simulation":
        return self.start() if self._server is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- observation ------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        return list(self.stations)

    def url(self, station_id: str) -> str:
        return self.app.urls[station_id]

    def station(self, station_id: str) -> Station:
        return self.stations[station_id]

    def wait_for(self, predicate: Callable[[Station], bool], ids: Iterable[str] | None = None,
                 timeout: float = 10.0) -> bool:
        """True once ``predicate`` holds for every station (or those in ``ids``), False at
        the deadline."""
        chosen = [self.stations[i] for i in (ids or self.stations)]
        deadline = time.monotonic() + timeout
        while True:
            pending = []
            for station in chosen:
                with station.lock:
                    if not predicate(station):
                        pending.append(station)
            if not pending or time.monotonic() >= deadline:
                return not pending
            chosen = pending
            time.sleep(0.02)

    def wait_booted(self, timeout: float = 10.0) -> bool:
        return self.wait_for(lambda s: s.registration == "Accepted", timeout=timeout)

    def received(self, station_id: str) -> list:
        """The requests ``station_id`` got from the central system, oldest first
        (:class:`soapgw.simulator.service.ReceivedRequest`, the latest 500)."""
        return list(self.app.received[station_id])

    def traffic(self) -> dict:
        """Requests sent and failed per action, over every station."""
        sent, failed = Counter(), Counter()
        for client in self.clients.values():
            sent.update(client.traffic.sent)
            failed.update(client.traffic.failed)
        return {"sent": dict(sent), "failed": dict(failed)}


    def latencies(self, action: str | None = None) -> list[float]:
        """Recent request durations in seconds (per station, the last 2000), for benchmarks."""
        return [seconds for client in self.clients.values()
                for name, seconds in list(client.traffic.latencies)
                if action is None or name == action]


def start_simulation(central: str, stations: int = 1, ocpp_version: str = "1.6",
                     **options) -> Simulation:
    """Start ``stations`` stations on 127.0.0.1 (free port); ``options`` are StationOptions
    fields, or SimulationConfig fields (prefix, boot_spread...)."""
    config_fields = set(SimulationConfig.__dataclass_fields__)
    config_args = {k: v for k, v in options.items() if k in config_fields}
    station_args = {k: v for k, v in options.items() if k not in config_fields}
    config = SimulationConfig(central, stations=stations, ocpp_version=ocpp_version,
                              options=StationOptions(**station_args), **config_args)
    return Simulation(config).start()
