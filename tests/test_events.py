"""The event outbox end to end: a SOAP session over HTTP and a command to a real station give
the exact event sequence, with OCPP-J payloads valid for the ocpp package's schemas; and
after kill -9 every acknowledged message has its event."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from importlib import resources
from pathlib import Path

import pytest
import requests
from jsonschema import Draft4Validator
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from soapgw.core import events
from soapgw.store.database import make_engine
from soapgw.store.migrate import upgrade
from soapgw.store.models import ChargeBox, IdTag, JournalEntry

from conftest import command_env, free_port
from outbound_support import register_station, station_server
from soap_messages import envelope, post

SCHEMAS = resources.files("ocpp.v16") / "schemas"


def validate(action: str, payload: dict, response: bool = False) -> None:
    name = f"{action}Response.json" if response else f"{action}.json"
    schema = json.loads((SCHEMAS / name).read_text("utf-8"))
    problems = [e.message for e in Draft4Validator(schema).iter_errors(payload)]
    assert not problems, (name, payload, problems)


def soap(live_url: str, identity: str, action: str, body: str, address: str) -> None:
    reply = post(live_url, envelope(identity, body, action=f"/{action}", from_address=address),
                 action=f"/{action}")
    assert reply.status_code in (200, 400), reply.text


def test_session_and_command_give_the_exact_event_sequence(gateway, seed, live_url):
    seed.tag("TAG1")
    with station_server("1.6") as (station, address):
        register_station(gateway.sessions, "CB-EV", "1.6", address)
        steps = [
            ("BootNotification", "<cs:bootNotificationRequest><cs:chargePointVendor>Acme"
             "</cs:chargePointVendor><cs:chargePointModel>X1</cs:chargePointModel>"
             "</cs:bootNotificationRequest>"),
            ("StatusNotification", "<cs:statusNotificationRequest><cs:connectorId>1"
             "</cs:connectorId><cs:status>Available</cs:status><cs:errorCode>NoError"
             "</cs:errorCode><cs:timestamp>2030-01-01T09:59:00Z</cs:timestamp>"
             "</cs:statusNotificationRequest>"),
            ("Authorize", "<cs:authorizeRequest><cs:idTag>TAG1</cs:idTag></cs:authorizeRequest>"),
            ("StartTransaction", "<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
             "<cs:idTag>TAG1</cs:idTag><cs:timestamp>2030-01-01T10:00:00Z</cs:timestamp>"
             "<cs:meterStart>1000</cs:meterStart></cs:startTransactionRequest>"),
            ("StatusNotification", "<cs:statusNotificationRequest><cs:connectorId>1"
             "</cs:connectorId><cs:status>Charging</cs:status><cs:errorCode>NoError"
             "</cs:errorCode><cs:timestamp>2030-01-01T10:00:01Z</cs:timestamp>"
             "</cs:statusNotificationRequest>"),
            ("MeterValues", "<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId>"
             "<cs:transactionId>{tx}</cs:transactionId><cs:meterValue><cs:timestamp>"
             "2030-01-01T10:15:00Z</cs:timestamp><cs:sampledValue><cs:value>2500</cs:value>"
             "<cs:context>Sample.Periodic</cs:context><cs:measurand>"
             "Energy.Active.Import.Register</cs:measurand><cs:unit>Wh</cs:unit>"
             "</cs:sampledValue><cs:sampledValue><cs:value>16.2</cs:value><cs:measurand>"
             "Current.Import</cs:measurand><cs:phase>L1</cs:phase><cs:unit>A</cs:unit>"
             "</cs:sampledValue></cs:meterValue></cs:meterValuesRequest>"),
            ("StopTransaction", "<cs:stopTransactionRequest><cs:transactionId>{tx}"
             "</cs:transactionId><cs:idTag>TAG1</cs:idTag><cs:timestamp>2030-01-01T10:30:00Z"
             "</cs:timestamp><cs:meterStop>4000</cs:meterStop><cs:reason>EVDisconnected"
             "</cs:reason></cs:stopTransactionRequest>"),
            ("Heartbeat", "<cs:heartbeatRequest/>"),
        ]
        transaction_id = None
        for action, body in steps:
            soap(live_url, "CB-EV", action, body.replace("{tx}", str(transaction_id)), address)
            if action == "StartTransaction":
                with gateway.sessions() as db:
                    transaction_id = db.scalar(text("SELECT max(id) FROM \"transaction\""))
        # a stranger is refused, and that is an event too
        soap(live_url, "CB-STRANGER", "Authorize",
             "<cs:authorizeRequest><cs:idTag>TAG1</cs:idTag></cs:authorizeRequest>", address)
        task_id = gateway.task_runner.run("GetConfiguration", {"key": ["HeartbeatInterval"]},
                                          ["CB-EV"], "test")
    with gateway.sessions() as db:
        got = events.read(db, limit=100)

    assert [(e.type, e.charge_box_id, e.payload.get("action")) for e in got] == [
        ("station.message", "CB-EV", "BootNotification"),
        ("station.booted", "CB-EV", None),
        ("station.message", "CB-EV", "StatusNotification"),
        ("connector.status_changed", "CB-EV", None),
        ("station.message", "CB-EV", "Authorize"),
        ("station.message", "CB-EV", "StartTransaction"),
        ("transaction.started", "CB-EV", None),
        ("station.message", "CB-EV", "StatusNotification"),
        ("connector.status_changed", "CB-EV", None),
        ("station.message", "CB-EV", "MeterValues"),
        ("station.message", "CB-EV", "StopTransaction"),
        ("transaction.stopped", "CB-EV", None),
        ("station.message", "CB-EV", "Heartbeat"),
        ("station.message", "CB-STRANGER", "Authorize"),
        ("station.unknown", "CB-STRANGER", "Authorize"),  # its first message only
        ("command.result", "CB-EV", "GetConfiguration"),
        ("task.finished", None, "GetConfiguration"),
    ]
    by_type = {}
    for event in got:
        by_type.setdefault(event.type, []).append(event.payload)
    # every OCPP part fits the schemas the OCPP-J world validates with
    for payload in by_type["station.message"]:
        validate(payload["action"], payload["request"])
        if "response" in payload:
            validate(payload["action"], payload["response"], response=True)
    for payload in by_type["station.booted"] + by_type["transaction.started"]:
        action = "BootNotification" if "chargePointVendor" in payload["request"] \
            else "StartTransaction"
        validate(action, payload["request"])
        validate(action, payload["response"], response=True)
    for payload in by_type["connector.status_changed"]:
        validate("StatusNotification", payload["statusNotification"])
    validate("StopTransaction", by_type["transaction.stopped"][0]["request"])
    result = by_type["command.result"][0]
    validate("GetConfiguration", result["request"])
    validate("GetConfiguration", result["response"], response=True)

    # and the exact payloads
    meter = next(p for p in by_type["station.message"] if p["action"] == "MeterValues")
    assert meter == {"action": "MeterValues", "response": {}, "request": {
        "connectorId": 1, "transactionId": transaction_id, "meterValue": [{
            "timestamp": "2030-01-01T10:15:00Z", "sampledValue": [
                {"value": "2500", "context": "Sample.Periodic",
                 "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "16.2", "measurand": "Current.Import", "phase": "L1",
                 "unit": "A"}]}]}}
    assert [p["previousStatus"] for p in by_type["connector.status_changed"]] == \
        [None, "Available"]
    assert by_type["transaction.stopped"][0] == {
        "transactionId": transaction_id, "stoppedBy": "station", "request": {
            "transactionId": transaction_id, "idTag": "TAG1", "meterStop": 4000,
            "timestamp": "2030-01-01T10:30:00Z", "reason": "EVDisconnected"}}
    stranger = by_type["station.message"][-1]
    assert stranger["error"]["code"] == "SecurityError" and "response" not in stranger
    assert result["taskId"] == task_id and result["request"] == {"key": ["HeartbeatInterval"]}
    assert by_type["task.finished"] == [{"taskId": task_id, "action": "GetConfiguration",
                                         "origin": "test", "results": {"answered": 1}}]


def test_kill_9_leaves_no_acknowledged_message_without_its_event(database_url, tmp_path):
    """``soapgw serve`` (gunicorn, two workers) answers Authorize messages from four clients
    and is killed with SIGKILL, master and workers at once: every message that got its
    answer has its event and its journal rows."""
    engine = make_engine(database_url)
    upgrade(engine)

    with Session(engine) as db, db.begin():
        db.add(ChargeBox(charge_box_id="CB-K", registration_status="Accepted"))
        db.add(IdTag(id_tag="KNOWN"))
    port = free_port()
    log = open(tmp_path / "serve.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("soapgw")), "serve", "--port", str(port),
         "--workers", "2"], env=command_env(database_url), stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # slow first answer
                time.sleep(0.1)
        acknowledged: list[str] = []
        stop = threading.Event()

        def client(number: int) -> None:
            count = 0
            while not stop.is_set():
                tag = f"K{number}-{count}"
                count += 1
                body = f"<cs:authorizeRequest><cs:idTag>{tag}</cs:idTag></cs:authorizeRequest>"
                try:
                    reply = post(url, envelope("CB-K", body, action="/Authorize"),
                                 action="/Authorize")
                except requests.RequestException:
                    return  # the server is gone
                if reply.status_code == 200:
                    acknowledged.append(tag)

        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in clients:
            thread.start()
        time.sleep(1.5)
        os.killpg(server.pid, signal.SIGKILL)  # the whole process group, mid-traffic
        stop.set()
        for thread in clients:
            thread.join(10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
    assert len(acknowledged) > 20, "too few messages were answered before the kill"
    with Session(engine) as db:
        stored = {e.payload["request"]["idTag"] for e in events.read(db, limit=100_000)
                  if e.payload.get("action") == "Authorize"}
        journaled = db.scalar(select(text("count(*)")).select_from(JournalEntry)
                              .where(JournalEntry.direction == "in"))
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged messages have no event"
    assert journaled >= len(acknowledged)
    engine.dispose()
