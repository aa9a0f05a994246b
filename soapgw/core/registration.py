"""Who may talk to us: the registration gate, liveness, callback address and quirk records."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update

from soapgw.core.call import StationCall
from soapgw.core.commands.callback_policy import callback_host
from soapgw.core.commands.guard import check_callback
from soapgw.core.endpoints import derive_callback
from soapgw.core.errors import ErrorCode, OcppError
from soapgw.core.enums import EventType
from soapgw.core.events import NewEvent
from soapgw.core.station_columns import update_station
from soapgw.store.database import Db
from soapgw.store.driver_query import DriverQuery
from soapgw.store.models import ChargeBox, EndpointChange, StationQuirk, UnknownChargeBox
from soapgw.store.upsert import insert_for, upsert
from soapgw.timestamps import format_timestamp


@dataclass
class Station:
    """What a message's handling needs of its charge box (a plain record: loading the ORM
    entity on every message cost more than the rest of the SQL)."""

    id: int
    charge_box_id: str
    registration_status: str
    endpoint_address: str | None
    endpoint_source: str | None
    endpoint_pinned: bool
    endpoint_peer_host: str | None
    endpoint_verdict: str | None
    endpoint_verdict_reason: str | None
    offline_since: datetime | None
    # station authentication (core.station_access), fetched by the same statement
    auth_networks: str | None = None
    auth_password_hash: str | None = None
    auth_certificate: str | None = None
    callback_policy: str | None = None
    last_peer_host: str | None = None


_TABLE = ChargeBox.__table__
_QUIRKS = StationQuirk.__table__
_COLUMNS = [_TABLE.c[f.name] for f in fields(Station)]


@dataclass
class Admission:
    """The station behind a call, when it is known; ``refusal`` when it may not proceed.

    A refusal is always a SecurityError; the caller raises it once what the gate records is
    written. (Only its reason is kept: an exception object stored and raised later would hold,
    through its traceback, the frame that holds it: a reference cycle per refused message.)
    """

    station: Station | None
    refusal: str | None = None

    def refuse(self) -> None:
        if self.refusal is not None:
            raise OcppError(ErrorCode.SECURITY_ERROR, self.refusal)


def _find_and_touch(heartbeat: bool) -> DriverQuery:
    """UPDATE charge_box ... RETURNING (built once, run through the driver: every message
    runs it, inside the write lock). A Heartbeat also sets last_heartbeat_at."""
    values = {"last_message_at": bindparam("b_received_at"),
              "ocpp_version": bindparam("b_ocpp_version"),
              "ocpp_transport": bindparam("b_transport"),
              "soap_version": bindparam("b_soap_version")}
    if heartbeat:
        values["last_heartbeat_at"] = bindparam("b_received_at")
    return DriverQuery(update(_TABLE)
                       .where(_TABLE.c.charge_box_id == bindparam("b_charge_box_id"))
                       .values(**values).returning(*_COLUMNS))


_FIND_AND_TOUCH = {False: _find_and_touch(False), True: _find_and_touch(True)}


def admit(db: Db, call: StationCall, auto_register: bool,
          allowed_networks: tuple = (), access=None) -> Admission:
    """Find the station, record that it spoke, learn its address, apply the gate.

    BootNotification always passes the gate (it is answered Rejected or Pending); any other
    message from a station that is unknown or not Accepted is refused with SecurityError.
    ``access`` (core.station_access.StationAccess) raises StationRefused for a message that
    may not speak as its station, before anything is learnt from it.
    """
    # One statement both finds the station and records that it is alive.
    row = _FIND_AND_TOUCH[call.action == "Heartbeat"].one_or_none(db, {
        "b_charge_box_id": call.charge_box_id, "b_received_at": call.received_at,
        "b_ocpp_version": call.ocpp_version, "b_transport": call.transport,
        "b_soap_version": call.soap_version})
    station = Station(*row) if row is not None else None
    if station is None and auto_register and call.action == "BootNotification" and \
            (access is None or access.may_auto_register(call)):
        station = _auto_register(db, call)
    if station is None:
        _record_unknown(db, call)
        if call.action == "BootNotification":
            return Admission(None)
        return Admission(None, f"charge box {call.charge_box_id!r} is not registered with "
                               "this central system")
    if access is not None:
        access.check(db, station, call)
    if station.offline_since is not None:
        _came_back(db, station, call)
    _learn_callback(db, station, call, allowed_networks)
    if station.registration_status != "Accepted" and call.action != "BootNotification":
        return Admission(station, f"charge box {call.charge_box_id!r} is "
                                  f"{station.registration_status}, not Accepted: only "
                                  "BootNotification is allowed")
    return Admission(station)


_FIND = select(*_COLUMNS).where(_TABLE.c.charge_box_id == bindparam("b_charge_box_id"))


def may_be_advised(db: Db, call: StationCall, access=None) -> bool:
    """Whether a message's decision may be asked outside (core.advice): its station is
    registered, Accepted, and the message may speak as it. Reads only (the edge asks before
    its write transaction), so that an impostor's message never reaches an advisor."""
    row = db.execute(_FIND, {"b_charge_box_id": call.charge_box_id}).one_or_none()
    if row is None:
        return False
    station = Station(*row)
    return station.registration_status == "Accepted" and (
        access is None or access.allows(station, call))


def _came_back(db: Db, station: Station, call: StationCall) -> None:
    """The housekeeping sweep had marked the station offline: it speaks again."""
    call.events.append(NewEvent(EventType.STATION_ONLINE, call.charge_box_id, {
        "offlineSince": format_timestamp(station.offline_since), "action": call.action},
        call.received_at))
    update_station(db, station.id, {"offline_since": None})
    station.offline_since = None


def _auto_register(db: Db, call: StationCall) -> Station:
    db.execute(insert_for(db, ChargeBox).values(
        charge_box_id=call.charge_box_id, registration_status="Accepted",
        ocpp_version=call.ocpp_version, ocpp_transport=call.transport,
        soap_version=call.soap_version, last_message_at=call.received_at,
        created_at=call.received_at).on_conflict_do_nothing())
    db.execute(UnknownChargeBox.__table__.delete()
               .where(UnknownChargeBox.charge_box_id == call.charge_box_id))
    return Station(*db.execute(select(*_COLUMNS).where(
        _TABLE.c.charge_box_id == call.charge_box_id)).one())


# An unregistered station may keep calling: its record is a hot path too.
_UNKNOWN_UPSERT = upsert(
    UnknownChargeBox.__table__, keys=["charge_box_id"],
    values=dict(charge_box_id=bindparam("b_id"), first_seen=bindparam("b_at"),
                last_seen=bindparam("b_at"), attempts=1, last_action=bindparam("b_action"),
                last_address=bindparam("b_address")),
    update=lambda new: {"last_seen": new.last_seen, "attempts": UnknownChargeBox.attempts + 1,
                        "last_action": new.last_action, "last_address": new.last_address})


_IS_KNOWN_UNKNOWN = select(UnknownChargeBox.charge_box_id).where(
    UnknownChargeBox.charge_box_id == bindparam("b_id"))


def _record_unknown(db: Db, call: StationCall) -> None:
    address = call.announced_from or call.announced_reply_to
    # an event the first time only: a station that keeps calling is not news every message
    if db.execute(_IS_KNOWN_UNKNOWN, {"b_id": call.charge_box_id}).first() is None:
        call.events.append(NewEvent(EventType.STATION_UNKNOWN, call.charge_box_id, {
            "action": call.action, "address": address}, call.received_at))
    db.execute(_UNKNOWN_UPSERT(db), {
        "b_id": call.charge_box_id, "b_at": call.received_at, "b_action": call.action,
        "b_address": address})


# Stations announce the same address on every message: judging it (a DNS look-up for a host
# name) once per process is enough while the station's stored address and verdict are the
# ones that judgement produced. What was announced -> (station state after it, its quirks).
_SEEN_CALLBACKS: dict[tuple, tuple] = {}
_SEEN_LIMIT = 10_000


def _callback_state(station: Station) -> tuple:
    return (station.endpoint_address, station.endpoint_pinned, station.endpoint_verdict,
            station.callback_policy)


def _learn_callback(db: Db, station: Station, call: StationCall,
                    allowed_networks: tuple = ()) -> None:
    if call.announced_from is None and call.announced_reply_to is None:
        return  # nothing announced (and nothing to complain about on every message)
    announced = (station.id, call.announced_from, call.announced_reply_to, call.peer_host,
                 allowed_networks)
    seen = _SEEN_CALLBACKS.get(announced)
    if seen is not None and seen[0] == _callback_state(station):
        for quirk in seen[1]:  # still counted on every message
            call.quirk(quirk.code, quirk.detail)
        return
    before = len(call.quirks)
    _judge_and_store(db, station, call, allowed_networks)
    if len(_SEEN_CALLBACKS) >= _SEEN_LIMIT:
        _SEEN_CALLBACKS.clear()
    _SEEN_CALLBACKS[announced] = (_callback_state(station), tuple(call.quirks[before:]))


def _judge_and_store(db: Db, station: Station, call: StationCall,
                     allowed_networks: tuple) -> None:
    callback = derive_callback(call.announced_from, call.announced_reply_to, call.peer_host)
    if callback.quirk:
        call.quirk(callback.quirk, f"announced From={call.announced_from!r} "
                                   f"ReplyTo={call.announced_reply_to!r}, peer {call.peer_host}")
    kept = _kept(station, callback.address)
    if callback.address is not None:  # may we call it? (recorded; the message is answered)
        check_callback(db, station, call, station.endpoint_address if kept else callback.address,
                       allowed_networks)
    if callback.address is None or callback.address == station.endpoint_address:
        return
    # An announcement that does not take effect is recorded as one, not as a change: its
    # source says why ("kept:" by the callback policy, "pinned:" by an admin's address).
    not_applied = "kept:" if kept else "pinned:" if station.endpoint_pinned else ""
    db.execute(insert(EndpointChange.__table__).values(
        charge_box_pk=station.id, address=callback.address,
        source=not_applied + callback.source,
        announced=call.announced_from, changed_at=call.received_at))
    if kept:
        call.quirk("callback-kept", f"announced {callback.address} from {call.peer_host}; "
                                    f"kept {station.endpoint_address} (callback policy: keep)")
    elif not station.endpoint_pinned:  # an address set by an admin wins over learnt ones
        update_station(db, station.id, {"endpoint_address": callback.address,
                                        "endpoint_source": callback.source})
        station.endpoint_address, station.endpoint_source = callback.address, callback.source


def _kept(station: Station, address: str | None) -> bool:
    """Callback policy "keep": a learnt address never moves to another host by itself (a
    station, or someone speaking in its name, cannot steer commands elsewhere)."""
    return (station.callback_policy == "keep" and address is not None
            and station.endpoint_address is not None and not station.endpoint_pinned
            and callback_host(address) != callback_host(station.endpoint_address))


# Through the driver (store.driver_query): quirky stations add it to every message.
_QUIRK_UPSERT = DriverQuery(build=upsert(
    _QUIRKS, keys=["charge_box_pk", "code"],
    values=dict(charge_box_pk=bindparam("b_station"), code=bindparam("b_code"),
                detail=bindparam("b_detail"), count=1, first_seen=bindparam("b_at"),
                last_seen=bindparam("b_at")),
    update=lambda new: {"count": _QUIRKS.c.count + 1, "detail": new.detail,
                        "last_seen": new.last_seen}))


def record_quirks(db: Db, charge_box_pk: int, call: StationCall) -> None:
    """Count each kind of quirk once per message, keeping the latest detail.

    Many stations repeat the same quirk on every message, so this is on the hot path: one
    prepared Core upsert for all of the message's quirks.
    """
    latest = {quirk.code: quirk.detail for quirk in call.quirks}
    if latest:
        _QUIRK_UPSERT.execute_many(db, [
            {"b_station": charge_box_pk, "b_code": code, "b_detail": detail[:2000],
             "b_at": call.received_at} for code, detail in latest.items()])
