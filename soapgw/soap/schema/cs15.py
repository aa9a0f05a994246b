"""OCPP 1.5 CentralSystemService (``urn://Ocpp/Cs/2012/06/``): what 1.5 stations send us.

Shaped exactly like the official 1.5 WSDL (names, sequence and enumeration order). What sets it
apart from 1.6 (mapped onto the 1.6-shaped core by :mod:`soapgw.soap.mapping.cs15`):

- no CiString types: BootNotification fields have one named type each (``ChargePointVendor``
  ...), the StatusNotification and DataTransfer strings are plain xs:string;
- MeterValues carries ``values``; a ``MeterValue`` is a timestamp plus ``value`` elements whose
  reading metadata (context, format, measurand, location, unit) are XML *attributes*; no phase;
- StopTransaction has no ``reason``; its ``transactionData`` elements each hold ``values``;
- BootNotification.conf says ``heartbeatInterval``, and registration knows no Pending;
- smaller enumerations, plus the 1.5-only ``Occupied``, ``Mode3Error``, ``Amp`` and ``Volt``.
"""
from __future__ import annotations

from soapgw.soap.schema.base import (DateTime, Int, Operation, SchemaBuilder, ServiceDefinition,
                                     Unicode, charge_box_identity, optional, repeated, required)

NAMESPACE = "urn://Ocpp/Cs/2012/06/"
s = SchemaBuilder(NAMESPACE)

# --- types shared with ChargePointService ---------------------------------------------------
IdToken = s.string("IdToken", 20)
AuthorizationStatus = s.enum("AuthorizationStatus",
                             "Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")
IdTagInfo = s.complex("IdTagInfo", [
    ("status", required(AuthorizationStatus)),
    ("expiryDate", optional(DateTime)),
    ("parentIdTag", optional(IdToken)),
])

# --- BootNotification field types (1.6 uses the CiStringNNType family instead) --------------
ChargeBoxSerialNumber = s.string("ChargeBoxSerialNumber", 25)
ChargePointModel = s.string("ChargePointModel", 20)
ChargePointSerialNumber = s.string("ChargePointSerialNumber", 25)
ChargePointVendor = s.string("ChargePointVendor", 20)
FirmwareVersion = s.string("FirmwareVersion", 50)
IccidString = s.string("IccidString", 20)
ImsiString = s.string("ImsiString", 20)
MeterSerialNumber = s.string("MeterSerialNumber", 25)
MeterType = s.string("MeterType", 25)

# --- Authorize ------------------------------------------------------------------------------
AuthorizeRequest = s.complex("AuthorizeRequest", [("idTag", required(IdToken))])
AuthorizeResponse = s.complex("AuthorizeResponse", [("idTagInfo", required(IdTagInfo))])

# --- StartTransaction -----------------------------------------------------------------------
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

# --- MeterValue (used by MeterValues and StopTransaction) -----------------------------------
ReadingContext = s.enum("ReadingContext", "Interruption.Begin", "Interruption.End",
                        "Sample.Clock", "Sample.Periodic", "Transaction.Begin",
                        "Transaction.End")
Measurand = s.enum(
    "Measurand", "Energy.Active.Export.Register", "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
    "Power.Active.Export", "Power.Active.Import", "Power.Reactive.Export",
    "Power.Reactive.Import", "Current.Export", "Current.Import", "Voltage", "Temperature")
ValueFormat = s.enum("ValueFormat", "Raw", "SignedData")
UnitOfMeasure = s.enum("UnitOfMeasure", "Wh", "kWh", "varh", "kvarh", "W", "kW", "var", "kvar",
                       "Amp", "Volt", "Celsius")
Location = s.enum("Location", "Inlet", "Outlet", "Body")
# The reading text with its metadata as attributes; declared inline in MeterValue/value.
MeterValueValue = s.simple_content("MeterValueValue", Unicode, [
    ("context", ReadingContext),
    ("format", ValueFormat),
    ("measurand", Measurand),
    ("location", Location),
    ("unit", UnitOfMeasure),
], anonymous=True)
MeterValue = s.complex("MeterValue", [
    ("timestamp", required(DateTime)),
    ("value", repeated(MeterValueValue, min_occurs=1)),
])

# --- StopTransaction ------------------------------------------------------------------------
TransactionData = s.complex("TransactionData", [("values", repeated(MeterValue))])
StopTransactionRequest = s.complex("StopTransactionRequest", [
    ("transactionId", required(Int)),
    ("idTag", optional(IdToken)),
    ("timestamp", required(DateTime)),
    ("meterStop", required(Int)),
    ("transactionData", repeated(TransactionData)),
])
StopTransactionResponse = s.complex("StopTransactionResponse", [
    ("idTagInfo", optional(IdTagInfo)),
])

# --- Heartbeat ------------------------------------------------------------------------------
HeartbeatRequest = s.complex("HeartbeatRequest", [])
HeartbeatResponse = s.complex("HeartbeatResponse", [("currentTime", required(DateTime))])

# --- MeterValues ----------------------------------------------------------------------------
MeterValuesRequest = s.complex("MeterValuesRequest", [
    ("connectorId", required(Int)),
    ("transactionId", optional(Int)),
    ("values", repeated(MeterValue)),
])
MeterValuesResponse = s.complex("MeterValuesResponse", [])

# --- BootNotification -----------------------------------------------------------------------
BootNotificationRequest = s.complex("BootNotificationRequest", [
    ("chargePointVendor", required(ChargePointVendor)),
    ("chargePointModel", required(ChargePointModel)),
    ("chargePointSerialNumber", optional(ChargePointSerialNumber)),
    ("chargeBoxSerialNumber", optional(ChargeBoxSerialNumber)),
    ("firmwareVersion", optional(FirmwareVersion)),
    ("iccid", optional(IccidString)),
    ("imsi", optional(ImsiString)),
    ("meterType", optional(MeterType)),
    ("meterSerialNumber", optional(MeterSerialNumber)),
])
RegistrationStatus = s.enum("RegistrationStatus", "Accepted", "Rejected")
BootNotificationResponse = s.complex("BootNotificationResponse", [
    ("status", required(RegistrationStatus)),
    ("currentTime", required(DateTime)),
    ("heartbeatInterval", required(Int)),
])

# --- StatusNotification ---------------------------------------------------------------------
ChargePointErrorCode = s.enum(
    "ChargePointErrorCode", "ConnectorLockFailure", "HighTemperature", "Mode3Error", "NoError",
    "PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure", "ResetFailure", "GroundFailure",
    "OverCurrentFailure", "UnderVoltage", "WeakSignal", "OtherError")
ChargePointStatus = s.enum("ChargePointStatus",
                           "Available", "Occupied", "Faulted", "Unavailable", "Reserved")
StatusNotificationRequest = s.complex("StatusNotificationRequest", [
    ("connectorId", required(Int)),
    ("status", required(ChargePointStatus)),
    ("errorCode", required(ChargePointErrorCode)),
    ("info", optional(Unicode)),
    ("timestamp", optional(DateTime)),
    ("vendorId", optional(Unicode)),
    ("vendorErrorCode", optional(Unicode)),
])
StatusNotificationResponse = s.complex("StatusNotificationResponse", [])

# --- Firmware / Diagnostics -----------------------------------------------------------------
FirmwareStatus = s.enum("FirmwareStatus",
                        "Downloaded", "DownloadFailed", "InstallationFailed", "Installed")
FirmwareStatusNotificationRequest = s.complex("FirmwareStatusNotificationRequest", [
    ("status", required(FirmwareStatus)),
])
FirmwareStatusNotificationResponse = s.complex("FirmwareStatusNotificationResponse", [])
DiagnosticsStatus = s.enum("DiagnosticsStatus", "Uploaded", "UploadFailed")
DiagnosticsStatusNotificationRequest = s.complex("DiagnosticsStatusNotificationRequest", [
    ("status", required(DiagnosticsStatus)),
])
DiagnosticsStatusNotificationResponse = s.complex("DiagnosticsStatusNotificationResponse", [])

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

# Operations in the official WSDL's order. ``essential`` as in cs16: only what the receiver
# cannot act without; everything else is tolerated and recorded as a quirk.
SERVICE = ServiceDefinition(
    name="CentralSystemService",
    ocpp_version="1.5",
    namespace=NAMESPACE,
    header=charge_box_identity(NAMESPACE),
    operations=(
        Operation("Authorize", AuthorizeRequest, AuthorizeResponse, essential=("idTag",)),
        Operation("StartTransaction", StartTransactionRequest, StartTransactionResponse,
                  essential=("connectorId", "idTag", "timestamp", "meterStart")),
        Operation("StopTransaction", StopTransactionRequest, StopTransactionResponse,
                  # never refuse a stop over its meter data: a bad sample is dropped instead
                  essential=("transactionId",)),
        Operation("Heartbeat", HeartbeatRequest, HeartbeatResponse),
        Operation("MeterValues", MeterValuesRequest, MeterValuesResponse,
                  # the reading text is simpleContent (an empty string is a value), so the
                  # timestamp is what a 1.5 reading cannot do without
                  essential=("connectorId", "values.timestamp")),
        Operation("BootNotification", BootNotificationRequest, BootNotificationResponse),
        Operation("StatusNotification", StatusNotificationRequest, StatusNotificationResponse,
                  essential=("connectorId", "status")),
        Operation("FirmwareStatusNotification", FirmwareStatusNotificationRequest,
                  FirmwareStatusNotificationResponse, essential=("status",)),
        Operation("DiagnosticsStatusNotification", DiagnosticsStatusNotificationRequest,
                  DiagnosticsStatusNotificationResponse, essential=("status",)),
        Operation("DataTransfer", DataTransferRequest, DataTransferResponse,
                  essential=("vendorId",)),
    ),
)
