"""Version-neutral ChargePointService messages (commands to stations and their answers).

Shaped like OCPP 1.6 as ``core/messages.py`` is (read its docstring for the rules): the OCPP-J
field names in snake_case, every field the OCPP 1.6 JSON schemas allow, fields without a
default being the required ones. Charging limits are Decimal (the schema's ``multipleOf: 0.1``
is exact only in decimal). Import them from ``core/messages.py``, which re-exports this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from soapgw.core.enums import (
    AvailabilityStatus,
    AvailabilityType,
    CancelReservationStatus,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    GetCompositeScheduleStatus,
    MessageTrigger,
    RecurrencyKind,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateStatus,
    UpdateType,
)
from soapgw.core.message_parts import (
    DataTransferRequest,
    DataTransferResponse,
    IdTagInfo,
    required_list,
)

__all__ = [
    "ChargingSchedulePeriod", "ChargingSchedule", "ChargingProfile", "AuthorizationData",
    "KeyValue",
    "CancelReservationRequest", "CancelReservationResponse",
    "ChangeAvailabilityRequest", "ChangeAvailabilityResponse",
    "ChangeConfigurationRequest", "ChangeConfigurationResponse",
    "ClearCacheRequest", "ClearCacheResponse",
    "ClearChargingProfileRequest", "ClearChargingProfileResponse",
    "GetCompositeScheduleRequest", "GetCompositeScheduleResponse",
    "GetConfigurationRequest", "GetConfigurationResponse",
    "GetDiagnosticsRequest", "GetDiagnosticsResponse",
    "GetLocalListVersionRequest", "GetLocalListVersionResponse",
    "RemoteStartTransactionRequest", "RemoteStartTransactionResponse",
    "RemoteStopTransactionRequest", "RemoteStopTransactionResponse",
    "ReserveNowRequest", "ReserveNowResponse",
    "ResetRequest", "ResetResponse",
    "SendLocalListRequest", "SendLocalListResponse",
    "SetChargingProfileRequest", "SetChargingProfileResponse",
    "TriggerMessageRequest", "TriggerMessageResponse",
    "UnlockConnectorRequest", "UnlockConnectorResponse",
    "UpdateFirmwareRequest", "UpdateFirmwareResponse",
    "CHARGE_POINT_ACTIONS",
]


# --- shared --------------------------------------------------------------------------------
@dataclass
class ChargingSchedulePeriod:
    start_period: int  # seconds from the start of the schedule
    limit: Decimal  # in the schedule's charging rate unit, one decimal
    number_phases: int | None = None


@dataclass
class ChargingSchedule:
    charging_rate_unit: ChargingRateUnitType
    charging_schedule_period: list[ChargingSchedulePeriod] = required_list()
    duration: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: Decimal | None = None


@dataclass
class ChargingProfile:
    charging_profile_id: int
    stack_level: int
    charging_profile_purpose: ChargingProfilePurposeType
    charging_profile_kind: ChargingProfileKindType
    charging_schedule: ChargingSchedule
    transaction_id: int | None = None
    recurrency_kind: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass
class AuthorizationData:
    """One entry of a local authorization list (SendLocalList)."""

    id_tag: str
    id_tag_info: IdTagInfo | None = None  # absent in a differential update: remove the tag


@dataclass
class KeyValue:
    """One configuration key in GetConfiguration.conf."""

    key: str
    readonly: bool
    value: str | None = None


# --- requests (central system -> station) and their responses -------------------------------
@dataclass
class CancelReservationRequest:
    reservation_id: int


@dataclass
class CancelReservationResponse:
    status: CancelReservationStatus


@dataclass
class ChangeAvailabilityRequest:
    connector_id: int
    type: AvailabilityType


@dataclass
class ChangeAvailabilityResponse:
    status: AvailabilityStatus


@dataclass
class ChangeConfigurationRequest:
    key: str
    value: str


@dataclass
class ChangeConfigurationResponse:
    status: ConfigurationStatus


@dataclass
class ClearCacheRequest:
    pass


@dataclass
class ClearCacheResponse:
    status: ClearCacheStatus


@dataclass
class ClearChargingProfileRequest:
    id: int | None = None
    connector_id: int | None = None
    charging_profile_purpose: ChargingProfilePurposeType | None = None
    stack_level: int | None = None


@dataclass
class ClearChargingProfileResponse:
    status: ClearChargingProfileStatus


@dataclass
class GetCompositeScheduleRequest:
    connector_id: int
    duration: int
    charging_rate_unit: ChargingRateUnitType | None = None


@dataclass
class GetCompositeScheduleResponse:
    status: GetCompositeScheduleStatus
    connector_id: int | None = None
    schedule_start: datetime | None = None
    charging_schedule: ChargingSchedule | None = None


@dataclass
class GetConfigurationRequest:
    key: list[str] = field(default_factory=list)  # empty: every key


@dataclass
class GetConfigurationResponse:
    configuration_key: list[KeyValue] = field(default_factory=list)
    unknown_key: list[str] = field(default_factory=list)


@dataclass
class GetDiagnosticsRequest:
    location: str  # URI the station uploads to
    retries: int | None = None
    retry_interval: int | None = None
    start_time: datetime | None = None
    stop_time: datetime | None = None


@dataclass
class GetDiagnosticsResponse:
    file_name: str | None = None


@dataclass
class GetLocalListVersionRequest:
    pass


@dataclass
class GetLocalListVersionResponse:
    list_version: int


@dataclass
class RemoteStartTransactionRequest:
    id_tag: str
    connector_id: int | None = None
    charging_profile: ChargingProfile | None = None


@dataclass
class RemoteStartTransactionResponse:
    status: RemoteStartStopStatus


@dataclass
class RemoteStopTransactionRequest:
    transaction_id: int


@dataclass
class RemoteStopTransactionResponse:
    status: RemoteStartStopStatus


@dataclass
class ReserveNowRequest:
    connector_id: int
    expiry_date: datetime
    id_tag: str
    reservation_id: int
    parent_id_tag: str | None = None


@dataclass
class ReserveNowResponse:
    status: ReservationStatus


@dataclass
class ResetRequest:
    type: ResetType


@dataclass
class ResetResponse:
    status: ResetStatus


@dataclass
class SendLocalListRequest:
    list_version: int
    update_type: UpdateType
    local_authorization_list: list[AuthorizationData] = field(default_factory=list)


@dataclass
class SendLocalListResponse:
    status: UpdateStatus


@dataclass
class SetChargingProfileRequest:
    connector_id: int
    cs_charging_profiles: ChargingProfile


@dataclass
class SetChargingProfileResponse:
    status: ChargingProfileStatus


@dataclass
class TriggerMessageRequest:
    requested_message: MessageTrigger
    connector_id: int | None = None


@dataclass
class TriggerMessageResponse:
    status: TriggerMessageStatus


@dataclass
class UnlockConnectorRequest:
    connector_id: int


@dataclass
class UnlockConnectorResponse:
    status: UnlockStatus


@dataclass
class UpdateFirmwareRequest:
    location: str  # URI the station downloads from
    retrieve_date: datetime
    retries: int | None = None
    retry_interval: int | None = None


@dataclass
class UpdateFirmwareResponse:
    pass


# Action name -> (request type, response type): the nineteen ChargePointService operations.
CHARGE_POINT_ACTIONS: dict[str, tuple[type, type]] = {
    "CancelReservation": (CancelReservationRequest, CancelReservationResponse),
    "ChangeAvailability": (ChangeAvailabilityRequest, ChangeAvailabilityResponse),
    "ChangeConfiguration": (ChangeConfigurationRequest, ChangeConfigurationResponse),
    "ClearCache": (ClearCacheRequest, ClearCacheResponse),
    "ClearChargingProfile": (ClearChargingProfileRequest, ClearChargingProfileResponse),
    "DataTransfer": (DataTransferRequest, DataTransferResponse),
    "GetCompositeSchedule": (GetCompositeScheduleRequest, GetCompositeScheduleResponse),
    "GetConfiguration": (GetConfigurationRequest, GetConfigurationResponse),
    "GetDiagnostics": (GetDiagnosticsRequest, GetDiagnosticsResponse),
    "GetLocalListVersion": (GetLocalListVersionRequest, GetLocalListVersionResponse),
    "RemoteStartTransaction": (RemoteStartTransactionRequest, RemoteStartTransactionResponse),
    "RemoteStopTransaction": (RemoteStopTransactionRequest, RemoteStopTransactionResponse),
    "ReserveNow": (ReserveNowRequest, ReserveNowResponse),
    "Reset": (ResetRequest, ResetResponse),
    "SendLocalList": (SendLocalListRequest, SendLocalListResponse),
    "SetChargingProfile": (SetChargingProfileRequest, SetChargingProfileResponse),
    "TriggerMessage": (TriggerMessageRequest, TriggerMessageResponse),
    "UnlockConnector": (UnlockConnectorRequest, UnlockConnectorResponse),
    "UpdateFirmware": (UpdateFirmwareRequest, UpdateFirmwareResponse),
}
