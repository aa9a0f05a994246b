"""One simulated charge point: what it sends to the central system and when.

Pure Python and clock-driven: ``run_due()`` runs whatever is due (boot, heartbeat, meter
samples, session starts/ends, reactions to commands) and returns when to call it next, so unit
tests drive a station with a fake clock and a fake central system, and the runner drives it
with one thread. Commands arrive on other threads (``handle``, see commands.py): they change
state under ``lock`` and leave the sending to the station's thread through timers and the
outbox, so a station sends in order and never holds its lock over the network.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from soapgw.timestamps import now as utc_now
from soapgw.simulator import meter
from soapgw.simulator.central_client import CentralError, CentralUnavailable
from soapgw.simulator.config_keys import default_keys
from soapgw.simulator.model import (Connector, LocalAuthorization, Reservation, StationOptions,
                                    Timers, Transaction)
from soapgw.simulator.profiles import Profile, SmartCharging
from soapgw.simulator.wire import Message

log = logging.getLogger(__name__)
UPLOAD_SCHEMES = ("ftp", "ftps", "sftp", "http", "https")
_WARNED_TAGS: set[str] = set()  # warn once per refused tag, not once per station and session


class Central(Protocol):
    """What a station needs from its central system (CentralClient, or a fake in tests)."""

    def call(self, action: str, payload: Message) -> Message | None: ...


class NotAccepted(CentralError):
    """Only BootNotification may be sent before the central system accepts the station."""


class Station:
    def __init__(self, charge_box_id: str, ocpp_version: str, central: Central,
                 options: StationOptions | None = None, *, number: int = 1,
                 clock: Callable[[], datetime] = utc_now):
        self.charge_box_id = charge_box_id
        self.ocpp_version = ocpp_version
        self.central = central
        self.options = options or StationOptions()
        self.number = number
        self.clock = clock
        self.lock = threading.RLock()
        self.wakeup = threading.Event()  # set when something is queued for the station thread
        self.timers = Timers()
        self.outbox: deque[tuple[str, Message]] = deque()
        self.connectors = {n: Connector(n) for n in range(1, self.options.connectors + 1)}
        self.station_connector = Connector(0)  # connector 0: the charge point as a whole
        self.config = default_keys(self.options.connectors, self.options.heartbeat or 300,
                                   self.options.meter_interval, ocpp_version)
        self.smart = SmartCharging(self.options.max_power_w)
        self.auth = LocalAuthorization()
        self.firmware_version = self.options.firmware_version
        self.firmware_status = "Idle"
        self.diagnostics_status = "Idle"
        self.registration: str | None = None  # what the last BootNotification was answered
        self.boots = 0
        self.heartbeats = 0
        self.completed: list[Transaction] = []  # ended sessions, oldest first
        self.history: deque[str] = deque(maxlen=200)  # what happened, for tests and the demo
        self._install_pending = False

    # --- the station thread -----------------------------------------------------------------
    def start(self) -> None:
        self.later(self.options.boot_delay, self.boot, "boot")

    def run_due(self) -> datetime | None:
        """Send what is queued and run due jobs; returns when the next job is due."""
        self.flush()
        while True:
            with self.lock:
                jobs = self.timers.pop_due(self.clock())
            if not jobs:
                break
            for job in jobs:
                try:
                    job()
                except Exception:  # noqa: BLE001  (a simulator bug must not kill the station)
                    log.exception("%s: job %r failed", self.charge_box_id, job)
                self.flush()
        with self.lock:
            return self.timers.next_due()

    def later(self, delay: float, job: Callable[[], None], name: str | None = None) -> None:
        """Run ``job`` on the station thread after ``delay`` seconds (thread-safe)."""
        with self.lock:
            self.timers.at(self.clock() + timedelta(seconds=max(0.0, delay)), job, name)
        self.wakeup.set()

    def queue(self, action: str, payload: Message) -> None:
        """Send a message whose answer does not matter, in order, from the station thread."""
        self.outbox.append((action, payload))
        self.wakeup.set()

    def flush(self) -> None:
        while self.outbox:
            action, payload = self.outbox.popleft()
            try:
                self.send(action, payload, flush=False)
            except NotAccepted:
                pass  # status before acceptance: the boot sequence reports it again
            except CentralError as exc:
                self.note(f"{action} failed: {exc}")

    def send(self, action: str, payload: Message, *, flush: bool = True) -> Message | None:
        if flush:
            self.flush()
        if self.registration != "Accepted" and action != "BootNotification":
            raise NotAccepted(f"{action} not sent: the station is not accepted")
        return self.central.call(action, payload)

    def note(self, event: str) -> None:
        self.history.append(event)
        log.debug("%s: %s", self.charge_box_id, event)

    # --- configuration ----------------------------------------------------------------------
    def setting(self, key: str) -> str:
        return self.config[key].value

    def int_setting(self, key: str) -> int:
        return int(self.config[key].value)

    def flag(self, key: str) -> bool:
        return self.config[key].value.lower() == "true"

    def on_config_change(self, key: str) -> None:
        """Keys whose new value changes the schedule take effect at once."""
        if self.registration != "Accepted":
            return
        if key == "HeartbeatInterval":
            self.later(self.int_setting(key), self.heartbeat, "heartbeat")
        elif key == "MeterValueSampleInterval":
            self._arm_meter()

    # --- boot, heartbeat, status ------------------------------------------------------------
    def boot(self) -> None:
        payload = {"chargePointVendor": self.options.vendor, "chargePointModel": self.options.model,
                   "chargePointSerialNumber": f"CP-{self.charge_box_id}"[:25],
                   "chargeBoxSerialNumber": f"CB-{self.charge_box_id}"[:25],
                   "firmwareVersion": self.firmware_version[:50], "meterType": "SimMeter",
                   "meterSerialNumber": f"M-{self.charge_box_id}"[:25]}
        try:
            reply = self.send("BootNotification", payload)
        except CentralError as exc:
            self.note(f"boot failed: {exc}")
            self.later(self.options.retry_delay, self.boot, "boot")
            return
        interval = int(reply.get("interval") or 0)
        with self.lock:
            self.registration = reply.get("status")
            self.boots += 1
        self.note(f"boot {self.registration} interval={interval}")
        if self.registration != "Accepted":
            # Pending/Rejected: the interval is when to try again.
            self.later(interval if interval > 0 else self.options.retry_delay, self.boot, "boot")
            return
        heartbeat = self.options.heartbeat or interval or 300
        self.config["HeartbeatInterval"].value = str(heartbeat)
        with self.lock:
            self.queue_status(self.station_connector)
            for connector in self.connectors.values():
                self.queue_status(connector)
                if connector.reservation is not None:
                    self._arm_reservation(connector.reservation)
        self.later(heartbeat, self.heartbeat, "heartbeat")
        self._arm_meter()
        if self.options.session_interval > 0 and not self.timers.is_set("session"):
            first = self.options.first_session_delay
            if first is None:  # spread stations over one interval (deterministic per number)
                first = (self.number * 0.618034 % 1.0) * self.options.session_interval
            self.later(first, self.session_tick, "session")
        if self._install_pending:
            self._install_pending = False
            self.firmware_status = "Installed"
            self.queue("FirmwareStatusNotification", {"status": "Installed"})

    def heartbeat(self, rearm: bool = True) -> None:
        try:
            self.send("Heartbeat", {})
            self.heartbeats += 1
        except CentralError as exc:
            self.note(f"heartbeat failed: {exc}")
        if rearm:
            self.later(self.int_setting("HeartbeatInterval"), self.heartbeat, "heartbeat")

    def queue_status(self, connector: Connector, status: str | None = None) -> None:
        connector.status = status or connector.steady_status()
        self.queue("StatusNotification", {
            "connectorId": connector.connector_id, "status": connector.status,
            "errorCode": connector.error_code, "timestamp": self.clock()})

    # --- meter ------------------------------------------------------------------------------
    def offered_w(self, connector: Connector, at: datetime | None = None) -> float:
        tx = connector.transaction
        return self.smart.limit(connector.connector_id, at or self.clock(),
                                tx.started_at if tx else None)

    def update_meters(self) -> None:
        """Bring every register up to now (call before a limit or a session changes)."""
        now = self.clock()
        with self.lock:
            for connector in self.connectors.values():
                meter.advance(connector, now, self.offered_w(connector, now))

    def _arm_meter(self) -> None:
        interval = self.int_setting("MeterValueSampleInterval")
        if interval > 0:
            self.later(interval, self.meter_tick, "meter")
        else:
            with self.lock:
                self.timers.cancel("meter")

    def meter_tick(self) -> None:
        charging = [c.connector_id for c in self.connectors.values()
                    if c.transaction is not None and c.transaction.transaction_id is not None]
        self.send_meter_values(charging, "Sample.Periodic")
        self._arm_meter()

    def send_meter_values(self, connector_ids: list[int], context: str) -> None:
        self.update_meters()
        measurands = [m.strip() for m in self.setting("MeterValuesSampledData").split(",")]
        for connector_id in connector_ids:
            with self.lock:
                connector = self.connectors[connector_id]
                tx = connector.transaction
                samples = meter.sampled_values(connector, measurands, context,
                                               self.offered_w(connector))
                payload = {"connectorId": connector_id,
                           "transactionId": tx.transaction_id if tx else None,
                           "meterValue": [{"timestamp": self.clock(), "sampledValue": samples}]}
            self.queue("MeterValues", payload)

    # --- authorization ----------------------------------------------------------------------
    def authorize(self, id_tag: str) -> dict:
        """idTagInfo for ``id_tag``: online, or from the local list / cache when offline."""
        with self.lock:
            local = self.auth.entries.get(id_tag) if self.flag("LocalAuthListEnabled") else None
            cached = self.auth.cache.get(id_tag) if self.flag("AuthorizationCacheEnabled") else None
        if self.flag("LocalPreAuthorize") and (local or cached or {}).get("status") == "Accepted":
            return local or cached
        try:
            info = self.send("Authorize", {"idTag": id_tag}).get("idTagInfo") or {}
        except CentralUnavailable:
            if self.flag("LocalAuthorizeOffline") and (local or cached):
                return local or cached
            raise
        if self.flag("AuthorizationCacheEnabled"):
            with self.lock:
                self.auth.cache[id_tag] = info
        return info

    # --- sessions ---------------------------------------------------------------------------
    def can_start(self, connector: Connector, id_tag: str) -> bool:
        reservation = connector.reservation
        return (connector.operative and connector.transaction is None
                and connector.status not in ("Faulted", "Finishing")
                and (reservation is None or id_tag in (reservation.id_tag,
                                                       reservation.parent_id_tag)))

    def claim(self, connector: Connector, id_tag: str, *, remote: bool,
              profile: dict | None = None, length: float | None = None) -> Transaction:
        """Take the connector for a session (Preparing) before anything is sent."""
        self.update_meters()
        reservation = connector.reservation
        tx = Transaction(id_tag=id_tag, started_at=self.clock(),
                         meter_start=int(connector.meter_wh), remote=remote, profile=profile,
                         length=length,
                         reservation_id=reservation.reservation_id if reservation else None)
        connector.transaction = tx
        self.queue_status(connector, "Preparing")
        return tx

    def start_claimed(self, connector_id: int) -> None:
        """Authorize when needed, then StartTransaction; a refusal frees the connector."""
        connector = self.connectors[connector_id]
        tx = connector.transaction
        if tx is None or tx.transaction_id is not None:
            return
        try:
            if not tx.remote or self.flag("AuthorizeRemoteTxRequests"):
                status = (self.authorize(tx.id_tag) or {}).get("status")
                if status != "Accepted":
                    self.note(f"connector {connector_id}: id tag {tx.id_tag} is {status}")
                    if not tx.remote and tx.id_tag not in _WARNED_TAGS:
                        _WARNED_TAGS.add(tx.id_tag)
                        log.warning("id tag %s is %s: automatic sessions need an accepted tag "
                                    "(soapgw tag add %s)", tx.id_tag, status, tx.id_tag)
                    self._release(connector)
                    return
            reply = self.send("StartTransaction", {
                "connectorId": connector_id, "idTag": tx.id_tag, "timestamp": tx.started_at,
                "meterStart": tx.meter_start, "reservationId": tx.reservation_id})
            transaction_id = int(reply["transactionId"])
        except (CentralError, KeyError, TypeError, ValueError) as exc:
            # unreachable, refused, or an answer without a usable transactionId
            self.note(f"connector {connector_id}: session not started: {exc!r}")
            self._release(connector)
            return
        self._started(connector, tx, transaction_id, (reply.get("idTagInfo") or {}).get("status"))

    def _started(self, connector: Connector, tx: Transaction, transaction_id: int,
                 status: str | None) -> None:
        with self.lock:
            tx.transaction_id = transaction_id
            tx.id_tag_status = status
            if connector.reservation and tx.reservation_id == connector.reservation.reservation_id:
                self.timers.cancel(f"reservation-{tx.reservation_id}")
                connector.reservation = None
            if tx.profile is not None:
                profile = Profile.from_ocpp(tx.profile, connector.connector_id, self.clock())
                profile.transaction_id = tx.transaction_id
                self.smart.install(profile)
            connector.metered_at = None
            self.queue_status(connector)
        self.update_meters()
        self.note(f"connector {connector.connector_id}: transaction {tx.transaction_id} "
                  f"started for {tx.id_tag} ({status})")
        if status != "Accepted" and self.flag("StopTransactionOnInvalidId"):
            self.later(self.options.react_delay,
                       lambda: self.end_session(connector.connector_id, "DeAuthorized"))
        elif tx.length is not None:
            self.later(tx.length, lambda: self.end_session(connector.connector_id, "Local"),
                       f"session-end-{connector.connector_id}")

    def _release(self, connector: Connector) -> None:
        with self.lock:
            connector.transaction = None
            self.queue_status(connector)

    def end_session(self, connector_id: int, reason: str) -> None:
        """StopTransaction with the register readings; then Finishing and the rest status."""
        connector = self.connectors[connector_id]
        self.update_meters()
        with self.lock:
            tx = connector.transaction
            if tx is None or tx.transaction_id is None:
                return
            self.timers.cancel(f"session-end-{connector_id}")
            stop_at = self.clock()
            payload = {
                "transactionId": tx.transaction_id,
                "idTag": tx.id_tag if reason in ("Local", "DeAuthorized") else None,
                "timestamp": stop_at, "meterStop": int(connector.meter_wh), "reason": reason,
                "transactionData": [meter.register_reading(tx.meter_start, tx.started_at,
                                                           "Transaction.Begin"),
                                    meter.register_reading(connector.meter_wh, stop_at,
                                                           "Transaction.End")]}
            connector.transaction = None
            connector.power_w = 0.0
            self.smart.end_transaction(connector_id)
            self.queue_status(connector, "Finishing")
        try:
            self.send("StopTransaction", payload)
        except CentralError as exc:
            self.note(f"StopTransaction {tx.transaction_id} failed: {exc}")
        with self.lock:
            self.completed.append(tx)
            if connector.scheduled_operative is not None:  # ChangeAvailability was Scheduled
                connector.operative = connector.scheduled_operative
                connector.scheduled_operative = None
            self.queue_status(connector)
        self.note(f"connector {connector_id}: transaction {tx.transaction_id} stopped ({reason})")

    def session_tick(self) -> None:
        """An automatic session on the first free connector, then the next one's turn."""
        self.later(self.options.session_interval, self.session_tick, "session")
        id_tag = self.options.id_tag.format(id=self.charge_box_id, n=self.number)[:20]
        with self.lock:
            free = [c for c in self.connectors.values() if self.can_start(c, id_tag)]
            if not free:
                return
            connector = free[0]
            self.claim(connector, id_tag, remote=False, length=self.options.session_length)
        self.start_claimed(connector.connector_id)

    def end_all_sessions(self, reason: str) -> None:
        for connector_id, connector in self.connectors.items():
            if connector.transaction is not None:
                self.end_session(connector_id, reason)

    # --- reservations -----------------------------------------------------------------------
    def _arm_reservation(self, reservation: Reservation) -> None:
        delay = (reservation.expiry - self.clock()).total_seconds()
        self.later(delay, lambda: self.expire_reservation(reservation.reservation_id),
                   f"reservation-{reservation.reservation_id}")

    def reserve(self, connector: Connector, reservation: Reservation) -> None:
        connector.reservation = reservation
        self.queue_status(connector)
        self._arm_reservation(reservation)

    def find_reservation(self, reservation_id: int) -> Connector | None:
        return next((c for c in self.connectors.values() if c.reservation
                     and c.reservation.reservation_id == reservation_id), None)

    def cancel_reservation(self, reservation_id: int) -> bool:
        with self.lock:
            connector = self.find_reservation(reservation_id)
            if connector is None:
                return False
            connector.reservation = None
            self.timers.cancel(f"reservation-{reservation_id}")
            if connector.transaction is None:
                self.queue_status(connector)
            return True

    def expire_reservation(self, reservation_id: int) -> None:
        if self.cancel_reservation(reservation_id):
            self.note(f"reservation {reservation_id} expired")

    # --- reset, firmware, diagnostics -------------------------------------------------------
    def reboot(self, kind: str) -> None:
        """Reset: end sessions (reason Hard/SoftReset), forget the schedule, boot again."""
        self.end_all_sessions(f"{kind}Reset" if kind in ("Hard", "Soft") else "Reboot")
        self.flush()
        with self.lock:
            self.timers.clear()
            self.registration = None
            for connector in self.connectors.values():
                if connector.scheduled_operative is not None:
                    connector.operative = connector.scheduled_operative
                    connector.scheduled_operative = None
                connector.status = connector.steady_status()
        self.note(f"reboot ({kind})")
        self.later(self.options.reboot_delay, self.boot, "boot")

    def update_firmware(self, location: str) -> None:
        """Downloading -> Downloaded -> Installing -> reboot -> Installed (after the boot)."""
        steps = ["Downloading", "Downloaded", "Installing"]
        if urlsplit(location).scheme not in UPLOAD_SCHEMES:
            steps = ["Downloading", "DownloadFailed"]
        version = location.rstrip("/").rsplit("/", 1)[-1] or self.firmware_version

        def step(index: int) -> None:
            self.firmware_status = steps[index]
            self.queue("FirmwareStatusNotification", {"status": steps[index]})
            if index + 1 < len(steps):
                self.later(self.options.step_delay, lambda: step(index + 1), "firmware")
            elif steps[index] == "Installing":
                self.firmware_version = version[:50]
                self._install_pending = True
                self.later(self.options.step_delay, lambda: self.reboot("Firmware"), "firmware")
        step(0)

    def upload_diagnostics(self, location: str) -> None:
        final = "Uploaded" if urlsplit(location).scheme in UPLOAD_SCHEMES else "UploadFailed"
        self.diagnostics_status = "Uploading"
        self.queue("DiagnosticsStatusNotification", {"status": "Uploading"})

        def done() -> None:
            self.diagnostics_status = final
            self.queue("DiagnosticsStatusNotification", {"status": final})
        self.later(self.options.step_delay, done, "diagnostics")

    # --- observation ------------------------------------------------------------------------
    def transaction_ids(self) -> list[int]:
        with self.lock:
            return [c.transaction.transaction_id for c in self.connectors.values()
                    if c.transaction and c.transaction.transaction_id is not None]
