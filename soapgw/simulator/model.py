"""The state of a simulated charge point: options, connectors, transactions, reservations."""
from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class StationOptions:
    """How a simulated station behaves; every duration is in seconds."""

    connectors: int = 1
    vendor: str = "soapgw"
    model: str = "SimCharger"
    firmware_version: str = "sim-1.0"
    heartbeat: int | None = None  # overrides the interval the central system answers
    meter_interval: int = 60  # MeterValueSampleInterval; 0: no periodic MeterValues
    session_interval: float = 0  # seconds between automatic sessions; 0: none
    session_length: float = 60
    first_session_delay: float | None = None  # default: spread over one session interval
    id_tag: str = "{id}"  # for automatic sessions; "{id}"/"{n}" are the station id/number
    max_power_w: float = 11040  # 16 A on 3 phases at 230 V
    react_delay: float = 0.05  # lets a command's reply leave before what it triggers
    retry_delay: float = 10  # next BootNotification when the central system is unreachable
    reboot_delay: float = 1.0
    step_delay: float = 1.0  # between firmware/diagnostics status steps
    boot_delay: float = 0  # first BootNotification (the runner spreads stations with it)


@dataclass
class Transaction:
    id_tag: str
    started_at: datetime
    meter_start: int
    transaction_id: int | None = None  # None until StartTransaction is answered
    reservation_id: int | None = None
    remote: bool = False
    profile: dict | None = None  # RemoteStart's chargingProfile, installed once the id is known
    length: float | None = None  # automatic sessions end by themselves
    id_tag_status: str | None = None


@dataclass
class Reservation:
    reservation_id: int
    connector_id: int
    id_tag: str
    expiry: datetime
    parent_id_tag: str | None = None


@dataclass
class Connector:
    connector_id: int
    status: str = "Available"  # OCPP 1.6 vocabulary; the 1.5 dialect translates
    error_code: str = "NoError"
    operative: bool = True
    scheduled_operative: bool | None = None  # ChangeAvailability waiting for the session end
    transaction: Transaction | None = None
    reservation: Reservation | None = None
    meter_wh: float = 0.0  # the energy register
    power_w: float = 0.0
    metered_at: datetime | None = None

    def steady_status(self) -> str:
        """The status this connector rests in (no transition like Finishing)."""
        if self.transaction is not None:
            return "Charging" if self.transaction.transaction_id is not None else "Preparing"
        if not self.operative:
            return "Unavailable"
        if self.reservation is not None:
            return "Reserved"
        return "Available"


class Timers:
    """Due jobs of one station; a named timer replaces the previous one of that name."""

    def __init__(self):
        self._heap: list[tuple[datetime, int, str | None, Callable[[], None]]] = []
        self._live: dict[str, int] = {}
        self._seq = itertools.count()

    def at(self, due: datetime, job: Callable[[], None], name: str | None = None) -> None:
        seq = next(self._seq)
        if name is not None:
            self._live[name] = seq
        heapq.heappush(self._heap, (due, seq, name, job))

    def cancel(self, name: str) -> None:
        self._live.pop(name, None)

    def clear(self) -> None:
        self._heap.clear()
        self._live.clear()

    def is_set(self, name: str) -> bool:
        return name in self._live

    def _cancelled(self, seq: int, name: str | None) -> bool:
        return name is not None and self._live.get(name) != seq

    def pop_due(self, now: datetime) -> list[Callable[[], None]]:
        jobs = []
        while self._heap and self._heap[0][0] <= now:
            _, seq, name, job = heapq.heappop(self._heap)
            if self._cancelled(seq, name):
                continue
            if name is not None:
                del self._live[name]
            jobs.append(job)
        return jobs

    def next_due(self) -> datetime | None:
        while self._heap and self._cancelled(self._heap[0][1], self._heap[0][2]):
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None


@dataclass
class LocalAuthorization:
    """The local authorization list (SendLocalList) and the authorization cache."""

    version: int = 0
    entries: dict[str, dict] = field(default_factory=dict)  # idTag -> idTagInfo
    cache: dict[str, dict] = field(default_factory=dict)
