"""Every status, reason and unit vocabulary of soapgw, in one place.

OCPP 1.6 vocabularies are the ``ocpp`` package's enums (``ocpp.v16.enums``), re-exported here
under their names. They are ``StrEnum``s: a member equals its OCPP string (``Reason.remote ==
"Remote"``), so code and SQL rows holding plain strings keep working. Where the package's enum
does not match the OCPP 1.6 JSON schema (``UnitOfMeasure`` lacks the schema's ``Celcius``
misspelling and ``Hertz``), soapgw defines its own.

soapgw's own vocabularies (what it stores about reservations, connectors and tasks) are defined
below. They replace the string lists re-declared in the edges:

- ``RegistrationStatus``: ``web/stations.py REGISTRATION_STATUSES`` and ``cli.py chargebox add
  --status`` choices.
- ``ConnectorStatus``: ``web/stations.py CONNECTOR_STATUSES``.
- ``ReservationState`` (and ``ACTIVE_RESERVATION_STATES``): ``web/reservations.py STATUSES``
  and ``ACTIVE``, ``web/dashboard.py ACTIVE_RESERVATION``, the literals in ``core/commands/
  effects.py``, ``core/notifications.py`` and ``core/transactions.py``.
- ``Reason``: ``web/transactions.py STOP_REASONS``.
- ``TaskState`` (and ``OPEN_TASK_STATES``): the ``QUEUED ... TIMED_OUT`` constants of
  ``core/commands/tasks.py`` and ``web/operations.py RESULT_STATES``.
- ``TaskOrigin``: the ``origin="web"``/``"cli"`` literals of the web UI and the CLI.
- ``EventType``: the event outbox's types (``core/events.py``).
- ``OcppVersion``: the ``"1.5"``/``"1.6"`` choices of the station filter and the simulator CLI.
"""
from __future__ import annotations

from enum import StrEnum

from ocpp.v16.enums import (
    AuthorizationStatus,
    AvailabilityStatus,
    AvailabilityType,
    CancelReservationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DataTransferStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    GetCompositeScheduleStatus,
    Location,
    Measurand,
    MessageTrigger,
    Phase,
    ReadingContext,
    Reason,
    RecurrencyKind,
    RegistrationStatus,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateStatus,
    UpdateType,
    ValueFormat,
)

__all__ = [
    # OCPP 1.6 (ocpp.v16.enums)
    "AuthorizationStatus", "AvailabilityStatus", "AvailabilityType", "CancelReservationStatus",
    "ChargePointErrorCode", "ChargePointStatus", "ChargingProfileKindType",
    "ChargingProfilePurposeType", "ChargingProfileStatus", "ChargingRateUnitType",
    "ClearCacheStatus", "ClearChargingProfileStatus", "ConfigurationStatus",
    "DataTransferStatus", "DiagnosticsStatus", "FirmwareStatus", "GetCompositeScheduleStatus",
    "Location", "Measurand", "MessageTrigger", "Phase", "ReadingContext", "Reason",
    "RecurrencyKind", "RegistrationStatus", "RemoteStartStopStatus", "ReservationStatus",
    "ResetStatus", "ResetType", "TriggerMessageStatus", "UnlockStatus", "UpdateStatus",
    "UpdateType", "ValueFormat",
    # OCPP 1.6 as the JSON schema has it
    "UnitOfMeasure",
    # soapgw's own
    "ConnectorStatus", "ReservationState", "ACTIVE_RESERVATION_STATES", "TaskState",
    "OPEN_TASK_STATES", "TaskOrigin", "OcppVersion", "EventType", "values",
]


class UnitOfMeasure(StrEnum):
    """``sampledValue.unit`` as the OCPP 1.6 JSON schema allows it.

    ``ocpp.v16.enums.UnitOfMeasure`` lacks ``Celcius`` (the misspelling the 1.6 schema and
    many stations carry) and ``Hertz`` (allowed in MeterValues).
    """

    wh = "Wh"
    kwh = "kWh"
    varh = "varh"
    kvarh = "kvarh"
    w = "W"
    kw = "kW"
    va = "VA"
    kva = "kVA"
    var = "var"
    kvar = "kvar"
    amp = "A"
    v = "V"
    kelvin = "K"
    celcius = "Celcius"
    celsius = "Celsius"
    fahrenheit = "Fahrenheit"
    percent = "Percent"
    hertz = "Hertz"


class ConnectorStatus(StrEnum):
    """A connector's last reported status: the OCPP 1.6 statuses, plus 1.5's ``Occupied``.

    1.5 ``Occupied`` is stored as ``Charging`` (see ``soap/ocpp15_vocabulary.py``) but rows
    written before that rule, and filters on them, still hold it.
    """

    available = "Available"
    preparing = "Preparing"
    charging = "Charging"
    suspended_evse = "SuspendedEVSE"
    suspended_ev = "SuspendedEV"
    finishing = "Finishing"
    reserved = "Reserved"
    unavailable = "Unavailable"
    faulted = "Faulted"
    occupied = "Occupied"


class ReservationState(StrEnum):
    """A reservation row's status: soapgw's own states, then the station's ReserveNow answers.

    ``Waiting`` until the station answers ReserveNow, ``Accepted`` until a transaction uses it
    (``Used``), the operator cancels it (``Cancelled``) or it runs out (``Expired``); a station
    refusing ReserveNow leaves its answer (``Faulted``, ``Occupied``, ``Rejected``,
    ``Unavailable``).
    """

    waiting = "Waiting"
    accepted = "Accepted"
    used = "Used"
    cancelled = "Cancelled"
    expired = "Expired"
    faulted = "Faulted"
    occupied = "Occupied"
    rejected = "Rejected"
    unavailable = "Unavailable"


ACTIVE_RESERVATION_STATES = frozenset({ReservationState.waiting, ReservationState.accepted})


class TaskState(StrEnum):
    """The state of one station's part of a command (``task_result.state``)."""

    queued = "queued"
    sent = "sent"
    answered = "answered"
    failed = "failed"
    timed_out = "timed_out"


OPEN_TASK_STATES = frozenset({TaskState.queued, TaskState.sent})


class TaskOrigin(StrEnum):
    """Who submitted a command (``task.origin``); other callers may name themselves."""

    web = "web"
    cli = "cli"


class OcppVersion(StrEnum):
    """The OCPP versions soapgw speaks with stations."""

    v15 = "1.5"
    v16 = "1.6"


class EventType(StrEnum):
    """Event types and their payloads (camelCase keys, OCPP-J 1.6 payloads where OCPP has one).

    A station's message: ``{"action", "request", "response"}``, or ``"error": {"code",
    "description"}`` instead of a response when it was refused. A command's result for one
    station: ``{"taskId", "action", "request", "response"}`` (RemoteStartTransaction adds
    ``"transactionId"``), or ``"error": {"kind", "code", "description"}``. The derived facts follow.
    """

    STATION_MESSAGE = "station.message"
    COMMAND_RESULT = "command.result"
    STATION_BOOTED = "station.booted"  # {"request", "response"} of the BootNotification
    STATION_OFFLINE = "station.offline"  # {"lastMessageAt", "heartbeatInterval"}
    STATION_ONLINE = "station.online"  # {"offlineSince", "action"}: came back
    CONNECTOR_STATUS = "connector.status_changed"  # {"statusNotification", "previousStatus"}
    TRANSACTION_STARTED = "transaction.started"  # {"request", "response"}
    TRANSACTION_STOPPED = "transaction.stopped"  # {"transactionId", "stoppedBy", "request", ...}
    TASK_FINISHED = "task.finished"  # {"taskId", "action", "origin", "results"}
    # a message refused by station authentication: {"action", "kind", "reason", "address"}
    STATION_AUTH_REFUSED = "station.auth_refused"
    STATION_ADDRESS_CHANGED = "station.address_changed"  # {"address", "previousAddress"}
    # an unregistered station spoke for the first time (since it was last forgotten):
    # {"action", "address"}
    STATION_UNKNOWN = "station.unknown"


def values(enum) -> tuple[str, ...]:
    """The OCPP strings of an enum, in its order (choices of forms and the CLI)."""
    return tuple(member.value for member in enum)


# --- e-mail notifications -----------------------------------------------------------------------
class MailEvent(StrEnum):
    """What a mail recipient may choose to hear about (core.mail.compose maps events to these)."""

    STATION_BOOTED = "station.booted"
    STATION_OFFLINE = "station.offline"
    STATION_ONLINE = "station.online"
    CONNECTOR_FAULTED = "connector.faulted"
    TRANSACTION_STARTED = "transaction.started"
    TRANSACTION_STOPPED = "transaction.stopped"
    STATION_UNKNOWN = "station.unknown"


class SmtpSecurity(StrEnum):
    """How the connection to the SMTP server is protected."""

    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (port 587)
    TLS = "tls"  # TLS from the first byte (port 465)
    NONE = "none"  # no encryption (a relay on the local network)
