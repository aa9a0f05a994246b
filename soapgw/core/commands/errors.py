"""Why a command to one station failed: a kind (stable, for programs) and a readable reason."""
from __future__ import annotations

from enum import Enum


class ErrorKind(str, Enum):
    INVALID_PAYLOAD = "invalid_payload"  # the payload does not fit the operation: nothing sent
    UNSUPPORTED = "unsupported_operation"  # the station's OCPP version lacks it: nothing sent
    UNKNOWN_STATION = "unknown_station"
    NO_ENDPOINT = "no_endpoint"  # the station never announced a usable callback address
    ENDPOINT_REFUSED = "endpoint_refused"  # the callback safety rules forbid the address
    CONFLICT = "conflict"  # the model refuses it (e.g. a reservation id spent on the station)
    FAULT = "fault"  # the station answered a SOAP Fault
    HTTP_ERROR = "http_error"  # an HTTP error status without a SOAP Fault
    TIMEOUT = "timeout"  # no connection or no answer within the timeout
    CONNECTION_REFUSED = "connection_refused"
    UNREACHABLE = "unreachable"  # DNS failure, network unreachable, reset ...
    TLS_ERROR = "tls_error"
    INVALID_REPLY = "invalid_reply"  # an answer we cannot read
    INTERRUPTED = "interrupted"  # the gateway stopped while the command was under way
    INTERNAL = "internal_error"


class TaskError(Exception):
    """A command that failed for one station; ``fault_code`` is the OCPP subcode of a Fault."""

    def __init__(self, kind: ErrorKind, reason: str, fault_code: str | None = None):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.fault_code = fault_code

    def __str__(self) -> str:
        return self.reason
