"""Reservations: filtered list, one reservation, and cancelling one (a CancelReservation
command to its station). New reservations are made with the ReserveNow command.

OCPP reservation ids are per charge point (``reservationId``, with ``chargeBoxId``); the
resource's own ``id`` names one reservation across the gateway (the URLs use it)."""
from __future__ import annotations

from spectree import Response
from sqlalchemy import select

from soapgw.api.commands import submit
from soapgw.api.db import db
from soapgw.api.paging import keyset, page
from soapgw.api.present import iso, link
from soapgw.api.problems import ApiProblem
from soapgw.api.routing import route
from soapgw.api.schemas import Reservation as ReservationModel, ReservationPage, ReservationQuery, Task
from soapgw.core.enums import ACTIVE_RESERVATION_STATES
from soapgw.store.models import ChargeBox, Connector, Reservation
from soapgw.timestamps import now

TAG = "reservations"
ACTIVE = tuple(state.value for state in ACTIVE_RESERVATION_STATES)
ID_RULE = "<int(max=2147483647):pk>"


def _joined():
    return (select(Reservation.id, Reservation.reservation_id, Reservation.id_tag, Reservation.parent_id_tag,
                   Reservation.expiry_date, Reservation.status, Reservation.transaction_pk,
                   Reservation.created_at, Connector.connector_id, ChargeBox.charge_box_id)
            .join(Connector, Reservation.connector_pk == Connector.id)
            .join(ChargeBox, Connector.charge_box_pk == ChargeBox.id))


def view(row) -> dict:
    return {"id": row.id, "reservationId": row.reservation_id, "chargeBoxId": row.charge_box_id,
            "connectorId": row.connector_id, "idTag": row.id_tag,
            "parentIdTag": row.parent_id_tag, "expiryDate": iso(row.expiry_date),
            "status": row.status, "transactionId": row.transaction_pk,
            "createdAt": iso(row.created_at),
            "links": {"self": link("get_reservation", pk=row.id),
                      "cancel": link("cancel_reservation", pk=row.id)}}


@route("GET", "/reservations", tag=TAG, query=ReservationQuery,
       resp=Response(HTTP_200=ReservationPage))
def list_reservations(query: ReservationQuery):
    """Reservations, newest first; by station, id tag (or parent), status, active now."""
    statement = _joined()
    if query.station:
        statement = statement.where(ChargeBox.charge_box_id == query.station)
    if query.idTag:
        statement = statement.where((Reservation.id_tag == query.idTag)
                                    | (Reservation.parent_id_tag == query.idTag))
    if query.status:
        statement = statement.where(Reservation.status == query.status)
    if query.active is True:
        statement = statement.where(Reservation.status.in_(ACTIVE),
                                    Reservation.expiry_date > now())
    elif query.active is False:
        statement = statement.where(~(Reservation.status.in_(ACTIVE)
                                      & (Reservation.expiry_date > now())))
    rows, cursor = keyset(db(), statement, Reservation.id, query.limit, query.cursor)
    return page([view(row) for row in rows], cursor)


def _reservation(pk: int):
    row = db().execute(_joined().where(Reservation.id == pk)).one_or_none()
    if row is None:
        raise ApiProblem(404, f"no reservation {pk}")
    return row


@route("GET", f"/reservations/{ID_RULE}", tag=TAG,
       resp=Response(HTTP_200=ReservationModel, HTTP_404=None))
def get_reservation(pk: int):
    """One reservation."""
    return view(_reservation(pk))


@route("POST", f"/reservations/{ID_RULE}/cancel", scope="operate", tag=TAG,
       resp=Response(HTTP_200=Task, HTTP_202=Task, HTTP_404=None, HTTP_409=None,
                     HTTP_422=None))
def cancel_reservation(pk: int):
    """Send CancelReservation to the reservation's station (a task, like any command;
    ``Prefer: wait=N`` and ``Idempotency-Key`` work here too)."""
    row = _reservation(pk)
    if row.status not in ACTIVE:
        raise ApiProblem(409, f"reservation {pk} is {row.status}: nothing to cancel",
                         kind="not-active")
    return submit("CancelReservation", {"reservationId": row.reservation_id},
                  [row.charge_box_id])
