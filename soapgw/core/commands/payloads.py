"""Command payloads are OCPP-J 1.6 JSON, checked against the OCPP 1.6 JSON schemas that the
``ocpp`` package ships (the same files OCPP-J central systems validate with)."""
from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib import resources

from jsonschema import Draft4Validator, FormatChecker

from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.timestamps import TimestampError, parse_timestamp

# Decimals, not floats: ``multipleOf: 0.1`` (charging limits) fails on binary floats.
_SCHEMAS = resources.files("ocpp.v16") / "schemas"


_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=TimestampError)
def _date_time(value) -> bool:
    # Without the optional rfc3339 package jsonschema would not check dates at all.
    return not isinstance(value, str) or parse_timestamp(value) is not None


@cache
def _validator(name: str) -> Draft4Validator:
    schema = json.loads((_SCHEMAS / f"{name}.json").read_text("utf-8"), parse_float=Decimal)
    return Draft4Validator(schema, format_checker=_FORMATS)


def parse_payload(text: str | None) -> dict:
    """The JSON object in ``text`` (empty text: ``{}``), numbers with fractions as Decimal."""
    if text is None or not text.strip():
        return {}
    try:
        payload = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise TaskError(ErrorKind.INVALID_PAYLOAD, f"the payload is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise TaskError(ErrorKind.INVALID_PAYLOAD, "the payload must be a JSON object")
    return payload


def _decimals(value):
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def _problem(error) -> str:
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def validate_request(operation: str, payload: dict) -> dict:
    """The payload (floats as Decimal) when it is a valid ``operation`` request, else TaskError."""
    payload = _decimals(payload)
    errors = sorted(_validator(operation).iter_errors(payload), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(_problem(e) for e in errors[:3])
        raise TaskError(ErrorKind.INVALID_PAYLOAD,
                        f"invalid {operation} payload (OCPP 1.6 JSON schema): {details}")
    return payload


def response_problems(operation: str, payload: dict) -> list[str]:
    """Schema breaches of a response payload (for checks and tests; replies are not refused)."""
    return [_problem(e) for e in _validator(f"{operation}Response").iter_errors(
        _decimals(payload))]


def to_json(payload) -> str:
    """Compact JSON; Decimals become numbers (integers when whole)."""
    return json.dumps(payload, default=_number, separators=(",", ":"), ensure_ascii=False)


def _number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
