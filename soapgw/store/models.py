"""The SQL schema (SQLAlchemy 2.0 declarative). Every timestamp is stored in UTC."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, Float, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from soapgw.timestamps import now
from soapgw.store.types import BoundedString, UtcDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime()}


class ChargeBox(Base):
    """A charge point, known to the central system (registered) by its chargeBoxIdentity."""

    __tablename__ = "charge_box"

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_id: Mapped[str] = mapped_column(String(255), unique=True)
    registration_status: Mapped[str] = mapped_column(String(20), default="Accepted")
    ocpp_version: Mapped[str | None] = mapped_column(String(8))  # "1.5" | "1.6"
    ocpp_transport: Mapped[str | None] = mapped_column(String(8))  # "SOAP" | "JSON"
    soap_version: Mapped[str | None] = mapped_column(String(4))  # "1.1" | "1.2"
    vendor: Mapped[str | None] = mapped_column(BoundedString(255))
    model: Mapped[str | None] = mapped_column(BoundedString(255))
    charge_point_serial_number: Mapped[str | None] = mapped_column(BoundedString(255))
    charge_box_serial_number: Mapped[str | None] = mapped_column(BoundedString(255))
    firmware_version: Mapped[str | None] = mapped_column(BoundedString(255))
    iccid: Mapped[str | None] = mapped_column(BoundedString(255))
    imsi: Mapped[str | None] = mapped_column(BoundedString(255))
    meter_type: Mapped[str | None] = mapped_column(BoundedString(255))
    meter_serial_number: Mapped[str | None] = mapped_column(BoundedString(255))
    # Where commands go: learnt from wsa:From (or its fallbacks), or pinned by an admin.
    endpoint_address: Mapped[str | None] = mapped_column(BoundedString(2048))
    endpoint_source: Mapped[str | None] = mapped_column(String(20))
    endpoint_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # Callback safety (soapgw.core.commands.callback_policy): where the station's requests come
    # from, and whether its callback address may be called (checked again before every call).
    endpoint_peer_host: Mapped[str | None] = mapped_column(String(64))
    endpoint_verdict: Mapped[str | None] = mapped_column(String(10))  # allowed | refused
    endpoint_verdict_reason: Mapped[str | None] = mapped_column(Text)
    endpoint_checked_at: Mapped[datetime | None]
    local_list_version: Mapped[int | None] = mapped_column(Integer)  # last SendLocalList accepted
    # Station authentication (soapgw.core.station_auth): who may speak as this station.
    auth_networks: Mapped[str | None] = mapped_column(Text)  # comma-separated CIDRs
    auth_password_hash: Mapped[str | None] = mapped_column(String(255))  # HTTP Basic, hashed
    auth_certificate: Mapped[str | None] = mapped_column(String(1024))  # subject or fingerprint
    # follow (None): learn a callback address announced from a new source address;
    # keep: record it, keep the current one (an admin moves it)
    callback_policy: Mapped[str | None] = mapped_column(String(10))
    last_peer_host: Mapped[str | None] = mapped_column(String(64))  # where messages came from
    auth_refusals: Mapped[int | None] = mapped_column(Integer)  # messages refused, in total
    auth_refused_at: Mapped[datetime | None]
    auth_refusal: Mapped[str | None] = mapped_column(Text)  # the latest refusal, why and whence
    last_boot_at: Mapped[datetime | None]
    last_heartbeat_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    firmware_status: Mapped[str | None] = mapped_column(BoundedString(40))
    firmware_status_at: Mapped[datetime | None]
    diagnostics_status: Mapped[str | None] = mapped_column(BoundedString(40))
    diagnostics_status_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    # What an operator tells about the station (core.locations): where it is, its own web page.
    description: Mapped[str | None] = mapped_column(Text)
    street: Mapped[str | None] = mapped_column(String(255))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    time_zone: Mapped[str | None] = mapped_column(String(64))  # IANA name, e.g. Europe/Berlin
    admin_address: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=now)
    # Set by the housekeeping sweep when the station fell silent (event station.offline);
    # cleared, with the event station.online, by its next message.
    offline_since: Mapped[datetime | None]

    connectors: Mapped[list[Connector]] = relationship(back_populates="charge_box",
                                                      cascade="all, delete-orphan")


class EndpointChange(Base):
    """History of a station's callback address."""

    __tablename__ = "endpoint_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_pk: Mapped[int] = mapped_column(ForeignKey("charge_box.id", ondelete="CASCADE"),
                                               index=True)
    address: Mapped[str | None] = mapped_column(BoundedString(2048))
    source: Mapped[str] = mapped_column(String(20))
    announced: Mapped[str | None] = mapped_column(BoundedString(2048))  # what the station sent
    changed_at: Mapped[datetime] = mapped_column(default=now)


class StationQuirk(Base):
    """Something a station does against the specification, tolerated and counted."""

    __tablename__ = "station_quirk"
    __table_args__ = (UniqueConstraint("charge_box_pk", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_pk: Mapped[int] = mapped_column(ForeignKey("charge_box.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(default=now)
    last_seen: Mapped[datetime] = mapped_column(default=now)


class Connector(Base):
    """A connector of a station; connector 0 stands for the whole station."""

    __tablename__ = "connector"
    __table_args__ = (UniqueConstraint("charge_box_pk", "connector_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_pk: Mapped[int] = mapped_column(ForeignKey("charge_box.id", ondelete="CASCADE"))
    connector_id: Mapped[int] = mapped_column(Integer)

    charge_box: Mapped[ChargeBox] = relationship(back_populates="connectors")


class ConnectorStatus(Base):
    """Append-only status log; the current status is the latest by timestamp."""

    __tablename__ = "connector_status"
    __table_args__ = (Index("ix_connector_status_latest", "connector_pk", "status_timestamp"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_pk: Mapped[int] = mapped_column(ForeignKey("connector.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(BoundedString(40))
    error_code: Mapped[str | None] = mapped_column(BoundedString(40))
    info: Mapped[str | None] = mapped_column(BoundedString(255))
    vendor_id: Mapped[str | None] = mapped_column(BoundedString(255))
    vendor_error_code: Mapped[str | None] = mapped_column(BoundedString(255))
    status_timestamp: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=now)


class IdTag(Base):
    """An OCPP identification token (RFID card, app token ...)."""

    __tablename__ = "id_tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_tag: Mapped[str] = mapped_column(BoundedString(255), unique=True)
    parent_id_tag: Mapped[str | None] = mapped_column(String(255))
    expiry_date: Mapped[datetime | None]
    max_active_transactions: Mapped[int] = mapped_column(Integer, default=1)  # 0: no limit
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    # The person who holds the tag (core.people); a person may hold several tags.
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL", name="fk_id_tag_person_id"), index=True)


class Reservation(Base):
    """A reservation: Waiting until the station accepts ReserveNow, then Accepted until used.

    OCPP reservation ids belong to a charge point (the same id on the same station replaces
    its reservation), so they are unique per station, not across the gateway."""

    __tablename__ = "reservation"
    __table_args__ = (UniqueConstraint("charge_box_pk", "reservation_id",
                                       name="uq_reservation_station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_pk: Mapped[int] = mapped_column(ForeignKey(
        "charge_box.id", ondelete="CASCADE", name="fk_reservation_charge_box_pk"))
    reservation_id: Mapped[int] = mapped_column(Integer)  # the OCPP reservationId
    connector_pk: Mapped[int] = mapped_column(ForeignKey("connector.id", ondelete="CASCADE"),
                                              index=True)
    id_tag: Mapped[str] = mapped_column(String(255))
    parent_id_tag: Mapped[str | None] = mapped_column(String(255))
    expiry_date: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="Waiting")
    transaction_pk: Mapped[int | None] = mapped_column(ForeignKey("transaction.id",
                                                                  ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Transaction(Base):
    """A charging session; its primary key is the OCPP transactionId (a database sequence)."""

    __tablename__ = "transaction"
    __table_args__ = (
        # A resent StartTransaction must get the same id, even from concurrent requests.
        UniqueConstraint("connector_pk", "id_tag", "start_timestamp", "meter_start",
                         name="uq_transaction_start"),
        Index("ix_transaction_active", "id_tag", "stop_timestamp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_pk: Mapped[int] = mapped_column(ForeignKey("connector.id", ondelete="CASCADE"))
    id_tag: Mapped[str] = mapped_column(BoundedString(255))
    start_timestamp: Mapped[datetime]
    meter_start: Mapped[int] = mapped_column(BigInteger)
    reservation_id: Mapped[int | None] = mapped_column(Integer)
    start_status: Mapped[str] = mapped_column(String(20))  # the idTagInfo status answered
    stop_timestamp: Mapped[datetime | None]
    meter_stop: Mapped[int | None] = mapped_column(BigInteger)
    stop_reason: Mapped[str | None] = mapped_column(BoundedString(40))
    stop_id_tag: Mapped[str | None] = mapped_column(BoundedString(255))
    stopped_by: Mapped[str | None] = mapped_column(String(20))  # station | operator
    started_received_at: Mapped[datetime] = mapped_column(default=now)
    stopped_received_at: Mapped[datetime | None]

    connector: Mapped[Connector] = relationship()


class FailedStop(Base):
    """A StopTransaction that could not be applied; answered normally, kept for an operator."""

    __tablename__ = "failed_stop"

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_pk: Mapped[int] = mapped_column(ForeignKey("charge_box.id", ondelete="CASCADE"),
                                               index=True)
    transaction_id: Mapped[int | None] = mapped_column(BigInteger)
    stop_timestamp: Mapped[datetime | None]
    meter_stop: Mapped[int | None] = mapped_column(BigInteger)
    stop_reason: Mapped[str | None] = mapped_column(BoundedString(40))
    id_tag: Mapped[str | None] = mapped_column(BoundedString(255))
    fail_reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=now)


class MeterValueRow(Base):
    """One sampled value; 1.5 readings are normalised to the 1.6 vocabulary."""

    __tablename__ = "meter_value"
    __table_args__ = (Index("ix_meter_value_transaction", "transaction_pk", "value_timestamp"),
                      Index("ix_meter_value_connector", "connector_pk", "value_timestamp"))

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_pk: Mapped[int] = mapped_column(ForeignKey("connector.id", ondelete="CASCADE"))
    transaction_pk: Mapped[int | None] = mapped_column(ForeignKey("transaction.id",
                                                                  ondelete="CASCADE"))
    value_timestamp: Mapped[datetime]
    value: Mapped[str] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(BoundedString(40))
    format: Mapped[str | None] = mapped_column(BoundedString(20))
    measurand: Mapped[str | None] = mapped_column(BoundedString(60))
    phase: Mapped[str | None] = mapped_column(BoundedString(10))
    location: Mapped[str | None] = mapped_column(BoundedString(20))
    unit: Mapped[str | None] = mapped_column(BoundedString(20))
    source: Mapped[str] = mapped_column(String(20))  # MeterValues | StopTransaction


class DataTransferRecord(Base):
    """A DataTransfer in either direction, with the answer it got."""

    __tablename__ = "data_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_pk: Mapped[int] = mapped_column(ForeignKey("charge_box.id", ondelete="CASCADE"),
                                               index=True)
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    vendor_id: Mapped[str] = mapped_column(BoundedString(255))
    message_id: Mapped[str | None] = mapped_column(BoundedString(255))
    data: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(BoundedString(40))
    response_data: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=now)


class UnknownChargeBox(Base):
    """A station that talked to us without being registered: for an admin to accept."""

    __tablename__ = "unknown_charge_box"

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_id: Mapped[str] = mapped_column(String(255), unique=True)
    first_seen: Mapped[datetime] = mapped_column(default=now)
    last_seen: Mapped[datetime] = mapped_column(default=now)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_action: Mapped[str | None] = mapped_column(String(60))
    last_address: Mapped[str | None] = mapped_column(BoundedString(2048))


class Setting(Base):
    """Operator-editable settings; environment variables give the defaults."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class JournalEntry(Base):
    """Every SOAP message in and out, raw, with its metadata."""

    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_station_time", "charge_box_id", "created_at"),
                      Index("ix_journal_time", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    charge_box_id: Mapped[str | None] = mapped_column(BoundedString(255))
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    action: Mapped[str | None] = mapped_column(String(80))
    message_id: Mapped[str | None] = mapped_column(BoundedString(255))
    relates_to: Mapped[str | None] = mapped_column(BoundedString(255))
    ocpp_version: Mapped[str | None] = mapped_column(String(8))
    soap_version: Mapped[str | None] = mapped_column(String(4))
    http_status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float | None]
    peer: Mapped[str | None] = mapped_column(BoundedString(255))
    fault_code: Mapped[str | None] = mapped_column(String(60))
    raw: Mapped[bytes] = mapped_column(LargeBinary)


class AdminUser(Base):
    """An operator who may sign in to the web UI."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_login_at: Mapped[datetime | None]
    # In every session cookie; sign-out and a new password increase it, ending older sessions.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A disabled account cannot sign in; set and cleared by core.accounts.
    disabled_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed web sign-ins per user name or client address (shared by all worker processes):
    past a few failures, further attempts are refused until ``locked_until``."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # user:NAME | address:IP
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime]
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class Task(Base):
    """A command sent to one or more stations; one TaskResult per station."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the OCPP-J 1.6 request payload (JSON)
    origin: Mapped[str] = mapped_column(String(20))  # cli | web | api
    caller: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None]

    results: Mapped[list[TaskResult]] = relationship(back_populates="task",
                                                     cascade="all, delete-orphan",
                                                     order_by="TaskResult.id")


class TaskResult(Base):
    """One station's part of a task: queued -> sent -> answered | failed | timed_out."""

    __tablename__ = "task_result"
    __table_args__ = (UniqueConstraint("task_id", "charge_box_id"),
                      Index("ix_task_result_state", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    charge_box_id: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(12), default="queued")
    ocpp_version: Mapped[str | None] = mapped_column(String(8))
    endpoint_address: Mapped[str | None] = mapped_column(String(2048))
    message_id: Mapped[str | None] = mapped_column(String(255))
    response: Mapped[str | None] = mapped_column(Text)  # OCPP-J 1.6 response payload (JSON)
    error_kind: Mapped[str | None] = mapped_column(String(30))
    error: Mapped[str | None] = mapped_column(Text)
    fault_code: Mapped[str | None] = mapped_column(String(60))
    transaction_id: Mapped[int | None] = mapped_column(Integer)  # RemoteStartTransaction
    worker: Mapped[str | None] = mapped_column(String(255))  # host:pid running it
    queued_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[float | None]

    task: Mapped[Task] = relationship(back_populates="results")


class ConfigurationKey(Base):
    """A configuration key as the station last reported it (GetConfiguration)."""

    __tablename__ = "configuration_key"
    __table_args__ = (UniqueConstraint("charge_box_pk", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_pk: Mapped[int] = mapped_column(ForeignKey("charge_box.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(Text)
    readonly: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class InstalledChargingProfile(Base):
    """A charging profile the station accepted (SetChargingProfile), until cleared."""

    __tablename__ = "installed_charging_profile"
    __table_args__ = (UniqueConstraint("charge_box_pk", "connector_id", "charging_profile_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_pk: Mapped[int] = mapped_column(ForeignKey("charge_box.id", ondelete="CASCADE"))
    connector_id: Mapped[int] = mapped_column(Integer)
    charging_profile_id: Mapped[int] = mapped_column(Integer)
    stack_level: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str | None] = mapped_column(String(20))
    transaction_id: Mapped[int | None] = mapped_column(Integer)
    profile: Mapped[str] = mapped_column(Text)  # csChargingProfiles as OCPP-J JSON
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"))
    installed_at: Mapped[datetime] = mapped_column(default=now)



class Event(Base):
    """The outbox the JSON side hears from: every message in and out and every derived fact,
    written in the same database transaction as the data it describes.

    ``id`` only grows (the purge never removes the newest row, so SQLite's next rowid is
    never one it gave before, without AUTOINCREMENT's extra write per insert; on PostgreSQL
    writers take an advisory lock before inserting, so ids commit in order): consumers read
    ``WHERE id > cursor``. ``payload`` is JSON in OCPP-J 1.6 shape.
    """

    __tablename__ = "event"
    # One index beside the key: each one more costs every message (readers go by id from
    # their cursor; the purge walks ids from the oldest).
    __table_args__ = (Index("ix_event_station", "charge_box_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    charge_box_id: Mapped[str | None] = mapped_column(BoundedString(255))
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)


class EventConsumer(Base):
    """Where a consumer of the outbox (webhooks, the bridge, a stream) has read up to: events
    every registered consumer has passed may be purged once past the retention."""

    __tablename__ = "event_consumer"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class UpstreamStation(Base):
    """A station's link to the OCPP-J central system of the bridge (soapgw.bridge): what the
    operator set (on/off, a URL of its own, the Basic-auth password, encrypted) and what the
    bridge reports (connected since / down since, last error, the central system's answer to
    the latest BootNotification). Keyed by chargeBoxId: it may be set before the station is
    registered."""

    __tablename__ = "upstream_station"

    charge_box_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    url: Mapped[str | None] = mapped_column(BoundedString(2048))
    password: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet token, never shown
    ping_interval: Mapped[int | None] = mapped_column(Integer)  # WebSocketPingInterval
    changed_at: Mapped[datetime] = mapped_column(default=now)  # operator's settings
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    state_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    boot_status: Mapped[str | None] = mapped_column(String(20))
    boot_request: Mapped[str | None] = mapped_column(Text)  # the cached BootNotification


class UpstreamQueued(Base):
    """A station's message waiting to go to the upstream central system, in order. Copied
    from the event outbox (``station.message``), which holds it from the commit that
    journaled it; deleted once the central system answered it (or dropped, journaled)."""

    __tablename__ = "upstream_queue"
    __table_args__ = (Index("ix_upstream_queue_station", "charge_box_id", "id"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    charge_box_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the OCPP-J 1.6 request
    response: Mapped[str | None] = mapped_column(Text)  # what soapgw answered the station
    decided_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]  # when the station sent it


class UpstreamTransaction(Base):
    """soapgw's transaction id <-> the upstream central system's, found by the start's values
    (connector, idTag, timestamp, meterStart: what makes a start unique in soapgw)."""

    __tablename__ = "upstream_transaction"
    __table_args__ = (UniqueConstraint("charge_box_id", "start_key"),
                      Index("ix_upstream_transaction_local", "charge_box_id", "local_id"),
                      Index("ix_upstream_transaction_csms", "charge_box_id", "csms_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_box_id: Mapped[str] = mapped_column(String(255))
    start_key: Mapped[str] = mapped_column(String(400))
    local_id: Mapped[int | None] = mapped_column(Integer)
    csms_id: Mapped[int | None] = mapped_column(Integer)
    id_tag_status: Mapped[str | None] = mapped_column(String(20))  # the upstream verdict
    created_at: Mapped[datetime] = mapped_column(default=now)


class UpstreamIdTag(Base):
    """The upstream central system's latest idTagInfo per tag: the authorization cache used
    while its link is down."""

    __tablename__ = "upstream_id_tag"

    id_tag: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    expiry_date: Mapped[datetime | None]
    parent_id_tag: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=now)


class ApiToken(Base):
    """A bearer token of the REST API. Only the SHA-256 of the token is kept (the token is
    shown once, when created); ``prefix`` lets people recognise it in lists."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    scope: Mapped[str] = mapped_column(String(10))  # read | operate | admin
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApiIdempotencyKey(Base):
    """An ``Idempotency-Key`` a token sent with a command: the same key gives the same task."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (UniqueConstraint("token_id", "key"),
                      Index("ix_api_idempotency_key_time", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and body
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Webhook(Base):
    """A webhook subscription: events of some types (none: all) and stations (none: all),
    POSTed to ``url`` signed as Standard Webhooks says. The signing secret is derived from the
    gateway's webhook key and ``secret_nonce`` (never stored). Its cursor is the event
    consumer ``webhook:<id>``."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(BoundedString(2048))
    types: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of event types
    stations: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of chargeBoxIds
    description: Mapped[str | None] = mapped_column(Text)
    secret_nonce: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="active")  # active | paused
    paused_reason: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class WebhookDelivery(Base):
    """One event to one subscription: pending until the receiver answers 2xx (delivered), or
    given up (failed, when the subscription is paused after 24 h of retries). Delivered in
    ``id`` order per subscription."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_queue", "webhook_id", "state", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(64))  # the webhook-id header
    body: Mapped[str] = mapped_column(Text)  # the JSON posted
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=now)
    first_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_response: Mapped[str | None] = mapped_column(Text)  # the first 1000 characters
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    delivered_at: Mapped[datetime | None]


# --- charging profile library (issue 15) --------------------------------------------------------
class StoredChargingProfile(Base):
    """A charging profile kept in the library, sent to stations with SetChargingProfile or
    RemoteStartTransaction (``core/charging_profiles.py`` checks it against OCPP 1.6)."""

    __tablename__ = "stored_charging_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    charging_profile_id: Mapped[int] = mapped_column(Integer, unique=True)  # the OCPP id
    description: Mapped[str | None] = mapped_column(String(255))
    stack_level: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    recurrency_kind: Mapped[str | None] = mapped_column(String(20))
    valid_from: Mapped[datetime | None]
    valid_to: Mapped[datetime | None]
    charging_rate_unit: Mapped[str] = mapped_column(String(4))
    duration: Mapped[int | None] = mapped_column(Integer)  # seconds
    start_schedule: Mapped[datetime | None]
    min_charging_rate: Mapped[str | None] = mapped_column(String(20))  # decimal, as typed
    periods: Mapped[str] = mapped_column(Text)  # JSON list of chargingSchedulePeriod
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)


# --- notifications (e-mail on chosen events) ---------------------------------------------------
class MailRecipient(Base):
    """Who gets an e-mail, and on which notification events (``core.enums.MailEvent``)."""

    __tablename__ = "mail_recipient"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    events: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of MailEvent values
    created_at: Mapped[datetime] = mapped_column(default=now)


class MailMessage(Base):
    """One e-mail to one recipient: pending until the SMTP server accepts it (sent), retried
    with backoff, given up (failed) only after the retry window, and kept with its error."""

    __tablename__ = "mail_message"
    __table_args__ = (Index("ix_mail_message_queue", "state", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger)  # None: a test mail
    kind: Mapped[str] = mapped_column(String(40))  # a MailEvent value, or "test"
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=now)
    first_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]


# --- people, unknown tags (issue 15) --------------------------------------------------------------
class Person(Base):
    """Someone who charges: contact details, and the id tags they hold (IdTag.person_id)."""

    __tablename__ = "person"
    # The list is ordered by name and searched by name, e-mail and phone.
    __table_args__ = (Index("ix_person_name", "last_name", "first_name"),
                      Index("ix_person_email", "email"))

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    street: Mapped[str | None] = mapped_column(String(255))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class UnknownIdTag(Base):
    """An id tag a station presented (Authorize, StartTransaction) that is not registered:
    one row per id tag, counted, for an admin to add or forget."""

    __tablename__ = "unknown_id_tag"
    __table_args__ = (Index("ix_unknown_id_tag_last_seen", "last_seen"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_tag: Mapped[str] = mapped_column(String(255), unique=True)
    first_seen: Mapped[datetime] = mapped_column(default=now)
    last_seen: Mapped[datetime] = mapped_column(default=now)
    count: Mapped[int] = mapped_column(Integer, default=1)
    last_action: Mapped[str | None] = mapped_column(String(40))
    last_charge_box_id: Mapped[str | None] = mapped_column(String(255))
