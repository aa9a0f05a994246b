"""Web UI: operation forms per OCPP version, tasks sent to a test station, the task page."""
from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import select

from conftest import make_settings
from outbound_support import register_station, results, station_server
from soapgw.core.commands.operations import BY_VERSION
from soapgw.core.commands.runner import TaskRunner, Timeouts
from soapgw.soap_out.client import SoapSender
from soapgw.store.models import ChargeBox, Task, TaskResult
from soapgw.web.operations import task_runner
from web_support import XSS, admin, client, rows, submit, utc, web_app  # noqa: F401


@pytest.fixture
def runner(gateway, web_app, tmp_path):
    """The web app's task runner, with short timeouts."""
    settings = make_settings(gateway.settings.database_url, tmp_path,
                             public_url="http://gateway.test:8080", operation_timeout=2,
                             connect_timeout=2)
    runner = TaskRunner(gateway.sessions, settings, SoapSender(settings), max_workers=4)
    web_app.extensions["soapgw_task_runner"] = runner
    yield runner
    runner.shutdown()


def test_operations_list_each_operation_per_version(client):
    html = client.get("/operations/").text
    assert 'href="/operations/Reset/1.5"' in html and 'href="/operations/Reset/1.6"' in html
    assert 'href="/operations/TriggerMessage/1.6"' in html
    assert 'href="/operations/TriggerMessage/1.5"' not in html
    assert client.get("/operations/TriggerMessage/1.5").status_code == 404
    assert client.get("/operations/NoSuchThing/1.6").status_code == 404


def test_form_offers_only_accepted_stations_of_that_version(client, rows):
    rows.station("CB-16", ocpp_version="1.6")
    rows.station("CB-15", ocpp_version="1.5")
    rows.station("CB-PENDING", ocpp_version="1.6", registration_status="Pending")
    html = client.get("/operations/Reset/1.6").text
    assert "CB-16 (OCPP 1.6)" in html and "CB-15" not in html and "CB-PENDING" not in html
    assert "CB-15 (OCPP 1.5)" in client.get("/operations/Reset/1.5").text


@pytest.mark.parametrize("operation,data,field,message", [
    ("Reset", {"p_type": "Soft"}, "stations", "Select at least one station."),
    ("ChangeConfiguration", {"stations": "CB-16", "p_value": "1"}, "p_key",
     "Enter configuration key (key)."),
    ("UnlockConnector", {"stations": "CB-16", "p_connectorId": "-3"}, "p_connectorId",
     "Use 1 or more (0, the whole station, is not allowed here)."),
    ("UnlockConnector", {"stations": "CB-16", "p_connectorId": "0"}, "p_connectorId",
     "Use 1 or more"),
    ("ChangeAvailability", {"stations": "CB-16", "p_connectorId": "-1",
                            "p_type": "Operative"}, "p_connectorId", "Use 0 or more."),
    ("SetChargingProfile", {"stations": "CB-16", "p_connectorId": "1",
                            "p_csChargingProfiles": "{not json"}, "p_csChargingProfiles",
     "Not JSON"),
    ("ReserveNow", {"stations": "CB-16", "p_connectorId": "1", "p_idTag": "T",
                    "p_reservationId": "1", "p_expiryDate": "tomorrow"}, "p_expiryDate",
     "Not a date and time"),
])
def test_form_errors_sit_next_to_the_field(client, rows, operation, data, field, message,
                                           gateway):
    rows.station("CB-16", ocpp_version="1.6")
    response = submit(client, f"/operations/{operation}/1.6", data)
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.text and message in response.text
    with gateway.sessions() as db:
        assert db.scalars(select(Task)).all() == []


def test_payload_refused_by_the_ocpp_schema_is_reported(client, rows, runner, gateway):
    rows.station("CB-16", ocpp_version="1.6")
    response = submit(client, "/operations/ChangeConfiguration/1.6",
                      {"stations": "CB-16", "p_key": "K" * 60, "p_value": "1"})
    assert response.status_code == 400
    assert "invalid ChangeConfiguration payload" in response.text
    with gateway.sessions() as db:
        assert db.scalars(select(Task)).all() == []


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_command_runs_as_a_task_and_its_page_shows_the_answer(client, runner, gateway,
                                                              version):
    with station_server(version) as (_station, address):
        register_station(gateway.sessions, "CB-OP", version, address)
        response = submit(client, f"/operations/GetConfiguration/{version}",
                          {"stations": "CB-OP", "p_key": ""})
        assert response.status_code == 302
        task_id = int(response.headers["Location"].rsplit("/", 1)[1])
        assert runner.wait(task_id, timeout=30)
    html = client.get(f"/operations/tasks/{task_id}").text
    assert "GetConfiguration" in html and "answered" in html and "HeartbeatInterval" in html
    assert 'http-equiv="refresh"' not in html  # finished: no more refreshing
    with gateway.sessions() as db:
        task = db.get(Task, task_id)
        pk = db.scalar(select(ChargeBox.id))
    assert (task.origin, task.caller) == ("web", "admin")
    station_page = client.get(f"/chargepoints/{pk}").text
    assert "Configuration keys (last read)" in station_page
    assert "NumberOfConnectors" in station_page
    listing = client.get("/operations/").text
    assert f'href="/operations/tasks/{task_id}"' in listing and "1 accepted" in listing



PROFILE = {"chargingProfileId": 9, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
           "chargingProfileKind": "Absolute", "chargingSchedule": {
               "chargingRateUnit": "A", "startSchedule": "2030-01-01T00:00:00Z",
               "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.5}]}}
FORMS = {  # what an operator types -> the OCPP-J 1.6 payload the task gets
    "CancelReservation": ({"p_reservationId": "5"}, {"reservationId": 5}),
    "ChangeAvailability": ({"p_connectorId": "0", "p_type": "Inoperative"},
                           {"connectorId": 0, "type": "Inoperative"}),
    "ChangeConfiguration": ({"p_key": " HeartbeatInterval ", "p_value": "600"},
                            {"key": "HeartbeatInterval", "value": "600"}),
    "ClearCache": ({}, {}),
    "ClearChargingProfile": ({"p_id": "", "p_connectorId": "1", "p_stackLevel": "",
                              "p_chargingProfilePurpose": "TxDefaultProfile"},
                             {"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile"}),
    "DataTransfer": ({"p_vendorId": "com.example", "p_messageId": "", "p_data": "hello"},
                     {"vendorId": "com.example", "data": "hello"}),
    "GetCompositeSchedule": ({"p_connectorId": "1", "p_duration": "3600",
                              "p_chargingRateUnit": ""}, {"connectorId": 1, "duration": 3600}),
    "GetConfiguration": ({"p_key": "HeartbeatInterval\r\n\r\n NoSuchKey "},
                         {"key": ["HeartbeatInterval", "NoSuchKey"]}),
    "GetDiagnostics": ({"p_location": "ftp://diag.example/up/", "p_retries": "2",
                        "p_retryInterval": "", "p_startTime": "2030-01-01T00:00",
                        "p_stopTime": ""},
                       {"location": "ftp://diag.example/up/", "retries": 2,
                        "startTime": "2030-01-01T00:00:00Z"}),
    "GetLocalListVersion": ({}, {}),
    "RemoteStartTransaction": ({"p_idTag": "TAG1", "p_connectorId": ""}, {"idTag": "TAG1"}),
    "RemoteStopTransaction": ({"p_transactionId": "42"}, {"transactionId": 42}),
    "ReserveNow": ({"p_connectorId": "1", "p_expiryDate": "2030-01-01T10:00", "p_idTag": "TAG1",
                    "p_parentIdTag": "", "p_reservationId": "77"},
                   {"connectorId": 1, "expiryDate": "2030-01-01T10:00:00Z", "idTag": "TAG1",
                    "reservationId": 77}),
    "Reset": ({"p_type": "Hard"}, {"type": "Hard"}),
    "SendLocalList": ({"p_listVersion": "3", "p_updateType": "Full",
                       "p_localAuthorizationList": '[{"idTag": "TAG1", "idTagInfo": '
                                                   '{"status": "Accepted"}}]'},
                      {"listVersion": 3, "updateType": "Full", "localAuthorizationList": [
                          {"idTag": "TAG1", "idTagInfo": {"status": "Accepted"}}]}),
    "SetChargingProfile": ({"p_connectorId": "1", "p_csChargingProfiles": json.dumps(PROFILE)},
                           {"connectorId": 1, "csChargingProfiles": PROFILE}),
    "TriggerMessage": ({"p_requestedMessage": "MeterValues", "p_connectorId": "1"},
                       {"requestedMessage": "MeterValues", "connectorId": 1}),
    "UnlockConnector": ({"p_connectorId": "2"}, {"connectorId": 2}),
    "UpdateFirmware": ({"p_location": "https://fw.example/fw.bin",
                        "p_retrieveDate": "2030-01-01T00:00", "p_retries": "",
                        "p_retryInterval": "60"},
                       {"location": "https://fw.example/fw.bin",
                        "retrieveDate": "2030-01-01T00:00:00Z", "retryInterval": 60}),
}
FORM_CASES = [(v, op) for v in ("1.5", "1.6") for op in BY_VERSION[v]]


def test_forms_cover_every_operation():
    assert set(FORMS) == set(BY_VERSION["1.6"]) >= set(BY_VERSION["1.5"])


@pytest.mark.parametrize("version,operation", FORM_CASES,
                         ids=[f"{v}-{o}" for v, o in FORM_CASES])
def test_every_operation_form_sends_its_payload(client, runner, gateway, version, operation):
    """Each form of each version, filled in as an operator would, becomes the OCPP-J payload
    of a task that a real station answers."""
    data, payload = FORMS[operation]
    with station_server(version) as (station, address):
        register_station(gateway.sessions, "CB-FORM", version, address)
        page = client.get(f"/operations/{operation}/{version}")
        assert page.status_code == 200
        assert all(f'name="{name}"' in page.text for name in data)
        response = submit(client, f"/operations/{operation}/{version}",
                          {"stations": "CB-FORM", **data})
        assert response.status_code == 302, response.text
        task_id = int(response.headers["Location"].rsplit("/", 1)[1])
        assert runner.wait(task_id, timeout=30)
    with gateway.sessions() as db:
        task = db.get(Task, task_id)
        (result,) = task.results
        assert json.loads(task.payload) == payload
        assert (result.state, result.error) == ("answered", None)
    assert [r.operation for r in station.received][:1] == [operation]
    html = client.get(f"/operations/tasks/{task_id}").text
    assert "answered" in html and 'http-equiv="refresh"' not in html


def _run_from_the_form(client, runner, operation: str, data: dict) -> str:
    response = submit(client, f"/operations/{operation}/1.6", {"stations": "CB-RICH", **data})
    assert response.status_code == 302, response.text
    task_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert runner.wait(task_id, timeout=30)
    return client.get(f"/operations/tasks/{task_id}").text


def _table_rows(html: str, css: str) -> list[list[str]]:
    """The body rows of the first ``table.list`` inside ``div.rich.<css>``, as cell texts."""
    block = html.split(f'<div class="rich {css}">', 1)[1].split("</div>", 1)[0]
    body = block.split('<table class="list compact">', 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)]


def test_rich_answers_are_shown_as_tables(client, runner, gateway):
    """GetConfiguration keys, a GetCompositeSchedule and a GetDiagnostics file name."""
    with station_server("1.6") as (_station, address):
        register_station(gateway.sessions, "CB-RICH", "1.6", address)
        keys = _run_from_the_form(client, runner, "GetConfiguration", {"p_key": ""})
        schedule = _run_from_the_form(client, runner, "GetCompositeSchedule", {
            "p_connectorId": "1", "p_duration": "3600", "p_chargingRateUnit": "A"})
        diagnostics = _run_from_the_form(client, runner, "GetDiagnostics", {
            "p_location": "ftp://logs.example/"})
    assert _table_rows(keys, "getconfiguration") == [["HeartbeatInterval", "300", "no"],
                                                     ["NumberOfConnectors", "2", "yes"]]
    assert "<strong>Unknown keys:</strong> NoSuchKey" in keys
    assert _table_rows(schedule, "getcompositeschedule") == [
        ["0", "2030-01-01T08:00:00Z", "16", "–"],
        ["1800", "2030-01-01T08:30:00Z", "10.5", "3"]]
    assert "<th>Limit (A)</th>" in schedule
    assert "<th>Schedule start</th><td>2030-01-01T08:00:00Z</td>" in schedule
    assert "<th>Minimum rate</th><td>6.5</td>" in schedule
    assert "<th>File name</th><td>diag-0001.zip</td>" in diagnostics
    # the answer as JSON stays one click away
    assert "<summary>JSON</summary>" in keys and "&#34;unknownKey&#34;" in keys


def test_station_answers_cannot_inject_markup(client, runner, gateway):
    """Whatever a station answers is text on the task page."""
    from soapgw.soap.schema import cp16
    with station_server("1.6") as (station, address):
        register_station(gateway.sessions, "CB-RICH", "1.6", address)
        station.answers["GetConfiguration"] = cp16.GetConfigurationResponse(
            configurationKey=[cp16.KeyValue(key=XSS, readonly=False, value=XSS)],
            unknownKey=[XSS])
        station.answers["DataTransfer"] = cp16.DataTransferResponse(status="Accepted", data=XSS)
        station.answers["GetDiagnostics"] = cp16.GetDiagnosticsResponse(fileName=XSS[:25])
        pages = [_run_from_the_form(client, runner, "GetConfiguration", {"p_key": ""}),
                 _run_from_the_form(client, runner, "DataTransfer", {"p_vendorId": XSS[:20],
                                                                     "p_data": XSS}),
                 _run_from_the_form(client, runner, "GetDiagnostics",
                                    {"p_location": "ftp://logs.example/"})]
    for html in pages:
        assert "answered" in html
        assert "<script>" not in html and "&lt;script&gt;alert(1)" in html

def test_running_task_page_refreshes_itself(client, rows):
    task = rows.add(Task(operation="Reset", payload='{"type":"Soft"}', origin="web"))
    rows.add(TaskResult(task_id=task.id, charge_box_id="CB-<b>", state="sent"))
    html = client.get(f"/operations/tasks/{task.id}").text
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "0 of 1 station(s) done" in html and "CB-&lt;b&gt;" in html
    assert client.get("/operations/tasks/999").status_code == 404


# --- timeouts from the settings page -----------------------------------------------------------
SETTINGS = {"heartbeat_interval": "300", "journal_retention_days": "30",
            "event_retention_days": "7"}


class RecordingSender:
    """Passes calls on to the real sender and remembers the timeouts each call got."""

    def __init__(self, sender):
        self.sender, self.timeouts = sender, []

    def check(self, *args):
        self.sender.check(*args)

    def send(self, target, operation, payload, timeouts=None):
        self.timeouts.append(timeouts)
        return self.sender.send(target, operation, payload, timeouts)


@pytest.fixture
def web_runner(web_app):
    """The runner the web UI makes for itself, with the environment's timeouts (30 s)."""
    with web_app.app_context():
        runner = task_runner()
    assert (runner.settings.connect_timeout, runner.settings.operation_timeout) == (30, 30)
    runner.sender = RecordingSender(runner.sender)
    yield runner
    runner.shutdown()


def _submitted(response) -> int:
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _timed_command(client, web_runner, gateway, charge_box_id: str, operation: str,
                   fields: dict, station_delay: float = 0):
    """One OCPP 1.6 command from the operation form to a test station on 127.0.0.1; returns
    the station's result, the seconds from submit to finished, and the station's address."""
    with station_server() as (station, address):
        station.delay = station_delay
        register_station(gateway.sessions, charge_box_id, "1.6", address)
        started = time.monotonic()
        task_id = _submitted(submit(client, f"/operations/{operation}/1.6",
                                    {"stations": charge_box_id, **fields}))
        assert web_runner.wait(task_id, timeout=10)
        elapsed = time.monotonic() - started
    (result,) = results(gateway.sessions, task_id)
    return result, elapsed, address


def test_saved_operation_timeout_applies_to_commands_from_the_web_ui(client, web_runner,
                                                                     gateway):
    saved = submit(client, "/settings", {**SETTINGS, "connect_timeout": "1.5",
                                         "operation_timeout": "0.5"})
    assert saved.status_code == 302
    # the station takes the call and answers only after 3 s
    result, elapsed, address = _timed_command(client, web_runner, gateway, "CB-SLOW", "Reset",
                                              {"p_type": "Soft"}, station_delay=3)
    assert (result.state, result.error_kind) == ("timed_out", "timeout")
    assert result.error == \
        f"the station at {address} did not answer within 0.5 s (operation timeout)"
    assert elapsed < 2.5  # not the environment's 30 s, nor the station's 3 s
    assert web_runner.sender.timeouts == [Timeouts(connect=1.5, operation=0.5)]


def test_remote_start_waits_for_the_saved_operation_timeout(client, web_runner, gateway):
    """An accepted RemoteStartTransaction waits for the StartTransaction that follows: here
    none comes, so the task ends after the saved 1.5 s, not the environment's 30 s. (The same
    timeout bounds the station's answer: 0.5 s proved too short for it late in a loaded run.)"""
    submit(client, "/settings", {**SETTINGS, "connect_timeout": "30", "operation_timeout": "1.5"})
    result, elapsed, _address = _timed_command(client, web_runner, gateway, "CB-RS",
                                               "RemoteStartTransaction", {"p_idTag": "TAG-1"})
    assert result.state == "answered", (result.error_kind, result.error)
    assert json.loads(result.response) == {"status": "Accepted"}
    assert result.transaction_id is None and result.finished_at is not None
    assert 1.5 <= elapsed < 10


# --- the task list and its filters ---------------------------------------------------------------
def tasks_on(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/operations/tasks/(\d+)"', html)}


@pytest.fixture
def listed(rows):
    """Four tasks: operation, origin, created, finished, and each station's result state."""
    def task(operation, origin, created, finished, *parts):
        made = rows.add(Task(operation=operation, payload="{}", origin=origin,
                             created_at=created, finished_at=finished))
        for charge_box_id, state in parts:
            rows.add(TaskResult(task_id=made.id, charge_box_id=charge_box_id, state=state))
        return made.id

    return {
        "reset_web": task("Reset", "web", utc(2026, 1, 10, 9), utc(2026, 1, 10, 9, 1),
                          ("CB-1", "answered"), ("CB-2", "failed")),
        "reset_cli": task("Reset", "cli", utc(2026, 2, 10, 9), utc(2026, 2, 10, 9, 1),
                          ("CB-2", "timed_out")),
        "config_web": task("GetConfiguration", "web", utc(2026, 3, 10, 9), None,
                           ("CB-1", "sent"), ("CB-3", "queued")),
        "clear_cli": task("ClearCache", "cli", utc(2026, 3, 20, 9), utc(2026, 3, 20, 9, 1),
                          ("CB-3", "answered")),
    }


@pytest.mark.parametrize("query,expected", [
    ("", {"reset_web", "reset_cli", "config_web", "clear_cli"}),
    ("operation=Reset", {"reset_web", "reset_cli"}),
    ("origin=cli", {"reset_cli", "clear_cli"}),
    ("operation=Reset&origin=web", {"reset_web"}),
    ("station=CB-1", {"reset_web", "config_web"}),
    ("station=CB-3", {"config_web", "clear_cli"}),
    ("station=CB-9", set()),
    ("state=open", {"config_web"}),
    ("state=answered", {"reset_web", "clear_cli"}),
    ("state=failed", {"reset_web"}),
    ("state=timed_out", {"reset_cli"}),
    ("state=queued", {"config_web"}),
    # station and state look at the same result: CB-2 never answered
    ("station=CB-2&state=answered", set()),
    ("station=CB-2&state=failed", {"reset_web"}),
    ("station=CB-1&state=open", {"config_web"}),
    ("created_from=2026-02-01", {"reset_cli", "config_web", "clear_cli"}),
    ("created_to=2026-03-15", {"reset_web", "reset_cli", "config_web"}),
    ("created_from=2026-02-01T00:00&created_to=2026-03-15T00:00", {"reset_cli", "config_web"}),
    ("created_from=2026-03-10T09:00&created_to=2026-03-10T09:01", {"config_web"}),
])
def test_task_list_filters(client, listed, query, expected):
    response = client.get(f"/operations/?{query}")
    assert response.status_code == 200
    shown = tasks_on(response.text)
    assert shown == {listed[name] for name in expected}
    assert not shown & {listed[name] for name in set(listed) - expected}
    if not expected:
        assert "No tasks match." in response.text


@pytest.mark.parametrize("query,field,message", [
    ("created_from=tomorrow", "created_from", "Not a date and time"),
    ("created_from=2026-03-01&created_to=2026-02-01", "created_to",
     "The end comes before the start."),
    ("state=sleeping", "state", "Not a valid choice"),
])
def test_task_list_filter_errors_sit_next_to_the_field(client, listed, query, field, message):
    html = client.get(f"/operations/?{query}").text
    assert f'id="{field}-errors"' in html and message in html


def test_task_list_pages_keep_the_filters(client, rows):
    for n in range(25):
        rows.add(Task(operation="Reset", payload="{}", origin="web",
                      created_at=utc(2026, 1, 1, n % 24)))
    others = {rows.add(Task(operation="ClearCache", payload="{}", origin="web")).id
              for _ in range(5)}
    first = client.get("/operations/?operation=Reset&origin=web").text
    assert "25 in all" in first and len(tasks_on(first)) == 20
    link = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "operation=Reset" in link and "origin=web" in link and "page=2" in link
    second = client.get(link).text
    assert len(tasks_on(second)) == 5 and not tasks_on(second) & tasks_on(first)
    assert not (tasks_on(first) | tasks_on(second)) & others
    back = re.search(r'<a rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert "operation=Reset" in back and "page=1" in back

