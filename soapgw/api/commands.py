"""Commands to stations: ``POST /chargepoints/{id}/commands/{Action}`` with the OCPP-J 1.6
request payload, or ``POST /commands/{Action}`` with a list of stations.

The answer is 202 with the task (``Location``: its URL); ``Prefer: wait=N`` waits up to N
seconds (at most 60) and answers 200 with the finished task. ``Idempotency-Key`` makes a
retried POST return the same task (``Idempotent-Replayed: true``). Refused before anything
is sent: an unknown operation or station (404), a payload that breaks the OCPP 1.6 JSON
schema or an operation the station's OCPP version lacks (422, each field named).
"""
from __future__ import annotations

import re

from flask import request
from spectree import Response

from soapgw.api import auth
from soapgw.api.chargepoints import station_or_404
from soapgw.api.db import db
from soapgw.api.present import link, task_runner
from soapgw.api.problems import ApiProblem, invalid
from soapgw.api.routing import route
from soapgw.api.schemas import CommandToMany, Task
from soapgw.api.tasks import task_or_404
from soapgw.core.commands.errors import TaskError
from soapgw.core.commands.idempotency import InProgress, fingerprint, submit_once
from soapgw.core.commands.preflight import preflight
from soapgw.core.errors import Invalid, NotFound

TAG = "commands"
MAX_WAIT = 60.0
_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
ACTION_RULE = "<string(maxlength=40):action>"


def _wait_seconds() -> float | None:
    match = _WAIT.search(request.headers.get("Prefer", ""))
    return min(float(match.group(1)), MAX_WAIT) if match else None


def submit(operation: str, payload, charge_box_ids: list[str]):
    """Check, submit (once per Idempotency-Key), wait if asked; the view's answer."""
    runner = task_runner()
    try:
        checked = preflight(db(), runner.sender, operation, payload, charge_box_ids)
    except NotFound as error:
        raise ApiProblem(404, str(error), kind="unknown-operation") from None
    except Invalid as error:
        raise invalid(error.problems) from None
    finally:
        db().rollback()  # nothing to keep; no transaction left open while waiting
    caller = auth.caller()

    def create() -> int:
        try:
            return runner.submit(checked.operation, checked.payload, charge_box_ids, "api",
                                 caller.name)
        except TaskError as error:
            raise invalid({"payload": error.reason}) from None

    key = request.headers.get("Idempotency-Key")
    replayed = False
    if key is not None:
        try:
            task_id, created = submit_once(
                runner.sessions, caller.id, key.strip(),
                fingerprint(request.method, request.path, request.get_data()), create)
        except Invalid as error:
            raise invalid(error.problems) from None
        except InProgress:
            raise ApiProblem(409, "a request with this Idempotency-Key is being handled: "
                                  "retry in a moment", kind="idempotency-in-progress") from None
        replayed = not created
    else:
        task_id = create()
    headers = {"Location": link("get_task", task_id=task_id)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    wait = _wait_seconds()
    if wait is not None:
        headers["Preference-Applied"] = f"wait={wait:g}"
        runner.wait(task_id, timeout=wait)
    task = task_or_404(task_id)
    return task, 200 if task["done"] and wait is not None else 202, headers


@route("POST", f"/chargepoints/<string(maxlength=255):charge_box_id>/commands/{ACTION_RULE}",
       scope="operate", tag=TAG,
       resp=Response(HTTP_200=Task, HTTP_202=Task, HTTP_404=None, HTTP_409=None,
                     HTTP_422=None))
def send_command(charge_box_id: str, action: str):
    """Send one OCPP command (``Reset``, ``RemoteStartTransaction``, ...) to a station; the
    body is the OCPP-J 1.6 request payload (``{}`` when it has no fields)."""
    station_or_404(charge_box_id)
    payload = request.get_json(silent=True) if request.content_length else {}
    try:
        return submit(action, payload, [charge_box_id])
    except ApiProblem as problem:
        if problem.errors:  # one station: name the station's field as its id
            for error in problem.errors:
                if error["field"] == "chargeBoxIds[0]":
                    error["field"] = "chargeBoxId"
        raise


@route("POST", f"/commands/{ACTION_RULE}", scope="operate", tag=TAG, json=CommandToMany,
       resp=Response(HTTP_200=Task, HTTP_202=Task, HTTP_404=None, HTTP_409=None,
                     HTTP_422=None))
def send_command_to_many(action: str, json: CommandToMany):
    """Send one command to several stations at once (one task, a result per station)."""
    ids = list(dict.fromkeys(json.chargeBoxIds))
    return submit(action, json.payload, ids)
