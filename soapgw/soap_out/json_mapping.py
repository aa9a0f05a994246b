"""OCPP-J 1.6 payloads <-> ChargePointService SOAP values, for OCPP 1.6 and 1.5 (pure).

OCPP 1.6 SOAP has the OCPP-J shape: field names match, so the mapping only normalises values
(timestamps to UTC ``Z``; Decimals as numbers). OCPP 1.5 differs in a few places
(``soap/ocpp15_vocabulary.py``), mapped here both ways, and its answers come back in the 1.6
vocabulary.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.timestamps import format_timestamp, parse_timestamp
from soapgw.soap import ocpp15_vocabulary as vocabulary

# Fields of type xs:dateTime in ChargePointService requests and responses.
_TIMESTAMPS = frozenset({"expiryDate", "startTime", "stopTime", "retrieveDate", "validFrom",
                         "validTo", "startSchedule", "scheduleStart"})


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
    # The optional SendLocalList hash is not sent: 1.6 has none to map from.
    for name16, name15 in vocabulary.REQUEST_FIELDS_15.get(operation, {}).items():
        if name16 in values:
            values[name15] = values.pop(name16)
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
        for name in vocabulary.ANSWER_FIELDS_ONLY_15.get(operation, ()):
            payload.pop(name, None)
        spelling = vocabulary.ANSWER_STATUS.get(operation)
        if spelling is not None and "status" in payload:
            payload["status"] = spelling.v16(payload["status"])
    return payload
