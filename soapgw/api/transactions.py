"""Transactions: filtered list, detail with meter values in OCPP-J shape, CSV export, and an
operator's stop of a transaction whose StopTransaction will never come."""
from __future__ import annotations

import csv
import io
from itertools import groupby

from flask import Response as FlaskResponse, stream_with_context
from spectree import Response
from sqlalchemy import select

from soapgw.api.db import db
from soapgw.api.paging import keyset, page
from soapgw.api.present import events, iso, link
from soapgw.api.problems import ApiProblem, invalid
from soapgw.api.routing import route
from soapgw.api.schemas import (ExportQuery, Transaction, TransactionDetail, TransactionPage,
                                TransactionQuery, TransactionStop)
from soapgw.core.errors import Invalid, NotFound
from soapgw.core import people
from soapgw.core.transactions import operator_stop, transaction_conditions
from soapgw.store.models import ChargeBox, Connector, MeterValueRow, Transaction as Tx

TAG = "transactions"
MAX_SAMPLES = 10_000
COLUMNS = (Tx.id, Tx.id_tag, Tx.start_timestamp, Tx.meter_start, Tx.start_status,
           Tx.reservation_id, Tx.stop_timestamp, Tx.meter_stop, Tx.stop_reason, Tx.stop_id_tag,
           Tx.stopped_by, Connector.connector_id, ChargeBox.charge_box_id)
ID_RULE = "<int(max=2147483647):transaction_id>"


def _joined():
    return (select(*COLUMNS).join(Connector, Tx.connector_pk == Connector.id)
            .join(ChargeBox, Connector.charge_box_pk == ChargeBox.id))


def _filtered(query):
    active = {"open": True, "closed": False}.get(query.state)
    return _joined().where(*transaction_conditions(query.station, query.idTag, active,
                                                   query.startedFrom, query.startedBefore,
                                                   people.tags_of_people(query.person)))


def view(row) -> dict:
    energy = row.meter_stop - row.meter_start if row.meter_stop is not None else None
    return {"transactionId": row.id, "chargeBoxId": row.charge_box_id,
            "connectorId": row.connector_id, "idTag": row.id_tag,
            "startTimestamp": iso(row.start_timestamp), "meterStart": row.meter_start,
            "startStatus": row.start_status, "reservationId": row.reservation_id,
            "stopTimestamp": iso(row.stop_timestamp), "meterStop": row.meter_stop,
            "stopReason": row.stop_reason, "stopIdTag": row.stop_id_tag,
            "stoppedBy": row.stopped_by, "energyWh": energy,
            "links": {"self": link("get_transaction", transaction_id=row.id),
                      "chargepoint": link("get_chargepoint", charge_box_id=row.charge_box_id)}}


@route("GET", "/transactions", tag=TAG, query=TransactionQuery,
       resp=Response(HTTP_200=TransactionPage))
def list_transactions(query: TransactionQuery):
    """Transactions, newest first; by station, id tag, start period, open or closed."""
    rows, cursor = keyset(db(), _filtered(query), Tx.id, query.limit, query.cursor)
    return page([view(row) for row in rows], cursor)


@route("GET", "/transactions.csv", tag=TAG, query=ExportQuery)
def export_transactions(query: ExportQuery):
    """The filtered transactions as CSV (text/csv), newest first, streamed."""
    statement = _filtered(query).order_by(Tx.id.desc())
    session = db()

    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["transactionId", "chargeBoxId", "connectorId", "idTag",
                         "startTimestamp", "meterStart", "stopTimestamp", "meterStop",
                         "energyWh", "stopReason", "stoppedBy"])
        for row in session.execute(statement.execution_options(yield_per=1000)):
            energy = row.meter_stop - row.meter_start if row.meter_stop is not None else ""
            writer.writerow([row.id, row.charge_box_id, row.connector_id, row.id_tag,
                             iso(row.start_timestamp), row.meter_start,
                             iso(row.stop_timestamp) or "", row.meter_stop or "", energy,
                             row.stop_reason or "", row.stopped_by or ""])
            if out.tell() > 65536:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return FlaskResponse(stream_with_context(lines()), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="transactions.csv"'})


def _meter_values(transaction_id: int) -> tuple[list, bool]:
    rows = db().execute(select(MeterValueRow.value_timestamp, MeterValueRow.value,
                               MeterValueRow.context, MeterValueRow.format,
                               MeterValueRow.measurand, MeterValueRow.phase,
                               MeterValueRow.location, MeterValueRow.unit)
                        .where(MeterValueRow.transaction_pk == transaction_id)
                        .order_by(MeterValueRow.value_timestamp, MeterValueRow.id)
                        .limit(MAX_SAMPLES + 1)).all()
    truncated = len(rows) > MAX_SAMPLES
    values = []
    for timestamp, samples in groupby(rows[:MAX_SAMPLES], key=lambda r: r.value_timestamp):
        values.append({"timestamp": iso(timestamp), "sampledValue": [
            {key: value for key, value in (
                ("value", s.value), ("context", s.context), ("format", s.format),
                ("measurand", s.measurand), ("phase", s.phase), ("location", s.location),
                ("unit", s.unit)) if value is not None} for s in samples]})
    return values, truncated


@route("GET", f"/transactions/{ID_RULE}", tag=TAG,
       resp=Response(HTTP_200=TransactionDetail, HTTP_404=None))
def get_transaction(transaction_id: int):
    """One transaction with its meter values."""
    row = db().execute(_joined().where(Tx.id == transaction_id)).one_or_none()
    if row is None:
        raise ApiProblem(404, f"no transaction {transaction_id}")
    values, truncated = _meter_values(transaction_id)
    return {**view(row), "meterValue": values, "meterValuesTruncated": truncated}


@route("POST", f"/transactions/{ID_RULE}/stop", scope="operate", tag=TAG,
       json=TransactionStop, resp=Response(HTTP_200=Transaction, HTTP_404=None, HTTP_409=None,
                                           HTTP_422=None))
def stop_transaction(transaction_id: int, json: TransactionStop):
    """Stop a transaction by hand (its StopTransaction will never come): 409 when it was
    stopped already."""
    session = db()
    try:
        stopped = operator_stop(session, transaction_id, json.stopTimestamp, json.meterStop,
                                json.reason, events())
    except NotFound as error:
        raise ApiProblem(404, str(error)) from None
    except Invalid as error:
        names = {"stop_timestamp": "stopTimestamp", "meter_stop": "meterStop"}
        raise invalid({names.get(k, k): v for k, v in error.problems.items()}) from None
    if not stopped:
        session.rollback()
        raise ApiProblem(409, f"transaction {transaction_id} is stopped already",
                         kind="stopped")
    session.commit()
    return view(db().execute(_joined().where(Tx.id == transaction_id)).one())
