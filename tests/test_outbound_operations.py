"""Every ChargePointService operation of OCPP 1.5 and 1.6, sent by the task runner through
zeep (our generated WSDLs) to a real SOAP station on 127.0.0.1, with the wire checked."""
from __future__ import annotations

import json

import pytest
from lxml import etree
from sqlalchemy import select

from soapgw.core.commands import operations
from soapgw.core.commands.payloads import response_problems
from soapgw.soap.schema.registry import find
from soapgw.store.models import JournalEntry

from conftest import make_settings
from outbound_support import register_station, results, station_server, task, task_runner

PUBLIC_URL = "http://gateway.test:8080"
PAYLOADS = {
    "CancelReservation": {"reservationId": 5},
    "ChangeAvailability": {"connectorId": 1, "type": "Inoperative"},
    "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "600"},
    "ClearCache": {},
    "ClearChargingProfile": {"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile"},
    "DataTransfer": {"vendorId": "com.example", "messageId": "ping", "data": "hello"},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"},
    "GetConfiguration": {"key": ["HeartbeatInterval", "NoSuchKey"]},
    "GetDiagnostics": {"location": "ftp://diag.example/upload/",
                       "startTime": "2030-01-01T00:00:00Z", "retries": 2},
    "GetLocalListVersion": {},
    "RemoteStartTransaction": {"connectorId": 1, "idTag": "TAG1"},
    "RemoteStopTransaction": {"transactionId": 42},
    "ReserveNow": {"connectorId": 1, "expiryDate": "2030-01-01T10:00:00Z", "idTag": "TAG1",
                   "reservationId": 77},
    "Reset": {"type": "Soft"},
    "SendLocalList": {"listVersion": 3, "updateType": "Full", "localAuthorizationList": [
        {"idTag": "TAG1", "idTagInfo": {"status": "Accepted",
                                        "expiryDate": "2031-01-01T00:00:00+01:00"}},
        {"idTag": "TAG2"}]},
    "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 9, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "A", "startSchedule": "2030-01-01T00:00:00Z",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.5},
                                       {"startPeriod": 600, "limit": 8, "numberPhases": 1}]}}},
    "TriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "UnlockConnector": {"connectorId": 1},
    "UpdateFirmware": {"location": "https://fw.example/fw.bin",
                       "retrieveDate": "2030-01-01T00:00:00Z", "retries": 3,
                       "retryInterval": 60},
}
EXPECTED = {  # the station's default answers, in the OCPP-J 1.6 shape
    "GetConfiguration": {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"}],
        "unknownKey": ["NoSuchKey"]},
    "GetDiagnostics": {"fileName": "diag-0001.zip"},
    "GetLocalListVersion": {"listVersion": 7},
    "UpdateFirmware": {},
    "DataTransfer": {"status": "Accepted", "data": "pong"},
    "UnlockConnector": {"status": "Unlocked"},  # 1.5 answers Accepted: mapped
    "GetCompositeSchedule": {
        "status": "Accepted", "connectorId": 1, "scheduleStart": "2030-01-01T08:00:00Z",
        "chargingSchedule": {"duration": 3600, "chargingRateUnit": "A", "minChargingRate": 6.5,
                             "chargingSchedulePeriod": [
                                 {"startPeriod": 0, "limit": 16},
                                 {"startPeriod": 1800, "limit": 10.5, "numberPhases": 3}]}},
}
CASES = [(v, op) for v in ("1.5", "1.6") for op in operations.BY_VERSION[v]]


def test_payloads_cover_every_operation():
    assert set(PAYLOADS) == set(operations.ALL)
    for version in ("1.5", "1.6"):
        assert set(operations.BY_VERSION[version]) == set(
            find("ChargePointService", version).by_name)


@pytest.fixture
def outbound_gateway(gateway, tmp_path):
    """The gateway's sessions with settings for commands (public URL, short timeouts: an
    accepted RemoteStartTransaction waits this long for a StartTransaction that never comes;
    1.5 s, as late in a loaded run a station's answer alone may take longer than 0.5 s)."""
    gateway.settings = make_settings(gateway.settings.database_url, tmp_path,
                                     public_url=PUBLIC_URL, operation_timeout=1.5,
                                     connect_timeout=2)
    return gateway


@pytest.mark.parametrize("version,operation", CASES, ids=[f"{v}-{o}" for v, o in CASES])
def test_operation(outbound_gateway, version, operation):
    gateway = outbound_gateway
    with station_server(version) as (station, address), task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB-OP", version, address)
        task_id = runner.run(operation, PAYLOADS[operation], ["CB-OP"], origin="test")
    (result,) = results(gateway.sessions, task_id)
    assert result.state == "answered", result.error
    response = json.loads(result.response)
    assert response == EXPECTED.get(operation, {"status": "Accepted"})
    assert response_problems(operation, response) == []
    assert task(gateway.sessions, task_id).finished_at is not None

    # what the station received: one request (ChangeConfiguration: plus the refresh)
    received = station.received[0]
    service = find("ChargePointService", version)
    assert received.operation == operation
    assert received.identity == "CB-OP" and received.identity_namespace == service.namespace
    assert received.action == f"/{operation}"
    assert received.content_type.startswith("application/soap+xml")
    assert f'action="/{operation}"' in received.content_type
    assert received.message_id.startswith("urn:uuid:") and received.message_id == result.message_id
    assert received.to == address
    assert received.from_address == received.reply_to == f"{PUBLIC_URL}/services/CentralSystemService"
    root = etree.fromstring(received.raw)
    assert etree.QName(root).namespace == "http://www.w3.org/2003/05/soap-envelope"
    body = root.find("{http://www.w3.org/2003/05/soap-envelope}Body")[0]
    assert etree.QName(body).namespace == service.namespace

    # every call and reply is journaled
    with gateway.sessions() as db:
        entries = db.scalars(select(JournalEntry).where(JournalEntry.charge_box_id == "CB-OP")
                             .order_by(JournalEntry.id)).all()
    assert [(e.direction, e.action) for e in entries[:2]] == [
        ("out", operation), ("in", f"{operation}Response")]
    assert entries[0].message_id == received.message_id == entries[1].relates_to
    assert entries[0].raw == received.raw and entries[1].http_status == 200


@pytest.mark.smoke
def test_request_values_reach_the_station(outbound_gateway):
    """Values arrive typed and converted: timestamps in UTC, decimals, lists, 1.5 spelling."""
    gateway = outbound_gateway
    with station_server("1.6") as (station16, address16), \
            station_server("1.5") as (station15, address15), task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB16", "1.6", address16)
        register_station(gateway.sessions, "CB15", "1.5", address15)
        runner.run("SetChargingProfile", PAYLOADS["SetChargingProfile"], ["CB16"], "test")
        runner.run("SendLocalList", PAYLOADS["SendLocalList"], ["CB15", "CB16"], "test")
    (_, profile), (_, local16) = station16.requests
    schedule = profile.csChargingProfiles.chargingSchedule
    assert [str(p.limit) for p in schedule.chargingSchedulePeriod] == ["16.5", "8"]
    assert schedule.chargingSchedulePeriod[1].numberPhases == 1
    assert local16.localAuthorizationList[0].idTagInfo.expiryDate.isoformat() == \
        "2030-12-31T23:00:00+00:00"
    ((_, local15),) = station15.requests
    assert [a.idTag for a in local15.localAuthorisationList] == ["TAG1", "TAG2"]
    assert b"localAuthorisationList" in station15.received[0].raw
    assert b"2030-12-31T23:00:00" in station15.received[0].raw


def test_operation_missing_in_the_stations_version_sends_nothing(outbound_gateway):
    gateway = outbound_gateway
    with station_server("1.5") as (station, address), task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB15", "1.5", address)
        ids = [runner.run(op, PAYLOADS[op], ["CB15"], "test")
               for op in ("SetChargingProfile", "TriggerMessage", "GetCompositeSchedule",
                          "ClearChargingProfile")]
        # a 1.6-only field of a shared operation is refused for 1.5 as well
        ids.append(runner.run("RemoteStartTransaction", {
            "idTag": "T", "chargingProfile": PAYLOADS["SetChargingProfile"]["csChargingProfiles"]
            | {"chargingProfilePurpose": "TxProfile"}}, ["CB15"], "test"))
    assert station.received == []
    outcomes = [results(gateway.sessions, i)[0] for i in ids]
    assert [r.state for r in outcomes] == ["failed"] * 5
    assert [r.error_kind for r in outcomes] == ["unsupported_operation"] * 4 + ["invalid_payload"]
    assert outcomes[0].error == "not sent: SetChargingProfile does not exist in OCPP 1.5"
    assert "chargingProfile cannot be sent in OCPP 1.5" in outcomes[4].error
    assert all(r.sent_at is None for r in outcomes)
