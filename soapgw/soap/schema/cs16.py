"""OCPP 1.6 CentralSystemService (``urn://Ocpp/Cs/2015/10/``): what stations send us."""
from __future__ import annotations

from soapgw.soap.schema.base import (DateTime, Int, Operation, SchemaBuilder, ServiceDefinition,
                                     Unicode, charge_box_identity, optional, repeated, required)

NAMESPACE = "urn://Ocpp/Cs/2015/10/"
s = SchemaBuilder(NAMESPACE)

# --- types shared with ChargePointService ---------------------------------------------------
IdToken = s.string("IdToken", 20)
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

# --- Authorize ------------------------------------------------------------------------------
AuthorizeRequest = s.complex("AuthorizeRequest", [("idTag", required(IdToken))])
AuthorizeResponse = s.complex("AuthorizeResponse", [("idTagInfo", required(IdTagInfo))])

# --- StartTransaction / StopTransaction -----------------------------------------------------
StartTransactionRequest = s.complex("StartTransactionRequest", [
    ("connectorId", required(Int)),
    ("idTag", required(IdToken)),
    ("timestamp", required(DateTime)),
    ("meterStart", required(Int)),
    ("reservationId", optional(Int)),
])
StartTransactionResponse = s.complex("StartTransactionResponse", [
    ("transactionId", required(Int)),
    ("idTagInfo", required(IdTagInfo)),
])
Reason = s.enum("Reason", "EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other",
                "PowerLoss", "Reboot", "Remote", "SoftReset", "UnlockCommand", "DeAuthorized")

# --- MeterValues ----------------------------------------------------------------------------
ReadingContext = s.enum("ReadingContext", "Interruption.Begin", "Interruption.End", "Other",
                        "Sample.Clock", "Sample.Periodic", "Transaction.Begin",
                        "Transaction.End", "Trigger")
Measurand = s.enum(
    "Measurand", "Current.Export", "Current.Import", "Current.Offered",
    "Energy.Active.Export.Register", "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval", "Frequency",
    "Power.Active.Export", "Power.Active.Import", "Power.Factor", "Power.Offered",
    "Power.Reactive.Export", "Power.Reactive.Import", "RPM", "SoC", "Temperature", "Voltage")
ValueFormat = s.enum("ValueFormat", "Raw", "SignedData")
UnitOfMeasure = s.enum("UnitOfMeasure", "Celsius", "Fahrenheit", "Wh", "kWh", "varh", "kvarh",
                       "W", "kW", "VA", "kVA", "var", "kvar", "A", "V", "K", "Percent")
Phase = s.enum("Phase", "L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1")
Location = s.enum("Location", "Body", "Cable", "EV", "Inlet", "Outlet")
SampledValue = s.complex("SampledValue", [
    ("value", required(Unicode)),
    ("context", optional(ReadingContext)),
    ("format", optional(ValueFormat)),
    ("measurand", optional(Measurand)),
    ("phase", optional(Phase)),
    ("location", optional(Location)),
    ("unit", optional(UnitOfMeasure)),
])
MeterValue = s.complex("MeterValue", [
    ("timestamp", required(DateTime)),
    ("sampledValue", repeated(SampledValue, min_occurs=1)),
])

StopTransactionRequest = s.complex("StopTransactionRequest", [
    ("transactionId", required(Int)),
    ("idTag", optional(IdToken)),
    ("timestamp", required(DateTime)),
    ("meterStop", required(Int)),
    ("reason", optional(Reason)),
    ("transactionData", repeated(MeterValue)),
])
StopTransactionResponse = s.complex("StopTransactionResponse", [
    ("idTagInfo", optional(IdTagInfo)),
])

# --- Heartbeat ------------------------------------------------------------------------------
HeartbeatRequest = s.complex("HeartbeatRequest", [])
HeartbeatResponse = s.complex("HeartbeatResponse", [("currentTime", required(DateTime))])

MeterValuesRequest = s.complex("MeterValuesRequest", [
    ("connectorId", required(Int)),
    ("transactionId", optional(Int)),
    ("meterValue", repeated(MeterValue)),
])
MeterValuesResponse = s.complex("MeterValuesResponse", [])

# --- BootNotification -----------------------------------------------------------------------
BootNotificationRequest = s.complex("BootNotificationRequest", [
    ("chargePointVendor", required(CiString20Type)),
    ("chargePointModel", required(CiString20Type)),
    ("chargePointSerialNumber", optional(CiString25Type)),
    ("chargeBoxSerialNumber", optional(CiString25Type)),
    ("firmwareVersion", optional(CiString50Type)),
    ("iccid", optional(CiString20Type)),
    ("imsi", optional(CiString20Type)),
    ("meterType", optional(CiString25Type)),
    ("meterSerialNumber", optional(CiString25Type)),
])
RegistrationStatus = s.enum("RegistrationStatus", "Accepted", "Pending", "Rejected")
BootNotificationResponse = s.complex("BootNotificationResponse", [
    ("status", required(RegistrationStatus)),
    ("currentTime", required(DateTime)),
    ("interval", required(Int)),
])

# --- StatusNotification ---------------------------------------------------------------------
ChargePointErrorCode = s.enum(
    "ChargePointErrorCode", "ConnectorLockFailure", "EVCommunicationError", "GroundFailure",
    "HighTemperature", "InternalError", "LocalListConflict", "NoError", "OtherError",
    "OverCurrentFailure", "OverVoltage", "PowerMeterFailure", "PowerSwitchFailure",
    "ReaderFailure", "ResetFailure", "UnderVoltage", "WeakSignal")
ChargePointStatus = s.enum("ChargePointStatus", "Available", "Preparing", "Charging",
                           "SuspendedEV", "SuspendedEVSE", "Finishing", "Reserved", "Faulted",
                           "Unavailable")
StatusNotificationRequest = s.complex("StatusNotificationRequest", [
    ("connectorId", required(Int)),
    ("status", required(ChargePointStatus)),
    ("errorCode", required(ChargePointErrorCode)),
    ("info", optional(CiString50Type)),
    ("timestamp", optional(DateTime)),
    ("vendorId", optional(CiString255Type)),
    ("vendorErrorCode", optional(CiString50Type)),
])
StatusNotificationResponse = s.complex("StatusNotificationResponse", [])

# --- Firmware / Diagnostics -----------------------------------------------------------------
FirmwareStatus = s.enum("FirmwareStatus", "Downloaded", "DownloadFailed", "Downloading", "Idle",
                        "InstallationFailed", "Installed", "Installing")
FirmwareStatusNotificationRequest = s.complex("FirmwareStatusNotificationRequest", [
    ("status", required(FirmwareStatus)),
])
FirmwareStatusNotificationResponse = s.complex("FirmwareStatusNotificationResponse", [])
DiagnosticsStatus = s.enum("DiagnosticsStatus", "Idle", "Uploaded", "UploadFailed", "Uploading")
DiagnosticsStatusNotificationRequest = s.complex("DiagnosticsStatusNotificationRequest", [
    ("status", required(DiagnosticsStatus)),
])
DiagnosticsStatusNotificationResponse = s.complex("DiagnosticsStatusNotificationResponse", [])

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

SERVICE = ServiceDefinition(
    name="CentralSystemService",
    ocpp_version="1.6",
    namespace=NAMESPACE,
    header=charge_box_identity(NAMESPACE),
    operations=(
        Operation("Authorize", AuthorizeRequest, AuthorizeResponse, essential=("idTag",)),
        Operation("BootNotification", BootNotificationRequest, BootNotificationResponse),
        Operation("DataTransfer", DataTransferRequest, DataTransferResponse,
                  essential=("vendorId",)),
        Operation("DiagnosticsStatusNotification", DiagnosticsStatusNotificationRequest,
                  DiagnosticsStatusNotificationResponse, essential=("status",)),
        Operation("FirmwareStatusNotification", FirmwareStatusNotificationRequest,
                  FirmwareStatusNotificationResponse, essential=("status",)),
        Operation("Heartbeat", HeartbeatRequest, HeartbeatResponse),
        Operation("MeterValues", MeterValuesRequest, MeterValuesResponse,
                  essential=("connectorId", "meterValue.timestamp", "meterValue.sampledValue.value")),
        Operation("StartTransaction", StartTransactionRequest, StartTransactionResponse,
                  essential=("connectorId", "idTag", "timestamp", "meterStart")),
        Operation("StatusNotification", StatusNotificationRequest, StatusNotificationResponse,
                  essential=("connectorId", "status")),
        Operation("StopTransaction", StopTransactionRequest, StopTransactionResponse,
                  # never refuse a stop over its meter data: a bad sample is dropped instead
                  essential=("transactionId",)),
    ),
)
