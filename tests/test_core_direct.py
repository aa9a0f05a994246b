"""The core called directly with typed messages (no SOAP, no HTTP): the rules of each action,
and the events each message and each derived fact publishes, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from importlib import resources

import pytest
from jsonschema import Draft4Validator
from sqlalchemy import select

from soapgw.core import events, messages as m, stations, tags
from soapgw.core.call import StationCall
from soapgw.core.enums import EventType
from soapgw.core.errors import ErrorCode, Invalid, NotFound, OcppError
from soapgw.core.transactions import operator_stop
from soapgw.store.models import ChargeBox, FailedStop, MeterValueRow, StationQuirk, Transaction

SCHEMAS = resources.files("ocpp.v16") / "schemas"
T0 = datetime(2030, 1, 1, 10, 0, tzinfo=timezone.utc)


def schema_problems(action: str, payload: dict, response: bool = False) -> list[str]:
    """Breaches of the ocpp package's own OCPP 1.6 JSON schema (not soapgw's validator)."""
    name = f"{action}Response.json" if response else f"{action}.json"
    validator = Draft4Validator(json.loads((SCHEMAS / name).read_text("utf-8")))
    return [error.message for error in validator.iter_errors(payload)]


class Core:
    """Sends typed messages through ``CentralSystem.process`` as an edge would: one database
    transaction per message, committed also when the core refuses it."""

    def __init__(self, gateway):
        self.gateway = gateway
        self.clock = T0

    def send(self, charge_box_id: str, request, version: str = "1.6", **call_fields):
        action = type(request).__name__.removesuffix("Request")
        call = StationCall(charge_box_id=charge_box_id, action=action, ocpp_version=version,
                           received_at=self.clock, **call_fields)
        self.clock += timedelta(seconds=1)
        with self.gateway.engine.begin() as db:
            try:
                return self.gateway.central_system.process(db, call, request)
            except OcppError as error:
                return error

    def events(self, after: int = 0) -> list[events.StoredEvent]:
        with self.gateway.sessions() as db:
            return events.read(db, after=after, limit=1000)


@pytest.fixture
def core(gateway, seed) -> Core:
    seed.station("CB-1")
    seed.tag("TAG1", max_active_transactions=1)
    seed.tag("PARENT")
    seed.tag("CHILD", parent_id_tag="PARENT", expiry_date=T0 + timedelta(days=30))
    seed.tag("OLD", expiry_date=T0 - timedelta(days=1))
    seed.tag("BLOCKED", blocked=True)
    return Core(gateway)


def test_registration_gate(core, gateway):
    unknown = core.send("CB-NEW", m.BootNotificationRequest(charge_point_vendor="V",
                                                            charge_point_model="M"))
    assert unknown.status == "Rejected" and unknown.interval == 300
    refused = core.send("CB-NEW", m.HeartbeatRequest())
    assert isinstance(refused, OcppError) and refused.code == ErrorCode.SECURITY_ERROR
    with gateway.sessions.begin() as db:
        stations.register(db, ["CB-PENDING"], "Pending")
    assert core.send("CB-PENDING", m.BootNotificationRequest(
        charge_point_vendor="V", charge_point_model="M")).status == "Pending"
    assert core.send("CB-PENDING", m.AuthorizeRequest(id_tag="TAG1")).code == \
        ErrorCode.SECURITY_ERROR
    accepted = core.send("CB-1", m.BootNotificationRequest(charge_point_vendor="V",
                                                           charge_point_model="M",
                                                           firmware_version="1.0"))
    assert accepted.status == "Accepted" and accepted.current_time == T0 + timedelta(seconds=4)
    with gateway.sessions() as db:
        station = db.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == "CB-1")).one()
        assert (station.vendor, station.firmware_version, station.ocpp_version) == \
            ("V", "1.0", "1.6")
    # each message is an event; a refusal carries its OCPP error code
    kinds = [(e.type, e.charge_box_id, e.payload.get("action")) for e in core.events()]
    assert kinds == [
        ("station.message", "CB-NEW", "BootNotification"),
        ("station.unknown", "CB-NEW", "BootNotification"),  # once, not at its Heartbeat
        ("station.message", "CB-NEW", "Heartbeat"),
        ("station.message", "CB-PENDING", "BootNotification"),
        ("station.booted", "CB-PENDING", None),
        ("station.message", "CB-PENDING", "Authorize"),
        ("station.message", "CB-1", "BootNotification"),
        ("station.booted", "CB-1", None)]
    heartbeat = core.events()[2].payload
    assert heartbeat["request"] == {} and heartbeat["error"]["code"] == "SecurityError"
    assert "not registered" in heartbeat["error"]["description"]


@pytest.mark.parametrize("id_tag, status, extra", [
    ("TAG1", "Accepted", {}),
    ("CHILD", "Accepted", {"parentIdTag": "PARENT", "expiryDate": "2030-01-31T10:00:00Z"}),
    ("OLD", "Expired", {"expiryDate": "2029-12-31T10:00:00Z"}),
    ("BLOCKED", "Blocked", {}),
    ("NOBODY", "Invalid", {}),
])
def test_authorize(core, id_tag, status, extra):
    answer = core.send("CB-1", m.AuthorizeRequest(id_tag=id_tag))
    assert answer.id_tag_info.status == status
    payload = core.events()[-1].payload
    assert payload == {"action": "Authorize", "request": {"idTag": id_tag},
                       "response": {"idTagInfo": {"status": status, **extra}}}
    assert not schema_problems("AuthorizeResponse", payload["response"])


def test_a_charging_session_and_its_events(core, gateway):
    status = core.send("CB-1", m.StatusNotificationRequest(
        connector_id=1, status="Available", error_code="NoError", timestamp=T0))
    assert isinstance(status, m.StatusNotificationResponse)
    start = m.StartTransactionRequest(connector_id=1, id_tag="TAG1", timestamp=T0,
                                      meter_start=1000)
    started = core.send("CB-1", start)
    assert started.id_tag_info.status == "Accepted"
    assert core.send("CB-1", start).transaction_id == started.transaction_id  # a resend
    # the tag's one active transaction is taken: a second one is ConcurrentTx
    other = core.send("CB-1", m.StartTransactionRequest(connector_id=2, id_tag="TAG1",
                                                        timestamp=T0, meter_start=5))
    assert other.id_tag_info.status == "ConcurrentTx"
    core.send("CB-1", m.StatusNotificationRequest(connector_id=1, status="Charging",
                                                  error_code="NoError",
                                                  timestamp=T0 + timedelta(seconds=5)))
    # an older notification arriving late does not change the current status
    core.send("CB-1", m.StatusNotificationRequest(connector_id=1, status="Preparing",
                                                  error_code="NoError",
                                                  timestamp=T0 + timedelta(seconds=2)))
    core.send("CB-1", m.MeterValuesRequest(connector_id=1, transaction_id=started.transaction_id,
                                           meter_value=[m.MeterValue(
                                               timestamp=T0 + timedelta(minutes=1),
                                               sampled_value=[m.SampledValue(
                                                   value="1500", measurand="Energy.Active.Import.Register",
                                                   unit="Wh")])]))
    stop = m.StopTransactionRequest(transaction_id=started.transaction_id, meter_stop=4000,
                                    timestamp=T0 + timedelta(minutes=30), reason="Local")
    core.send("CB-1", stop)
    core.send("CB-1", stop)  # a duplicate: nothing new
    core.send("CB-1", m.StopTransactionRequest(transaction_id=999, meter_stop=1,
                                               timestamp=T0))  # unknown: a failed stop

    with gateway.sessions() as db:
        transaction = db.get(Transaction, started.transaction_id)
        assert (transaction.meter_stop, transaction.stop_reason, transaction.stopped_by) == \
            (4000, "Local", "station")
        assert db.scalar(select(MeterValueRow.value)) == "1500"
        assert db.scalars(select(FailedStop.fail_reason)).one().startswith("no transaction 999")
        quirks = set(db.scalars(select(StationQuirk.code)))
        assert {"resent-start", "duplicate-stop"} <= quirks

    facts = [e for e in core.events() if e.type != "station.message"]
    assert [(e.type, e.payload.get("previousStatus")) for e in facts] == [
        ("connector.status_changed", None),
        ("transaction.started", None),
        ("transaction.started", None),  # the ConcurrentTx one is stored too
        ("connector.status_changed", "Available"),
        ("transaction.stopped", None)]
    assert facts[1].payload == {
        "request": {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000,
                    "timestamp": "2030-01-01T10:00:00Z"},
        "response": {"transactionId": started.transaction_id,
                     "idTagInfo": {"status": "Accepted"}}}
    assert facts[4].payload == {
        "transactionId": started.transaction_id, "stoppedBy": "station",
        "request": {"transactionId": started.transaction_id, "meterStop": 4000,
                    "timestamp": "2030-01-01T10:30:00Z", "reason": "Local"}}
    messages = [e.payload for e in core.events() if e.type == "station.message"]
    assert [p["action"] for p in messages] == [
        "StatusNotification", "StartTransaction", "StartTransaction", "StartTransaction",
        "StatusNotification", "StatusNotification", "MeterValues", "StopTransaction",
        "StopTransaction", "StopTransaction"]
    for payload in messages:
        assert not schema_problems(payload["action"], payload["request"]), payload
        assert not schema_problems(payload["action"], payload["response"], True), payload


def test_offline_then_back(core, gateway):
    core.send("CB-1", m.HeartbeatRequest())
    marked = gateway.housekeeper.mark_offline(at=T0 + timedelta(hours=1))
    assert marked == ["CB-1"]
    assert gateway.housekeeper.mark_offline(at=T0 + timedelta(hours=2)) == []  # once
    core.clock = T0 + timedelta(hours=3)
    core.send("CB-1", m.HeartbeatRequest())
    tail = [(e.type, e.payload) for e in core.events()[1:]]
    assert tail[0] == ("station.offline", {"lastMessageAt": "2030-01-01T10:00:00Z",
                                           "heartbeatInterval": 300})
    assert tail[1][0] == "station.message"
    assert tail[2] == ("station.online", {"offlineSince": "2030-01-01T10:00:00Z",
                                          "action": "Heartbeat"})
    with gateway.sessions() as db:
        assert db.scalar(select(ChargeBox.offline_since)) is None


def test_operator_stop_is_checked_and_published(core, gateway):
    started = core.send("CB-1", m.StartTransactionRequest(connector_id=1, id_tag="TAG1",
                                                          timestamp=T0, meter_start=1000))
    with gateway.sessions.begin() as db:
        with pytest.raises(Invalid) as refused:
            operator_stop(db, started.transaction_id, T0 - timedelta(hours=1), 10, "Other",
                          gateway.events)
        assert set(refused.value.problems) == {"stop_timestamp", "meter_stop"}
        with pytest.raises(NotFound):
            operator_stop(db, 12345, T0, 2000, "Other", gateway.events)
        assert operator_stop(db, started.transaction_id, T0 + timedelta(hours=1), 2000,
                             "DeAuthorized", gateway.events)
    with gateway.sessions.begin() as db:
        assert not operator_stop(db, started.transaction_id, T0 + timedelta(hours=2), 3000,
                                 "Other", gateway.events)
    stopped = [e for e in core.events() if e.type == "transaction.stopped"]
    assert len(stopped) == 1 and stopped[0].charge_box_id == "CB-1"
    assert stopped[0].payload["stoppedBy"] == "operator"
    assert not schema_problems("StopTransaction", stopped[0].payload["request"])


def test_services_refuse_bad_input_without_writing(gateway):
    with gateway.sessions.begin() as db:
        with pytest.raises(Invalid) as bad_ids:
            stations.register(db, ["OK", " LEAD", "X" * 256], "Accepted")
        assert "starts or ends with spaces" in bad_ids.value.problems["ids"]
        with pytest.raises(Invalid):
            stations.register(db, ["OK"], "Maybe")
        assert stations.register(db, ["A", "B", "A"]).added == ["A", "B"]
        assert stations.register(db, ["B", "C"]) == stations.Registered(["C"], ["B"])
        with pytest.raises(Invalid) as bad_address:
            stations.update(db, stations.pk_of(db, "A"), registration_status="Accepted",
                            note=None, endpoint_address="ftp://x")
        assert "http://" in bad_address.value.problems["endpoint_address"]
        with pytest.raises(Invalid) as orphan:
            tags.add_tag(db, "T", tags.TagValues(parent_id_tag="NOPE"))
        assert "no id tag 'NOPE'" in orphan.value.problems["parent_id_tag"]
        with pytest.raises(Invalid):
            tags.add_tags(db, ["SELF"], tags.TagValues(parent_id_tag="SELF"))
        with pytest.raises(Invalid):
            tags.add_tag(db, "T", tags.TagValues(max_active_transactions=-1))
    with gateway.sessions() as db:
        assert db.scalar(select(ChargeBox.id).where(ChargeBox.charge_box_id == "OK")) is None


def test_event_ids_grow_and_purge_waits_for_consumers(core, gateway):
    for _ in range(3):
        core.send("CB-1", m.HeartbeatRequest())
    ids = [e.id for e in core.events()]
    assert ids == sorted(ids) and len(set(ids)) == 3
    later = T0 + timedelta(days=30)  # the events are stamped with the messages' time
    with gateway.sessions.begin() as db:
        events.advance(db, "webhooks", ids[0])  # a consumer that has read only the first
        assert events.purge(db, retention_days=7, at=later) == 1
        events.advance(db, "webhooks", ids[-1])
        assert events.purge(db, retention_days=7, at=later) == 1  # the newest always stays
        assert events.purge(db, retention_days=0, at=later) == 0
    core.send("CB-1", m.HeartbeatRequest())
    kept = [e.id for e in core.events()]
    assert kept[0] == ids[-1] and kept[1] > ids[-1]  # ids of purged events are never reused


def test_runtime_settings_are_checked_by_the_core(gateway):
    from soapgw.core.runtime_settings import RuntimeSettings
    with gateway.sessions.begin() as db:
        with pytest.raises(Invalid) as refused:
            RuntimeSettings.save(db, {"heartbeat_interval": 0, "operation_timeout": float("nan"),
                                      "journal_retention_days": 30, "colour": "blue"})
        assert set(refused.value.problems) == {"heartbeat_interval", "operation_timeout",
                                               "colour"}
        RuntimeSettings.save(db, {"heartbeat_interval": 60, "event_retention_days": 0})
    with gateway.sessions() as db:
        saved = RuntimeSettings.load(db, gateway.settings)
    assert (saved.heartbeat_interval, saved.event_retention_days, saved.journal_retention_days) \
        == (60, 0, 30)
