"""Pure rules of the outbound half: callback safety (SSRF), forwarded addresses, payload
validation, OCPP-J <-> SOAP mapping, settings, and recovery of interrupted tasks."""
from __future__ import annotations

import ipaddress
from datetime import timedelta
from decimal import Decimal

import pytest

from soapgw.config import ConfigError, Settings
from soapgw.core.commands import operations
from soapgw.core.commands.callback_policy import client_address, judge_callback, resolve
from soapgw.core.commands.errors import TaskError
from soapgw.core.commands.payloads import parse_payload, to_json, validate_request
from soapgw.soap_out.json_mapping import from_soap, to_soap

NETS = (ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("2001:db8::/32"))


def judge(address, resolved=None, pinned=False, peer="127.0.0.1", networks=()):
    from soapgw.core.commands.callback_policy import callback_host
    if resolved is None:
        host = callback_host(address)
        resolved = [host] if host else []
    return judge_callback(address, resolved, pinned=pinned, peer_host=peer,
                          allowed_networks=networks)


@pytest.mark.smoke
@pytest.mark.parametrize("address,kwargs,allowed,reason", [
    # default rule: the callback host is where the station's requests come from
    ("http://127.0.0.1:8080/cp", {}, True, "is the address the station's requests come from"),
    ("http://192.0.2.7/ocpp", {"peer": "192.0.2.7"}, True, "requests come from"),
    ("http://[::ffff:192.0.2.7]/", {"peer": "192.0.2.7"}, True, "requests come from"),
    ("http://192.0.2.8/ocpp", {"peer": "192.0.2.7"}, False, "is not the address"),
    ("http://10.0.0.5/ocpp", {"peer": None}, False, "(unknown)"),
    # a name must resolve to the peer, with every address it has
    ("http://cp.example/", {"resolved": ["192.0.2.7"], "peer": "192.0.2.7"}, True, "come from"),
    ("http://cp.example/", {"resolved": ["192.0.2.7", "192.0.2.9"], "peer": "192.0.2.7"},
     False, "is not the address"),
    ("http://cp.example/", {"resolved": []}, False, "does not resolve"),
    # allowed networks and pinned addresses override the rule
    ("http://10.20.3.4:8080/", {"networks": NETS}, True, "allowed network 10.20.0.0/16"),
    ("http://[2001:db8::5]/", {"networks": NETS}, True, "allowed network 2001:db8::/32"),
    ("http://10.21.3.4:8080/", {"networks": NETS}, False, "SOAPGW_ALLOWED_CALLBACK_NETWORKS"),
    ("http://192.0.2.99/", {"pinned": True}, True, "set by an admin"),
    # never called: link-local and cloud metadata, whatever else says so
    ("http://169.254.169.254/latest/meta-data/", {"pinned": True}, False, "never called"),
    ("http://169.254.169.254/", {"peer": "169.254.169.254"}, False, "never called"),
    ("http://[fe80::1]:8080/", {"peer": "fe80::1"}, False, "never called"),
    ("http://100.100.100.200/", {"networks": (ipaddress.ip_network("100.64.0.0/10"),)},
     False, "never called"),
    ("http://[fd00:ec2::254]/", {"pinned": True}, False, "never called"),
    ("http://[::ffff:169.254.169.254]/", {"pinned": True}, False, "never called"),
    ("http://metadata.internal/", {"resolved": ["169.254.169.254"], "pinned": True}, False,
     "never called"),
    ("http://0.0.0.0:8080/", {"peer": "0.0.0.0"}, False, "never called"),
    # not a callback URL at all
    ("ftp://127.0.0.1/", {}, False, "not an http(s) URL"),
    ("http://:8080/", {}, False, "not an http(s) URL"),
    (None, {}, False, "not an http(s) URL"),
])
def test_callback_verdicts(address, kwargs, allowed, reason):
    verdict = judge(address, **kwargs)
    assert verdict.allowed is allowed
    assert reason in verdict.reason


def test_resolve_literals_and_localhost():
    assert resolve("http://192.0.2.1:80/") == ["192.0.2.1"]
    assert resolve("http://[::1]:80/") == ["::1"]
    assert "127.0.0.1" in resolve("http://localhost:8080/")  # /etc/hosts, no DNS traffic
    assert resolve("not a url") == []


@pytest.mark.parametrize("remote,forwarded,trusted,expected", [
    ("192.0.2.1", None, (), "192.0.2.1"),
    ("192.0.2.1", "198.51.100.7", (), "192.0.2.1"),  # an untrusted peer cannot claim one
    ("10.0.0.2", "198.51.100.7", ("10.0.0.0/8",), "198.51.100.7"),
    ("10.0.0.2", "203.0.113.5, 198.51.100.7, 10.0.0.9", ("10.0.0.0/8",), "198.51.100.7"),
    ("10.0.0.2", "garbage", ("10.0.0.0/8",), "10.0.0.2"),
    ("10.0.0.2", "10.0.0.3", ("10.0.0.0/8",), "10.0.0.3"),
])
def test_client_address_behind_trusted_proxies(remote, forwarded, trusted, expected):
    networks = tuple(ipaddress.ip_network(n) for n in trusted)
    assert client_address(remote, forwarded, networks) == expected


def test_settings_for_commands(tmp_path):
    cert = tmp_path / "client.pem"
    cert.write_text("x")
    settings = Settings.from_env({
        "SOAPGW_CONNECT_TIMEOUT": "2.5", "SOAPGW_OPERATION_TIMEOUT": "10",
        "SOAPGW_TLS_CLIENT_CERT": str(cert), "SOAPGW_TLS_CLIENT_KEY": str(cert),
        "SOAPGW_TLS_CA": str(cert), "SOAPGW_ALLOWED_CALLBACK_NETWORKS": "10.0.0.0/8, 192.0.2.7",
        "SOAPGW_TRUSTED_PROXIES": "127.0.0.1", "SOAPGW_INSTANCE_PATH": str(tmp_path)})
    assert (settings.connect_timeout, settings.operation_timeout) == (2.5, 10)
    assert settings.tls_client_cert == cert and settings.tls_ca == cert
    assert [str(n) for n in settings.allowed_callback_networks] == ["10.0.0.0/8", "192.0.2.7/32"]
    defaults = Settings.from_env({"SOAPGW_INSTANCE_PATH": str(tmp_path)})
    assert (defaults.connect_timeout, defaults.operation_timeout) == (30, 30)


@pytest.mark.parametrize("env,message", [
    ({"SOAPGW_CONNECT_TIMEOUT": "soon"}, "SOAPGW_CONNECT_TIMEOUT='soon' is not a number"),
    ({"SOAPGW_OPERATION_TIMEOUT": "0"}, "SOAPGW_OPERATION_TIMEOUT='0' is out of range"),
    ({"SOAPGW_TLS_CA": "/nonexistent.pem"}, "SOAPGW_TLS_CA='/nonexistent.pem' is not a readable"),
    ({"SOAPGW_ALLOWED_CALLBACK_NETWORKS": "10.0.0.0/33"},
     "SOAPGW_ALLOWED_CALLBACK_NETWORKS: '10.0.0.0/33' is not an IP address or network"),
    ({"SOAPGW_TRUSTED_PROXIES": "proxy.local"}, "SOAPGW_TRUSTED_PROXIES: 'proxy.local'"),
    ({"SOAPGW_TLS_CLIENT_KEY": __file__}, "SOAPGW_TLS_CLIENT_KEY is set without"),
])
def test_bad_settings_name_the_variable(env, message, tmp_path):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"SOAPGW_INSTANCE_PATH": str(tmp_path), **env})
    assert message in str(caught.value) and "\n" not in str(caught.value)


# --- payloads and mapping ------------------------------------------------------------------------
@pytest.mark.parametrize("operation,payload,problem", [
    ("Reset", {}, "'type' is a required property"),
    ("Reset", {"type": "Warm"}, "type: 'Warm' is not one of"),
    ("ReserveNow", {"connectorId": 1, "expiryDate": "2022-02-30T00:00:00Z", "idTag": "A",
                    "reservationId": 1}, "expiryDate: '2022-02-30T00:00:00Z' is not a 'date-time'"),
    ("ChangeConfiguration", {"key": "k", "value": "v", "extra": 1}, "Additional properties"),
    ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.25}]}}},
     "is not a multiple of 0.1"),
])
def test_invalid_payloads(operation, payload, problem):
    with pytest.raises(TaskError) as caught:
        validate_request(operation, payload)
    assert caught.value.kind.value == "invalid_payload"
    assert problem in str(caught.value)


def test_decimal_limits_validate_and_serialise():
    payload = validate_request("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 0.3}, {"startPeriod": 60, "limit": 16}]}}})
    periods = payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
    assert periods[0]["limit"] == Decimal("0.3")
    assert to_json(periods) == '[{"startPeriod":0,"limit":0.3},{"startPeriod":60,"limit":16}]'


def test_parse_payload():
    assert parse_payload("") == {} and parse_payload(None) == {}
    assert parse_payload('{"limit": 1.1}') == {"limit": Decimal("1.1")}
    for bad in ("{", "[1]", "42"):
        with pytest.raises(TaskError):
            parse_payload(bad)


def test_operation_names():
    assert operations.canonical("reset") == "Reset"
    assert operations.canonical("Heartbeat") is None
    assert operations.unsupported_reason("TriggerMessage", "1.5") == \
        "TriggerMessage does not exist in OCPP 1.5"
    assert "unknown" in operations.unsupported_reason("Reset", None)
    assert len(operations.OCPP15) == 15 and len(operations.OCPP16) == 19


def test_mapping_to_soap():
    payload = {"listVersion": 2, "updateType": "Full", "localAuthorizationList": [
        {"idTag": "A", "idTagInfo": {"status": "Accepted",
                                     "expiryDate": "2030-01-01T01:00:00+01:00"}}]}
    assert to_soap("1.6", "SendLocalList", payload)["localAuthorizationList"][0]["idTagInfo"][
        "expiryDate"] == "2030-01-01T00:00:00Z"
    soap15 = to_soap("1.5", "SendLocalList", payload)
    assert "localAuthorizationList" not in soap15
    assert soap15["localAuthorisationList"][0]["idTag"] == "A"
    assert to_soap("1.5", "RemoteStartTransaction", {"idTag": "A", "connectorId": 2}) == \
        {"idTag": "A", "connectorId": 2}
    with pytest.raises(TaskError, match="chargingProfile cannot be sent in OCPP 1.5"):
        to_soap("1.5", "RemoteStartTransaction", {"idTag": "A", "chargingProfile": {}})
    assert to_soap("1.6", "GetDiagnostics", {"location": "x", "startTime": "2030-01-01T00:00:00"})[
        "startTime"] == "2030-01-01T00:00:00Z"  # no zone: UTC


@pytest.mark.smoke
def test_mapping_from_soap():
    from datetime import datetime, timezone
    values = {"status": "Accepted", "connectorId": 1, "scheduleStart": datetime(
        2030, 1, 1, tzinfo=timezone.utc), "chargingSchedule": {
        "duration": None, "chargingRateUnit": "W", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": Decimal("11000.0"), "numberPhases": None}],
        "minChargingRate": Decimal("1.5")}}
    assert from_soap("1.6", "GetCompositeSchedule", values) == {
        "status": "Accepted", "connectorId": 1, "scheduleStart": "2030-01-01T00:00:00Z",
        "chargingSchedule": {"chargingRateUnit": "W", "minChargingRate": 1.5,
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}]}}
    assert from_soap("1.6", "UpdateFirmware", None) == {}
    assert from_soap("1.6", "GetConfiguration", {"configurationKey": [], "unknownKey": []}) == {}
    assert from_soap("1.5", "UnlockConnector", {"status": "Accepted"}) == {"status": "Unlocked"}
    assert from_soap("1.5", "SendLocalList", {"status": "HashError", "hash": "x"}) == \
        {"status": "Failed"}
    assert from_soap("1.5", "ChangeConfiguration", {"status": "NotSupported"}) == \
        {"status": "NotSupported"}


# --- recovery ------------------------------------------------------------------------------------
def test_recovery_marks_abandoned_results(gateway):
    import socket
    from soapgw.core.commands import tasks
    from soapgw.timestamps import now
    from soapgw.store.models import Task, TaskResult
    host = socket.gethostname()
    with gateway.sessions.begin() as db:
        task = tasks.create_task(db, "Reset", {"type": "Hard"}, ["A", "B", "C", "D", "E"],
                                 "test", None)
        workers = {"A": f"{host}:999999", "B": f"{host}:1", "C": "elsewhere:5",
                   "D": "elsewhere:5", "E": f"{host}:999999"}
        for result in task.results:
            result.worker = workers[result.charge_box_id]
            if result.charge_box_id in "ABD":
                result.state, result.sent_at = "sent", now()
            if result.charge_box_id == "C":
                result.sent_at = now() - timedelta(hours=2)
                result.state = "sent"
            if result.charge_box_id == "E":
                result.state, result.response = "answered", '{"status":"Accepted"}'
        task_id = task.id
    with gateway.sessions.begin() as db:
        closed = tasks.recover_interrupted(db, alive=lambda pid: pid == 1)
    assert closed == 3  # A (process gone), C (abandoned for hours), E (waiting, process gone)
    with gateway.sessions() as db:
        by_id = {r.charge_box_id: r for r in db.get(Task, task_id).results}
        assert by_id["A"].state == "failed" and by_id["A"].error_kind == "interrupted"
        assert "whether the station acted is unknown" in by_id["A"].error
        assert by_id["B"].state == "sent" and by_id["B"].finished_at is None  # still running
        assert by_id["C"].state == "failed"
        assert by_id["D"].finished_at is None  # another host, recent: maybe still running
        assert by_id["E"].state == "answered" and by_id["E"].finished_at is not None
        assert db.get(Task, task_id).finished_at is None
