"""Status notifications: connector status log, firmware and diagnostics status."""
from __future__ import annotations

from sqlalchemy import bindparam, insert, select

from soapgw.core import reservations
from soapgw.core.call import StationCall
from soapgw.core.enums import EventType
from soapgw.core.events import NewEvent
from soapgw.core.ocppj import encode
from soapgw.core.connectors import station_connector
from soapgw.core.messages import StatusNotificationRequest
from soapgw.core.station_columns import update_station
from soapgw.store.database import Db
from soapgw.store.driver_query import DriverQuery, bound
from soapgw.store.models import ConnectorStatus

# Built once: StatusNotification is the commonest message after Heartbeat and MeterValues.
_STATUS = ConnectorStatus.__table__
_INSERT_STATUS = DriverQuery(  # every StatusNotification writes it (store.driver_query)
    insert(_STATUS).values(bound("connector_pk", "status", "error_code", "info", "vendor_id",
                                 "vendor_error_code", "status_timestamp", "received_at")))
_LATEST_STATUS = DriverQuery(  # every StatusNotification asks it (store.driver_query)
    select(_STATUS.c.status, _STATUS.c.error_code, _STATUS.c.status_timestamp)
    .where(_STATUS.c.connector_pk == bindparam("b_connector"))
    .order_by(_STATUS.c.status_timestamp.desc(), _STATUS.c.id.desc()).limit(1))


def status_notification(db: Db, station, call: StationCall,
                        request: StatusNotificationRequest) -> None:
    connector = station_connector(db, station.id, request.connector_id, call.action)
    timestamp = request.timestamp
    if timestamp is None:
        timestamp = call.received_at  # "missing timestamp means now"
    previous = _LATEST_STATUS.one_or_none(db, {"b_connector": connector})
    # The current status is the latest by timestamp: a late, older notification changes nothing.
    if previous is None or (timestamp >= previous.status_timestamp and (
            (request.status, request.error_code) != (previous.status, previous.error_code))):
        call.events.append(NewEvent(EventType.CONNECTOR_STATUS, call.charge_box_id, {
            "statusNotification": encode(request),
            "previousStatus": previous.status if previous is not None else None},
            call.received_at))
    _INSERT_STATUS.rows(db, dict(
        b_connector_pk=connector, b_status=request.status, b_error_code=request.error_code,
        b_info=request.info, b_vendor_id=request.vendor_id,
        b_vendor_error_code=request.vendor_error_code, b_status_timestamp=timestamp,
        b_received_at=call.received_at))
    reservations.end_on_connector(db, connector, request.status)


def station_status(db: Db, station, call: StationCall, kind: str, status: str) -> None:
    """Firmware or diagnostics status of the whole station (``kind``: firmware | diagnostics),
    with the time it was received."""
    update_station(db, station.id, {f"{kind}_status": status,
                                    f"{kind}_status_at": call.received_at})
