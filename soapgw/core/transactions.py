"""Charging sessions: StartTransaction (idempotent) and StopTransaction (never refused).

Core SQL statements built once: this is the hot path of every charging session.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, bindparam, insert, select, update

from soapgw.core import reservations
from soapgw.core.authorization import find_tag, start_info, tag_info
from soapgw.core.call import StationCall
from soapgw.core.enums import EventType, Reason, values
from soapgw.core.errors import Invalid, NotFound
from soapgw.core.events import EventPublisher, NewEvent
from soapgw.core.ocppj import encode
from soapgw.core.connectors import station_connector
from soapgw.core.messages import (StartTransactionRequest, StartTransactionResponse,
                                  StopTransactionRequest, StopTransactionResponse)
from soapgw.core.metering import store_meter_values
from soapgw.store.database import Db
from soapgw.store.driver_query import DriverQuery, bound
from soapgw.store.models import ChargeBox, Connector, FailedStop, Transaction
from soapgw.store.upsert import insert_for
from soapgw.timestamps import now

REASONS = values(Reason)

_TX = Transaction.__table__
_CONNECTORS = Connector.__table__

# Look-ups of every start and stop: through the driver (store.driver_query)
_SAME_START = DriverQuery(select(_TX.c.id, _TX.c.start_status, _TX.c.started_received_at).where(
    _TX.c.connector_pk == bindparam("b_connector"), _TX.c.id_tag == bindparam("b_tag"),
    _TX.c.start_timestamp == bindparam("b_start"), _TX.c.meter_start == bindparam("b_meter")))
_OF_STATION = DriverQuery(select(
    _TX.c.id, _TX.c.connector_pk, _TX.c.start_timestamp, _TX.c.meter_start,
    _TX.c.stop_timestamp, _TX.c.meter_stop).join(
    _CONNECTORS, _CONNECTORS.c.id == _TX.c.connector_pk).where(
    _TX.c.id == bindparam("b_id"), _CONNECTORS.c.charge_box_pk == bindparam("b_station")))
# A stop, by the station or an operator: its id when it applied, no row when the transaction
# was stopped already
_APPLY_STOP = DriverQuery(update(_TX).where(
    _TX.c.id == bindparam("b_id"), _TX.c.stop_timestamp.is_(None)).values(bound(
        "stop_timestamp", "meter_stop", "stop_reason", "stop_id_tag", "stopped_by",
        "stopped_received_at")).returning(_TX.c.id))
_INSERT_FAILED_STOP = insert(FailedStop.__table__)
# ON CONFLICT: a concurrent resend may insert the same start between our read and our
# write; the unique constraint keeps one and we answer with its id.
_INSERT_START = DriverQuery(build=lambda db: insert_for(db, _TX).values(bound(
    "connector_pk", "id_tag", "start_timestamp", "meter_start", "reservation_id", "start_status",
    "started_received_at")).on_conflict_do_nothing().returning(_TX.c.id))
# reservation ids are the station's own (unique per station, not across the gateway)

def start_transaction(db: Db, station, call: StationCall,
                      request: StartTransactionRequest) -> StartTransactionResponse:
    """Store the transaction whatever the tag's status (the station decides, and an offline
    transaction must not be lost); a resend with the same values gets the same id."""
    connector = station_connector(db, station.id, request.connector_id, call.action)
    key = {"b_connector": connector, "b_tag": request.id_tag, "b_start": request.timestamp,
           "b_meter": request.meter_start}
    existing = _SAME_START.one_or_none(db, key)
    if existing is None:
        if call.advice is not None:  # decided outside (core.advice); stored all the same
            info = call.advice.response.id_tag_info
        else:
            info = start_info(db, request.id_tag, call.received_at, call.charge_box_id)
        transaction_id = _INSERT_START.scalar(db, dict(
            b_connector_pk=connector, b_id_tag=request.id_tag, b_start_timestamp=request.timestamp,
            b_meter_start=request.meter_start, b_reservation_id=request.reservation_id,
            b_start_status=info.status, b_started_received_at=call.received_at))
        if transaction_id is not None:
            if request.reservation_id is not None:
                reservations.use(db, station.id, request.reservation_id, connector,
                                 request.id_tag, transaction_id)
            response = StartTransactionResponse(transaction_id=transaction_id, id_tag_info=info)
            call.events.append(NewEvent(EventType.TRANSACTION_STARTED, call.charge_box_id, {
                "request": encode(request), "response": encode(response)}, call.received_at))
            return response
        existing = _SAME_START.one(db, key)
    call.quirk("resent-start", f"StartTransaction resent for transaction {existing.id}")
    info = tag_info(find_tag(db, request.id_tag), existing.started_received_at)
    info.status = existing.start_status  # the answer given the first time
    return StartTransactionResponse(transaction_id=existing.id, id_tag_info=info)


def stop_transaction(db: Db, station, call: StationCall,
                     request: StopTransactionRequest) -> StopTransactionResponse:
    """Apply a stop once. A bad stop is recorded as failed and answered normally (a Fault
    would make the station resend it forever); a duplicate of an applied stop changes nothing."""
    info = (tag_info(find_tag(db, request.id_tag), call.received_at)
            if request.id_tag else None)
    response = StopTransactionResponse(id_tag_info=info)
    stop_at = request.timestamp
    if stop_at is None:
        call.quirk("stop-without-timestamp", "StopTransaction without a usable timestamp: "
                                             "the time of receipt is used")
        stop_at = call.received_at
    lookup = {"b_id": request.transaction_id, "b_station": station.id}
    transaction = _OF_STATION.one_or_none(db, lookup)
    failure = _stop_problem(transaction, request, stop_at)
    if failure is None:
        applied = _APPLY_STOP.rows(db, dict(
            b_id=transaction.id, b_stop_timestamp=stop_at, b_meter_stop=request.meter_stop,
            b_stop_reason=request.reason, b_stop_id_tag=request.id_tag, b_stopped_by="station",
            b_stopped_received_at=call.received_at))
        if applied:
            store_meter_values(db, transaction.connector_pk, transaction.id,
                               request.transaction_data, source="StopTransaction")
            call.events.append(NewEvent(EventType.TRANSACTION_STOPPED, call.charge_box_id, {
                "transactionId": transaction.id, "stoppedBy": "station",
                "request": encode(request)}, call.received_at))
            return response
        transaction = _OF_STATION.one(db, lookup)  # stopped meanwhile: by whom?
        if transaction.stop_timestamp == stop_at and transaction.meter_stop == request.meter_stop:
            call.quirk("duplicate-stop", f"StopTransaction {transaction.id} received again")
            return response
        failure = (f"transaction already stopped at {transaction.stop_timestamp.isoformat()} "
                   f"with meterStop {transaction.meter_stop}")
    db.execute(_INSERT_FAILED_STOP, dict(
        charge_box_pk=station.id, transaction_id=request.transaction_id, stop_timestamp=stop_at,
        meter_stop=request.meter_stop, stop_reason=request.reason, id_tag=request.id_tag,
        fail_reason=failure, received_at=call.received_at))
    return response


def _stop_problem(transaction, request: StopTransactionRequest, stop_at) -> str | None:
    if transaction is None:
        return f"no transaction {request.transaction_id} for this charge box"
    if transaction.stop_timestamp is not None:
        return None  # decided after the atomic update: a duplicate or a second stop
    if stop_at < transaction.start_timestamp:
        return (f"stop at {stop_at.isoformat()} is before the start at "
                f"{transaction.start_timestamp.isoformat()}")
    if request.meter_stop is not None and request.meter_stop < transaction.meter_start:
        return f"meterStop {request.meter_stop} is below meterStart {transaction.meter_start}"
    return None


def operator_stop(db: Db, transaction_id: int, stop_at: datetime, meter_stop: int,
                  reason: str, events: EventPublisher) -> bool:
    """Stop a transaction whose StopTransaction will never come (station replaced, data lost).

    The same checks as a station's stop, but refused (``Invalid``) rather than recorded: an
    operator can correct the input. Returns False when it was stopped meanwhile (by the
    station or another operator): nothing changes then.
    """
    found = db.execute(select(_TX.c.id, _TX.c.start_timestamp, _TX.c.meter_start,
                              _CONNECTORS.c.charge_box_pk)
                       .join(_CONNECTORS, _CONNECTORS.c.id == _TX.c.connector_pk)
                       .where(_TX.c.id == transaction_id)).one_or_none()
    if found is None:
        raise NotFound(f"no transaction {transaction_id}")
    problems = {}
    if stop_at < found.start_timestamp:
        problems["stop_timestamp"] = ("the stop comes before the start "
                                      f"({found.start_timestamp:%Y-%m-%d %H:%M:%S} UTC)")
    if meter_stop < found.meter_start:
        problems["meter_stop"] = f"below the meter at start ({found.meter_start} Wh)"
    if reason not in REASONS:
        problems["reason"] = f"{reason!r} is not an OCPP stop reason"
    if problems:
        raise Invalid(problems)
    at = now()
    stopped = _APPLY_STOP.rows(db, dict(
        b_id=transaction_id, b_stop_timestamp=stop_at, b_meter_stop=meter_stop,
        b_stop_reason=reason, b_stop_id_tag=None, b_stopped_by="operator",
        b_stopped_received_at=at))
    if stopped:
        charge_box_id = db.scalar(select(ChargeBox.charge_box_id).where(
            ChargeBox.id == found.charge_box_pk))
        request = StopTransactionRequest(transaction_id=transaction_id, meter_stop=meter_stop,
                                         timestamp=stop_at, reason=reason)
        events.publish(db, [NewEvent(EventType.TRANSACTION_STOPPED, charge_box_id, {
            "transactionId": transaction_id, "stoppedBy": "operator",
            "request": encode(request)}, at)])
    return bool(stopped)


def transaction_conditions(station: str | None = None, id_tag: str | None = None,
                           active: bool | None = None, started_from: datetime | None = None,
                           started_before: datetime | None = None,
                           person_tags: Select | list[str] | None = None) -> list:
    """WHERE conditions on Transaction for the transaction lists (web UI, API, CSV);
    ``station`` needs the query to join ChargeBox through Connector; ``person_tags`` are the
    id tags of a person (core.people.tags_of_people)."""
    conditions = []
    if person_tags is not None:
        conditions.append(Transaction.id_tag.in_(person_tags))
    if station:
        conditions.append(ChargeBox.charge_box_id == station.strip())
    if id_tag:
        conditions.append(Transaction.id_tag == id_tag.strip())
    if active is not None:
        conditions.append(Transaction.stop_timestamp.is_(None) if active
                          else Transaction.stop_timestamp.is_not(None))
    if started_from:
        conditions.append(Transaction.start_timestamp >= started_from)
    if started_before:
        conditions.append(Transaction.start_timestamp < started_before)
    return conditions
