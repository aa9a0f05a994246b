"""OCPP 1.5 ChargePointService (``urn://Ocpp/Cp/2012/06/``): what we send to stations.

Unlike 1.6 the 1.5 schema has no CiString types: keys, values, vendor ids and file names are
plain xs:string. The local list is spelt "Authorisation", and SendLocalList carries a hash.
"""
from __future__ import annotations

from soapgw.soap.schema.base import (AnyUri, Boolean, DateTime, Int, Operation, SchemaBuilder,
                                     ServiceDefinition, Unicode, charge_box_identity, optional,
                                     repeated, required)

NAMESPACE = "urn://Ocpp/Cp/2012/06/"
s = SchemaBuilder(NAMESPACE)

# --- types shared with CentralSystemService -------------------------------------------------
IdToken = s.string("IdToken", 20)
AuthorizationStatus = s.enum("AuthorizationStatus",
                             "Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")
IdTagInfo = s.complex("IdTagInfo", [
    ("status", required(AuthorizationStatus)),
    ("expiryDate", optional(DateTime)),
    ("parentIdTag", optional(IdToken)),
])

# --- UnlockConnector ------------------------------------------------------------------------
UnlockStatus = s.enum("UnlockStatus", "Accepted", "Rejected")  # 1.6: Unlocked/UnlockFailed/...
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
    ("fileName", optional(Unicode)),
])

# --- ClearCache -----------------------------------------------------------------------------
ClearCacheRequest = s.complex("ClearCacheRequest", [])
ClearCacheStatus = s.enum("ClearCacheStatus", "Accepted", "Rejected")
ClearCacheResponse = s.complex("ClearCacheResponse", [("status", required(ClearCacheStatus))])

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
    ("key", required(Unicode)),
    ("value", required(Unicode)),
])
# 1.6 adds RebootRequired and lists the values in another order
ConfigurationStatus = s.enum("ConfigurationStatus", "Accepted", "Rejected", "NotSupported")
ChangeConfigurationResponse = s.complex("ChangeConfigurationResponse", [
    ("status", required(ConfigurationStatus)),
])

# --- RemoteStartTransaction / RemoteStopTransaction -----------------------------------------
RemoteStartTransactionRequest = s.complex("RemoteStartTransactionRequest", [
    # idTag first: 1.6 swapped the two (connectorId, idTag, chargingProfile)
    ("idTag", required(IdToken)),
    ("connectorId", optional(Int)),
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
    ("vendorId", required(Unicode)),
    ("messageId", optional(Unicode)),
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
    ("key", repeated(Unicode)),
])
KeyValue = s.complex("KeyValue", [
    ("key", required(Unicode)),
    ("readonly", required(Boolean)),
    ("value", optional(Unicode)),
])
GetConfigurationResponse = s.complex("GetConfigurationResponse", [
    ("configurationKey", repeated(KeyValue)),
    ("unknownKey", repeated(Unicode)),
])

# --- GetLocalListVersion --------------------------------------------------------------------
GetLocalListVersionRequest = s.complex("GetLocalListVersionRequest", [])
GetLocalListVersionResponse = s.complex("GetLocalListVersionResponse", [
    ("listVersion", required(Int)),
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
# British spelling in 1.5 (AuthorisationData, localAuthorisationList); 1.6 uses "Authorization"
AuthorisationData = s.complex("AuthorisationData", [
    ("idTag", required(IdToken)),
    ("idTagInfo", optional(IdTagInfo)),
])
UpdateType = s.enum("UpdateType", "Differential", "Full")
SendLocalListRequest = s.complex("SendLocalListRequest", [
    ("updateType", required(UpdateType)),
    ("listVersion", required(Int)),
    ("localAuthorisationList", repeated(AuthorisationData)),
    ("hash", optional(Unicode)),
])
UpdateStatus = s.enum("UpdateStatus",
                      "Accepted", "Failed", "HashError", "NotSupported", "VersionMismatch")
SendLocalListResponse = s.complex("SendLocalListResponse", [
    ("status", required(UpdateStatus)),
    ("hash", optional(Unicode)),
])

SERVICE = ServiceDefinition(
    name="ChargePointService",
    ocpp_version="1.5",
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
        Operation("DataTransfer", DataTransferRequest, DataTransferResponse,
                  essential=("vendorId",)),
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
                  essential=("updateType", "listVersion", "localAuthorisationList.idTag")),
        Operation("UnlockConnector", UnlockConnectorRequest, UnlockConnectorResponse,
                  essential=("connectorId",)),
        Operation("UpdateFirmware", UpdateFirmwareRequest, UpdateFirmwareResponse,
                  essential=("retrieveDate", "location")),
    ),
)
