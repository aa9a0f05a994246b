"""Reservations, their rules in one place.

- Ids are per charge point (OCPP's reservationId): the same id on another station is another
  reservation; the same id on the same station replaces that station's open reservation.
- Life cycle: ``Waiting`` from the moment ReserveNow goes out (``reserve``), ``Accepted``
  when the station accepts it, else removed or restored as it was (``settle``); ``Used`` by
  the StartTransaction that names it (``use``); ``Cancelled`` by an accepted
  CancelReservation (``cancel``) or when its connector becomes Faulted or Unavailable
  (``end_on_connector``).
- An id spent on this station (Used, Cancelled ...) is not reused: its history (the
  transaction that used it) stays; ``Conflict`` asks for a new id.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select, update

from soapgw.core.connectors import connector_pk
from soapgw.core.enums import ACTIVE_RESERVATION_STATES, ReservationState
from soapgw.core.errors import Conflict, Invalid
from soapgw.store.database import Db
from soapgw.store.models import Reservation
from soapgw.timestamps import now, parse_timestamp

_TABLE = Reservation.__table__
_OPEN = tuple(state.value for state in ACTIVE_RESERVATION_STATES)
_FIELDS = ("connector_pk", "id_tag", "parent_id_tag", "expiry_date", "status")
# A connector in these states cannot honour a reservation.
_ENDING_STATUSES = frozenset({"Faulted", "Unavailable"})

# Built once: StartTransaction and StatusNotification are on the inbound hot path.
_USE = update(_TABLE).where(
    _TABLE.c.charge_box_pk == bindparam("b_station"),
    _TABLE.c.reservation_id == bindparam("b_reservation"),
    _TABLE.c.connector_pk == bindparam("b_connector"),
    _TABLE.c.status == ReservationState.accepted.value,
    (_TABLE.c.id_tag == bindparam("b_tag")) | (_TABLE.c.parent_id_tag == bindparam("b_tag"))
).values(status=ReservationState.used.value, transaction_pk=bindparam("b_transaction"))
_END_ON_CONNECTOR = update(_TABLE).where(
    _TABLE.c.connector_pk == bindparam("b_connector"),
    _TABLE.c.status.in_(_OPEN)).values(status=ReservationState.cancelled.value)


@dataclass
class Prepared:
    """What ``reserve`` did, so that ``settle`` can keep or undo it."""

    created: bool = False
    before: dict | None = None  # a replaced reservation's previous values


def of_station(station_pk: int, reservation_id: int):
    """The reservation a station knows by this OCPP id."""
    return (Reservation.charge_box_pk == station_pk) & (
        Reservation.reservation_id == reservation_id)


def reserve(db: Db, station_pk: int, payload: dict) -> Prepared:
    """Record a ReserveNow (OCPP-J payload) as Waiting before it goes out."""
    reservation_id = payload["reservationId"]
    if payload["connectorId"] < 0:
        raise Invalid({"connectorId": f"connectorId {payload['connectorId']} is negative"})
    values = {"connector_pk": connector_pk(db, station_pk, payload["connectorId"]),
              "id_tag": payload["idTag"], "parent_id_tag": payload.get("parentIdTag"),
              "expiry_date": parse_timestamp(payload["expiryDate"])[0],
              "status": ReservationState.waiting.value}
    existing = db.scalars(select(Reservation).where(
        of_station(station_pk, reservation_id))).one_or_none()
    if existing is None:
        db.add(Reservation(charge_box_pk=station_pk, reservation_id=reservation_id,
                           created_at=now(), **values))
        db.flush()
        return Prepared(created=True)
    if existing.status not in _OPEN:
        raise Conflict(f"reservation id {reservation_id} was already used on this station "
                       f"({existing.status}); give a new reservationId, or leave it out to "
                       "have one allocated")
    previous = {name: getattr(existing, name) for name in _FIELDS}
    db.execute(update(Reservation).where(Reservation.id == existing.id).values(**values))
    return Prepared(before=previous)


def settle(db: Db, station_pk: int, reservation_id: int, accepted: bool,
           prepared: Prepared) -> None:
    """Kept (Accepted) when the station accepted the ReserveNow, otherwise as it was."""
    where = of_station(station_pk, reservation_id)
    if accepted:
        db.execute(update(Reservation).where(where).values(
            status=ReservationState.accepted.value))
    elif prepared.created:
        db.execute(delete(Reservation).where(where, Reservation.status ==
                                             ReservationState.waiting.value))
    elif prepared.before is not None:
        db.execute(update(Reservation).where(where).values(**prepared.before))


def cancel(db: Db, station_pk: int, reservation_id: int) -> None:
    """The station accepted a CancelReservation."""
    db.execute(update(Reservation).where(of_station(station_pk, reservation_id)).values(
        status=ReservationState.cancelled.value))


def use(db: Db, station_pk: int, reservation_id: int, connector: int, id_tag: str,
        transaction_pk: int) -> None:
    """A StartTransaction naming an Accepted reservation of its station, connector and tag
    (or the tag's parent) uses it."""
    db.execute(_USE, {"b_station": station_pk, "b_reservation": reservation_id,
                      "b_connector": connector, "b_tag": id_tag,
                      "b_transaction": transaction_pk})


def end_on_connector(db: Db, connector: int, status: str) -> None:
    """A connector that became Faulted or Unavailable cannot honour its open reservations."""
    if status in _ENDING_STATUSES:
        db.execute(_END_ON_CONNECTOR, {"b_connector": connector})
