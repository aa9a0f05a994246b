"""Vocabularies in one place: OCPP 1.6's from ``ocpp.v16.enums``, soapgw's own beside them.

Forms, the CLI and the API offer these; the core checks against them.
"""
from __future__ import annotations

from enum import Enum

from ocpp.v16.enums import ChargePointStatus, Reason, RegistrationStatus  # noqa: F401


class ReservationState(str, Enum):
    """A reservation's life in soapgw: Waiting until the station accepts ReserveNow, then
    Accepted until Used, Cancelled or Expired; the others are the station's refusals."""

    WAITING = "Waiting"
    ACCEPTED = "Accepted"
    USED = "Used"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"


def values(enum) -> tuple[str, ...]:
    return tuple(member.value for member in enum)
