"""What a command changes in the model, before it is sent and once the station answered.

``before`` runs in the transaction that marks the command sent and may refuse it (TaskError);
``after`` runs with the answer (``response`` None when the command failed).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.core.commands.payloads import to_json
from soapgw.core.connectors import connector_pk
from soapgw.timestamps import now, parse_timestamp
from soapgw.store.models import (ChargeBox, ConfigurationKey, Connector, DataTransferRecord,
                                 InstalledChargingProfile, Reservation, Transaction)
from soapgw.store.upsert import insert_for


@dataclass
class Prepared:
    """What ``before`` did, so that ``after`` can keep or undo it."""

    reservation_created: bool = False
    reservation_before: dict | None = None  # a replaced reservation's previous values


_RESERVATION_FIELDS = ("connector_pk", "id_tag", "parent_id_tag", "expiry_date", "status")


def before(db: Session, station: ChargeBox, operation: str, payload: dict) -> Prepared:
    if operation == "ReserveNow":
        return _reserve(db, station, payload)
    return Prepared()


def _of_station(station_pk: int, reservation_id: int):
    """The reservation a station knows by this OCPP id (ids are per charge point)."""
    return (Reservation.charge_box_pk == station_pk) & (
        Reservation.reservation_id == reservation_id)


def _reserve(db: Session, station: ChargeBox, payload: dict) -> Prepared:
    """Create the reservation as Waiting before ReserveNow goes out. The same id on the same
    station replaces that station's open reservation (OCPP); other stations' ids are theirs."""
    reservation_id = payload["reservationId"]
    if payload["connectorId"] < 0:
        raise TaskError(ErrorKind.INVALID_PAYLOAD,
                        f"connectorId {payload['connectorId']} is negative")
    values = {"connector_pk": connector_pk(db, station.id, payload["connectorId"]),
              "id_tag": payload["idTag"], "parent_id_tag": payload.get("parentIdTag"),
              "expiry_date": parse_timestamp(payload["expiryDate"])[0], "status": "Waiting"}
    existing = db.scalars(select(Reservation).where(
        _of_station(station.id, reservation_id))).one_or_none()
    if existing is None:
        db.add(Reservation(charge_box_pk=station.id, reservation_id=reservation_id,
                           created_at=now(), **values))
        db.flush()
        return Prepared(reservation_created=True)
    if existing.status not in ("Waiting", "Accepted"):
        # its history (the transaction that used it, ...) is kept: the id is spent here
        raise TaskError(ErrorKind.CONFLICT,
                        f"reservation id {reservation_id} was already used on this station "
                        f"({existing.status}); give a new reservationId, or leave it out to "
                        "have one allocated")
    previous = {name: getattr(existing, name) for name in _RESERVATION_FIELDS}
    db.execute(update(Reservation).where(Reservation.id == existing.id).values(**values))
    return Prepared(reservation_before=previous)


def after(db: Session, station: ChargeBox, operation: str, payload: dict,
          response: dict | None, prepared: Prepared, task_id: int | None = None) -> None:
    accepted = response is not None and response.get("status") in ("Accepted", "RebootRequired")
    if operation == "ReserveNow":
        _settle_reservation(db, station.id, payload["reservationId"], accepted, prepared)
    elif response is None:
        return
    elif operation == "CancelReservation" and accepted:
        db.execute(update(Reservation).where(
            _of_station(station.id, payload["reservationId"])).values(status="Cancelled"))
    elif operation == "GetConfiguration":
        store_configuration(db, station.id, response, full=not payload.get("key"))
    elif operation == "ChangeConfiguration" and accepted:
        _upsert_keys(db, station.id, [{"key": payload["key"], "value": payload["value"]}])
    elif operation in ("SendLocalList", "GetLocalListVersion") and (
            accepted or operation == "GetLocalListVersion"):
        db.execute(update(ChargeBox).where(ChargeBox.id == station.id).values(
            local_list_version=response.get("listVersion", payload.get("listVersion"))))
    elif operation == "SetChargingProfile" and accepted:
        _install_profile(db, station.id, payload, task_id)
    elif operation == "ClearChargingProfile" and accepted:
        _clear_profiles(db, station.id, payload)
    elif operation == "DataTransfer":
        db.add(DataTransferRecord(
            charge_box_pk=station.id, direction="out", vendor_id=payload["vendorId"],
            message_id=payload.get("messageId"), data=payload.get("data"),
            status=response.get("status"), response_data=response.get("data"),
            received_at=now()))


def _settle_reservation(db: Session, station_pk: int, reservation_id: int, accepted: bool,
                        prepared: Prepared) -> None:
    """Kept (Accepted) when the station accepted it, otherwise as it was before."""
    where = _of_station(station_pk, reservation_id)
    if accepted:
        db.execute(update(Reservation).where(where).values(status="Accepted"))
    elif prepared.reservation_created:
        db.execute(delete(Reservation).where(where, Reservation.status == "Waiting"))
    elif prepared.reservation_before is not None:
        db.execute(update(Reservation).where(where).values(**prepared.reservation_before))


def _upsert_keys(db: Session, charge_box_pk: int, keys: list[dict]) -> None:
    at = now()
    for item in keys:
        values = {"value": item.get("value"), "updated_at": at}
        if "readonly" in item:
            values["readonly"] = item["readonly"]
        db.execute(insert_for(db, ConfigurationKey).values(
            charge_box_pk=charge_box_pk, key=item["key"], **values)
            .on_conflict_do_update(index_elements=["charge_box_pk", "key"], set_=values))


def store_configuration(db: Session, charge_box_pk: int, response: dict, full: bool) -> None:
    """Keep the keys a GetConfiguration reported; a full report also drops vanished keys,
    and keys the station calls unknown are dropped either way."""
    keys = response.get("configurationKey", [])
    _upsert_keys(db, charge_box_pk, keys)
    reported = [k["key"] for k in keys]
    stale = ConfigurationKey.charge_box_pk == charge_box_pk
    if full:
        db.execute(delete(ConfigurationKey).where(stale, ConfigurationKey.key.not_in(reported)))
    elif response.get("unknownKey"):
        db.execute(delete(ConfigurationKey).where(
            stale, ConfigurationKey.key.in_(response["unknownKey"])))


def _install_profile(db: Session, charge_box_pk: int, payload: dict, task_id: int | None):
    """A profile replaces one with the same id, or with the same stack level and purpose on
    the same connector (OCPP 1.6, SetChargingProfile)."""
    profile, connector = payload["csChargingProfiles"], payload["connectorId"]
    db.execute(delete(InstalledChargingProfile).where(
        InstalledChargingProfile.charge_box_pk == charge_box_pk,
        or_(InstalledChargingProfile.charging_profile_id == profile["chargingProfileId"],
            (InstalledChargingProfile.connector_id == connector)
            & (InstalledChargingProfile.stack_level == profile["stackLevel"])
            & (InstalledChargingProfile.purpose == profile["chargingProfilePurpose"]))))
    db.add(InstalledChargingProfile(
        charge_box_pk=charge_box_pk, connector_id=connector,
        charging_profile_id=profile["chargingProfileId"], stack_level=profile["stackLevel"],
        purpose=profile["chargingProfilePurpose"], kind=profile.get("chargingProfileKind"),
        transaction_id=profile.get("transactionId"), profile=to_json(profile),
        task_id=task_id, installed_at=now()))


def _clear_profiles(db: Session, charge_box_pk: int, payload: dict) -> None:
    """By id, or every profile matching the filters given (none: all of the station's)."""
    table = InstalledChargingProfile
    conditions = [table.charge_box_pk == charge_box_pk]
    if payload.get("id") is not None:
        conditions.append(table.charging_profile_id == payload["id"])
    else:
        for field, column in (("connectorId", table.connector_id),
                              ("chargingProfilePurpose", table.purpose),
                              ("stackLevel", table.stack_level)):
            if payload.get(field) is not None:
                conditions.append(column == payload[field])
    db.execute(delete(table).where(*conditions))


def started_transaction(db: Session, charge_box_pk: int, id_tag: str, connector_id: int | None,
                        since: datetime) -> int | None:
    """The transaction a RemoteStartTransaction led to: same station and tag (and connector,
    when one was named), received after the command was sent."""
    query = (select(Transaction.id).join(Connector)
             .where(Connector.charge_box_pk == charge_box_pk, Transaction.id_tag == id_tag,
                    Transaction.started_received_at >= since)
             .order_by(Transaction.id).limit(1))
    if connector_id:
        query = query.where(Connector.connector_id == connector_id)
    return db.scalar(query)
