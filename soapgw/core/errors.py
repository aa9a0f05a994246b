"""OCPP errors raised by the core and turned into SOAP Faults (or OCPP-J CallErrors) at the edges."""
from __future__ import annotations

from enum import Enum


class ErrorCode(str, Enum):
    """OCPP error codes: the SOAP fault subcodes and the OCPP-J CallError codes are the same names."""

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"  # sic, as in the spec
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"

    @property
    def is_senders_fault(self) -> bool:
        """True when the peer caused it (SOAP ``Sender``, HTTP 400); else ``Receiver``/500."""
        return self not in (ErrorCode.INTERNAL_ERROR, ErrorCode.GENERIC_ERROR)


class OcppError(Exception):
    """A request the central system refuses, with the OCPP code and a readable reason."""

    def __init__(self, code: ErrorCode, reason: str):
        super().__init__(f"{code.value}: {reason}")
        self.code = code
        self.reason = reason


class Conflict(Exception):
    """The stored data refuses the act (an id already spent ...); the reason says what to do."""


class NotFound(Exception):
    """The record a service was asked to act on does not exist."""


class Invalid(Exception):
    """A service refused its input: ``problems`` maps each field name to a readable reason,
    so that every edge can show it next to what the user typed (form field, CLI option,
    API field path)."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in problems.items()))
        self.problems = problems
