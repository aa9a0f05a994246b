"""Task records in SQL: one task per command, one result per station, surviving restarts."""
from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from soapgw.core.commands import outcome as outcomes
from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.core.commands.payloads import to_json
from soapgw.core.enums import EventType, TaskOutcome, TaskState
from soapgw.core.events import NewEvent, publish
from soapgw.timestamps import now
from soapgw.store.models import Task, TaskResult

QUEUED, SENT, ANSWERED, FAILED, TIMED_OUT = (TaskState.queued, TaskState.sent,
                                             TaskState.answered, TaskState.failed,
                                             TaskState.timed_out)
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


def finish_task_if_done(db: Session, task_id: int) -> bool:
    """Mark the task finished once no result is open; True when this call finished it."""
    open_results = exists().where(TaskResult.task_id == task_id,
                                  TaskResult.finished_at.is_(None))
    return bool(db.execute(update(Task).where(Task.id == task_id, Task.finished_at.is_(None),
                                              ~open_results)
                           .values(finished_at=now())).rowcount)


def state_counts(db: Session, task_id: int) -> dict[str, int]:
    return dict(db.execute(select(TaskResult.state, func.count()).where(
        TaskResult.task_id == task_id).group_by(TaskResult.state)).all())


def task_conditions(operation: str | None = None, origin: str | None = None,
                    station: str | None = None, state: str | None = None,
                    created_from: datetime | None = None,
                    created_before: datetime | None = None) -> list:
    """WHERE conditions on Task for the task lists (web UI, API). ``state`` is ``open`` (not
    finished) or a station's result state. Station and result state look at the same result
    row: with both, "CB-1 failed" finds the tasks where CB-1's part failed, not any part."""
    conditions = []
    if operation:
        conditions.append(Task.operation == operation)
    if origin:
        conditions.append(Task.origin == origin)
    if state == "open":
        conditions.append(Task.finished_at.is_(None))
    if created_from:
        conditions.append(Task.created_at >= created_from)
    if created_before:
        conditions.append(Task.created_at < created_before)
    of_result = []
    if station:
        of_result.append(TaskResult.charge_box_id == station.strip())
    if state and state != "open":
        of_result.append(TaskResult.state == state)
    if of_result:
        conditions.append(select(TaskResult.id).where(TaskResult.task_id == Task.id, *of_result)
                          .exists())
    return conditions


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def task_view(db: Session, task_id: int) -> dict | None:
    """A task with each station's result, as plain JSON-able data (CLI, API), each result's
    outcome (core.commands.outcome) and the task's sum of them."""
    task = db.get(Task, task_id)
    if task is None:
        return None
    results = []
    for r in task.results:
        response = json.loads(r.response) if r.response else None
        verdict = outcomes.classify(task.operation, r.state, response)
        results.append({
            "charge_box_id": r.charge_box_id, "state": r.state, "ocpp_version": r.ocpp_version,
            "endpoint_address": r.endpoint_address, "message_id": r.message_id,
            "response": response, "outcome": verdict.outcome.value,
            "outcome_reason": verdict.reason,
            "error_kind": r.error_kind, "error": r.error, "fault_code": r.fault_code,
            "transaction_id": r.transaction_id, "queued_at": _iso(r.queued_at),
            "sent_at": _iso(r.sent_at), "finished_at": _iso(r.finished_at),
            "duration_ms": r.duration_ms})
    counts = outcomes.summary(TaskOutcome(r["outcome"]) for r in results)
    return {
        "id": task.id, "operation": task.operation, "payload": json.loads(task.payload),
        "origin": task.origin, "caller": task.caller, "created_at": _iso(task.created_at),
        "finished_at": _iso(task.finished_at), "outcome": counts,
        "outcome_text": outcomes.summary_text(counts), "results": results,
    }


def outcome_summaries(db: Session, task_ids: list[int]) -> dict[int, dict[str, int]]:
    """Each task's outcome counts (core.commands.outcome.summary) for a list page: the states
    counted in SQL, and the answers read (grouped: a status answer has few distinct texts)
    only for the operations whose acceptance depends on them (a GetConfiguration answer can be
    large and is accepted whatever it holds)."""
    if not task_ids:
        return {}
    operations = dict(db.execute(select(Task.id, Task.operation)
                                 .where(Task.id.in_(task_ids))).all())
    judged = [i for i, op in operations.items()
              if outcomes.ACCEPTANCE.get(op, outcomes.Acceptance()).field is not None]
    found: dict[int, list[TaskOutcome]] = {i: [] for i in task_ids}
    for task_id, state, count in db.execute(
            select(TaskResult.task_id, TaskResult.state, func.count())
            .where(TaskResult.task_id.in_(task_ids),
                   ~((TaskResult.state == ANSWERED) & TaskResult.task_id.in_(judged)))
            .group_by(TaskResult.task_id, TaskResult.state)):
        found[task_id] += [outcomes.classify(operations[task_id], state, {}).outcome] * count
    if judged:
        for task_id, response, count in db.execute(
                select(TaskResult.task_id, TaskResult.response, func.count())
                .where(TaskResult.task_id.in_(judged), TaskResult.state == ANSWERED)
                .group_by(TaskResult.task_id, TaskResult.response)):
            answer = json.loads(response) if response else None
            found[task_id] += [outcomes.classify(operations[task_id], ANSWERED,
                                                 answer).outcome] * count
    return {task_id: outcomes.summary(items) for task_id, items in found.items()}


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
        outcome = Outcome(response=json.loads(result.response) if result.response else None)
        if result.state in (QUEUED, SENT):
            reason = ("interrupted: the gateway stopped before sending the command"
                      if result.state == QUEUED else
                      "interrupted: the gateway stopped while waiting for the station's "
                      "answer; whether the station acted is unknown")
            values.update(state=FAILED, error_kind=ErrorKind.INTERRUPTED.value, error=reason)
            outcome = Outcome(error=TaskError(ErrorKind.INTERRUPTED, reason))
        if db.execute(update(TaskResult).where(TaskResult.id == result.id,
                                               TaskResult.finished_at.is_(None))
                      .values(**values)).rowcount:
            task = db.get(Task, result.task_id)
            publish(db, [result_event(task.id, result.charge_box_id, task.operation,
                                      json.loads(task.payload), outcome)])
            closed += 1
    for task_id in {r.task_id for r in open_results}:
        if finish_task_if_done(db, task_id):
            publish(db, [finished_event(db, task_id)])
    return closed


def result_event(task_id: int, charge_box_id: str, operation: str, payload: dict,
                 outcome: Outcome, transaction_id: int | None = None) -> NewEvent:
    """The event of one station's result."""
    body = {"taskId": task_id, "action": operation, "request": payload}
    if outcome.error is not None:
        body["error"] = {"kind": outcome.error.kind.value, "code": outcome.error.fault_code,
                         "description": outcome.error.reason}
    else:
        body["response"] = outcome.response
    if transaction_id is not None:
        body["transactionId"] = transaction_id
    return NewEvent(EventType.COMMAND_RESULT, charge_box_id, body)


def finished_event(db: Session, task_id: int) -> NewEvent:
    """The event of a task whose every station has a result."""
    task = db.get(Task, task_id)
    return NewEvent(EventType.TASK_FINISHED, None, {
        "taskId": task_id, "action": task.operation, "origin": task.origin,
        "results": state_counts(db, task_id)})
