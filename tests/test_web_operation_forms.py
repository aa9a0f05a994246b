"""Web UI: the guided operation forms (human labels with the OCPP name as a hint, suggestions
for connectors, tags, configuration keys, transactions and reservations, a reservation id
allocated by the gateway, a warning for a doubtful tag) and the task outcome shown truthfully
(accepted, refused, failed, timed out) on the task page and the task list.

Posting every form's guided fields as an operator would is test_web_operations.py's
test_every_operation_form_sends_its_payload (both versions, a real station answering)."""
from __future__ import annotations

import html as html_lib
import json
import re
from datetime import timedelta

import pytest

from soapgw.core.commands.operations import BY_VERSION
from soapgw.store.models import ConfigurationKey, Task, TaskResult
from soapgw.web.operations import PARAMS, label_of
from test_web_operations import FORM_CASES, runner  # noqa: F401 (fixture)
from web_support import admin, client, hours_ago, rows, submit, web_app  # noqa: F401

# The forms other parts of issue 15 rebuild around stored profiles and the tag table
JSON_FIELDS_ELSEWHERE = {"SetChargingProfile", "SendLocalList"}


def datalist(html: str, name: str) -> dict[str, str]:
    """The options of <datalist id="pick-NAME">: value -> what it is."""
    found = re.search(rf'<datalist id="pick-{name}">(.*?)</datalist>', html, re.S)
    assert found, f"no datalist {name}"
    return {html_lib.unescape(v): html_lib.unescape(t)
            for v, t in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', found[1])}


@pytest.mark.parametrize("version,operation", FORM_CASES,
                         ids=[f"{v}-{o}" for v, o in FORM_CASES])
def test_every_form_labels_its_fields_for_humans(client, rows, version, operation):
    rows.station("CB-L", ocpp_version=version)
    page = client.get(f"/operations/{operation}/{version}")
    assert page.status_code == 200
    for param in PARAMS[operation]:
        label = label_of(param)
        assert label != param.name or param.name == "data"  # a word, not the payload key
        assert (f'<label for="p_{param.name}">{label}<span class="ocpp" title="the OCPP field">'
                f'{param.name}</span></label>') in page.text
    if operation not in JSON_FIELDS_ELSEWHERE:
        assert all(p.kind != "json" for p in PARAMS[operation]), "a raw JSON payload editor"


def test_connector_picker_offers_the_chosen_stations_connectors(client, rows):
    a, b = rows.station("CB-A", ocpp_version="1.6"), rows.station("CB-B", ocpp_version="1.6")
    for station, connectors in ((a, (1, 2)), (b, (1, 3))):
        for connector_id in (0, *connectors):  # 0 is recorded too: never offered twice
            rows.connector(station, connector_id)
    one = client.get("/operations/ChangeAvailability/1.6?station=CB-A").text
    assert 'list="pick-connectors"' in one
    assert datalist(one, "connectors") == {"0": "the whole station",
                                           "1": "connector 1 (CB-A)", "2": "connector 2 (CB-A)"}
    # each suggestion names its stations, for the page to narrow them to the chosen ones
    assert ('<option value="1" data-stations=\'["CB-A"]\'>connector 1 (CB-A)</option>'
            in one)
    assert '<option value="0">the whole station</option>' in one
    assert 'src="/static/operations.js"' in one
    every = datalist(client.get("/operations/ReserveNow/1.6").text, "connectors")
    assert every == {"0": "the whole station", "1": "connector 1 (CB-A, CB-B)",
                     "2": "connector 2 (CB-A)", "3": "connector 3 (CB-B)"}
    # where OCPP wants a real connector, 0 is not offered (and refused when typed)
    assert list(datalist(client.get("/operations/UnlockConnector/1.6?station=CB-B").text,
                         "connectors")) == ["1", "3"]
    assert "0" not in datalist(client.get("/operations/RemoteStartTransaction/1.5").text,
                               "connectors")


def test_tag_picker_lists_the_tag_table_with_each_tags_state(client, rows):
    rows.tag("CARD-OK")
    rows.tag("CARD-BLOCKED", blocked=True)
    rows.tag("CARD-OLD", expiry_date=hours_ago(48).replace(tzinfo=None))
    rows.tag("CARD-CHILD", parent_id_tag="CARD-OK")
    html = client.get("/operations/RemoteStartTransaction/1.6").text
    assert 'id="p_idTag"' in html and 'list="pick-tags"' in html
    tags = datalist(html, "tags")
    assert tags["CARD-OK"] == "valid" and tags["CARD-BLOCKED"] == "blocked"
    assert tags["CARD-OLD"].startswith("expired ")
    assert tags["CARD-CHILD"] == "valid, parent CARD-OK"
    assert "4 suggested; any value may be typed" in html


def test_configuration_key_transaction_and_reservation_pickers(client, rows):
    station = rows.station("CB-K", ocpp_version="1.6")
    rows.add(ConfigurationKey(charge_box_pk=station.id, key="HeartbeatInterval", value="300",
                              readonly=False),
             ConfigurationKey(charge_box_pk=station.id, key="NumberOfConnectors", value="2",
                              readonly=True))
    connector = rows.connector(station, 1)
    running = rows.transaction(connector, "CARD-1", hours_ago(1))
    rows.transaction(connector, "CARD-2", hours_ago(3), stop=hours_ago(2), meter_stop=2000)
    rows.reservation(connector, "CARD-3", hours_ago(-2))
    rows.reservation(connector, "CARD-4", hours_ago(-2), status="Cancelled")
    keys = datalist(client.get("/operations/ChangeConfiguration/1.6?station=CB-K").text, "keys")
    assert keys == {"HeartbeatInterval": "CB-K: 300",
                    "NumberOfConnectors": "CB-K: 2 (read-only)"}
    # suggestions come from the stations the form offers: none speaks OCPP 1.5
    assert datalist(client.get("/operations/RemoteStopTransaction/1.5").text,
                    "transactions") == {}
    transactions = datalist(client.get("/operations/RemoteStopTransaction/1.6").text,
                            "transactions")
    assert list(transactions) == [str(running.id)]
    assert transactions[str(running.id)].startswith("CB-K connector 1, tag CARD-1, since ")
    reservations = datalist(client.get("/operations/CancelReservation/1.6").text,
                            "reservations")
    assert list(reservations) == ["1"] and "tag CARD-3" in reservations["1"]


def _task_page(client, response) -> tuple[int, str]:
    assert response.status_code == 302, response.text
    task_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return task_id, client.get(response.headers["Location"]).text


def test_reservation_id_is_allocated_by_the_gateway(client, rows, runner, gateway):
    station = rows.station("CB-R", ocpp_version="1.6")
    connector = rows.connector(station, 1)
    for _ in range(4):  # this station's ids 1..4 are taken
        rows.reservation(connector, "CARD-1", hours_ago(-1), status="Used")
    rows.tag("CARD-1")
    form = client.get("/operations/ReserveNow/1.6?station=CB-R").text
    assert 'placeholder="allocated by the gateway"' in form
    assert "empty: allocated by the gateway" in form
    expiry = (hours_ago(-2)).strftime("%Y-%m-%dT%H:%M")
    task_id, page = _task_page(client, submit(client, "/operations/ReserveNow/1.6", {
        "stations": "CB-R", "p_connectorId": "1", "p_expiryDate": expiry,
        "p_idTag": "CARD-1", "p_parentIdTag": "", "p_reservationId": ""}))
    assert "Reservation id 5 was allocated by the gateway" in page
    assert "Sent, but" not in page  # a known, valid tag: no warning
    with gateway.sessions() as db:
        assert json.loads(db.get(Task, task_id).payload)["reservationId"] == 5


@pytest.mark.parametrize("tag,fields,concern", [
    ("CARD-NEW", None, "tag CARD-NEW is not registered"),
    ("CARD-BLOCKED", {"blocked": True}, "tag CARD-BLOCKED is blocked"),
    ("CARD-OLD", {"expiry_date": "past"}, "tag CARD-OLD expired on "),
])
def test_a_doubtful_tag_is_sent_with_a_warning(client, rows, runner, gateway, tag, fields,
                                               concern):
    rows.station("CB-T", ocpp_version="1.6")
    if fields is not None:
        if fields.get("expiry_date") == "past":
            fields = {"expiry_date": hours_ago(30).replace(tzinfo=None)}
        rows.tag(tag, **fields)
    task_id, page = _task_page(client, submit(client, "/operations/RemoteStartTransaction/1.6",
                                              {"stations": "CB-T", "p_idTag": tag,
                                               "p_connectorId": ""}))
    assert '<p class="flash warning" role="status">Sent, but ' + concern in page
    with gateway.sessions() as db:
        assert json.loads(db.get(Task, task_id).payload) == {"idTag": tag}


def _mixed_task(rows) -> Task:
    task = rows.add(Task(operation="ReserveNow", origin="web", payload=json.dumps(
        {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "T",
         "reservationId": 1})))
    task.finished_at = task.created_at + timedelta(seconds=3)
    rows.add(task)
    rows.add(TaskResult(task_id=task.id, charge_box_id="CB-1", state="answered",
                        response='{"status":"Accepted"}', finished_at=task.finished_at),
             TaskResult(task_id=task.id, charge_box_id="CB-2", state="answered",
                        response='{"status":"Occupied"}', finished_at=task.finished_at),
             TaskResult(task_id=task.id, charge_box_id="CB-3", state="timed_out",
                        error_kind="timeout", error="no answer within 2 s",
                        finished_at=task.finished_at),
             TaskResult(task_id=task.id, charge_box_id="CB-4", state="answered",
                        response='{"status":"Accepted"}', finished_at=task.finished_at))
    return task


def test_task_outcome_is_shown_truthfully(client, rows):
    task = _mixed_task(rows)
    page = client.get(f"/operations/tasks/{task.id}").text
    assert ('<span class="badge outcome o-mixed" id="task-outcome">'
            '2 accepted, 1 refused, 1 timed out</span>') in page
    badges = re.findall(r'<span class="badge outcome o-(\w+)" title="\w+">([^<]+)</span>', page)
    assert badges == [("accepted", "accepted"), ("refused", "refused: Occupied"),
                      ("timed_out", "timed out"), ("accepted", "accepted")]
    # the error sits in a block of its own (no inline box overlapping the line above)
    assert '<div class="flash error">timeout: no answer within 2 s</div>' in page
    listing = client.get("/operations/").text
    assert ('<span class="badge outcome o-mixed">2 accepted, 1 refused, 1 timed out</span>'
            in listing)


def test_task_list_outcome_of_a_waiting_and_an_accepted_task(client, rows):
    waiting = rows.add(Task(operation="GetConfiguration", origin="web", payload="{}"))
    rows.add(TaskResult(task_id=waiting.id, charge_box_id="CB-1", state="sent"))
    done = rows.add(Task(operation="GetConfiguration", origin="web", payload="{}"))
    rows.add(TaskResult(task_id=done.id, charge_box_id="CB-1", state="answered",
                        response='{"configurationKey": []}'))
    listing = client.get("/operations/").text
    assert '<span class="badge outcome o-pending">1 waiting</span>' in listing
    assert '<span class="badge outcome o-accepted">1 accepted</span>' in listing


def test_urls_wrap_between_segments(client, rows):
    task = rows.add(Task(operation="Reset", origin="web", payload='{"type":"Soft"}'))
    rows.add(TaskResult(task_id=task.id, charge_box_id="CB-1", state="failed",
                        endpoint_address="http://cp.example/Ocpp/<b>", error="x"))
    page = client.get(f"/operations/tasks/{task.id}").text
    assert ('<td class="address">http://<wbr>cp.<wbr>example/<wbr>Ocpp/<wbr>&lt;b&gt;</td>'
            in page)


def test_every_version_has_its_forms():
    assert set(BY_VERSION["1.5"]) < set(PARAMS) == set(BY_VERSION["1.6"])


def test_the_payload_as_json_is_the_advanced_alternative(client, rows, runner, gateway):
    rows.station("CB-J", ocpp_version="1.6")
    form = client.get("/operations/ReserveNow/1.6").text
    # guided fields first; the JSON editor folded away below them
    assert form.index('id="p_connectorId"') < form.index("<summary>Advanced: the payload as "
                                                         "JSON</summary>")
    assert '<details class="advanced">' in form
    payload = {"connectorId": 2, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "CARD-J",
               "reservationId": 9}
    # the guided fields, left empty, are not asked for when the payload is given
    task_id, page = _task_page(client, submit(client, "/operations/ReserveNow/1.6", {
        "stations": "CB-J", "p_connectorId": "", "p_idTag": "", "p_expiryDate": "",
        "advanced": json.dumps(payload)}))
    assert "allocated by the gateway" not in page  # the id was given
    assert "Sent, but tag CARD-J is not registered" in page
    with gateway.sessions() as db:
        assert json.loads(db.get(Task, task_id).payload) == payload
    bad = submit(client, "/operations/Reset/1.6", {"stations": "CB-J", "p_type": "Soft",
                                                   "advanced": "[1, 2]"})
    assert bad.status_code == 400 and 'id="advanced-errors"' in bad.text
    assert "Give a JSON object" in bad.text and '<details class="advanced" open>' in bad.text
    refused = submit(client, "/operations/Reset/1.6", {"stations": "CB-J",
                                                       "advanced": '{"type": "Gentle"}'})
    assert refused.status_code == 400 and "invalid Reset payload" in refused.text
