"""The OCPP 1.6 JSON schemas the ``ocpp`` package ships, as validators (the one validator of soapgw).

These are the files OCPP-J central systems and stations validate with. Numbers with fractions
are Decimal on both sides (``multipleOf: 0.1`` of charging limits fails on binary floats), and
``date-time`` is checked with the same lenient reader the SOAP side uses (without the optional
rfc3339 package jsonschema would not check dates at all).
"""
from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib import resources

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from soapgw.core.errors import ErrorCode
from soapgw.timestamps import TimestampError, parse_timestamp

_SCHEMAS = resources.files("ocpp.v16") / "schemas"

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=TimestampError)
def _date_time(value) -> bool:
    return not isinstance(value, str) or parse_timestamp(value) is not None


def schema_name(action: str, response: bool = False) -> str:
    return f"{action}Response" if response else action


@cache
def schema(action: str, response: bool = False) -> dict:
    """The JSON schema of an action's request (or response), numbers as Decimal.

    Raises KeyError for an action the ``ocpp`` package has no 1.6 schema for.
    """
    path = _SCHEMAS / f"{schema_name(action, response)}.json"
    if not path.is_file():
        raise KeyError(f"no OCPP 1.6 JSON schema for {schema_name(action, response)}")
    # A few empty responses (e.g. security extension ones) are the JSON literal null.
    return json.loads(path.read_text("utf-8"), parse_float=Decimal) or {"type": "object"}


@cache
def _validator(action: str, response: bool) -> Draft4Validator:
    return Draft4Validator(schema(action, response), format_checker=_FORMATS)


def decimals(value):
    """``value`` with every float replaced by the Decimal of its shortest repr."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decimals(v) for v in value]
    return value


def schema_errors(action: str, payload, response: bool = False) -> list[ValidationError]:
    """The breaches of the schema, ordered by where they are in the payload."""
    errors = _validator(action, response).iter_errors(decimals(payload))
    return sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])


def describe(error: ValidationError) -> str:
    """``chargingSchedule/chargingSchedulePeriod/0/limit: 0.15 is not a multiple of 0.1``."""
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


# How OCPP-J names a breach of each JSON schema keyword (OCPP-J 1.6, section 4.2.3).
_CODES = {
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "required": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "minItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "maxItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "additionalProperties": ErrorCode.FORMATION_VIOLATION,
    "additionalItems": ErrorCode.FORMATION_VIOLATION,
}


def error_code(error: ValidationError) -> ErrorCode:
    """The OCPP-J CallError code for a schema breach (a bad value: PropertyConstraintViolation)."""
    return _CODES.get(error.validator, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION)
