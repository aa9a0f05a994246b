"""Running a task: one command to many stations at once, in a bounded thread pool.

Each station's part runs in three short database transactions (check and mark sent; record
the answer; for RemoteStartTransaction, the transaction that followed), never holding a
connection while waiting for the station, so 200 stations with 30 s timeouts take about
``ceil(200 / concurrency)`` timeouts, not 200 of them.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from soapgw.config import Settings
from soapgw.core.commands import effects, guard, tasks
from soapgw.core.commands.callback_policy import judge_callback, resolve
from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.core.commands.operations import canonical, unsupported_reason
from soapgw.core.commands.payloads import validate_request
from soapgw.core.events import EventPublisher
from soapgw.core.commands.reservation_ids import with_reservation_id
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.timestamps import now
from soapgw.store import journal
from soapgw.store.journal import JournalRecord
from soapgw.store.models import ChargeBox

log = logging.getLogger(__name__)
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Target:
    """Where and how to reach one station."""

    charge_box_id: str
    ocpp_version: str
    address: str
    # The IP addresses the callback guard checked: the call connects to these and never
    # resolves the host again (DNS rebinding). Empty: the sender resolves.
    connect_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timeouts:
    """Seconds to connect to a station and to wait for its answer. An operator may change them
    at run time, so each task takes the values stored when it was submitted."""

    connect: float
    operation: float

    @classmethod
    def of(cls, settings) -> "Timeouts":
        """From ``Settings`` or ``RuntimeSettings`` (both name them the same way)."""
        return cls(settings.connect_timeout, settings.operation_timeout)


@dataclass
class Reply:
    """What a Sender reports: the response payload (OCPP-J 1.6) or an error, and the journal
    records of what went over the wire (none when nothing was sent)."""

    response: dict | None = None
    error: TaskError | None = None
    message_id: str | None = None
    duration_ms: float | None = None
    journal: list[JournalRecord] = field(default_factory=list)


class Sender(Protocol):
    """The protocol edge (soapgw.soap_out.client.SoapSender)."""

    def check(self, ocpp_version: str, operation: str, payload: dict) -> None:
        """Raise TaskError(INVALID_PAYLOAD) when the payload cannot be sent in that version."""

    def send(self, target: Target, operation: str, payload: dict,
             timeouts: Timeouts | None = None) -> Reply:
        """Call the station; ``timeouts`` None: the sender's own settings."""


class TaskRunner:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings, sender: Sender,
                 max_workers: int | None = None, events: EventPublisher | None = None):
        self.sessions, self.settings, self.sender = sessions, settings, sender
        self.events = events or EventPublisher()
        self.pool = ThreadPoolExecutor(max_workers or settings.outbound_concurrency,
                                       thread_name_prefix="soapgw-task")
        self._futures: dict[int, list[Future]] = {}
        self._recovered = False

    def recover(self) -> None:
        """Close what a stopped process left open; once per process, before its first task."""
        if self._recovered:
            return
        with self.sessions.begin() as db:
            closed = tasks.recover_interrupted(db)
        self._recovered = True
        if closed:
            log.warning("%d task result(s) were interrupted by a stop and are marked so", closed)

    # --- public API --------------------------------------------------------------------------
    def submit(self, operation: str, payload: dict, charge_box_ids: list[str], origin: str,
               caller: str | None = None) -> int:
        """Validate, record the task and start it; returns the task id at once."""
        self.recover()
        name = canonical(operation)
        if name is None:
            raise TaskError(ErrorKind.INVALID_PAYLOAD, f"unknown operation {operation!r}")
        with self.sessions.begin() as db:
            # an omitted ReserveNow reservationId is allocated in the task's own transaction
            payload = validate_request(name, with_reservation_id(db, name, payload,
                                                                 charge_box_ids))
            if not charge_box_ids:
                raise TaskError(ErrorKind.INVALID_PAYLOAD, "no charge box given")
            task = tasks.create_task(db, name, payload, charge_box_ids, origin, caller)
            parts = [(r.id, r.charge_box_id) for r in task.results]
            task_id = task.id
            # once per task, not per station: every station gets the same timeouts
            timeouts = Timeouts.of(RuntimeSettings.load(db, self.settings))
        futures = [
            self.pool.submit(self._run_guarded, task_id, result_id, charge_box_id, name, payload,
                             timeouts)
            for result_id, charge_box_id in parts]
        self._futures[task_id] = futures
        for future in futures:  # a long-running process forgets finished tasks by itself
            future.add_done_callback(lambda _f, t=task_id: self._forget_if_done(t))
        return task_id

    def _forget_if_done(self, task_id: int) -> None:
        futures = self._futures.get(task_id)
        if futures is not None and all(f.done() for f in futures):
            self._futures.pop(task_id, None)

    def wait(self, task_id: int, timeout: float | None = None) -> bool:
        """Wait for the task's stations; True when all are done."""
        _done, pending = wait(list(self._futures.get(task_id, [])), timeout=timeout)
        return not pending

    def run(self, operation: str, payload: dict, charge_box_ids: list[str], origin: str,
            caller: str | None = None) -> int:
        task_id = self.submit(operation, payload, charge_box_ids, origin, caller)
        self.wait(task_id)
        return task_id

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True)

    # --- one station -------------------------------------------------------------------------
    def _run_guarded(self, task_id: int, result_id: int, charge_box_id: str, operation: str,
                     payload: dict, timeouts: Timeouts) -> None:
        try:
            self._run(task_id, result_id, charge_box_id, operation, payload, timeouts)
        except Exception as exc:  # noqa: BLE001  (a bug or the database: record, never hang)
            log.exception("task %s: %s for %s failed", task_id, operation, charge_box_id)
            self._finish(task_id, result_id, tasks.Outcome(error=TaskError(
                ErrorKind.INTERNAL, f"internal error: {type(exc).__name__}: {exc}")),
                charge_box_id, operation, payload)

    def _run(self, task_id: int, result_id: int, charge_box_id: str, operation: str,
             payload: dict, timeouts: Timeouts) -> None:
        try:
            target = self._target(charge_box_id, operation, payload)
            prepared, sent_at = self._mark_sent(result_id, target, operation, payload)
        except TaskError as error:
            self._finish(task_id, result_id, tasks.Outcome(error=error), charge_box_id,
                         operation, payload)
            return
        log.info("task %s: %s -> %s at %s", task_id, operation, charge_box_id, target.address)
        reply = self.sender.send(target, operation, payload, timeouts)
        outcome = tasks.Outcome(reply.response, reply.error, reply.message_id, reply.duration_ms)
        waits = (operation == "RemoteStartTransaction" and reply.response is not None
                 and reply.response.get("status") == "Accepted")
        with self.sessions.begin() as db:
            if reply.journal:
                journal.write(db, reply.journal)
            station = db.scalars(select(ChargeBox).where(
                ChargeBox.charge_box_id == charge_box_id)).one()
            effects.after(db, station, operation, payload, reply.response, prepared, task_id)
            tasks.record_outcome(db, result_id, outcome, finished=not waits)
            station_pk = station.id
            if not waits:
                self._published(db, task_id, charge_box_id, operation, payload, outcome)
        if operation == "ChangeConfiguration" and reply.response is not None:
            self._refresh_configuration(target, payload, reply.response, station_pk, timeouts)
        if waits:
            transaction_id = self._await_transaction(station_pk, payload, sent_at,
                                                     timeouts.operation)
            with self.sessions.begin() as db:
                tasks.finish_result(db, result_id, transaction_id)
                self._published(db, task_id, charge_box_id, operation, payload, outcome,
                                transaction_id)

    def _target(self, charge_box_id: str, operation: str, payload: dict) -> Target:
        """Check that the command can go to this station, the callback safety rules included
        (again right before every call: DNS answers and settings change)."""
        with self.sessions.begin() as db:
            station = db.scalars(select(ChargeBox).where(
                ChargeBox.charge_box_id == charge_box_id)).one_or_none()
            if station is None:
                raise TaskError(ErrorKind.UNKNOWN_STATION,
                                f"charge box {charge_box_id!r} is not registered")
            reason = unsupported_reason(operation, station.ocpp_version)
            if reason:
                raise TaskError(ErrorKind.UNSUPPORTED, f"not sent: {reason}")
            self.sender.check(station.ocpp_version, operation, payload)
            address = station.endpoint_address
            if not address:
                raise TaskError(ErrorKind.NO_ENDPOINT,
                                f"charge box {charge_box_id!r} has announced no callback "
                                "address (wsa:From) and none was set by an admin")
            resolved = resolve(address)  # connected to as judged (see Target.connect_to)
            verdict = judge_callback(address, resolved, pinned=station.endpoint_pinned,
                                     peer_host=station.endpoint_peer_host,
                                     allowed_networks=self.settings.allowed_callback_networks)
            guard.record_verdict(db, station.id, verdict)
        if not verdict.allowed:
            raise TaskError(ErrorKind.ENDPOINT_REFUSED,
                            f"not sent to {address}: {verdict.reason}")
        return Target(charge_box_id, station.ocpp_version, address, tuple(resolved))

    def _mark_sent(self, result_id: int, target: Target, operation: str,
                   payload: dict) -> tuple[object, datetime]:
        with self.sessions.begin() as db:
            station = db.scalars(select(ChargeBox).where(
                ChargeBox.charge_box_id == target.charge_box_id)).one()
            prepared = effects.before(db, station, operation, payload)
            sent_at = now()
            tasks.mark_sent(db, result_id, target.ocpp_version, target.address, sent_at)
        return prepared, sent_at

    def _finish(self, task_id: int, result_id: int, outcome: tasks.Outcome,
                charge_box_id: str, operation: str, payload: dict) -> None:
        with self.sessions.begin() as db:
            tasks.record_outcome(db, result_id, outcome)
            self._published(db, task_id, charge_box_id, operation, payload, outcome)

    def _published(self, db, task_id: int, charge_box_id: str, operation: str, payload: dict,
                   outcome: tasks.Outcome, transaction_id: int | None = None) -> None:
        """The station's result as an event, and the task's end once it is the last one."""
        self.events.publish(db, [tasks.result_event(task_id, charge_box_id, operation, payload,
                                                   outcome, transaction_id)])
        if tasks.finish_task_if_done(db, task_id):
            self.events.publish(db, [tasks.finished_event(db, task_id)])

    def _refresh_configuration(self, target: Target, payload: dict, response: dict,
                               station_pk: int, timeouts: Timeouts) -> None:
        """A successful ChangeConfiguration is followed by GetConfiguration of that key, so the
        stored value is the station's own (journaled like any call)."""
        if response.get("status") not in ("Accepted", "RebootRequired"):
            return
        request = {"key": [payload["key"]]}
        reply = self.sender.send(target, "GetConfiguration", request, timeouts)
        with self.sessions.begin() as db:
            if reply.journal:
                journal.write(db, reply.journal)
            if reply.response is not None:
                effects.store_configuration(db, station_pk, reply.response, full=False)
        if reply.error is not None:
            log.warning("refreshing %s of %s failed: %s", payload["key"], target.charge_box_id,
                        reply.error)

    def _await_transaction(self, station_pk: int, payload: dict, since: datetime,
                           timeout: float) -> int | None:
        """Wait (up to the operation timeout) for the StartTransaction the station sends."""
        deadline = time.monotonic() + timeout
        while True:
            with self.sessions() as db:
                found = effects.started_transaction(db, station_pk, payload["idTag"],
                                                    payload.get("connectorId"), since)
            if found is not None or time.monotonic() >= deadline:
                return found
            time.sleep(_POLL_SECONDS)

