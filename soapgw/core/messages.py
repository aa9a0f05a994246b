"""Version-neutral CentralSystemService messages, shaped like OCPP 1.6 (the shape OCPP-J uses).

Field names are the OCPP-J names in snake_case; enumerated values are the OCPP 1.6 strings.
The SOAP 1.5 and 1.6 edges and the JSON edge map onto these types with pure functions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


# --- shared --------------------------------------------------------------------------------
@dataclass
class IdTagInfo:
    status: str  # Accepted | Blocked | Expired | Invalid | ConcurrentTx
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None


@dataclass
class SampledValue:
    value: str
    context: str | None = None
    format: str | None = None
    measurand: str | None = None
    phase: str | None = None
    location: str | None = None
    unit: str | None = None


@dataclass
class MeterValue:
    timestamp: datetime
    sampled_value: list[SampledValue] = field(default_factory=list)


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
    status: str  # Accepted | Pending | Rejected
    current_time: datetime
    interval: int


@dataclass
class DataTransferRequest:
    vendor_id: str
    message_id: str | None = None
    data: str | None = None


@dataclass
class DataTransferResponse:
    status: str  # Accepted | Rejected | UnknownMessageId | UnknownVendorId
    data: str | None = None


@dataclass
class DiagnosticsStatusNotificationRequest:
    status: str


@dataclass
class DiagnosticsStatusNotificationResponse:
    pass


@dataclass
class FirmwareStatusNotificationRequest:
    status: str


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
    meter_value: list[MeterValue] = field(default_factory=list)


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
    status: str
    error_code: str | None = None
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
    reason: str | None = None
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
