"""``soapgw call`` and ``soapgw tasks`` as an operator runs them: real processes, a real
station on 127.0.0.1, documented exit codes with one-line reasons on stderr."""
from __future__ import annotations

import json

import pytest

from soapgw.app import Gateway
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.store.migrate import upgrade

from conftest import command_env, free_port, make_settings, soapgw_command
from outbound_support import register_station, station_server

FAULT = (b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><e:Fault>'
         b"<e:Code><e:Value>e:Receiver</e:Value><e:Subcode><e:Value>InternalError</e:Value>"
         b"</e:Subcode></e:Code><e:Reason><e:Text>relay stuck</e:Text></e:Reason></e:Fault>"
         b"</e:Body></e:Envelope>")


@pytest.fixture
def operator(sqlite_url, tmp_path):
    """A database with stations, and a function running ``soapgw`` against it."""
    gateway = Gateway.from_settings(make_settings(sqlite_url, tmp_path))
    upgrade(gateway.engine)
    env = command_env(sqlite_url, SOAPGW_OPERATION_TIMEOUT="1", SOAPGW_CONNECT_TIMEOUT="2",
                      SOAPGW_PUBLIC_URL="http://gw.test:8080")

    def run(*args, **kwargs):
        return soapgw_command(*args, env=env, **kwargs)
    run.sessions = gateway.sessions
    yield run
    gateway.engine.dispose()


def test_call_prints_only_the_response_payload(operator):
    with station_server("1.5") as (station, address):
        register_station(operator.sessions, "CB15", "1.5", address)
        done = operator("call", "CB15", "GetConfiguration", '{"key": ["HeartbeatInterval"]}')
        unlock = operator("call", "CB15", "unlockconnector", '{"connectorId": 1}')
        empty = operator("call", "CB15", "ClearCache")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                             {"key": "NumberOfConnectors", "readonly": True, "value": "2"}],
        "unknownKey": ["NoSuchKey"]}
    assert len(done.stdout.splitlines()) == 1
    assert "GetConfiguration -> CB15 at " + address in done.stderr  # logs go to stderr
    assert station.received[0].from_address == "http://gw.test:8080/services/CentralSystemService"
    assert (unlock.returncode, json.loads(unlock.stdout)) == (0, {"status": "Unlocked"})
    assert (empty.returncode, json.loads(empty.stdout)) == (0, {"status": "Accepted"})



def test_call_reads_stdin_and_prints_json_types(operator):
    """``-`` reads the payload from stdin; numbers stay numbers, lists stay lists."""
    with station_server("1.6") as (station, address):
        register_station(operator.sessions, "CB", "1.6", address)
        version = operator("call", "CB", "GetLocalListVersion")
        piped = operator("call", "CB", "SendLocalList", "-", input=json.dumps({
            "listVersion": 9, "updateType": "Full",
            "localAuthorizationList": [{"idTag": "T1", "idTagInfo": {"status": "Accepted"}}]}))
        schedule = operator("call", "CB", "GetCompositeSchedule",
                            '{"connectorId": 1, "duration": 3600}')
    assert (version.returncode, version.stdout) == (0, '{"listVersion":7}\n')
    assert isinstance(json.loads(version.stdout)["listVersion"], int)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout) == {"status": "Accepted"}
    (_, request), = [r for r in station.requests if r[0] == "SendLocalList"]
    assert request.listVersion == 9 and request.localAuthorizationList[0].idTag == "T1"
    periods = json.loads(schedule.stdout)["chargingSchedule"]["chargingSchedulePeriod"]
    assert periods == [{"startPeriod": 0, "limit": 16},
                       {"startPeriod": 1800, "limit": 10.5, "numberPhases": 3}]


def test_call_usage_errors_exit_2(operator):
    missing = operator("call", "CB")
    assert missing.returncode == 2 and missing.stdout == ""
    assert "OPERATION" in missing.stderr


def test_call_exit_6_for_an_answer_that_is_not_soap(operator):
    with station_server() as (station, address):
        register_station(operator.sessions, "CB", "1.6", address)
        station.behaviour = lambda envelope: ("200 OK", "text/plain", b"hello, I am no station")
        done = operator("call", "CB", "ClearCache")
    assert (done.returncode, done.stdout) == (6, "")
    assert done.stderr.strip().splitlines()[-1].endswith("is not XML: b'hello, I am no station'")

@pytest.mark.parametrize("args,code,reason", [
    (("CB", "Reset", "{not json"), 3, "the payload is not JSON"),
    (("CB", "Reset", '{"type": "Warm"}'), 3, "invalid Reset payload (OCPP 1.6 JSON schema): "
                                             "type: 'Warm' is not one of ['Hard', 'Soft']"),
    (("CB", "Teleport", "{}"), 3, "unknown operation 'Teleport'"),
    (("NOBODY", "Reset", '{"type": "Hard"}'), 7, "charge box 'NOBODY' is not registered"),
    (("CB15", "TriggerMessage", '{"requestedMessage": "Heartbeat"}'), 7,
     "not sent: TriggerMessage does not exist in OCPP 1.5"),
    (("REFUSED", "Reset", '{"type": "Hard"}'), 7, "is not the address the station's requests"),
    (("DEAD", "Reset", '{"type": "Hard"}'), 5, "refused (nothing listens there)"),
    (("CB", "ClearCache", ""), 4, "the station answered a SOAP Fault: InternalError: relay stuck"),
    (("CB", "GetLocalListVersion", ""), 6, "answered HTTP 500 without a SOAP answer"),
    (("CB", "GetDiagnostics", '{"location": "ftp://x/"}'), 5,
     "did not answer within 1 s (operation timeout)"),
])
def test_call_exit_codes(operator, args, code, reason):
    import time
    with station_server() as (station, address), station_server("1.5") as (_, address15):
        register_station(operator.sessions, "CB", "1.6", address)
        register_station(operator.sessions, "CB15", "1.5", address15)
        register_station(operator.sessions, "REFUSED", "1.6", "http://192.0.2.1:8080/")
        register_station(operator.sessions, "DEAD", "1.6", f"http://127.0.0.1:{free_port()}/")

        def behave(envelope):
            name = envelope.body.tag.split("}")[1]
            if name == "clearCacheRequest":
                return "500 Internal Server Error", "application/soap+xml", FAULT
            if name == "getLocalListVersionRequest":
                return "500 Internal Server Error", "text/html", b"<h1>crash</h1>"
            if name == "getDiagnosticsRequest":
                time.sleep(3)
            return None
        station.behaviour = behave
        done = operator("call", *args)
    assert done.returncode == code, done.stderr
    assert done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("soapgw: ") and reason in last


def test_call_uses_the_timeout_saved_at_run_time(operator):
    """The environment says 1 s; the value saved on the settings page wins."""
    with operator.sessions.begin() as db:
        RuntimeSettings.save(db, {"operation_timeout": 0.25})
    with station_server() as (station, address):
        station.delay = 3  # takes the call, answers only after 3 s
        register_station(operator.sessions, "CB", "1.6", address)
        done = operator("call", "CB", "Reset", '{"type": "Hard"}')
    assert done.returncode == 5, done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(
        f"the station at {address} did not answer within 0.25 s (operation timeout)")


def test_tasks_list_and_show(operator):
    with station_server() as (_, address):
        register_station(operator.sessions, "CB", "1.6", address)
        assert operator("call", "CB", "Reset", '{"type": "Soft"}').returncode == 0
        assert operator("call", "NOBODY", "Reset", '{"type": "Soft"}').returncode == 7
    listing = operator("tasks", "list")
    assert listing.returncode == 0
    header, second, first = listing.stdout.splitlines()
    assert header.split("\t") == ["id", "created", "operation", "origin", "caller", "results",
                                  "finished"]
    assert first.split("\t")[2:4] == ["Reset", "cli"] and first.split("\t")[5] == "1 accepted"
    assert second.split("\t")[5] == "1 failed"
    shown = operator("tasks", "show", first.split("\t")[0])
    assert shown.returncode == 0
    assert shown.stdout.splitlines()[0] == 'task 1: Reset {"type": "Soft"}'
    assert '\tanswered\taccepted\t' in shown.stdout and '{"status": "Accepted"}' in shown.stdout
    assert "outcome: 1 accepted" in shown.stdout
    failed = json.loads(operator("tasks", "show", "2", "--json").stdout)
    assert failed["results"][0]["error_kind"] == "unknown_station"
    missing = operator("tasks", "show", "99")
    assert (missing.returncode, missing.stderr.strip()) == (1, "soapgw: no task 99")


def test_chargebox_list_shows_the_callback_verdict(operator):
    register_station(operator.sessions, "GOOD", "1.6", "http://127.0.0.1:9/cp")
    register_station(operator.sessions, "BAD", "1.6", "http://192.0.2.1:9/cp")
    assert operator("call", "GOOD", "ClearCache").returncode == 5  # judged, then refused conn.
    assert operator("call", "BAD", "ClearCache").returncode == 7
    listing = operator("chargebox", "list").stdout.splitlines()
    assert listing[0].split("\t")[-1] == "callback"
    rows = {line.split("\t")[0]: line.split("\t") for line in listing[1:]}
    assert rows["GOOD"][-1] == "allowed"
    assert rows["BAD"][-1].startswith("refused: callback host 192.0.2.1 (192.0.2.1) is not the "
                                      "address the station's requests come from (127.0.0.1)")
