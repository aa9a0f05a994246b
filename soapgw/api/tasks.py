"""Tasks: every command with each station's result (read-only; commands create them)."""
from __future__ import annotations

from spectree import Response
from sqlalchemy import select

from soapgw.api.db import db
from soapgw.api.paging import keyset, page
from soapgw.api.present import link
from soapgw.api.problems import ApiProblem
from soapgw.api.routing import route
from soapgw.api.schemas import Task, TaskPage, TaskQuery
from soapgw.core.commands.tasks import task_conditions, task_view
from soapgw.store.models import Task as TaskRow

TAG = "tasks"
_CAMEL = {"charge_box_id": "chargeBoxId", "ocpp_version": "ocppVersion",
          "endpoint_address": "endpointAddress", "message_id": "messageId",
          "error_kind": "errorKind", "fault_code": "faultCode",
          "transaction_id": "transactionId", "queued_at": "queuedAt", "sent_at": "sentAt",
          "finished_at": "finishedAt", "duration_ms": "durationMs", "outcome_reason": "outcomeReason"}


def _z(value):
    return value.replace("+00:00", "Z") if isinstance(value, str) else value


def view(task: dict) -> dict:
    return {"taskId": task["id"], "operation": task["operation"], "payload": task["payload"],
            "origin": task["origin"], "caller": task["caller"],
            "createdAt": _z(task["created_at"]), "finishedAt": _z(task["finished_at"]),
            "done": task["finished_at"] is not None, "outcome": task["outcome"],
            "outcomeText": task["outcome_text"],
            "results": [{_CAMEL.get(k, k): _z(v) for k, v in result.items()}
                        for result in task["results"]],
            "links": {"self": link("get_task", task_id=task["id"])}}


def task_or_404(task_id: int) -> dict:
    found = task_view(db(), task_id)
    if found is None:
        raise ApiProblem(404, f"no task {task_id}")
    return view(found)


@route("GET", "/tasks", tag=TAG, query=TaskQuery, resp=Response(HTTP_200=TaskPage))
def list_tasks(query: TaskQuery):
    """Commands, newest first; by operation, origin (api, web, cli), station and state (a
    station's result state, or open: not finished)."""
    statement = select(TaskRow.id).where(*task_conditions(
        query.operation, query.origin, query.station, query.state))
    rows, cursor = keyset(db(), statement, TaskRow.id, query.limit, query.cursor)
    return page([view(task_view(db(), row.id)) for row in rows], cursor)


@route("GET", "/tasks/<int(max=2147483647):task_id>", tag=TAG,
       resp=Response(HTTP_200=Task, HTTP_404=None))
def get_task(task_id: int):
    """One command with each station's state, answer or error (RemoteStartTransaction:
    ``transactionId`` of the transaction that followed)."""
    return task_or_404(task_id)
