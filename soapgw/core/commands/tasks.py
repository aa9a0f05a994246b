"""Task records in SQL: one task per command, one result per station, surviving restarts."""
from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.core.commands.payloads import to_json
from soapgw.core.timestamps import now
from soapgw.store.models import Task, TaskResult

QUEUED, SENT, ANSWERED, FAILED, TIMED_OUT = "queued", "sent", "answered", "failed", "timed_out"
# A result nobody finished for this long is taken as abandoned even when its worker runs on
# another host (whose processes we cannot see): far beyond any timeout a live worker waits.
ABANDONED_AFTER = timedelta(hours=1)


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def create_task(db: Session, operation: str, payload: dict, charge_box_ids: list[str],
                origin: str, caller: str | None) -> Task:
    task = Task(operation=operation, payload=to_json(payload), origin=origin, caller=caller,
                created_at=now())
    worker = this_worker()
    task.results = [TaskResult(charge_box_id=cb, state=QUEUED, worker=worker,
                               queued_at=task.created_at) for cb in dict.fromkeys(charge_box_ids)]
    db.add(task)
    db.flush()
    return task


def mark_sent(db: Session, result_id: int, ocpp_version: str, address: str,
              at: datetime | None = None) -> None:
    db.execute(update(TaskResult).where(TaskResult.id == result_id).values(
        state=SENT, sent_at=at or now(), ocpp_version=ocpp_version, endpoint_address=address))


@dataclass
class Outcome:
    """How one station's part ended."""

    response: dict | None = None
    error: TaskError | None = None
    message_id: str | None = None
    duration_ms: float | None = None

    @property
    def state(self) -> str:
        if self.error is None:
            return ANSWERED
        return TIMED_OUT if self.error.kind == ErrorKind.TIMEOUT else FAILED


def record_outcome(db: Session, result_id: int, outcome: Outcome, finished: bool = True) -> None:
    """Store the answer or the error; ``finished`` False keeps the result open (a
    RemoteStartTransaction waiting for the StartTransaction that follows it)."""
    error = outcome.error
    db.execute(update(TaskResult).where(TaskResult.id == result_id).values(
        state=outcome.state,
        response=None if outcome.response is None else to_json(outcome.response),
        error_kind=error.kind.value if error else None, error=error.reason if error else None,
        fault_code=error.fault_code if error else None, message_id=outcome.message_id,
        duration_ms=outcome.duration_ms, finished_at=now() if finished else None))


def finish_result(db: Session, result_id: int, transaction_id: int | None = None) -> None:
    values = {"finished_at": now()}
    if transaction_id is not None:
        values["transaction_id"] = transaction_id
    db.execute(update(TaskResult).where(TaskResult.id == result_id).values(**values))


def finish_task_if_done(db: Session, task_id: int) -> None:
    open_results = exists().where(TaskResult.task_id == task_id,
                                  TaskResult.finished_at.is_(None))
    db.execute(update(Task).where(Task.id == task_id, Task.finished_at.is_(None), ~open_results)
               .values(finished_at=now()))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted(db: Session, alive: Callable[[int], bool] = _pid_alive,
                        at: datetime | None = None) -> int:
    """Close the results a stopped process left open (queued, sent, or waiting for a
    transaction); returns how many. A result is abandoned when its worker process on this
    host is gone, or when it has been open for longer than ABANDONED_AFTER."""
    at = at or now()
    host = socket.gethostname()
    closed = 0
    open_results = db.scalars(select(TaskResult).where(TaskResult.finished_at.is_(None))).all()
    for result in open_results:
        worker_host, _, pid = (result.worker or "").rpartition(":")
        gone = worker_host == host and pid.isdigit() and not alive(int(pid))
        started = result.sent_at or result.queued_at
        if not gone and at - started < ABANDONED_AFTER:
            continue
        values = {"finished_at": at}
        if result.state == QUEUED:
            values.update(state=FAILED, error_kind=ErrorKind.INTERRUPTED.value,
                          error="interrupted: the gateway stopped before sending the command")
        elif result.state == SENT:
            values.update(state=FAILED, error_kind=ErrorKind.INTERRUPTED.value,
                          error="interrupted: the gateway stopped while waiting for the "
                                "station's answer; whether the station acted is unknown")
        db.execute(update(TaskResult).where(TaskResult.id == result.id,
                                            TaskResult.finished_at.is_(None)).values(**values))
        closed += 1
    for task_id in {r.task_id for r in open_results}:
        finish_task_if_done(db, task_id)
    return closed
