"""Request and response models of the API (pydantic): spectree validates with them and
writes the OpenAPI document from them. JSON names are camelCase, timestamps ISO 8601 UTC."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from soapgw.core.enums import EventType, values

Scope = Literal["read", "operate", "admin"]
RegistrationStatus = Literal["Accepted", "Pending", "Rejected"]
# printable, without spaces at either end (core.identifiers says the same, in words)
IDENTIFIER = r"^[^\x00-\x1f\x7f\s]([^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s])?$"
ChargeBoxId = Field(min_length=1, max_length=255, pattern=IDENTIFIER)
EventTypeName = Literal[tuple(values(EventType))]  # the outbox's event types


class Strict(BaseModel):
    """Unknown fields are refused in requests and never sent in answers."""

    model_config = ConfigDict(extra="forbid")


class FieldError(Strict):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (application/problem+json)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


Links = dict[str, str]


class PageQuery(Strict):
    limit: int = Field(50, ge=1, le=500, description="items per page")
    cursor: str | None = Field(None, pattern=r"^[0-9]{1,18}$",
                               description="the `nextCursor` of the previous page (items "
                                           "after it in the list's order)")


class Page(Strict):
    nextCursor: str | None = Field(description="pass as `cursor` for the next page; null "
                                               "on the last page")
    links: Links


# --- charge points ---------------------------------------------------------------------------
class ChargePoint(Strict):
    chargeBoxId: str
    registrationStatus: str
    ocppVersion: str | None
    transport: str | None
    soapVersion: str | None
    vendor: str | None
    model: str | None
    chargePointSerialNumber: str | None
    chargeBoxSerialNumber: str | None
    firmwareVersion: str | None
    iccid: str | None
    imsi: str | None
    meterType: str | None
    meterSerialNumber: str | None
    endpointAddress: str | None
    endpointSource: str | None
    endpointPinned: bool
    endpointVerdict: str | None
    endpointVerdictReason: str | None
    localListVersion: int | None
    firmwareStatus: str | None
    diagnosticsStatus: str | None
    lastBootAt: datetime | None
    lastHeartbeatAt: datetime | None
    lastMessageAt: datetime | None
    offlineSince: datetime | None
    online: bool
    note: str | None
    createdAt: datetime
    links: Links


class ChargePointPage(Page):
    items: list[ChargePoint]


class ChargePointQuery(PageQuery):
    registrationStatus: RegistrationStatus | None = None
    ocppVersion: Literal["1.5", "1.6"] | None = None


class ChargePointCreate(Strict):
    chargeBoxId: str = ChargeBoxId
    registrationStatus: RegistrationStatus = "Accepted"
    endpointAddress: str | None = Field(None, max_length=2048)
    note: str | None = Field(None, max_length=4000)


class ChargePointUpdate(Strict):
    registrationStatus: RegistrationStatus | None = None
    endpointAddress: str | None = Field(None, max_length=2048, description=(
        "set (pins it: wins over what the station announces); empty string clears"))
    unpinEndpoint: bool = Field(False, description="go back to the address the station "
                                                   "announces")
    note: str | None = Field(None, max_length=4000)


class ConnectorStatus(Strict):
    status: str
    errorCode: str | None
    info: str | None
    vendorId: str | None
    vendorErrorCode: str | None
    timestamp: datetime
    receivedAt: datetime


class Connector(Strict):
    connectorId: int
    current: ConnectorStatus | None
    links: Links


class ConnectorList(Strict):
    items: list[Connector]


class ConnectorHistory(Page):
    items: list[ConnectorStatus]


# --- id tags ---------------------------------------------------------------------------------
class Tag(Strict):
    idTag: str
    parentIdTag: str | None
    expiryDate: datetime | None
    maxActiveTransactions: int = Field(description="0: no limit")
    blocked: bool
    note: str | None
    createdAt: datetime
    links: Links


class TagPage(Page):
    items: list[Tag]


class TagQuery(PageQuery):
    blocked: bool | None = None
    parentIdTag: str | None = Field(None, max_length=20)


class TagFields(Strict):
    parentIdTag: str | None = Field(None, max_length=20, pattern=IDENTIFIER)
    expiryDate: datetime | None = None
    maxActiveTransactions: int = Field(1, ge=0, le=1000, description="0: no limit")
    blocked: bool = False
    note: str | None = Field(None, max_length=4000)


class TagCreate(TagFields):
    idTag: str = Field(min_length=1, max_length=20, pattern=IDENTIFIER)


class TagUpdate(Strict):
    parentIdTag: str | None = Field(None, max_length=20)
    expiryDate: datetime | None = None
    maxActiveTransactions: int | None = Field(None, ge=0, le=1000)
    blocked: bool | None = None
    note: str | None = Field(None, max_length=4000)


# --- transactions ----------------------------------------------------------------------------
class Transaction(Strict):
    transactionId: int
    chargeBoxId: str
    connectorId: int
    idTag: str
    startTimestamp: datetime
    meterStart: int
    startStatus: str
    reservationId: int | None
    stopTimestamp: datetime | None
    meterStop: int | None
    stopReason: str | None
    stopIdTag: str | None
    stoppedBy: str | None
    energyWh: int | None = Field(description="meterStop - meterStart, once stopped")
    links: Links


class SampledValue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str
    context: str | None = None
    format: str | None = None
    measurand: str | None = None
    phase: str | None = None
    location: str | None = None
    unit: str | None = None


class MeterValue(Strict):
    timestamp: datetime
    sampledValue: list[SampledValue]


class TransactionDetail(Transaction):
    meterValue: list[MeterValue] = Field(description="OCPP-J 1.6 meterValue shape, oldest "
                                                     "first (at most 10,000 samples)")
    meterValuesTruncated: bool


class TransactionPage(Page):
    items: list[Transaction]


class TransactionQuery(PageQuery):
    station: str | None = Field(None, max_length=255)
    idTag: str | None = Field(None, max_length=255)
    person: int | None = Field(None, ge=1, le=2147483647,
                               description="the id of a person: transactions of their tags")
    state: Literal["open", "closed"] | None = None
    startedFrom: datetime | None = None
    startedBefore: datetime | None = None


class ExportQuery(Strict):
    station: str | None = Field(None, max_length=255)
    idTag: str | None = Field(None, max_length=255)
    person: int | None = Field(None, ge=1, le=2147483647,
                               description="the id of a person: transactions of their tags")
    state: Literal["open", "closed"] | None = None
    startedFrom: datetime | None = None
    startedBefore: datetime | None = None


class TransactionStop(Strict):
    stopTimestamp: datetime
    meterStop: int = Field(ge=0, le=2 ** 62)
    reason: str = Field("Other", max_length=40)


# --- reservations ----------------------------------------------------------------------------
class Reservation(Strict):
    id: int  # the gateway's: the reservation's URL
    reservationId: int  # OCPP's, per charge point
    chargeBoxId: str
    connectorId: int
    idTag: str
    parentIdTag: str | None
    expiryDate: datetime
    status: str
    transactionId: int | None
    createdAt: datetime
    links: Links


class ReservationPage(Page):
    items: list[Reservation]


class ReservationQuery(PageQuery):
    station: str | None = Field(None, max_length=255)
    idTag: str | None = Field(None, max_length=255)
    status: str | None = Field(None, max_length=20)
    active: bool | None = None


# --- tasks and commands ----------------------------------------------------------------------
class TaskResult(Strict):
    chargeBoxId: str
    state: str
    ocppVersion: str | None
    endpointAddress: str | None
    messageId: str | None
    response: dict[str, Any] | None
    errorKind: str | None
    error: str | None
    faultCode: str | None
    transactionId: int | None
    queuedAt: datetime | None
    sentAt: datetime | None
    finishedAt: datetime | None
    durationMs: float | None


class Task(Strict):
    taskId: int
    operation: str
    payload: dict[str, Any]
    origin: str
    caller: str | None
    createdAt: datetime
    finishedAt: datetime | None
    done: bool
    results: list[TaskResult]
    links: Links


class TaskPage(Page):
    items: list[Task]


class TaskQuery(PageQuery):
    operation: str | None = Field(None, max_length=40)
    origin: str | None = Field(None, max_length=20)
    station: str | None = Field(None, max_length=255)
    state: Literal["open", "queued", "sent", "answered", "failed", "timed_out"] | None = None


class CommandToMany(Strict):
    chargeBoxIds: list[str] = Field(min_length=1, max_length=1000)
    payload: dict[str, Any] = Field(default_factory=dict,
                                    description="the OCPP-J 1.6 request payload")


# --- journal ---------------------------------------------------------------------------------
class JournalEntry(Strict):
    id: int
    createdAt: datetime
    chargeBoxId: str | None
    direction: str
    action: str | None
    messageId: str | None
    relatesTo: str | None
    ocppVersion: str | None
    soapVersion: str | None
    httpStatus: int | None
    durationMs: float | None
    peer: str | None
    faultCode: str | None
    links: Links


class JournalDetail(JournalEntry):
    raw: str = Field(description="the message as sent (UTF-8; undecodable bytes replaced)")


class JournalPage(Page):
    items: list[JournalEntry]


class JournalQuery(PageQuery):
    station: str | None = Field(None, max_length=255)
    action: str | None = Field(None, max_length=80)
    direction: Literal["in", "out"] | None = None
    since: datetime | None = None
    before: datetime | None = None


# --- unknown stations ------------------------------------------------------------------------
class UnknownStation(Strict):
    id: int
    chargeBoxId: str
    firstSeen: datetime
    lastSeen: datetime
    attempts: int
    lastAction: str | None
    lastAddress: str | None
    links: Links


class UnknownStationPage(Page):
    items: list[UnknownStation]


# --- settings --------------------------------------------------------------------------------
class Settings(Strict):
    heartbeatInterval: int
    autoRegister: bool
    journalRetentionDays: int
    eventRetentionDays: int
    connectTimeout: float
    operationTimeout: float


class SettingsUpdate(Strict):
    """Only the settings given change (none of them may be null)."""

    heartbeatInterval: int = Field(None, ge=1, le=7 * 86400)
    autoRegister: bool = Field(None)
    journalRetentionDays: int = Field(None, ge=0, le=3650)
    eventRetentionDays: int = Field(None, ge=0, le=3650)
    connectTimeout: float = Field(None, gt=0, le=3600)
    operationTimeout: float = Field(None, gt=0, le=3600)


# --- events ----------------------------------------------------------------------------------
class Event(Strict):
    id: int
    type: str
    chargeBoxId: str | None
    createdAt: datetime
    payload: dict[str, Any]


class EventPage(Strict):
    items: list[Event]
    nextAfter: int = Field(description="pass as `after` to read on (the last id, or the "
                                       "`after` given when there was nothing new)")
    links: Links


class EventQuery(Strict):
    after: int = Field(0, ge=0, le=2 ** 62, description="events with a greater id")
    type: list[EventTypeName] | None = Field(None, max_length=20,
                                             description="event types (repeat)")
    station: str | None = Field(None, max_length=255)
    limit: int = Field(100, ge=1, le=1000)


# --- webhooks --------------------------------------------------------------------------------
class Webhook(Strict):
    id: int
    url: str
    types: list[str] = Field(description="empty: every event type")
    stations: list[str] = Field(description="empty: every station")
    description: str | None
    state: Literal["active", "paused"]
    pausedReason: str | None
    pausedAt: datetime | None
    pending: int = Field(description="messages waiting to be delivered")
    createdAt: datetime
    updatedAt: datetime
    links: Links


class WebhookWithSecret(Webhook):
    secret: str = Field(description="whsec_...: verify signatures with it (Standard "
                                    "Webhooks); shown when created or rotated")


class WebhookPage(Page):
    items: list[Webhook]


class WebhookCreate(Strict):
    url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[^/?#\s]+",
                     description="http(s); loopback, private and link-local addresses are "
                                 "refused unless SOAPGW_WEBHOOK_ALLOWED_NETWORKS allows them")
    types: list[EventTypeName] = Field(default_factory=list, max_length=100)
    stations: list[str] = Field(default_factory=list, max_length=1000)
    description: str | None = Field(None, max_length=1000)


class WebhookUpdate(Strict):
    url: str | None = Field(None, min_length=1, max_length=2048, pattern=r"^https?://[^/?#\s]+")
    types: list[EventTypeName] | None = Field(None, max_length=100)
    stations: list[str] | None = Field(None, max_length=1000)
    description: str | None = Field(None, max_length=1000)
    active: bool | None = Field(None, description="false pauses, true resumes")


class Delivery(Strict):
    id: int
    eventId: int
    eventType: str
    messageId: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    nextAttemptAt: datetime | None
    lastAttemptAt: datetime | None
    lastStatus: int | None
    lastResponse: str | None
    lastError: str | None
    createdAt: datetime
    deliveredAt: datetime | None
    links: Links


class DeliveryPage(Page):
    items: list[Delivery]


class DeliveryQuery(PageQuery):
    state: Literal["pending", "delivered", "failed"] | None = None


# --- tokens ----------------------------------------------------------------------------------
class Token(Strict):
    id: int
    name: str
    scope: Scope
    prefix: str
    createdAt: datetime
    lastUsedAt: datetime | None
    revokedAt: datetime | None
    links: Links


class TokenWithSecret(Token):
    token: str = Field(description="shown once: store it now")


class TokenList(Strict):
    items: list[Token]


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=80, pattern=IDENTIFIER)
    scope: Scope = "read"


class Index(Strict):
    version: str
    caller: dict[str, Any]
    links: Links


# --- people (users holding id tags) ------------------------------------------------------------
class PersonQuery(PageQuery):
    q: str | None = Field(None, max_length=255, description="name, e-mail, phone, city or id "
                                                           "tag contains")


class PersonFields(Strict):
    firstName: str | None = Field(None, max_length=100)
    lastName: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=40)
    street: str | None = Field(None, max_length=255)
    houseNumber: str | None = Field(None, max_length=20)
    postalCode: str | None = Field(None, max_length=20)
    city: str | None = Field(None, max_length=100)
    country: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=4000)


class PersonCreate(PersonFields):
    idTags: list[str] = Field([], max_length=100, description="registered tags nobody else "
                                                              "holds")


class PersonUpdate(PersonFields):
    idTags: list[str] | None = Field(None, max_length=100, description="the tags held "
                                                                      "afterwards (all of them)")


class Person(PersonFields):
    id: int
    idTags: list[str]
    createdAt: datetime
    updatedAt: datetime
    links: Links


class PersonPage(Page):
    items: list[Person]
