"""Charging sessions: StartTransaction (idempotent) and StopTransaction (never refused)."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from soapgw.core.authorization import find_tag, start_info, tag_info
from soapgw.core.call import StationCall
from soapgw.core.connectors import connector_pk
from soapgw.core.messages import (StartTransactionRequest, StartTransactionResponse,
                                  StopTransactionRequest, StopTransactionResponse)
from soapgw.core.metering import store_meter_values
from soapgw.store.models import ChargeBox, Connector, FailedStop, Reservation, Transaction


def start_transaction(db: Session, station: ChargeBox, call: StationCall,
                      request: StartTransactionRequest) -> StartTransactionResponse:
    """Store the transaction whatever the tag's status (the station decides, and an offline
    transaction must not be lost); a resend with the same values gets the same id."""
    connector = connector_pk(db, station.id, request.connector_id)
    same_start = select(Transaction).where(
        Transaction.connector_pk == connector, Transaction.id_tag == request.id_tag,
        Transaction.start_timestamp == request.timestamp,
        Transaction.meter_start == request.meter_start)
    existing = db.scalars(same_start).one_or_none()
    if existing is not None:
        call.quirk("resent-start", f"StartTransaction resent for transaction {existing.id}")
        return _started(existing, request.id_tag, db)
    info = start_info(db, request.id_tag, call.received_at)
    transaction = Transaction(
        connector_pk=connector, id_tag=request.id_tag, start_timestamp=request.timestamp,
        meter_start=request.meter_start, reservation_id=request.reservation_id,
        start_status=info.status, started_received_at=call.received_at)
    try:
        with db.begin_nested():
            db.add(transaction)
    except IntegrityError:
        # A concurrent resend inserted it first: answer with that transaction's id.
        existing = db.scalars(same_start).one()
        return _started(existing, request.id_tag, db)
    if request.reservation_id is not None:
        _use_reservation(db, transaction, request.reservation_id)
    return StartTransactionResponse(transaction_id=transaction.id, id_tag_info=info)


def _started(transaction: Transaction, id_tag: str, db: Session) -> StartTransactionResponse:
    info = tag_info(find_tag(db, id_tag), transaction.started_received_at)
    info.status = transaction.start_status
    return StartTransactionResponse(transaction_id=transaction.id, id_tag_info=info)


def _use_reservation(db: Session, transaction: Transaction, reservation_id: int) -> None:
    """A start that names an active reservation for this connector and tag uses it up."""
    db.execute(update(Reservation).where(
        Reservation.id == reservation_id, Reservation.connector_pk == transaction.connector_pk,
        Reservation.status == "Accepted",
        (Reservation.id_tag == transaction.id_tag)
        | (Reservation.parent_id_tag == transaction.id_tag))
        .values(status="Used", transaction_pk=transaction.id))


def stop_transaction(db: Session, station: ChargeBox, call: StationCall,
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
    transaction = db.scalars(
        select(Transaction).join(Connector).where(
            Transaction.id == request.transaction_id, Connector.charge_box_pk == station.id)
    ).one_or_none()
    failure = _stop_problem(transaction, request, stop_at)
    if failure is None:
        applied = db.execute(update(Transaction).where(
            Transaction.id == transaction.id, Transaction.stop_timestamp.is_(None)).values(
            stop_timestamp=stop_at, meter_stop=request.meter_stop, stop_reason=request.reason,
            stop_id_tag=request.id_tag, stopped_by="station",
            stopped_received_at=call.received_at)
            .execution_options(synchronize_session=False)).rowcount
        if applied:
            store_meter_values(db, transaction.connector_pk, transaction.id,
                               request.transaction_data, source="StopTransaction")
            return response
        db.refresh(transaction)
        if transaction.stop_timestamp == stop_at and transaction.meter_stop == request.meter_stop:
            call.quirk("duplicate-stop", f"StopTransaction {transaction.id} received again")
            return response
        failure = (f"transaction already stopped at {transaction.stop_timestamp.isoformat()} "
                   f"with meterStop {transaction.meter_stop}")
    db.add(FailedStop(charge_box_pk=station.id, transaction_id=request.transaction_id,
                      stop_timestamp=stop_at, meter_stop=request.meter_stop,
                      stop_reason=request.reason, id_tag=request.id_tag, fail_reason=failure,
                      received_at=call.received_at))
    return response


def _stop_problem(transaction: Transaction | None, request: StopTransactionRequest,
                  stop_at) -> str | None:
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
