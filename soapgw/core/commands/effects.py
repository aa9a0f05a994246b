"""What a command changes in the model, before it is sent and once the station answered.

``before`` runs in the transaction that marks the command sent and may refuse it (TaskError);
``after`` runs with the answer (``response`` None when the command failed): one registered
function per operation that changes the model. Reservations keep their rules in
``core/reservations.py``.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from soapgw.core import reservations
from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.core.commands.payloads import to_json
from soapgw.core.errors import Conflict, Invalid
from soapgw.timestamps import now
from soapgw.store.models import (ChargeBox, ConfigurationKey, Connector, DataTransferRecord,
                                 InstalledChargingProfile, Transaction)
from soapgw.store.upsert import insert_for


# operation -> what it does once the station answered (``response`` None: it failed)
_AFTER: dict[str, Callable] = {}


def on_answer(operation: str, accepted_only: bool = False):
    """Register what ``operation`` changes with the answer (only an accepted one, when
    ``accepted_only``: Accepted or RebootRequired)."""
    def register(function):
        _AFTER[operation] = (function, accepted_only)
        return function
    return register


def before(db: Session, station: ChargeBox, operation: str, payload: dict):
    """What must hold before the command goes out (a ReserveNow's reservation is Waiting);
    raises TaskError when the model refuses it. Returns what ``after`` needs to settle it."""
    if operation != "ReserveNow":
        return None
    try:
        return reservations.reserve(db, station.id, payload)
    except Invalid as invalid:
        raise TaskError(ErrorKind.INVALID_PAYLOAD, str(invalid)) from None
    except Conflict as conflict:
        raise TaskError(ErrorKind.CONFLICT, str(conflict)) from None


def after(db: Session, station: ChargeBox, operation: str, payload: dict,
          response: dict | None, prepared, task_id: int | None = None) -> None:
    accepted = response is not None and response.get("status") in ("Accepted", "RebootRequired")
    if operation == "ReserveNow":  # settled whatever happened (kept, or undone)
        reservations.settle(db, station.id, payload["reservationId"], accepted, prepared)
        return
    registered = _AFTER.get(operation)
    if registered is None or response is None:
        return
    effect, accepted_only = registered
    if accepted or not accepted_only:
        effect(db, station, payload, response, task_id)


@on_answer("CancelReservation", accepted_only=True)
def _cancelled(db, station, payload, response, task_id) -> None:
    reservations.cancel(db, station.id, payload["reservationId"])


@on_answer("GetConfiguration")
def _configuration_read(db, station, payload, response, task_id) -> None:
    store_configuration(db, station.id, response, full=not payload.get("key"))


@on_answer("ChangeConfiguration", accepted_only=True)
def _configuration_changed(db, station, payload, response, task_id) -> None:
    _upsert_keys(db, station.id, [{"key": payload["key"], "value": payload["value"]}])


@on_answer("SendLocalList", accepted_only=True)
@on_answer("GetLocalListVersion")
def _local_list_version(db, station, payload, response, task_id) -> None:
    db.execute(update(ChargeBox).where(ChargeBox.id == station.id).values(
        local_list_version=response.get("listVersion", payload.get("listVersion"))))


@on_answer("SetChargingProfile", accepted_only=True)
def _profile_set(db, station, payload, response, task_id) -> None:
    _install_profile(db, station.id, payload, task_id)


@on_answer("ClearChargingProfile", accepted_only=True)
def _profiles_cleared(db, station, payload, response, task_id) -> None:
    _clear_profiles(db, station.id, payload)


@on_answer("DataTransfer")
def _data_transferred(db, station, payload, response, task_id) -> None:
    db.add(DataTransferRecord(
        charge_box_pk=station.id, direction="out", vendor_id=payload["vendorId"],
        message_id=payload.get("messageId"), data=payload.get("data"),
        status=response.get("status"), response_data=response.get("data"),
        received_at=now()))


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
