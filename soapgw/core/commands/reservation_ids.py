"""OCPP reservation ids: scoped per charge point, allocated by the gateway when an operator
leaves ``reservationId`` out of a ReserveNow (the OCPP 1.6 JSON schema requires it, so this
runs before the payload is validated)."""
from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.store.models import ChargeBox, Reservation, Task, TaskResult

# xs:int, the type of reservationId on the wire and of the column
RESERVATION_ID_MIN, RESERVATION_ID_MAX = -(2**31), 2**31 - 1
_OPEN_TASK_STATES = ("queued", "sent")


def check_range(reservation_id) -> None:
    if (isinstance(reservation_id, int) and not isinstance(reservation_id, bool)
            and not RESERVATION_ID_MIN <= reservation_id <= RESERVATION_ID_MAX):
        raise TaskError(ErrorKind.INVALID_PAYLOAD,
                        f"reservationId {reservation_id} is out of range "
                        f"({RESERVATION_ID_MIN} to {RESERVATION_ID_MAX})")


def next_free_id(db: Session, charge_box_ids: list[str]) -> int:
    """The lowest id above every reservation id each of these stations has used, or has been
    sent in a ReserveNow still under way (so two commands in a row get different ids).

    The stations' rows are locked first (PostgreSQL; SQLite write transactions are exclusive):
    concurrent allocations for one station take their turn."""
    db.execute(select(ChargeBox.id).where(ChargeBox.charge_box_id.in_(charge_box_ids))
               .with_for_update())
    stored = db.scalar(select(func.max(Reservation.reservation_id)).join(
        ChargeBox, ChargeBox.id == Reservation.charge_box_pk).where(
        ChargeBox.charge_box_id.in_(charge_box_ids))) or 0
    pending = db.scalars(select(Task.payload).join(TaskResult).where(
        Task.operation == "ReserveNow", TaskResult.charge_box_id.in_(charge_box_ids),
        TaskResult.state.in_(_OPEN_TASK_STATES))).all()
    sent = [json.loads(payload).get("reservationId") for payload in pending]
    highest = max([stored, 0, *(i for i in sent if isinstance(i, int))])
    if highest >= RESERVATION_ID_MAX:
        raise TaskError(ErrorKind.CONFLICT, "no reservation id left above the highest one used; "
                                            "give reservationId explicitly")
    return highest + 1


def with_reservation_id(db: Session, operation: str, payload, charge_box_ids: list[str]):
    """``payload`` with an allocated ``reservationId`` when it is a ReserveNow without one
    (the same id for every station of the command: free on each); otherwise as given."""
    if operation != "ReserveNow" or not isinstance(payload, dict):
        return payload
    if "reservationId" in payload:
        check_range(payload["reservationId"])
        return payload
    if not charge_box_ids:
        return payload
    return {**payload, "reservationId": next_free_id(db, charge_box_ids)}
