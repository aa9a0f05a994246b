"""OCPP 1.6 ChargePointService (``urn://Ocpp/Cp/2015/10/``): what we send to stations."""
from __future__ import annotations

from soapgw.soap.schema.base import (AnyUri, Boolean, DateTime, Decimal, Int, Operation,
                                     SchemaBuilder, ServiceDefinition, Unicode,
                                     charge_box_identity, optional, repeated, required)

NAMESPACE = "urn://Ocpp/Cp/2015/10/"
s = SchemaBuilder(NAMESPACE)

# --- types shared with CentralSystemService -------------------------------------------------
IdToken = s.string("IdToken", 20)
# xs:decimal restricted to one fraction digit (charging limits and rates); the builder only
# makes string restrictions, so this named simple type is spelled out here.
DecimalOne: type[Decimal] = type("DecimalOne", (Decimal,), {
    "__namespace__": NAMESPACE, "__type_name__": "DecimalOne",
    "Attributes": type("Attributes", (Decimal.Attributes,), {"fraction_digits": 1})})
CiString20Type = s.string("CiString20Type", 20)
CiString25Type = s.string("CiString25Type", 25)
CiString50Type = s.string("CiString50Type", 50)
CiString255Type = s.string("CiString255Type", 255)
CiString500Type = s.string("CiString500Type", 500)
AuthorizationStatus = s.enum("AuthorizationStatus",
                             "Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")
IdTagInfo = s.complex("IdTagInfo", [
    ("status", required(AuthorizationStatus)),
    ("expiryDate", optional(DateTime)),
    ("parentIdTag", optional(IdToken)),
])

# --- UnlockConnector ------------------------------------------------------------------------
UnlockStatus = s.enum("UnlockStatus", "Unlocked", "UnlockFailed", "NotSupported")
UnlockConnectorRequest = s.complex("UnlockConnectorRequest", [
    ("connectorId", required(Int)),
])
UnlockConnectorResponse = s.complex("UnlockConnectorResponse", [
    ("status", required(UnlockStatus)),
])

# --- Reset ----------------------------------------------------------------------------------
ResetType = s.enum("ResetType", "Hard", "Soft")
ResetRequest = s.complex("ResetRequest", [("type", required(ResetType))])
ResetStatus = s.enum("ResetStatus", "Accepted", "Rejected")
ResetResponse = s.complex("ResetResponse", [("status", required(ResetStatus))])

# --- ChangeAvailability ---------------------------------------------------------------------
AvailabilityType = s.enum("AvailabilityType", "Inoperative", "Operative")
ChangeAvailabilityRequest = s.complex("ChangeAvailabilityRequest", [
    ("connectorId", required(Int)),
    ("type", required(AvailabilityType)),
])
AvailabilityStatus = s.enum("AvailabilityStatus", "Accepted", "Rejected", "Scheduled")
ChangeAvailabilityResponse = s.complex("ChangeAvailabilityResponse", [
    ("status", required(AvailabilityStatus)),
])

# --- GetDiagnostics -------------------------------------------------------------------------
GetDiagnosticsRequest = s.complex("GetDiagnosticsRequest", [
    ("location", required(AnyUri)),
    ("startTime", optional(DateTime)),
    ("stopTime", optional(DateTime)),
    ("retries", optional(Int)),
    ("retryInterval", optional(Int)),
])
GetDiagnosticsResponse = s.complex("GetDiagnosticsResponse", [
    ("fileName", optional(CiString255Type)),
])

# --- ClearCache -----------------------------------------------------------------------------
ClearCacheRequest = s.complex("ClearCacheRequest", [])
ClearCacheStatus = s.enum("ClearCacheStatus", "Accepted", "Rejected")
ClearCacheResponse = s.complex("ClearCacheResponse", [("status", required(ClearCacheStatus))])

# --- ClearChargingProfile -------------------------------------------------------------------
ChargingProfilePurposeType = s.enum("ChargingProfilePurposeType",
                                    "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")
ClearChargingProfileRequest = s.complex("ClearChargingProfileRequest", [
    ("id", optional(Int)),
    ("connectorId", optional(Int)),
    ("chargingProfilePurpose", optional(ChargingProfilePurposeType)),
    ("stackLevel", optional(Int)),
])
ClearChargingProfileStatus = s.enum("ClearChargingProfileStatus", "Accepted", "Unknown")
ClearChargingProfileResponse = s.complex("ClearChargingProfileResponse", [
    ("status", required(ClearChargingProfileStatus)),
])

# --- UpdateFirmware -------------------------------------------------------------------------
UpdateFirmwareRequest = s.complex("UpdateFirmwareRequest", [
    ("retrieveDate", required(DateTime)),
    ("location", required(AnyUri)),
    ("retries", optional(Int)),
    ("retryInterval", optional(Int)),
])
UpdateFirmwareResponse = s.complex("UpdateFirmwareResponse", [])

# --- ChangeConfiguration --------------------------------------------------------------------
ChangeConfigurationRequest = s.complex("ChangeConfigurationRequest", [
    ("key", required(CiString50Type)),
    ("value", required(CiString500Type)),
])
ConfigurationStatus = s.enum("ConfigurationStatus",
                             "Accepted", "NotSupported", "RebootRequired", "Rejected")
ChangeConfigurationResponse = s.complex("ChangeConfigurationResponse", [
    ("status", required(ConfigurationStatus)),
])

# --- charging profiles (declared after GetLocalListVersion in the WSDL; needed earlier here
#     because RemoteStartTransaction refers to ChargingProfile) -------------------------------
ChargingRateUnitType = s.enum("ChargingRateUnitType", "W", "A")
ChargingSchedulePeriod = s.complex("ChargingSchedulePeriod", [
    ("startPeriod", required(Int)),
    ("limit", required(DecimalOne)),
    ("numberPhases", optional(Int)),
])
ChargingSchedule = s.complex("ChargingSchedule", [
    ("duration", optional(Int)),
    ("startSchedule", optional(DateTime)),
    ("chargingRateUnit", required(ChargingRateUnitType)),
    ("chargingSchedulePeriod", repeated(ChargingSchedulePeriod, min_occurs=1)),
    ("minChargingRate", optional(DecimalOne)),
])
ChargingProfileKindType = s.enum("ChargingProfileKindType", "Absolute", "Recurring", "Relative")
RecurrencyKindType = s.enum("RecurrencyKindType", "Daily", "Weekly")
ChargingProfile = s.complex("ChargingProfile", [
    ("chargingProfileId", required(Int)),
    ("transactionId", optional(Int)),
    ("stackLevel", required(Int)),
    ("chargingProfilePurpose", required(ChargingProfilePurposeType)),
    ("chargingProfileKind", required(ChargingProfileKindType)),
    ("recurrencyKind", optional(RecurrencyKindType)),
    ("validFrom", optional(DateTime)),
    ("validTo", optional(DateTime)),
    ("chargingSchedule", required(ChargingSchedule)),
])

# --- RemoteStartTransaction / RemoteStopTransaction -----------------------------------------
RemoteStartTransactionRequest = s.complex("RemoteStartTransactionRequest", [
    ("connectorId", optional(Int)),
    ("idTag", required(IdToken)),
    ("chargingProfile", optional(ChargingProfile)),
])
RemoteStartStopStatus = s.enum("RemoteStartStopStatus", "Accepted", "Rejected")
RemoteStartTransactionResponse = s.complex("RemoteStartTransactionResponse", [
    ("status", required(RemoteStartStopStatus)),
])
RemoteStopTransactionRequest = s.complex("RemoteStopTransactionRequest", [
    ("transactionId", required(Int)),
])
RemoteStopTransactionResponse = s.complex("RemoteStopTransactionResponse", [
    ("status", required(RemoteStartStopStatus)),
])

# --- CancelReservation ----------------------------------------------------------------------
CancelReservationRequest = s.complex("CancelReservationRequest", [
    ("reservationId", required(Int)),
])
CancelReservationStatus = s.enum("CancelReservationStatus", "Accepted", "Rejected")
CancelReservationResponse = s.complex("CancelReservationResponse", [
    ("status", required(CancelReservationStatus)),
])

# --- DataTransfer ---------------------------------------------------------------------------
DataTransferRequest = s.complex("DataTransferRequest", [
    ("vendorId", required(CiString255Type)),
    ("messageId", optional(CiString50Type)),
    ("data", optional(Unicode)),
])
DataTransferStatus = s.enum("DataTransferStatus", "Accepted", "Rejected", "UnknownMessageId",
                            "UnknownVendorId")
DataTransferResponse = s.complex("DataTransferResponse", [
    ("status", required(DataTransferStatus)),
    ("data", optional(Unicode)),
])

# --- GetConfiguration -----------------------------------------------------------------------
GetConfigurationRequest = s.complex("GetConfigurationRequest", [
    ("key", repeated(CiString50Type)),
])
KeyValue = s.complex("KeyValue", [
    ("key", required(CiString50Type)),
    ("readonly", required(Boolean)),
    ("value", optional(CiString500Type)),
])
GetConfigurationResponse = s.complex("GetConfigurationResponse", [
    ("configurationKey", repeated(KeyValue)),
    ("unknownKey", repeated(CiString50Type)),
])

# --- GetLocalListVersion --------------------------------------------------------------------
GetLocalListVersionRequest = s.complex("GetLocalListVersionRequest", [])
GetLocalListVersionResponse = s.complex("GetLocalListVersionResponse", [
    ("listVersion", required(Int)),
])

# --- GetCompositeSchedule -------------------------------------------------------------------
GetCompositeScheduleRequest = s.complex("GetCompositeScheduleRequest", [
    ("connectorId", required(Int)),
    ("duration", required(Int)),
    ("chargingRateUnit", optional(ChargingRateUnitType)),
])
GetCompositeScheduleStatus = s.enum("GetCompositeScheduleStatus", "Accepted", "Rejected")
GetCompositeScheduleResponse = s.complex("GetCompositeScheduleResponse", [
    ("status", required(GetCompositeScheduleStatus)),
    ("connectorId", optional(Int)),
    ("scheduleStart", optional(DateTime)),
    ("chargingSchedule", optional(ChargingSchedule)),
])

# --- ReserveNow -----------------------------------------------------------------------------
ReserveNowRequest = s.complex("ReserveNowRequest", [
    ("connectorId", required(Int)),
    ("expiryDate", required(DateTime)),
    ("idTag", required(IdToken)),
    ("parentIdTag", optional(IdToken)),
    ("reservationId", required(Int)),
])
ReservationStatus = s.enum("ReservationStatus",
                           "Accepted", "Faulted", "Occupied", "Rejected", "Unavailable")
ReserveNowResponse = s.complex("ReserveNowResponse", [("status", required(ReservationStatus))])

# --- SendLocalList --------------------------------------------------------------------------
AuthorizationData = s.complex("AuthorizationData", [
    ("idTag", required(IdToken)),
    ("idTagInfo", optional(IdTagInfo)),
])
UpdateType = s.enum("UpdateType", "Differential", "Full")
SendLocalListRequest = s.complex("SendLocalListRequest", [
    ("listVersion", required(Int)),
    ("localAuthorizationList", repeated(AuthorizationData)),
    ("updateType", required(UpdateType)),
])
UpdateStatus = s.enum("UpdateStatus", "Accepted", "Failed", "NotSupported", "VersionMismatch")
SendLocalListResponse = s.complex("SendLocalListResponse", [("status", required(UpdateStatus))])

# --- SetChargingProfile ---------------------------------------------------------------------
SetChargingProfileRequest = s.complex("SetChargingProfileRequest", [
    ("connectorId", required(Int)),
    # one profile, despite the plural name
    ("csChargingProfiles", required(ChargingProfile)),
])
ChargingProfileStatus = s.enum("ChargingProfileStatus", "Accepted", "Rejected", "NotSupported")
SetChargingProfileResponse = s.complex("SetChargingProfileResponse", [
    ("status", required(ChargingProfileStatus)),
])

# --- TriggerMessage -------------------------------------------------------------------------
MessageTrigger = s.enum("MessageTrigger", "BootNotification", "DiagnosticsStatusNotification",
                        "FirmwareStatusNotification", "Heartbeat", "MeterValues",
                        "StatusNotification")
TriggerMessageRequest = s.complex("TriggerMessageRequest", [
    ("requestedMessage", required(MessageTrigger)),
    ("connectorId", optional(Int)),
])
TriggerMessageStatus = s.enum("TriggerMessageStatus", "Accepted", "Rejected", "NotImplemented")
TriggerMessageResponse = s.complex("TriggerMessageResponse", [
    ("status", required(TriggerMessageStatus)),
])

_PROFILE = "csChargingProfiles"
_SCHEDULE = f"{_PROFILE}.chargingSchedule"

SERVICE = ServiceDefinition(
    name="ChargePointService",
    ocpp_version="1.6",
    namespace=NAMESPACE,
    header=charge_box_identity(NAMESPACE),
    operations=(
        Operation("CancelReservation", CancelReservationRequest, CancelReservationResponse,
                  essential=("reservationId",)),
        Operation("ChangeAvailability", ChangeAvailabilityRequest, ChangeAvailabilityResponse,
                  essential=("connectorId", "type")),
        Operation("ChangeConfiguration", ChangeConfigurationRequest, ChangeConfigurationResponse,
                  essential=("key", "value")),
        Operation("ClearCache", ClearCacheRequest, ClearCacheResponse),
        # every field is a filter: an empty request clears all profiles
        Operation("ClearChargingProfile", ClearChargingProfileRequest,
                  ClearChargingProfileResponse),
        Operation("DataTransfer", DataTransferRequest, DataTransferResponse,
                  essential=("vendorId",)),
        Operation("GetCompositeSchedule", GetCompositeScheduleRequest,
                  GetCompositeScheduleResponse, essential=("connectorId", "duration")),
        Operation("GetConfiguration", GetConfigurationRequest, GetConfigurationResponse),
        Operation("GetDiagnostics", GetDiagnosticsRequest, GetDiagnosticsResponse,
                  essential=("location",)),
        Operation("GetLocalListVersion", GetLocalListVersionRequest,
                  GetLocalListVersionResponse),
        Operation("RemoteStartTransaction", RemoteStartTransactionRequest,
                  RemoteStartTransactionResponse, essential=("idTag",)),
        Operation("RemoteStopTransaction", RemoteStopTransactionRequest,
                  RemoteStopTransactionResponse, essential=("transactionId",)),
        Operation("ReserveNow", ReserveNowRequest, ReserveNowResponse,
                  essential=("connectorId", "expiryDate", "idTag", "reservationId")),
        Operation("Reset", ResetRequest, ResetResponse, essential=("type",)),
        Operation("SendLocalList", SendLocalListRequest, SendLocalListResponse,
                  essential=("listVersion", "updateType", "localAuthorizationList.idTag")),
        Operation("SetChargingProfile", SetChargingProfileRequest, SetChargingProfileResponse,
                  essential=("connectorId", _PROFILE, f"{_PROFILE}.chargingProfileId",
                             f"{_PROFILE}.stackLevel", f"{_PROFILE}.chargingProfilePurpose",
                             f"{_PROFILE}.chargingProfileKind", f"{_SCHEDULE}.chargingRateUnit",
                             f"{_SCHEDULE}.chargingSchedulePeriod.startPeriod",
                             f"{_SCHEDULE}.chargingSchedulePeriod.limit")),
        Operation("TriggerMessage", TriggerMessageRequest, TriggerMessageResponse,
                  essential=("requestedMessage",)),
        Operation("UnlockConnector", UnlockConnectorRequest, UnlockConnectorResponse,
                  essential=("connectorId",)),
        Operation("UpdateFirmware", UpdateFirmwareRequest, UpdateFirmwareResponse,
                  essential=("retrieveDate", "location")),
    ),
)
