"""``soapgw call`` and ``soapgw tasks``: commands to stations from the command line.

``soapgw call CHARGEBOX_ID OPERATION ['JSON payload']`` sends one OCPP operation to the address
the station last announced, in the OCPP version it last spoke, waits for the answer and prints
only the station's response payload (OCPP-J 1.6 JSON) on stdout, with one extra field where
the caller needs it next: RemoteStartTransaction accepted adds "transactionId" (the
transaction the station started, null when none came within the operation timeout), and
ReserveNow adds "reservationId" (the id used; the gateway allocates the next free one when
the payload leaves it out). Logs and errors go to stderr. Exit codes:

  0  the station answered (its response payload is on stdout)
  1  another error (interrupted, internal error)
  2  usage or configuration error
  3  invalid payload: not JSON, or not valid for the operation (OCPP 1.6 JSON schema)
  4  the station answered a SOAP Fault
  5  the station is unreachable or silent: refused connection, timeout, DNS or TLS failure
  6  the station answered something else than SOAP: an HTTP error status, an unreadable reply
  7  not sent: unknown charge box, no or refused callback address, an operation its OCPP
     version lacks, or a conflict with stored data (a reservation id already spent there)
"""
from __future__ import annotations

import getpass
import json
import logging
import sys

from sqlalchemy import select

from soapgw.app import Gateway
from soapgw.cli_support import open_sessions
from soapgw.config import Settings
from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.core.enums import TaskOrigin
from soapgw.core.commands.payloads import parse_payload, to_json
from soapgw.core.commands.outcome import summary_text
from soapgw.core.commands.tasks import outcome_summaries, recover_interrupted, task_view
from soapgw.store.models import Task

EXIT_ERROR, EXIT_INVALID_PAYLOAD, EXIT_FAULT, EXIT_UNREACHABLE = 1, 3, 4, 5
EXIT_BAD_REPLY, EXIT_NOT_SENT = 6, 7
EXIT_CODES = {
    ErrorKind.INVALID_PAYLOAD: EXIT_INVALID_PAYLOAD,
    ErrorKind.FAULT: EXIT_FAULT,
    ErrorKind.TIMEOUT: EXIT_UNREACHABLE, ErrorKind.CONNECTION_REFUSED: EXIT_UNREACHABLE,
    ErrorKind.UNREACHABLE: EXIT_UNREACHABLE, ErrorKind.TLS_ERROR: EXIT_UNREACHABLE,
    ErrorKind.HTTP_ERROR: EXIT_BAD_REPLY, ErrorKind.INVALID_REPLY: EXIT_BAD_REPLY,
    ErrorKind.UNSUPPORTED: EXIT_NOT_SENT, ErrorKind.UNKNOWN_STATION: EXIT_NOT_SENT,
    ErrorKind.NO_ENDPOINT: EXIT_NOT_SENT, ErrorKind.ENDPOINT_REFUSED: EXIT_NOT_SENT,
    ErrorKind.CONFLICT: EXIT_NOT_SENT,
}


def _fail(message: str, code: int) -> int:
    print(f"soapgw: {message}", file=sys.stderr)
    return code


def _caller() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def cmd_call(settings: Settings, args) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING if args.quiet else logging.INFO,
                        format="soapgw: %(message)s")
    text = sys.stdin.read() if args.payload == "-" else args.payload
    try:
        payload = parse_payload(text)
    except TaskError as error:
        return _fail(str(error), EXIT_INVALID_PAYLOAD)
    open_sessions(settings)  # migrated before the Gateway's runner records the task
    gateway = Gateway.from_settings(settings, max_workers=1)
    try:
        task_id = gateway.task_runner.run(args.operation, payload, [args.charge_box_id],
                                          origin=TaskOrigin.cli, caller=_caller())
    except TaskError as error:
        return _fail(str(error), EXIT_CODES.get(error.kind, EXIT_ERROR))
    finally:
        gateway.task_runner.shutdown()
    with gateway.sessions() as db:
        view = task_view(db, task_id)
    result = view["results"][0]
    if result["state"] == "answered":
        if result["transaction_id"] is not None:
            logging.getLogger(__name__).info("task %s: transaction %s started", task_id,
                                             result["transaction_id"])
        print(printed_answer(view, result))
        return 0
    kind = ErrorKind(result["error_kind"]) if result["error_kind"] else ErrorKind.INTERNAL
    return _fail(f"task {task_id}: {args.charge_box_id}: {result['error']}",
                 EXIT_CODES.get(kind, EXIT_ERROR))


def printed_answer(task: dict, result: dict) -> str:
    """The station's response payload (JSON), plus the documented extra field of the
    operations whose next step needs an id: RemoteStartTransaction (accepted)
    ``transactionId``, ReserveNow ``reservationId``. Nothing else of the payload changes.
    (``task`` and ``result``: core.commands.tasks.task_view's.)"""
    answer = dict(result["response"])
    if task["operation"] == "ReserveNow":
        answer["reservationId"] = task["payload"].get("reservationId")
    elif task["operation"] == "RemoteStartTransaction" and answer.get("status") == "Accepted":
        answer["transactionId"] = result["transaction_id"]
    return to_json(answer)


def _summary(db, task_id: int) -> str:
    """The stations' outcomes in words, as the web UI shows them ("1 accepted, 1 refused")."""
    return summary_text(outcome_summaries(db, [task_id])[task_id])


def cmd_tasks_list(settings: Settings, args) -> int:
    sessions = open_sessions(settings)
    with sessions.begin() as db:
        recover_interrupted(db)
    with sessions() as db:
        rows = db.scalars(select(Task).order_by(Task.id.desc()).limit(args.limit)).all()
        print("id\tcreated\toperation\torigin\tcaller\tresults\tfinished")
        for task in rows:
            finished = task.finished_at.isoformat() if task.finished_at else "-"
            print(f"{task.id}\t{task.created_at.isoformat()}\t{task.operation}\t{task.origin}\t"
                  f"{task.caller or '-'}\t{_summary(db, task.id)}\t{finished}")
    return 0


def cmd_tasks_show(settings: Settings, args) -> int:
    sessions = open_sessions(settings)
    with sessions.begin() as db:
        recover_interrupted(db)
    with sessions() as db:
        data = task_view(db, args.task_id)
    if data is None:
        return _fail(f"no task {args.task_id}", EXIT_ERROR)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"task {data['id']}: {data['operation']} {json.dumps(data['payload'])}")
    print(f"origin {data['origin']} by {data['caller'] or '-'}, created {data['created_at']}, "
          f"finished {data['finished_at'] or '-'}")
    print(f"outcome: {data['outcome_text'] or '-'}")
    print("charge_box_id\tstate\toutcome\tsent\tms\tresult")
    for r in data["results"]:
        if r["state"] == "answered":
            outcome = json.dumps(r["response"])
            if r["transaction_id"] is not None:
                outcome += f" transactionId={r['transaction_id']}"
        else:
            outcome = f"{r['error_kind'] or '-'}: {r['error'] or '-'}"
        ms = f"{r['duration_ms']:.0f}" if r["duration_ms"] is not None else "-"
        verdict = r["outcome"] + (f": {r['outcome_reason']}" if r["outcome_reason"] else "")
        print(f"{r['charge_box_id']}\t{r['state']}\t{verdict}\t{r['sent_at'] or '-'}\t{ms}\t"
              f"{outcome}")
    return 0


def register(commands) -> None:
    """Add ``call`` and ``tasks`` to the ``soapgw`` sub-command parser."""
    import argparse
    call = commands.add_parser(
        "call", help="send one OCPP command to a station and print its answer",
        description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawTextHelpFormatter)
    call.add_argument("charge_box_id", metavar="CHARGEBOX_ID")
    call.add_argument("operation", metavar="OPERATION", help="e.g. Reset, GetConfiguration")
    call.add_argument("payload", metavar="JSON", nargs="?", default="{}",
                      help="the OCPP-J 1.6 request payload ('-' reads stdin; default {})")
    call.add_argument("--quiet", "-q", action="store_true", help="log warnings only")
    call.set_defaults(handler=cmd_call)

    tasks = commands.add_parser("tasks", help="commands sent to stations").add_subparsers(
        dest="tasks", required=True)
    listing = tasks.add_parser("list", help="the latest tasks")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=cmd_tasks_list)
    show = tasks.add_parser("show", help="one task with each station's result")
    show.add_argument("task_id", metavar="TASK_ID", type=int)
    show.add_argument("--json", action="store_true", help="print the task as JSON")
    show.set_defaults(handler=cmd_tasks_show)
