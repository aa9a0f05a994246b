"""Charge points: list, create, read, change, delete; connectors with their status history."""
from __future__ import annotations

from flask import Response as FlaskResponse
from spectree import Response
from sqlalchemy import select

from soapgw.api.db import db
from soapgw.api.paging import keyset, page
from soapgw.api.present import iso, link, settings
from soapgw.api.problems import ApiProblem, invalid
from soapgw.api.routing import route
from soapgw.api.schemas import (ChargePoint, ChargePointCreate, ChargePointPage, ChargePointQuery,
                                ChargePointUpdate, ConnectorHistory, ConnectorList, PageQuery)
from soapgw.core import stations
from soapgw.core.errors import Invalid
from soapgw.core.liveness import is_online
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.store.models import ChargeBox, Connector, ConnectorStatus

TAG = "charge points"
# API field names of the service's fields, for refusals
FIELDS = {"ids": "chargeBoxId", "registration_status": "registrationStatus",
          "endpoint_address": "endpointAddress", "note": "note"}
ID_RULE = "<string(maxlength=255):charge_box_id>"


def refused(error: Invalid) -> ApiProblem:
    return invalid({FIELDS.get(k, k): v for k, v in error.problems.items()})


def view(station: ChargeBox, interval: int) -> dict:
    cb = station.charge_box_id
    return {
        "chargeBoxId": cb, "registrationStatus": station.registration_status,
        "ocppVersion": station.ocpp_version, "transport": station.ocpp_transport,
        "soapVersion": station.soap_version, "vendor": station.vendor, "model": station.model,
        "chargePointSerialNumber": station.charge_point_serial_number,
        "chargeBoxSerialNumber": station.charge_box_serial_number,
        "firmwareVersion": station.firmware_version, "iccid": station.iccid,
        "imsi": station.imsi, "meterType": station.meter_type,
        "meterSerialNumber": station.meter_serial_number,
        "endpointAddress": station.endpoint_address, "endpointSource": station.endpoint_source,
        "endpointPinned": bool(station.endpoint_pinned),
        "endpointVerdict": station.endpoint_verdict,
        "endpointVerdictReason": station.endpoint_verdict_reason,
        "localListVersion": station.local_list_version,
        "firmwareStatus": station.firmware_status,
        "diagnosticsStatus": station.diagnostics_status,
        "lastBootAt": iso(station.last_boot_at), "lastHeartbeatAt": iso(station.last_heartbeat_at),
        "lastMessageAt": iso(station.last_message_at), "offlineSince": iso(station.offline_since),
        "online": is_online(station.last_message_at, interval), "note": station.note,
        "createdAt": iso(station.created_at),
        "links": {"self": link("get_chargepoint", charge_box_id=cb),
                  "connectors": link("list_connectors", charge_box_id=cb),
                  "transactions": link("list_transactions", station=cb),
                  "journal": link("list_journal", station=cb),
                  "commands": f"{link('get_chargepoint', charge_box_id=cb)}/commands/{{action}}"}}


def _interval() -> int:
    return RuntimeSettings.load(db(), settings()).heartbeat_interval


def station_or_404(charge_box_id: str) -> ChargeBox:
    found = db().scalars(select(ChargeBox).where(
        ChargeBox.charge_box_id == charge_box_id)).one_or_none()
    if found is None:
        raise ApiProblem(404, f"no charge point {charge_box_id!r}")
    return found


@route("GET", "/chargepoints", tag=TAG, query=ChargePointQuery,
       resp=Response(HTTP_200=ChargePointPage))
def list_chargepoints(query: ChargePointQuery):
    """Registered charge points, oldest first."""
    statement = select(ChargeBox)
    if query.registrationStatus:
        statement = statement.where(ChargeBox.registration_status == query.registrationStatus)
    if query.ocppVersion:
        statement = statement.where(ChargeBox.ocpp_version == query.ocppVersion)
    rows, cursor = keyset(db(), statement, ChargeBox.id, query.limit, query.cursor,
                          descending=False, last=lambda row: row.ChargeBox.id)
    interval = _interval()
    return page([view(row.ChargeBox, interval) for row in rows], cursor)


@route("POST", "/chargepoints", scope="admin", tag=TAG, json=ChargePointCreate,
       resp=Response(HTTP_201=ChargePoint, HTTP_409=None, HTTP_422=None))
def create_chargepoint(json: ChargePointCreate):
    """Register a charge point (by its chargeBoxIdentity)."""
    session = db()
    try:
        registered = stations.register(session, [json.chargeBoxId], json.registrationStatus)
        if not registered.added:
            raise ApiProblem(409, f"the charge point {json.chargeBoxId!r} is registered already",
                             kind="exists")
        if json.endpointAddress or json.note:
            stations.update(session, stations.pk_of(session, json.chargeBoxId),
                            registration_status=json.registrationStatus, note=json.note,
                            endpoint_address=json.endpointAddress,
                            allowed_networks=settings().allowed_callback_networks)
    except Invalid as error:
        raise refused(error) from None
    session.commit()
    station = station_or_404(json.chargeBoxId)
    return view(station, _interval()), 201, {"Location": link("get_chargepoint",
                                                               charge_box_id=json.chargeBoxId)}


@route("GET", f"/chargepoints/{ID_RULE}", tag=TAG,
       resp=Response(HTTP_200=ChargePoint, HTTP_404=None))
def get_chargepoint(charge_box_id: str):
    """One charge point."""
    return view(station_or_404(charge_box_id), _interval())


@route("PATCH", f"/chargepoints/{ID_RULE}", scope="admin", tag=TAG, json=ChargePointUpdate,
       resp=Response(HTTP_200=ChargePoint, HTTP_404=None, HTTP_422=None))
def update_chargepoint(charge_box_id: str, json: ChargePointUpdate):
    """Change the registration status, the callback address (pinned when set here) or the
    note; fields left out stay as they are."""
    station = station_or_404(charge_box_id)
    given = json.model_fields_set
    address = json.endpointAddress if "endpointAddress" in given else station.endpoint_address
    session = db()
    try:
        stations.update(session, station.id,
                        registration_status=json.registrationStatus or station.registration_status,
                        note=json.note if "note" in given else station.note,
                        endpoint_address=address, unpin=json.unpinEndpoint,
                        allowed_networks=settings().allowed_callback_networks)
    except Invalid as error:
        raise refused(error) from None
    session.commit()
    session.expire_all()
    return view(station_or_404(charge_box_id), _interval())


@route("DELETE", f"/chargepoints/{ID_RULE}", scope="admin", tag=TAG,
       resp=Response(HTTP_204=None, HTTP_404=None))
def delete_chargepoint(charge_box_id: str):
    """Delete a charge point with its connectors, transactions and meter values."""
    station = station_or_404(charge_box_id)
    stations.delete_station(db(), station.id)
    db().commit()
    return FlaskResponse(status=204)


def _status(row) -> dict:
    return {"status": row.status, "errorCode": row.error_code, "info": row.info,
            "vendorId": row.vendor_id, "vendorErrorCode": row.vendor_error_code,
            "timestamp": iso(row.status_timestamp), "receivedAt": iso(row.received_at)}


@route("GET", f"/chargepoints/{ID_RULE}/connectors", tag=TAG,
       resp=Response(HTTP_200=ConnectorList, HTTP_404=None))
def list_connectors(charge_box_id: str):
    """The station's connectors (0: the station itself) with their current status."""
    station = station_or_404(charge_box_id)
    connectors = db().scalars(select(Connector).where(Connector.charge_box_pk == station.id)
                              .order_by(Connector.connector_id)).all()
    items = []
    for connector in connectors:
        latest = db().scalars(select(ConnectorStatus)
                              .where(ConnectorStatus.connector_pk == connector.id)
                              .order_by(ConnectorStatus.status_timestamp.desc(),
                                        ConnectorStatus.id.desc()).limit(1)).one_or_none()
        items.append({"connectorId": connector.connector_id,
                      "current": _status(latest) if latest else None,
                      "links": {"history": link("connector_history", charge_box_id=charge_box_id,
                                                connector_id=connector.connector_id)}})
    return {"items": items}


@route("GET", f"/chargepoints/{ID_RULE}/connectors/<int(max=1000000):connector_id>/history",
       tag=TAG, query=PageQuery, resp=Response(HTTP_200=ConnectorHistory, HTTP_404=None))
def connector_history(charge_box_id: str, connector_id: int, query: PageQuery):
    """The connector's status notifications, newest first."""
    station = station_or_404(charge_box_id)
    connector = db().scalar(select(Connector.id).where(
        Connector.charge_box_pk == station.id, Connector.connector_id == connector_id))
    if connector is None:
        raise ApiProblem(404, f"{charge_box_id!r} has reported no connector {connector_id}")
    statement = select(ConnectorStatus.id, ConnectorStatus.status, ConnectorStatus.error_code,
                       ConnectorStatus.info, ConnectorStatus.vendor_id,
                       ConnectorStatus.vendor_error_code, ConnectorStatus.status_timestamp,
                       ConnectorStatus.received_at).where(
        ConnectorStatus.connector_pk == connector)
    rows, cursor = keyset(db(), statement, ConnectorStatus.id, query.limit, query.cursor)
    return page([_status(row) for row in rows], cursor)
