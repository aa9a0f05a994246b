"""How a simulated station answers each ChargePointService operation (OCPP 1.5 and 1.6).

Every handler runs under the station's lock, answers at once like a station does, and leaves
what the command sets off (StartTransaction, a reboot, firmware status notifications...) to the
station thread, a moment later (``react_delay``), so the reply leaves first.
Requests and answers are dicts with the OCPP field names of the station's version.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime

from soapgw.core.errors import ErrorCode, OcppError
from soapgw.timestamps import format_timestamp, utc
from soapgw.simulator.config_keys import check_value
from soapgw.simulator.model import Connector, Reservation
from soapgw.simulator.profiles import Profile
from soapgw.simulator.station import Station
from soapgw.simulator.wire import Message

VENDOR_ID = "soapgw.simulator"  # DataTransfer: the vendor this station knows

Handler = Callable[[Station, Message], Message]
_HANDLERS: dict[str, Handler] = {}


def operation(name: str):
    def register(function: Handler) -> Handler:
        _HANDLERS[name] = function
        return function
    return register


def handle(station: Station, name: str, request: Message) -> Message:
    """Answer one ChargePointService request, holding the station's lock."""
    with station.lock:
        return answer(station, name, request)


def answer(station: Station, name: str, request: Message) -> Message:
    handler = _HANDLERS.get(name)
    if handler is None:
        raise OcppError(ErrorCode.NOT_IMPLEMENTED, f"{name} is not implemented by this station")
    return handler(station, request)


def soon(station: Station, job: Callable[[], None], name: str | None = None) -> None:
    station.later(station.options.react_delay, job, name)


def _connector(station: Station, connector_id) -> Connector | None:
    return station.connectors.get(connector_id) if connector_id is not None else None


# --- transactions -----------------------------------------------------------------------------
@operation("RemoteStartTransaction")
def remote_start(station: Station, request: Message) -> Message:
    id_tag, profile = request["idTag"], request.get("chargingProfile")
    rejected = {"status": "Rejected"}
    if station.registration != "Accepted":
        return rejected
    if profile is not None and profile.get("chargingProfilePurpose") != "TxProfile":
        return rejected  # OCPP 1.6: only a TxProfile may come with RemoteStart
    if request.get("connectorId") is not None:
        connector = _connector(station, request["connectorId"])
        if connector is None or not station.can_start(connector, id_tag):
            return rejected
    else:  # any connector: one reserved for this tag first
        free = sorted((c for c in station.connectors.values() if station.can_start(c, id_tag)),
                      key=lambda c: c.reservation is None)
        if not free:
            return rejected
        connector = free[0]
    station.claim(connector, id_tag, remote=True, profile=profile)
    soon(station, lambda: station.start_claimed(connector.connector_id))
    return {"status": "Accepted"}


@operation("RemoteStopTransaction")
def remote_stop(station: Station, request: Message) -> Message:
    for connector in station.connectors.values():
        tx = connector.transaction
        if tx is not None and tx.transaction_id == request["transactionId"]:
            soon(station, lambda: station.end_session(connector.connector_id, "Remote"))
            return {"status": "Accepted"}
    return {"status": "Rejected"}


@operation("UnlockConnector")
def unlock_connector(station: Station, request: Message) -> Message:
    v16 = station.ocpp_version == "1.6"
    connector = _connector(station, request["connectorId"])
    if connector is None:
        return {"status": "NotSupported" if v16 else "Rejected"}
    if connector.transaction is not None:  # unlocking ends the session first
        soon(station, lambda: station.end_session(connector.connector_id, "UnlockCommand"))
    return {"status": "Unlocked" if v16 else "Accepted"}


# --- availability, reset, configuration -------------------------------------------------------
@operation("ChangeAvailability")
def change_availability(station: Station, request: Message) -> Message:
    operative = request["type"] == "Operative"
    connector_id = request["connectorId"]
    if connector_id == 0:
        targets = list(station.connectors.values())
        station.station_connector.operative = operative
        station.queue_status(station.station_connector)
    else:
        connector = _connector(station, connector_id)
        if connector is None:
            return {"status": "Rejected"}
        targets = [connector]
    scheduled = False
    for connector in targets:
        if connector.transaction is not None and not operative:
            connector.scheduled_operative = False  # applied when the session ends
            scheduled = True
            continue
        connector.scheduled_operative = None
        if not operative and connector.reservation is not None:  # no reserving what is off
            station.timers.cancel(f"reservation-{connector.reservation.reservation_id}")
            connector.reservation = None
        if connector.operative != operative:
            connector.operative = operative
            station.queue_status(connector)
    return {"status": "Scheduled" if scheduled else "Accepted"}


@operation("Reset")
def reset(station: Station, request: Message) -> Message:
    soon(station, lambda: station.reboot(request["type"]), "reset")
    return {"status": "Accepted"}


@operation("ChangeConfiguration")
def change_configuration(station: Station, request: Message) -> Message:
    names = {name.lower(): name for name in station.config}  # keys are case-insensitive
    name = names.get(request["key"].strip().lower())
    if name is None:
        return {"status": "NotSupported"}
    key = station.config[name]
    value = request.get("value") or ""
    if key.readonly or not check_value(key, value):
        return {"status": "Rejected"}
    key.value = value.strip()
    station.on_config_change(name)
    return {"status": "Accepted"}


@operation("GetConfiguration")
def get_configuration(station: Station, request: Message) -> Message:
    asked = [k.strip() for k in request.get("key") or []]
    names = {name.lower(): name for name in station.config}
    wanted = [names.get(k.lower(), k) for k in asked] if asked else list(station.config)
    known = [name for name in wanted if name in station.config]
    return {"configurationKey": [{"key": name, "readonly": station.config[name].readonly,
                                  "value": station.config[name].value} for name in known],
            "unknownKey": [name for name in wanted if name not in station.config]}


# --- authorization ----------------------------------------------------------------------------
@operation("ClearCache")
def clear_cache(station: Station, request: Message) -> Message:
    station.auth.cache.clear()
    return {"status": "Accepted"}


@operation("GetLocalListVersion")
def get_local_list_version(station: Station, request: Message) -> Message:
    return {"listVersion": station.auth.version}


def _list_hash(entries: dict[str, dict]) -> str:
    canonical = json.dumps(sorted(entries.items()), default=str, separators=(",", ":"))
    return hashlib.sha1(canonical.encode()).hexdigest()


@operation("SendLocalList")
def send_local_list(station: Station, request: Message) -> Message:
    # 1.5 spells it localAuthorisationList
    items = request.get("localAuthorizationList") or request.get("localAuthorisationList") or []
    version, full = request["listVersion"], request["updateType"] == "Full"
    if len(items) > station.int_setting("SendLocalListMaxLength"):
        return {"status": "Failed"}
    if not full and version <= station.auth.version:
        return {"status": "VersionMismatch"}
    entries = {} if full else dict(station.auth.entries)
    for item in items:
        if item.get("idTagInfo"):
            entries[item["idTag"]] = item["idTagInfo"]
        else:  # a differential entry without idTagInfo removes the tag
            entries.pop(item["idTag"], None)
    if len(entries) > station.int_setting("LocalAuthListMaxLength"):
        return {"status": "Failed"}
    station.auth.entries, station.auth.version = entries, version
    return {"status": "Accepted", "hash": _list_hash(entries)}  # hash: 1.5 only


# --- reservations -----------------------------------------------------------------------------
@operation("ReserveNow")
def reserve_now(station: Station, request: Message) -> Message:
    reservation_id = request["reservationId"]
    expiry = utc(request["expiryDate"])
    replaced = station.find_reservation(reservation_id)  # same id: the new one replaces it
    connector_id = request["connectorId"]
    if connector_id == 0 and not station.flag("ReserveConnectorZeroSupported"):
        return {"status": "Rejected"}
    connector = _connector(station, connector_id)
    if connector is None or expiry <= station.clock():
        return {"status": "Rejected"}
    if connector.status == "Faulted":
        return {"status": "Faulted"}
    if not connector.operative:
        return {"status": "Unavailable"}
    if connector.transaction is not None or (connector.reservation is not None
                                             and connector is not replaced):
        return {"status": "Occupied"}
    if replaced is not None and replaced is not connector:
        station.cancel_reservation(reservation_id)
    station.reserve(connector, Reservation(reservation_id, connector.connector_id,
                                           request["idTag"], expiry, request.get("parentIdTag")))
    return {"status": "Accepted"}


@operation("CancelReservation")
def cancel_reservation(station: Station, request: Message) -> Message:
    found = station.cancel_reservation(request["reservationId"])
    return {"status": "Accepted" if found else "Rejected"}


# --- smart charging (1.6) ---------------------------------------------------------------------
@operation("SetChargingProfile")
def set_charging_profile(station: Station, request: Message) -> Message:
    rejected = {"status": "Rejected"}
    connector_id, data = request["connectorId"], request["csChargingProfiles"]
    purpose = data["chargingProfilePurpose"]
    if connector_id != 0 and connector_id not in station.connectors:
        return rejected
    if purpose == "ChargePointMaxProfile" and connector_id != 0:
        return rejected
    if purpose == "TxProfile":
        tx = station.connectors[connector_id].transaction if connector_id else None
        if tx is None or tx.transaction_id is None:
            return rejected  # a TxProfile needs a running transaction on the connector
        if data.get("transactionId") not in (None, tx.transaction_id):
            return rejected
    if data["stackLevel"] > station.int_setting("ChargeProfileMaxStackLevel"):
        return rejected
    schedule = data["chargingSchedule"]
    allowed = {"Current": "A", "Power": "W"}
    units = {allowed[u.strip()] for u in
             station.setting("ChargingScheduleAllowedChargingRateUnit").split(",")}
    if (schedule["chargingRateUnit"] not in units or not schedule.get("chargingSchedulePeriod")
            or len(schedule["chargingSchedulePeriod"])
            > station.int_setting("ChargingScheduleMaxPeriods")):
        return rejected
    station.update_meters()  # energy so far at the old power; the new limit applies from now
    station.smart.install(Profile.from_ocpp(data, connector_id, station.clock()))
    station.update_meters()
    return {"status": "Accepted"}


@operation("ClearChargingProfile")
def clear_charging_profile(station: Station, request: Message) -> Message:
    station.update_meters()
    removed = station.smart.clear(request.get("id"), request.get("connectorId"),
                                  request.get("chargingProfilePurpose"), request.get("stackLevel"))
    station.update_meters()
    return {"status": "Accepted" if removed else "Unknown"}


@operation("GetCompositeSchedule")
def get_composite_schedule(station: Station, request: Message) -> Message:
    connector_id = request["connectorId"]
    if connector_id != 0 and connector_id not in station.connectors:
        return {"status": "Rejected"}
    unit = request.get("chargingRateUnit") or (
        "A" if any(p.unit == "A" for p in station.smart.profiles) else "W")
    tx = station.connectors[connector_id].transaction if connector_id else None
    now = station.clock()
    schedule = station.smart.composite(connector_id, now, int(request["duration"]),
                                       tx.started_at if tx else None, unit)
    begin = schedule["startSchedule"] = now.replace(microsecond=0)  # whole seconds on the wire
    return {"status": "Accepted", "connectorId": connector_id, "scheduleStart": begin,
            "chargingSchedule": schedule}


# --- remote trigger (1.6) ---------------------------------------------------------------------
@operation("TriggerMessage")
def trigger_message(station: Station, request: Message) -> Message:
    message, connector_id = request["requestedMessage"], request.get("connectorId")
    if connector_id not in (None, 0) and connector_id not in station.connectors:
        return {"status": "Rejected"}
    connectors = [connector_id] if connector_id else list(station.connectors)
    jobs: dict[str, Callable[[], None]] = {
        "BootNotification": station.boot,
        "Heartbeat": lambda: station.heartbeat(rearm=False),
        "MeterValues": lambda: station.send_meter_values(connectors, "Trigger"),
        "StatusNotification": lambda: _statuses(station, connector_id),
        "FirmwareStatusNotification": lambda: station.queue(
            "FirmwareStatusNotification", {"status": station.firmware_status}),
        "DiagnosticsStatusNotification": lambda: station.queue(
            "DiagnosticsStatusNotification", {"status": station.diagnostics_status}),
    }
    if message not in jobs:
        return {"status": "NotImplemented"}
    soon(station, jobs[message])
    return {"status": "Accepted"}


def _statuses(station: Station, connector_id: int | None) -> None:
    with station.lock:
        if connector_id is None or connector_id == 0:
            station.queue_status(station.station_connector, station.station_connector.status)
        for number, connector in station.connectors.items():
            if connector_id in (None, number):
                station.queue_status(connector, connector.status)


# --- firmware, diagnostics, data transfer -----------------------------------------------------
@operation("UpdateFirmware")
def update_firmware(station: Station, request: Message) -> Message:
    wait = (utc(request["retrieveDate"]) - station.clock()).total_seconds()
    station.later(max(wait, station.options.react_delay),
                  lambda: station.update_firmware(request["location"]), "firmware")
    return {}


@operation("GetDiagnostics")
def get_diagnostics(station: Station, request: Message) -> Message:
    stamp = format_timestamp(station.clock().replace(microsecond=0)).replace(":", "")
    soon(station, lambda: station.upload_diagnostics(request["location"]), "diagnostics")
    return {"fileName": f"diagnostics-{station.charge_box_id}-{stamp}.log"}


@operation("DataTransfer")
def data_transfer(station: Station, request: Message) -> Message:
    """Vendor ``soapgw.simulator``: messageId ``Echo`` (or none) echoes the data, ``State``
    returns the connectors' state as JSON."""
    if request["vendorId"] != VENDOR_ID:
        return {"status": "UnknownVendorId"}
    message_id = request.get("messageId")
    if message_id in (None, "", "Echo"):
        return {"status": "Accepted", "data": request.get("data")}
    if message_id == "State":
        state = {str(n): {"status": c.status, "transactionId": c.transaction and
                          c.transaction.transaction_id, "meterWh": int(c.meter_wh),
                          "powerW": round(c.power_w)} for n, c in station.connectors.items()}
        return {"status": "Accepted", "data": json.dumps(state, default=_json_default)}
    return {"status": "UnknownMessageId"}


def _json_default(value):
    return format_timestamp(value) if isinstance(value, datetime) else str(value)
