"""Version-neutral CentralSystemService messages, shaped like OCPP 1.6 (the shape OCPP-J uses).

Field names are the OCPP-J names in snake_case; enumerated values are the OCPP 1.6 strings,
typed with the enums of ``core/enums.py`` (``StrEnum``: a plain string with the same spelling
is equal to its member, and the SOAP edges, which keep a value outside the vocabulary as sent,
may store plain strings). The SOAP 1.5 and 1.6 edges and the JSON edge (``core/ocppj.py``) map
onto these types with pure functions.

A field without a default is required by the OCPP 1.6 JSON schema. Some fields the schema
requires have a default here because SOAP stations omit them and the core tolerates it
(``StatusNotificationRequest.error_code``, ``BootNotificationRequest.charge_point_vendor`` ...);
the JSON edge validates before it decodes. A list the schema requires is a ``required_list()``:
the OCPP-J payload carries it even when empty; other empty lists are left out.

The ChargePointService messages (commands to stations) are in ``core/cp_messages.py`` and
re-exported here, so ``messages.X`` names every message type.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from soapgw.core.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    Location,
    Measurand,
    Phase,
    ReadingContext,
    Reason,
    RegistrationStatus,
    UnitOfMeasure,
    ValueFormat,
)
from soapgw.core.message_parts import (  # noqa: F401 (shared by both services)
    DataTransferRequest, DataTransferResponse, IdTagInfo, required_list)

# The ChargePointService side, so that ``messages.X`` names every message type.
from soapgw.core.cp_messages import *  # noqa: F401,F403


# --- shared --------------------------------------------------------------------------------
@dataclass
class SampledValue:
    value: str
    context: ReadingContext | None = None
    format: ValueFormat | None = None
    measurand: Measurand | None = None
    phase: Phase | None = None
    location: Location | None = None
    unit: UnitOfMeasure | None = None


@dataclass
class MeterValue:
    timestamp: datetime
    sampled_value: list[SampledValue] = required_list()


# --- requests (station -> central system) and their responses ------------------------------
@dataclass
class AuthorizeRequest:
    id_tag: str


@dataclass
class AuthorizeResponse:
    id_tag_info: IdTagInfo


@dataclass
class BootNotificationRequest:
    charge_point_vendor: str | None = None
    charge_point_model: str | None = None
    charge_point_serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass
class BootNotificationResponse:
    status: RegistrationStatus
    current_time: datetime
    interval: int


@dataclass
class DiagnosticsStatusNotificationRequest:
    status: DiagnosticsStatus


@dataclass
class DiagnosticsStatusNotificationResponse:
    pass


@dataclass
class FirmwareStatusNotificationRequest:
    status: FirmwareStatus


@dataclass
class FirmwareStatusNotificationResponse:
    pass


@dataclass
class HeartbeatRequest:
    pass


@dataclass
class HeartbeatResponse:
    current_time: datetime


@dataclass
class MeterValuesRequest:
    connector_id: int
    transaction_id: int | None = None
    meter_value: list[MeterValue] = required_list()


@dataclass
class MeterValuesResponse:
    pass


@dataclass
class StartTransactionRequest:
    connector_id: int
    id_tag: str
    timestamp: datetime
    meter_start: int
    reservation_id: int | None = None


@dataclass
class StartTransactionResponse:
    transaction_id: int
    id_tag_info: IdTagInfo


@dataclass
class StatusNotificationRequest:
    connector_id: int
    status: ChargePointStatus
    error_code: ChargePointErrorCode | None = None
    info: str | None = None
    timestamp: datetime | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass
class StatusNotificationResponse:
    pass


@dataclass
class StopTransactionRequest:
    transaction_id: int
    meter_stop: int | None = None
    timestamp: datetime | None = None
    id_tag: str | None = None
    reason: Reason | None = None
    transaction_data: list[MeterValue] = field(default_factory=list)


@dataclass
class StopTransactionResponse:
    id_tag_info: IdTagInfo | None = None


# Action name -> (request type, response type): the ten CentralSystemService operations.
ACTIONS: dict[str, tuple[type, type]] = {
    "Authorize": (AuthorizeRequest, AuthorizeResponse),
    "BootNotification": (BootNotificationRequest, BootNotificationResponse),
    "DataTransfer": (DataTransferRequest, DataTransferResponse),
    "DiagnosticsStatusNotification": (DiagnosticsStatusNotificationRequest,
                                      DiagnosticsStatusNotificationResponse),
    "FirmwareStatusNotification": (FirmwareStatusNotificationRequest,
                                   FirmwareStatusNotificationResponse),
    "Heartbeat": (HeartbeatRequest, HeartbeatResponse),
    "MeterValues": (MeterValuesRequest, MeterValuesResponse),
    "StartTransaction": (StartTransactionRequest, StartTransactionResponse),
    "StatusNotification": (StatusNotificationRequest, StatusNotificationResponse),
    "StopTransaction": (StopTransactionRequest, StopTransactionResponse),
}
