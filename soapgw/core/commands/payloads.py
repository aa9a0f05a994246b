"""Command payloads are OCPP-J 1.6 JSON, checked against the OCPP 1.6 JSON schemas that the
``ocpp`` package ships (the same files OCPP-J central systems validate with) by the one
validator of soapgw, ``core/ocppj.py``; here its answers become TaskErrors."""
from __future__ import annotations

from soapgw.core import ocppj
from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.core.errors import OcppError

to_json = ocppj.to_json  # compact JSON; Decimals become numbers (integers when whole)


def parse_payload(text: str | None) -> dict:
    """The JSON object in ``text`` (empty text: ``{}``), numbers with fractions as Decimal."""
    if text is None or not text.strip():
        return {}
    try:
        payload = ocppj.from_json(text)
    except OcppError as exc:
        raise TaskError(ErrorKind.INVALID_PAYLOAD, f"the payload is {exc.reason}") from None
    if not isinstance(payload, dict):
        raise TaskError(ErrorKind.INVALID_PAYLOAD, "the payload must be a JSON object")
    return payload


def validate_request(operation: str, payload: dict) -> dict:
    """The payload (floats as Decimal) when it is a valid ``operation`` request, else TaskError."""
    try:
        return ocppj.require_valid(operation, payload)
    except OcppError as exc:
        raise TaskError(ErrorKind.INVALID_PAYLOAD, exc.reason) from None


def response_problems(operation: str, payload: dict) -> list[str]:
    """Schema breaches of a response payload (for checks and tests; replies are not refused)."""
    return ocppj.validate(operation, payload, response=True)
