"""The central system: one handler per OCPP action, routed with a decorator.

The protocol edges call :meth:`CentralSystem.process` with a :class:`StationCall` and a
core request message, inside a database transaction they own (so that the message journal
is written in the same commit). The message, its answer (or refusal) and what it changed are
published to the event outbox in that same transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select

from soapgw.config import Settings
from soapgw.core import messages as m
from soapgw.core.advice import DECISIONS, Advice, Advisor
from soapgw.core.authorization import authorize_info
from soapgw.core.call import StationCall
from soapgw.core.connectors import station_connector
from soapgw.core.data_transfer import DataTransferRegistry
from soapgw.core.errors import ErrorCode, OcppError
from soapgw.core.enums import EventType
from soapgw.core.events import EventPublisher, NewEvent
from soapgw.core.ocppj import encode
from soapgw.core.metering import store_new_meter_values
from soapgw.core.notifications import station_status, status_notification
from soapgw.core.registration import Station, admit, may_be_advised, record_quirks
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.core.station_access import StationAccess
from soapgw.core.station_columns import update_station
from soapgw.core.transactions import start_transaction, stop_transaction
from soapgw.store.database import Db
from soapgw.store.driver_query import DriverQuery
from soapgw.store.models import Connector, DataTransferRecord, Transaction


@dataclass
class HandlerContext:
    """What a handler gets. Handlers raise OcppError only before they write anything."""

    db: Db
    station: Station | None  # None only for a BootNotification from an unknown station
    call: StationCall
    central_system: "CentralSystem"
    runtime: RuntimeSettings | None = None  # loaded for BootNotification only


# Hot-path statements in Core, built once (the ORM layer cost more than the SQL itself).
_INSERT_DATA_TRANSFER = insert(DataTransferRecord.__table__)
_TRANSACTION_OF_STATION = DriverQuery(  # every MeterValues in a transaction asks it
    select(Transaction.__table__.c.id)
    .join(Connector.__table__, Connector.__table__.c.id == Transaction.__table__.c.connector_pk)
    .where(Transaction.__table__.c.id == bindparam("b_id"),
           Connector.__table__.c.charge_box_pk == bindparam("b_station")))

_HANDLERS: dict[str, Callable[[HandlerContext, object], object]] = {}


def on(action: str):
    """Register the handler of ``action``."""
    def register(function):
        _HANDLERS[action] = function
        return function
    return register


class CentralSystem:
    def __init__(self, settings: Settings, data_transfer: DataTransferRegistry | None = None,
                 events: EventPublisher | None = None, advisors: list[Advisor] | None = None):
        self.settings = settings
        self.data_transfer = data_transfer or DataTransferRegistry()
        self.events = events or EventPublisher()
        self.advisors = list(advisors or ())
        self.access = StationAccess.of(settings)

    def wants_advice(self, call: StationCall) -> bool:
        return bool(self.advisors) and call.action in DECISIONS

    def advise(self, db: Db, call: StationCall, request) -> Advice | None:
        """Ask the advisors, in order, about a decision message; the first answer counts.
        The edge calls this before its write transaction, with a read-only ``db`` (see
        core.advice); messages of unknown, not Accepted or refused stations are not asked."""
        if not self.wants_advice(call) or not may_be_advised(db, call, self.access):
            return None
        for advisor in self.advisors:
            advice = advisor.advise(call, request)
            if advice is not None:
                return advice
        return None

    def may_be_read(self, db: Db, call: StationCall) -> bool:
        """Whether a large message is worth reading: the edge asks before reading one, with a
        read-only ``db``. A BootNotification always is (an unknown station is answered from
        it); any other only from a registered, Accepted station it may speak as. Reading a
        megabyte of meter values costs tens of milliseconds of CPU: a sender whose message
        is refused anyway must not make the gateway pay that (``process`` with no request)."""
        return call.action == "BootNotification" or may_be_advised(db, call, self.access)

    def process(self, db: Db, call: StationCall, request):
        """Admit the station, run the action's handler, record quirks; return the response.

        Raises OcppError when the station may not send this message. What the gate records
        (unknown station, last contact) is written even then: the caller commits either way.
        ``request`` None: the edge did not read the message, ``may_be_read`` having said no;
        it is refused (SecurityError) after the gate, also when the station was accepted
        between that look-up and this transaction (it sends again), and its event carries
        ``"request": null``.
        """
        handler = _HANDLERS.get(call.action)
        if handler is None:
            raise OcppError(ErrorCode.NOT_IMPLEMENTED, f"action {call.action} is not supported")
        # Only a BootNotification registers stations and tells the interval: only it reads
        # the run-time settings.
        runtime = (RuntimeSettings.load(db, self.settings)
                   if call.action == "BootNotification" else None)
        admission = admit(db, call, runtime is not None and runtime.auto_register,
                          self.settings.allowed_callback_networks, self.access)
        try:
            if admission.refusal is not None:
                admission.refuse()
            if request is None:
                raise OcppError(ErrorCode.SECURITY_ERROR, (
                    f"charge box {call.charge_box_id!r} was not allowed to send {call.action} "
                    "when the message came; send it again"))
            response = handler(HandlerContext(db, admission.station, call, self, runtime),
                               request)
        except OcppError as error:
            if admission.station is not None:
                record_quirks(db, admission.station.id, call)
            self.events.message(db, call, request, error=error)
            raise
        if admission.station is not None:
            record_quirks(db, admission.station.id, call)
        self.events.message(db, call, request, response)
        return response


@on("BootNotification")
def boot_notification(ctx: HandlerContext, request: m.BootNotificationRequest):
    interval = ctx.runtime.heartbeat_interval
    if ctx.station is None:  # an unknown station is never bridged nor advised
        return m.BootNotificationResponse(status="Rejected", current_time=ctx.call.received_at,
                                          interval=interval)
    for name in ("charge_point_vendor", "charge_point_model"):
        if getattr(request, name) is None:
            ctx.call.quirk("boot-incomplete", f"BootNotification without {name}")
    update_station(ctx.db, ctx.station.id, dict(
        vendor=request.charge_point_vendor, model=request.charge_point_model,
        charge_point_serial_number=request.charge_point_serial_number,
        charge_box_serial_number=request.charge_box_serial_number,
        firmware_version=request.firmware_version, iccid=request.iccid, imsi=request.imsi,
        meter_type=request.meter_type, meter_serial_number=request.meter_serial_number,
        last_boot_at=ctx.call.received_at))
    status = ctx.station.registration_status
    if ctx.call.advice is not None:  # the central system the station is bridged to decides
        status, interval = ctx.call.advice.response.status, ctx.call.advice.response.interval
    response = m.BootNotificationResponse(status=status, current_time=ctx.call.received_at,
                                          interval=interval)
    ctx.call.events.append(NewEvent(EventType.STATION_BOOTED, ctx.call.charge_box_id, {
        "request": encode(request), "response": encode(response)}, ctx.call.received_at))
    return response


@on("Heartbeat")
def heartbeat(ctx: HandlerContext, request: m.HeartbeatRequest):
    return m.HeartbeatResponse(current_time=ctx.call.received_at)  # liveness: see admit()


@on("Authorize")
def authorize(ctx: HandlerContext, request: m.AuthorizeRequest):
    if ctx.call.advice is not None:
        return m.AuthorizeResponse(id_tag_info=ctx.call.advice.response.id_tag_info)
    return m.AuthorizeResponse(id_tag_info=authorize_info(
        ctx.db, request.id_tag, ctx.call.received_at, ctx.call.charge_box_id))


@on("StartTransaction")
def start(ctx: HandlerContext, request: m.StartTransactionRequest):
    return start_transaction(ctx.db, ctx.station, ctx.call, request)


@on("StopTransaction")
def stop(ctx: HandlerContext, request: m.StopTransactionRequest):
    return stop_transaction(ctx.db, ctx.station, ctx.call, request)


@on("MeterValues")
def meter_values(ctx: HandlerContext, request: m.MeterValuesRequest):
    connector = station_connector(ctx.db, ctx.station.id, request.connector_id,
                                  ctx.call.action)
    transaction_pk = None
    if request.transaction_id is not None and request.transaction_id > 0:  # < 1 means none
        transaction_pk = _TRANSACTION_OF_STATION.scalar(ctx.db, {
            "b_id": request.transaction_id, "b_station": ctx.station.id})
        if transaction_pk is None:
            ctx.call.quirk("unknown-transaction",
                           f"MeterValues for unknown transaction {request.transaction_id}: "
                           "stored without a transaction")
    stored, resent = store_new_meter_values(ctx.db, connector, transaction_pk,
                                            request.meter_value)
    if resent:
        hint = f" (MessageID {ctx.call.message_id})" if ctx.call.message_id else ""
        ctx.call.quirk("resent-meter-values",
                       f"MeterValues{hint}: {resent} sampled value(s) already stored, "
                       f"{stored} new")
    return m.MeterValuesResponse()


@on("StatusNotification")
def status(ctx: HandlerContext, request: m.StatusNotificationRequest):
    status_notification(ctx.db, ctx.station, ctx.call, request)
    return m.StatusNotificationResponse()


@on("FirmwareStatusNotification")
def firmware(ctx: HandlerContext, request: m.FirmwareStatusNotificationRequest):
    station_status(ctx.db, ctx.station, ctx.call, "firmware", request.status)
    return m.FirmwareStatusNotificationResponse()


@on("DiagnosticsStatusNotification")
def diagnostics(ctx: HandlerContext, request: m.DiagnosticsStatusNotificationRequest):
    station_status(ctx.db, ctx.station, ctx.call, "diagnostics", request.status)
    return m.DiagnosticsStatusNotificationResponse()


@on("DataTransfer")
def data_transfer(ctx: HandlerContext, request: m.DataTransferRequest):
    response = (ctx.call.advice.response if ctx.call.advice is not None
                else ctx.central_system.data_transfer.answer(ctx.station.charge_box_id, request))
    ctx.db.execute(_INSERT_DATA_TRANSFER, dict(
        charge_box_pk=ctx.station.id, direction="in", vendor_id=request.vendor_id,
        message_id=request.message_id, data=request.data, status=response.status,
        response_data=response.data, received_at=ctx.call.received_at))
    return response
