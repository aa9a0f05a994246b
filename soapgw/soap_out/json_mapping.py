"""OCPP-J 1.6 payloads <-> ChargePointService SOAP values, for OCPP 1.6 and 1.5 (pure).

OCPP 1.6 SOAP has the OCPP-J shape: field names match, so the mapping only normalises values
(timestamps to UTC ``Z``; Decimals as numbers). OCPP 1.5 differs in a few places, mapped
here both ways, and its answers come back in the 1.6 vocabulary.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.timestamps import format_timestamp, parse_timestamp

# Fields of type xs:dateTime in ChargePointService requests and responses.
_TIMESTAMPS = frozenset({"expiryDate", "startTime", "stopTime", "retrieveDate", "validFrom",
                         "validTo", "startSchedule", "scheduleStart"})

# OCPP 1.5 answers in the 1.6 vocabulary.
_STATUS_15_TO_16 = {
    "UnlockConnector": {"Accepted": "Unlocked", "Rejected": "UnlockFailed"},
    "SendLocalList": {"HashError": "Failed"},  # 1.6 has no hash, so no HashError
}
# What a 1.5 response has that the 1.6 response schema does not allow.
_DROP_15 = {"SendLocalList": ("hash",)}


def _to_soap_value(name: str | None, value):
    if isinstance(value, dict):
        return {k: _to_soap_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_soap_value(name, v) for v in value]
    if name in _TIMESTAMPS and isinstance(value, str):
        return format_timestamp(parse_timestamp(value)[0])
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def to_soap(ocpp_version: str, operation: str, payload: dict) -> dict:
    """The SOAP request values (zeep keyword arguments) for a validated OCPP-J payload."""
    values = _to_soap_value(None, payload)
    if ocpp_version == "1.6":
        return values
    if operation == "RemoteStartTransaction" and "chargingProfile" in values:
        raise TaskError(ErrorKind.INVALID_PAYLOAD,
                        "chargingProfile cannot be sent in OCPP 1.5 (RemoteStartTransaction "
                        "there has idTag and connectorId only)")
    if operation == "SendLocalList" and "localAuthorizationList" in values:
        # British spelling in 1.5; the optional hash is not sent (1.6 has none to map from)
        values["localAuthorisationList"] = values.pop("localAuthorizationList")
    return values


def _from_soap_value(value):
    if isinstance(value, dict):
        items = ((k, _from_soap_value(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not None and v != []}
    if isinstance(value, (list, tuple)):
        return [_from_soap_value(v) for v in value if v is not None]
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def from_soap(ocpp_version: str, operation: str, values: dict | None) -> dict:
    """The OCPP-J 1.6 response payload for the values of a SOAP response ({} when empty)."""
    payload = _from_soap_value(values or {})
    if ocpp_version == "1.5":
        for name in _DROP_15.get(operation, ()):
            payload.pop(name, None)
        statuses = _STATUS_15_TO_16.get(operation, {})
        if payload.get("status") in statuses:
            payload["status"] = statuses[payload["status"]]
    return payload
