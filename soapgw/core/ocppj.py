"""OCPP-J 1.6: typed core messages <-> JSON payloads, schema checks and frames (pure, no I/O).

- ``encode(message) -> dict``: camelCase keys, timestamps as ISO 8601 UTC with ``Z``,
  enumerations as their strings, Decimals kept (``to_json`` writes them as JSON numbers), None
  fields left out, an empty list left out unless the schema requires the list.
- ``decode(action, payload, response=False) -> message``: the typed dataclass, timestamps as
  aware UTC datetimes, fractional numbers as Decimal. A wrong shape (missing required field,
  unknown field, wrong JSON type, impossible date) raises PayloadError with the field's path.
  An enumerated value outside the 1.6 vocabulary is kept as a plain string: checking values
  is ``validate``'s job, and the SOAP edges keep what a station sent too.
- ``validate``/``require_valid``: the ``ocpp`` package's OCPP 1.6 JSON schemas.
- ``encode_frame``/``decode_frame``: the CALL, CALLRESULT and CALLERROR arrays.

Both directions are driven by the dataclass fields of ``core/messages.py`` and
``core/cp_messages.py``: the JSON name is the field name in camelCase (OCPP 1.6 has no name
that breaks that rule; a field may still name its JSON key in ``metadata={"ocpp_name": ...}``).
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum, IntEnum
from functools import cache

from soapgw.core import messages
from soapgw.core.errors import ErrorCode, OcppError
from soapgw.core.names import camel
from soapgw.core.ocpp_schemas import decimals, describe, error_code, schema_errors
from soapgw.timestamps import TimestampError, format_timestamp, parse_timestamp, utc

__all__ = [
    "ACTIONS", "PayloadError", "message_type", "action_of", "encode", "decode", "validate",
    "require_valid", "to_json", "from_json", "MessageType", "MAX_UNIQUE_ID_LENGTH", "Call",
    "CallResult", "CallError", "Frame", "FrameError", "new_unique_id", "encode_frame",
    "decode_frame",
]

# Every OCPP 1.6 action: station -> central system and central system -> station (DataTransfer
# goes both ways with the same types).
ACTIONS: dict[str, tuple[type, type]] = {**messages.ACTIONS, **messages.CHARGE_POINT_ACTIONS}
_ACTION_OF: dict[type, tuple[str, bool]] = {
    kind: (action, is_response)
    for action, pair in ACTIONS.items() for is_response, kind in zip((False, True), pair)}


class PayloadError(OcppError):
    """A payload that does not fit its action; ``problems`` name each breach with its path."""

    def __init__(self, code: ErrorCode, action: str, problems: list[str],
                 response: bool = False):
        what = f"{action}{' response' if response else ''}"
        super().__init__(code, f"invalid {what} payload (OCPP 1.6 JSON schema): "
                               + "; ".join(problems[:3]))
        self.action = action
        self.response = response
        self.problems = problems


def message_type(action: str, response: bool = False) -> type:
    """The core dataclass of an action's request or response; NotImplemented when unknown."""
    try:
        return ACTIONS[action][1 if response else 0]
    except KeyError:
        raise OcppError(ErrorCode.NOT_IMPLEMENTED,
                        f"{action!r} is not an OCPP 1.6 action") from None


def action_of(message) -> tuple[str, bool]:
    """``(action, is_response)`` of a core message: ``ResetResponse(...)`` -> ("Reset", True)."""
    try:
        return _ACTION_OF[type(message)]
    except KeyError:
        raise TypeError(f"{type(message).__name__} is not an OCPP message type") from None


# --- schema checks ----------------------------------------------------------------------------
def validate(action: str, payload, *, response: bool = False) -> list[str]:
    """Every breach of the action's OCPP 1.6 JSON schema, readable with its path; [] if valid."""
    message_type(action, response)
    return [describe(e) for e in schema_errors(action, payload, response)]


def require_valid(action: str, payload, *, response: bool = False) -> dict:
    """The payload with fractional numbers as Decimal, or PayloadError naming the breaches.

    The error's code is the OCPP-J CallError code of the first breach.
    """
    message_type(action, response)
    errors = schema_errors(action, payload, response)
    if errors:
        raise PayloadError(error_code(errors[0]), action, [describe(e) for e in errors],
                           response)
    return decimals(payload)


# --- JSON text --------------------------------------------------------------------------------
def to_json(value) -> str:
    """Compact JSON; Decimals become numbers (integers when whole), enums their strings."""
    return json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)


def _json_default(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def from_json(text: str | bytes):
    """Parsed JSON, numbers with fractions as Decimal; OcppError (FormationViolation) if the
    text is not JSON."""
    try:
        return json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OcppError(ErrorCode.FORMATION_VIOLATION, f"not JSON: {exc}") from None


# --- how each field converts, worked out once per dataclass -----------------------------------
class _Invalid(Exception):
    def __init__(self, code: ErrorCode, path: tuple, message: str):
        super().__init__(message)
        self.code, self.path, self.message = code, path, message

    def problem(self) -> str:
        where = "/".join(str(p) for p in self.path)
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class _Field:
    name: str
    json_name: str
    required: bool  # no default: decode refuses a payload without it
    keep_empty: bool  # a list the schema requires: encoded even when empty
    encode: Callable
    decode: Callable  # (value, path) -> python value


def _unwrap_optional(hint):
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return hint


def _type_error(expected: str, value, path) -> _Invalid:
    return _Invalid(ErrorCode.TYPE_CONSTRAINT_VIOLATION, path,
                    f"{value!r} is not of type {expected!r}")


def _same(value):
    return value


def _simple(python_type: type, json_type: str):
    def decode_value(value, path):
        # bool is an int in Python, not in JSON
        if not isinstance(value, python_type) or (python_type is int and isinstance(value, bool)):
            raise _type_error(json_type, value, path)
        return value
    return _same, decode_value


def _decimal_codec():
    def encode_value(value):
        return Decimal(repr(value)) if isinstance(value, float) else value

    def decode_value(value, path):
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise _type_error("number", value, path)
        return encode_value(Decimal(value) if isinstance(value, int) else value)
    return encode_value, decode_value


def _datetime_codec():
    def decode_value(value, path):
        if isinstance(value, datetime):
            return utc(value)
        if not isinstance(value, str):
            raise _type_error("string", value, path)
        try:
            return parse_timestamp(value)[0]
        except TimestampError as exc:
            raise _Invalid(ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, path, str(exc)) from None
    return format_timestamp, decode_value


def _enum_codec(enum_type: type[Enum]):
    members = {member.value: member for member in enum_type}

    def encode_value(value):
        return value.value if isinstance(value, Enum) else value

    def decode_value(value, path):
        if not isinstance(value, str):
            raise _type_error("string", value, path)
        return members.get(value, value)  # outside the vocabulary: kept as sent
    return encode_value, decode_value


def _list_codec(item_hint):
    encode_item, decode_item = _codec(item_hint)

    def encode_value(value):
        return [encode_item(item) for item in value]

    def decode_value(value, path):
        if not isinstance(value, list):
            raise _type_error("array", value, path)
        return [decode_item(item, (*path, index)) for index, item in enumerate(value)]
    return encode_value, decode_value


def _dataclass_codec(kind: type):
    def decode_value(value, path):
        return _decode_object(kind, value, path)
    return _encode_object, decode_value


@cache
def _codec(hint) -> tuple[Callable, Callable]:
    hint = _unwrap_optional(hint)
    if typing.get_origin(hint) is list:
        return _list_codec(typing.get_args(hint)[0])
    if dataclasses.is_dataclass(hint):
        return _dataclass_codec(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_codec(hint)
    if hint is datetime:
        return _datetime_codec()
    if hint is Decimal:
        return _decimal_codec()
    simple = {str: "string", int: "integer", bool: "boolean"}
    if hint in simple:
        return _simple(hint, simple[hint])
    raise TypeError(f"no OCPP-J encoding for {hint!r}")


@cache
def _fields(kind: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(kind)
    plan = []
    for f in dataclasses.fields(kind):
        encode_value, decode_value = _codec(hints[f.name])
        plan.append(_Field(
            name=f.name, json_name=f.metadata.get("ocpp_name") or camel(f.name),
            required=f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING,
            keep_empty=bool(f.metadata.get("required")),
            encode=encode_value, decode=decode_value))
    return tuple(plan)


@cache
def _encode_plan(kind: type) -> tuple[tuple[str, str, Callable | None, bool], ...]:
    """(name, JSON name, encoder or None when the value is its own encoding, keep_empty) of
    each field: a long meter value list encodes tens of thousands of fields."""
    return tuple((f.name, f.json_name, None if f.encode is _same else f.encode, f.keep_empty)
                 for f in _fields(kind))


def _encode_object(message) -> dict:
    payload = {}
    for name, json_name, encode, keep_empty in _encode_plan(type(message)):
        value = getattr(message, name)
        if value is None:
            continue
        if encode is None:
            payload[json_name] = value
        elif value or keep_empty or not isinstance(value, list):
            payload[json_name] = encode(value)
    return payload


def _decode_object(kind: type, payload, path: tuple):
    if not isinstance(payload, dict):
        raise _type_error("object", payload, path)
    plan = _fields(kind)
    unknown = payload.keys() - {f.json_name for f in plan}
    if unknown:
        raise _Invalid(ErrorCode.FORMATION_VIOLATION, path,
                       f"unknown field(s) {', '.join(sorted(unknown))}")
    values = {}
    for f in plan:
        value = payload.get(f.json_name)
        if value is None:
            if f.required:
                raise _Invalid(ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION, path,
                               f"{f.json_name!r} is a required property")
            continue
        values[f.name] = f.decode(value, (*path, f.json_name))
    return kind(**values)


# --- messages <-> payloads --------------------------------------------------------------------
def encode(message) -> dict:
    """The OCPP-J 1.6 payload of a core message (any request or response dataclass)."""
    if not dataclasses.is_dataclass(message) or isinstance(message, type):
        raise TypeError(f"{message!r} is not a core message")
    return _encode_object(message)


def decode(action: str, payload: dict, *, response: bool = False):
    """The core message for an OCPP-J 1.6 payload of ``action`` (its response if ``response``).

    Raises PayloadError for a payload whose shape does not fit (NotImplemented OcppError for
    an unknown action). Run ``validate``/``require_valid`` first where values must be checked
    too (lengths, enumerations, ``multipleOf``).
    """
    kind = message_type(action, response)
    try:
        return _decode_object(kind, payload, ())
    except _Invalid as exc:
        raise PayloadError(exc.code, action, [exc.problem()], response) from None


# --- frames -----------------------------------------------------------------------------------
class MessageType(IntEnum):
    CALL = 2
    CALL_RESULT = 3
    CALL_ERROR = 4


MAX_UNIQUE_ID_LENGTH = 36  # OCPP-J 1.6, section 4.1.4


@dataclass(frozen=True)
class Call:
    """``[2, uniqueId, action, payload]``; to send, the payload may be a core message."""

    unique_id: str
    action: str
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CallResult:
    unique_id: str
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CallError:
    unique_id: str
    error_code: ErrorCode
    error_description: str = ""
    error_details: dict = field(default_factory=dict)


Frame = Call | CallResult | CallError


class FrameError(OcppError):
    """A frame that is not OCPP-J; ``unique_id`` when it could be read (to answer a CALLERROR)."""

    def __init__(self, code: ErrorCode, reason: str, unique_id: str | None = None):
        super().__init__(code, reason)
        self.unique_id = unique_id


def new_unique_id() -> str:
    """A fresh message id: a UUID4, 36 characters."""
    return str(uuid.uuid4())


def _check_unique_id(unique_id) -> str:
    if not isinstance(unique_id, str) or not unique_id:
        raise FrameError(ErrorCode.PROTOCOL_ERROR, f"the uniqueId {unique_id!r} is not a "
                                                   "non-empty string")
    if len(unique_id) > MAX_UNIQUE_ID_LENGTH:
        raise FrameError(ErrorCode.PROTOCOL_ERROR,
                         f"the uniqueId is {len(unique_id)} characters long "
                         f"(at most {MAX_UNIQUE_ID_LENGTH})")
    return unique_id


def _payload_of(payload) -> dict:
    return encode(payload) if dataclasses.is_dataclass(payload) else payload


def encode_frame(frame: Frame) -> list:
    """The JSON array of a frame (``to_json`` gives its text); a Call or CallResult payload may
    be a core message, encoded here. FrameError for a uniqueId that OCPP-J does not allow."""
    unique_id = _check_unique_id(frame.unique_id)
    if isinstance(frame, Call):
        return [MessageType.CALL.value, unique_id, frame.action, _payload_of(frame.payload)]
    if isinstance(frame, CallResult):
        return [MessageType.CALL_RESULT.value, unique_id, _payload_of(frame.payload)]
    if isinstance(frame, CallError):
        return [MessageType.CALL_ERROR.value, unique_id, ErrorCode(frame.error_code).value,
                frame.error_description, frame.error_details]
    raise TypeError(f"{frame!r} is not an OCPP-J frame")


_ERROR_CODES = {code.value: code for code in ErrorCode}
_ERROR_CODES["FormatViolation"] = ErrorCode.FORMATION_VIOLATION  # the later errata's spelling
_SHAPES = {MessageType.CALL: (4, "[2, uniqueId, action, payload]"),
           MessageType.CALL_RESULT: (3, "[3, uniqueId, payload]"),
           MessageType.CALL_ERROR: (5, "[4, uniqueId, errorCode, errorDescription, "
                                       "errorDetails]")}


def decode_frame(data: list | str | bytes) -> Frame:
    """A frame from its JSON text or parsed array; FrameError (with the OCPP-J code to answer)
    when it is not one. A CALLERROR with a code OCPP-J does not define reads as GenericError,
    the code sent kept at the front of the description."""
    if isinstance(data, (str, bytes)):
        try:
            data = from_json(data)
        except OcppError as exc:
            raise FrameError(exc.code, exc.reason) from None
    if not isinstance(data, list) or not data:
        raise FrameError(ErrorCode.PROTOCOL_ERROR, "an OCPP-J message is a JSON array")
    try:
        kind = MessageType(data[0])
    except (ValueError, TypeError):
        raise FrameError(ErrorCode.PROTOCOL_ERROR,
                         f"unknown message type {data[0]!r} (2, 3 or 4)") from None
    unique_id = data[1] if len(data) > 1 and isinstance(data[1], str) else None
    length, shape = _SHAPES[kind]
    if len(data) != length:
        raise FrameError(ErrorCode.PROTOCOL_ERROR,
                         f"a {kind.name} has {length} elements, {shape}", unique_id)
    _check_unique_id(data[1])
    if kind is MessageType.CALL:
        _, _, action, payload = data
        if not isinstance(action, str) or not action:
            raise FrameError(ErrorCode.PROTOCOL_ERROR, "the action is not a string", unique_id)
        _require_object(payload, "the payload", unique_id)
        return Call(unique_id, action, payload)
    if kind is MessageType.CALL_RESULT:
        _require_object(data[2], "the payload", unique_id)
        return CallResult(unique_id, data[2])
    _, _, code, description, details = data
    if not isinstance(code, str) or not isinstance(description, str):
        raise FrameError(ErrorCode.PROTOCOL_ERROR,
                         "errorCode and errorDescription are strings", unique_id)
    _require_object(details, "errorDetails", unique_id)
    known = _ERROR_CODES.get(code)
    if known is None:
        known, description = ErrorCode.GENERIC_ERROR, f"{code}: {description}"
    return CallError(unique_id, known, description, details)


def _require_object(value, what: str, unique_id: str | None) -> None:
    if not isinstance(value, dict):
        raise FrameError(ErrorCode.FORMATION_VIOLATION, f"{what} is not a JSON object",
                         unique_id)
