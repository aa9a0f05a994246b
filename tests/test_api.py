"""The REST API over real HTTP with real tokens: every resource, errors as problem details,
cursor pagination, commands with Prefer: wait and Idempotency-Key, the event feed."""
from __future__ import annotations

import csv
import ipaddress
import io
import threading
import time

import pytest
from sqlalchemy import select

from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.soap.schema import cp16
from soapgw.store.models import ApiToken, Task

from api_support import Api, api, make_token, problem, tokens  # noqa: F401
from conftest import make_settings
from outbound_support import register_station, station_server
from soap_messages import envelope, post

@pytest.fixture
def settings(database_url, tmp_path):
    """Webhooks to the documentation network 192.0.2.0/24 are allowed (nothing listens)."""
    return make_settings(database_url, tmp_path,
                         webhook_allowed_networks=(ipaddress.ip_network("192.0.2.0/24"),))


BOOT = ("<cs:bootNotificationRequest><cs:chargePointVendor>Acme</cs:chargePointVendor>"
        "<cs:chargePointModel>X1</cs:chargePointModel></cs:bootNotificationRequest>")


def soap(url: str, identity: str, action: str, body: str, address="http://127.0.0.1:9/ocpp"):
    reply = post(url, envelope(identity, body, action=f"/{action}", from_address=address),
                 action=f"/{action}")
    assert reply.status_code in (200, 400), reply.text
    return reply


def status(connector: int, value: str, at: str) -> str:
    return (f"<cs:statusNotificationRequest><cs:connectorId>{connector}</cs:connectorId>"
            f"<cs:status>{value}</cs:status><cs:errorCode>NoError</cs:errorCode>"
            f"<cs:timestamp>{at}</cs:timestamp></cs:statusNotificationRequest>")


def start(tag: str, at: str = "2030-01-01T10:00:00Z", meter: int = 1000) -> str:
    return (f"<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>{tag}"
            f"</cs:idTag><cs:timestamp>{at}</cs:timestamp><cs:meterStart>{meter}"
            "</cs:meterStart></cs:startTransactionRequest>")


def meter(tx: int) -> str:
    return (f"<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:transactionId>{tx}"
            "</cs:transactionId><cs:meterValue><cs:timestamp>2030-01-01T10:15:00Z</cs:timestamp>"
            "<cs:sampledValue><cs:value>2500</cs:value><cs:context>Sample.Periodic</cs:context>"
            "<cs:measurand>Energy.Active.Import.Register</cs:measurand><cs:unit>Wh</cs:unit>"
            "</cs:sampledValue><cs:sampledValue><cs:value>16.2</cs:value><cs:measurand>"
            "Current.Import</cs:measurand><cs:phase>L1</cs:phase><cs:unit>A</cs:unit>"
            "</cs:sampledValue></cs:meterValue></cs:meterValuesRequest>")


def stop(tx: int, meter_stop: int = 4000) -> str:
    return (f"<cs:stopTransactionRequest><cs:transactionId>{tx}</cs:transactionId>"
            "<cs:idTag>T1</cs:idTag><cs:timestamp>2030-01-01T10:30:00Z</cs:timestamp>"
            f"<cs:meterStop>{meter_stop}</cs:meterStop><cs:reason>EVDisconnected</cs:reason>"
            "</cs:stopTransactionRequest>")


# --- authentication and errors ---------------------------------------------------------------
@pytest.mark.smoke
def test_tokens_are_required_and_checked(api, gateway, tokens):
    body = problem(api.as_(None).get("/api/v1/chargepoints"), 401)
    assert "Bearer" in api.as_(None).get("/api/v1").headers["WWW-Authenticate"]
    assert "token" in body["detail"]
    problem(api.as_("sgw_not-a-real-token").get("/api/v1"), 401)
    problem(api.get("/api/v1", headers={"Authorization": "Basic YWRtaW46eA=="}), 401)
    me = api.as_(tokens["read"]).get("/api/v1").json()
    assert me["caller"] == {"name": "test-read", "scope": "read"}
    with gateway.sessions() as db:  # last use recorded
        assert db.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "test-read"))
    revoked = api.delete(f"/api/v1/tokens/{_token_id(gateway, 'test-read')}")
    assert revoked.status_code == 200 and revoked.json()["revokedAt"]
    problem(api.as_(tokens["read"]).get("/api/v1"), 401)


def _token_id(gateway, name: str) -> int:
    with gateway.sessions() as db:
        return db.scalar(select(ApiToken.id).where(ApiToken.name == name))


@pytest.mark.smoke
def test_errors_are_problem_details_never_html(api, live_url, web_session_cookie):
    problem(api.get("/api/v1/no-such-thing"), 404)
    problem(api.get("/api/nothing"), 404)
    problem(api.delete("/api/v1/chargepoints"), 405)
    assert "GET" in api.delete("/api/v1/chargepoints").headers["Allow"]
    problem(api.post("/api/v1/tags", data="{nope", headers={"Content-Type": "application/json"}),
            400)
    problem(api.post("/api/v1/tags", data="idTag=x",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    invalid = problem(api.post("/api/v1/tags", json={"idTag": "", "maxActiveTransactions": -1}),
                      422)
    assert {e["field"] for e in invalid["errors"]} == {"idTag", "maxActiveTransactions"}
    bad_query = problem(api.get("/api/v1/transactions?limit=100000"), 400)
    assert bad_query["errors"][0]["field"] == "query.limit"
    assert problem(api.get("/api/v1/transactions?cursor=garbage"), 400)["errors"][0][
        "field"] == "query.cursor"
    # a signed-in web UI session is no credential for the API, and no CSRF token is needed
    problem(api.as_(None).get("/api/v1", cookies=web_session_cookie), 401)


@pytest.fixture
def web_session_cookie(app, gateway):
    from web_support import ADMIN, PASSWORD, csrf_token
    from soapgw.store.models import AdminUser
    from soapgw.web.security import hash_password
    with gateway.sessions.begin() as db:
        db.add(AdminUser(username=ADMIN, password_hash=hash_password(PASSWORD)))
    client = app.web.test_client()
    token = csrf_token(client.get("/login").text)
    client.post("/login", data={"username": ADMIN, "password": PASSWORD, "csrf_token": token})
    cookie = client.get_cookie("soapgw_session")
    assert cookie is not None
    return {"soapgw_session": cookie.value}


@pytest.mark.smoke
def test_openapi_document_and_docs_page_need_no_token_and_no_cdn(api):
    document = api.as_(None).get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    operation = document["paths"]["/api/v1/chargepoints/{charge_box_id}/commands/{action}"]
    assert operation["post"]["x-scope"] == "operate"
    assert {"Prefer", "Idempotency-Key"} <= {p["name"] for p in operation["post"]["parameters"]}
    assert "application/problem+json" in operation["post"]["responses"]["422"]["content"]
    page = api.as_(None).get("/api/docs")
    assert page.status_code == 200 and "http" not in page.text.replace(
        'lang="en"', "")  # every asset from here
    assert api.as_(None).get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200


# --- charge points ---------------------------------------------------------------------------
def test_chargepoints_crud_and_connectors(api, live_url):
    created = api.post("/api/v1/chargepoints", json={"chargeBoxId": "CP-1", "note": "hall"})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/api/v1/chargepoints/CP-1"
    assert created.json()["note"] == "hall" and created.json()["online"] is False
    problem(api.post("/api/v1/chargepoints", json={"chargeBoxId": "CP-1"}), 409)
    problem(api.post("/api/v1/chargepoints", json={"chargeBoxId": "CP-2",
                                                   "registrationStatus": "Maybe"}), 422)
    soap(live_url, "CP-1", "BootNotification", BOOT)
    soap(live_url, "CP-1", "StatusNotification", status(1, "Available", "2030-01-01T09:00:00Z"))
    soap(live_url, "CP-1", "StatusNotification", status(1, "Charging", "2030-01-01T09:05:00Z"))
    cp = api.get("/api/v1/chargepoints/CP-1").json()
    assert (cp["vendor"], cp["ocppVersion"], cp["online"]) == ("Acme", "1.6", True)
    connectors = api.get("/api/v1/chargepoints/CP-1/connectors").json()["items"]
    assert connectors[0]["connectorId"] == 1 and connectors[0]["current"]["status"] == "Charging"
    history = api.get(connectors[0]["links"]["history"]).json()["items"]
    assert [h["status"] for h in history] == ["Charging", "Available"]
    problem(api.get("/api/v1/chargepoints/CP-1/connectors/7/history"), 404)

    changed = api.patch("/api/v1/chargepoints/CP-1", json={
        "registrationStatus": "Pending", "endpointAddress": "http://192.0.2.10:8080/ocpp"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["registrationStatus"], body["endpointPinned"], body["note"]) == \
        ("Pending", True, "hall")
    problem(api.patch("/api/v1/chargepoints/CP-1", json={"endpointAddress": "ftp://x"}), 422)
    unpinned = api.patch("/api/v1/chargepoints/CP-1", json={"unpinEndpoint": True}).json()
    assert unpinned["endpointPinned"] is False
    assert api.get("/api/v1/chargepoints?registrationStatus=Pending").json()["items"][0][
        "chargeBoxId"] == "CP-1"
    assert api.get("/api/v1/chargepoints?registrationStatus=Rejected").json()["items"] == []
    assert api.delete("/api/v1/chargepoints/CP-1").status_code == 204
    problem(api.get("/api/v1/chargepoints/CP-1"), 404)


def test_unknown_stations_accept_and_dismiss(api, live_url):
    soap(live_url, "NEW-1", "BootNotification", BOOT)
    soap(live_url, "NEW-2", "BootNotification", BOOT)
    unknown = {u["chargeBoxId"]: u for u in api.get("/api/v1/unknown-stations").json()["items"]}
    assert set(unknown) == {"NEW-1", "NEW-2"}
    accepted = api.post(unknown["NEW-1"]["links"]["accept"])
    assert accepted.status_code == 201 and accepted.json()["registrationStatus"] == "Accepted"
    assert api.post(unknown["NEW-2"]["links"]["dismiss"]).status_code == 204
    assert api.get("/api/v1/unknown-stations").json()["items"] == []
    problem(api.post(unknown["NEW-2"]["links"]["dismiss"]), 404)


# --- tags ------------------------------------------------------------------------------------
def test_tags_crud(api):
    assert api.post("/api/v1/tags", json={"idTag": "PARENT"}).status_code == 201
    created = api.post("/api/v1/tags", json={
        "idTag": "CHILD", "parentIdTag": "PARENT", "expiryDate": "2031-01-01T00:00:00Z",
        "maxActiveTransactions": 2, "note": "fleet"})
    assert created.status_code == 201, created.text
    assert created.json()["expiryDate"] == "2031-01-01T00:00:00Z"
    problem(api.post("/api/v1/tags", json={"idTag": "CHILD"}), 409)
    refused = problem(api.post("/api/v1/tags", json={"idTag": "X", "parentIdTag": "NOPE"}), 422)
    assert refused["errors"][0]["field"] == "parentIdTag"
    changed = api.patch("/api/v1/tags/CHILD", json={"blocked": True, "parentIdTag": None})
    assert changed.status_code == 200
    assert (changed.json()["blocked"], changed.json()["parentIdTag"],
            changed.json()["maxActiveTransactions"]) == (True, None, 2)
    assert [t["idTag"] for t in api.get("/api/v1/tags?blocked=true").json()["items"]] == ["CHILD"]
    assert api.delete("/api/v1/tags/CHILD").status_code == 204
    problem(api.get("/api/v1/tags/CHILD"), 404)


# --- pagination ------------------------------------------------------------------------------
def test_cursor_pages_are_stable_under_inserts(api, gateway):
    from soapgw.core import tags
    with gateway.sessions.begin() as db:
        tags.add_tags(db, [f"T{i:03d}" for i in range(25)], tags.TagValues())
    first = api.get("/api/v1/tags?limit=10").json()
    assert [t["idTag"] for t in first["items"]] == [f"T{i:03d}" for i in range(10)]
    with gateway.sessions.begin() as db:  # inserts while someone pages
        tags.add_tags(db, ["A-NEW", "Z-NEW"], tags.TagValues())
    second = api.get(first["links"]["next"]).json()
    assert [t["idTag"] for t in second["items"]] == [f"T{i:03d}" for i in range(10, 20)]
    third = api.get(f"/api/v1/tags?limit=10&cursor={second['nextCursor']}").json()
    assert [t["idTag"] for t in third["items"]] == [f"T{i:03d}" for i in range(20, 25)] + [
        "A-NEW", "Z-NEW"]
    assert third["nextCursor"] is None and "next" not in third["links"]


# --- transactions, journal, events -----------------------------------------------------------
def test_transactions_meter_values_csv_stop_journal_and_events(api, live_url, gateway):
    api.post("/api/v1/chargepoints", json={"chargeBoxId": "CP-T"})
    api.post("/api/v1/tags", json={"idTag": "T1", "maxActiveTransactions": 0})
    after = api.get("/api/v1/events?limit=1000").json()["nextAfter"]
    soap(live_url, "CP-T", "BootNotification", BOOT)
    first = int(_text(soap(live_url, "CP-T", "StartTransaction", start("T1")), "transactionId"))
    soap(live_url, "CP-T", "MeterValues", meter(first))
    soap(live_url, "CP-T", "StopTransaction", stop(first))
    second = int(_text(soap(live_url, "CP-T", "StartTransaction",
                            start("T1", "2030-01-02T10:00:00Z", 5000)), "transactionId"))

    listed = api.get("/api/v1/transactions?station=CP-T").json()["items"]
    assert [t["transactionId"] for t in listed] == [second, first]
    assert api.get("/api/v1/transactions?state=open").json()["items"][0]["transactionId"] == second
    assert [t["transactionId"] for t in api.get(
        "/api/v1/transactions?state=closed&idTag=T1").json()["items"]] == [first]
    assert [t["transactionId"] for t in api.get(
        "/api/v1/transactions?startedFrom=2030-01-02T00:00:00Z").json()["items"]] == [second]
    detail = api.get(f"/api/v1/transactions/{first}").json()
    assert (detail["energyWh"], detail["stopReason"]) == (3000, "EVDisconnected")
    assert detail["meterValue"][0]["timestamp"] == "2030-01-01T10:15:00Z"
    samples = {s["measurand"]: s for s in detail["meterValue"][0]["sampledValue"]}
    assert samples["Current.Import"] == {"value": "16.2", "measurand": "Current.Import",
                                         "phase": "L1", "unit": "A"}
    exported = api.get("/api/v1/transactions.csv?station=CP-T")
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(int(r["transactionId"]), r["energyWh"]) for r in rows] == [(second, ""),
                                                                        (first, "3000")]

    problem(api.post(f"/api/v1/transactions/{second}/stop", json={
        "stopTimestamp": "2030-01-01T00:00:00Z", "meterStop": 6000}), 422)  # before its start
    stopped = api.post(f"/api/v1/transactions/{second}/stop", json={
        "stopTimestamp": "2030-01-02T11:00:00Z", "meterStop": 6000})
    assert stopped.status_code == 200 and stopped.json()["stoppedBy"] == "operator"
    problem(api.post(f"/api/v1/transactions/{second}/stop", json={
        "stopTimestamp": "2030-01-02T11:00:00Z", "meterStop": 6000}), 409)

    journal = api.get("/api/v1/journal?station=CP-T&action=StartTransaction&direction=in")
    entries = journal.json()["items"]
    assert len(entries) == 2
    raw = api.get(entries[0]["links"]["self"]).json()["raw"]
    assert "startTransactionRequest" in raw

    feed = api.get(f"/api/v1/events?after={after}&station=CP-T&limit=1000").json()
    types = [e["type"] for e in feed["items"]]
    assert types[:2] == ["station.message", "station.booted"]
    assert types.count("transaction.started") == 2 and types[-1] == "transaction.stopped"
    assert feed["items"][-1]["payload"]["stoppedBy"] == "operator"
    only = api.get(f"/api/v1/events?after={after}&type=transaction.started"
                   "&type=transaction.stopped").json()
    assert [e["type"] for e in only["items"]] == ["transaction.started", "transaction.stopped",
                                                 "transaction.started", "transaction.stopped"]
    assert api.get(f"/api/v1/events?after={only['nextAfter']}&type=transaction.started"
                   ).json()["items"] == []
    problem(api.get("/api/v1/events?type=no.such.type"), 400)


def _text(reply, name: str) -> str:
    from soap_messages import body_of, text_of
    return text_of(body_of(reply.content), name)


def test_settings(api, gateway):
    assert api.get("/api/v1/settings").json()["heartbeatInterval"] == 300
    changed = api.patch("/api/v1/settings", json={"heartbeatInterval": 60,
                                                  "operationTimeout": 2.5})
    assert changed.status_code == 200 and changed.json()["operationTimeout"] == 2.5
    refused = problem(api.patch("/api/v1/settings", json={"connectTimeout": 0,
                                                          "heartbeatInterval": 120}), 422)
    assert refused["errors"] == [{"field": "connectTimeout",
                                  "message": "Input should be greater than 0"}]
    problem(api.patch("/api/v1/settings", json={"operationTimeout": None}), 422)
    with gateway.sessions() as db:  # nothing of a refused change is stored
        assert RuntimeSettings.load(db, gateway.settings).heartbeat_interval == 60


# --- commands --------------------------------------------------------------------------------
def test_commands_answer_202_then_wait_and_idempotency(api, gateway):
    with station_server("1.6") as (station, address):
        register_station(gateway.sessions, "CP-C", "1.6", address)
        sent = api.post("/api/v1/chargepoints/CP-C/commands/GetConfiguration",
                        json={"key": ["HeartbeatInterval"]})
        assert sent.status_code in (200, 202) and sent.headers["Location"].startswith(
            "/api/v1/tasks/")
        task_url = sent.headers["Location"]
        for _ in range(100):
            task = api.get(task_url).json()
            if task["done"]:
                break
            time.sleep(0.05)
        assert task["results"][0]["response"]["configurationKey"][0]["key"] == \
            "HeartbeatInterval"
        assert task["origin"] == "api" and task["caller"] == "test-admin"

        waited = api.post("/api/v1/chargepoints/CP-C/commands/reset", json={"type": "Soft"},
                          headers={"Prefer": "wait=10"})
        assert waited.status_code == 200, waited.text
        assert waited.headers["Preference-Applied"] == "wait=10"
        assert waited.json()["results"][0]["response"] == {"status": "Accepted"}

        key = {"Idempotency-Key": "order-42"}
        once = api.post("/api/v1/chargepoints/CP-C/commands/ClearCache", json={}, headers=key)
        again = api.post("/api/v1/chargepoints/CP-C/commands/ClearCache", json={}, headers=key)
        assert once.json()["taskId"] == again.json()["taskId"]
        assert again.headers["Idempotent-Replayed"] == "true"
        problem(api.post("/api/v1/chargepoints/CP-C/commands/Reset", json={"type": "Hard"},
                         headers=key), 422)  # the same key for another request
        with gateway.sessions() as db:
            assert db.scalar(select(Task.id).where(Task.operation == "ClearCache")
                             .order_by(Task.id.desc())) == once.json()["taskId"]
            assert len(db.scalars(select(Task).where(Task.operation == "ClearCache")).all()) == 1
        # the same key from another token is another key
        other = make_token(gateway.sessions, "other", "operate")
        assert api.as_(other).post("/api/v1/chargepoints/CP-C/commands/ClearCache", json={},
                                   headers=key).json()["taskId"] != once.json()["taskId"]

        many = api.post("/api/v1/commands/ChangeAvailability", headers={"Prefer": "wait=10"},
                        json={"chargeBoxIds": ["CP-C"], "payload": {"connectorId": 0,
                                                                     "type": "Operative"}})
        assert many.status_code == 200 and many.json()["results"][0]["state"] == "answered"
    assert station.received  # the station really got them


def test_commands_refused_before_sending(api, gateway):
    register_station(gateway.sessions, "CP-15", "1.5", "http://127.0.0.1:9/cp")
    register_station(gateway.sessions, "CP-16", "1.6", "http://127.0.0.1:9/cp")
    lacking = problem(api.post("/api/v1/chargepoints/CP-15/commands/TriggerMessage",
                               json={"requestedMessage": "Heartbeat"}), 422)
    assert lacking["errors"][0]["field"] == "chargeBoxId"
    assert "does not exist in OCPP 1.5" in lacking["detail"]
    mapped = problem(api.post("/api/v1/chargepoints/CP-15/commands/RemoteStartTransaction",
                              json={"idTag": "T1", "chargingProfile": {
                                  "chargingProfileId": 1, "stackLevel": 0,
                                  "chargingProfilePurpose": "TxProfile",
                                  "chargingProfileKind": "Relative", "chargingSchedule": {
                                      "chargingRateUnit": "A", "chargingSchedulePeriod": [
                                          {"startPeriod": 0, "limit": 16}]}}}), 422)
    assert "chargingProfile" in mapped["detail"]
    invalid = problem(api.post("/api/v1/chargepoints/CP-16/commands/ChangeAvailability",
                               json={"connectorId": "one", "type": "Operative"}), 422)
    assert invalid["errors"] == [{"field": "payload.connectorId",
                                  "message": "'one' is not of type 'integer'"}]
    problem(api.post("/api/v1/chargepoints/CP-16/commands/Explode", json={}), 404)
    problem(api.post("/api/v1/chargepoints/NOPE/commands/Reset", json={"type": "Soft"}), 404)
    several = problem(api.post("/api/v1/commands/TriggerMessage", json={
        "chargeBoxIds": ["CP-16", "CP-15", "GHOST"],
        "payload": {"requestedMessage": "Heartbeat"}}), 422)
    assert [e["field"] for e in several["errors"]] == ["chargeBoxIds[1]", "chargeBoxIds[2]"]
    with gateway.sessions() as db:
        assert db.scalars(select(Task)).all() == []  # nothing was created


def test_remote_start_result_carries_the_transaction_id(api, gateway, live_url):
    with gateway.sessions.begin() as db:
        RuntimeSettings.save(db, {"operation_timeout": 10})
    api.post("/api/v1/tags", json={"idTag": "APP-1"})
    with station_server("1.6") as (station, address):
        register_station(gateway.sessions, "CP-R", "1.6", address)
        sent = api.post("/api/v1/chargepoints/CP-R/commands/RemoteStartTransaction",
                        json={"idTag": "APP-1", "connectorId": 1})
        assert sent.status_code == 202
        # the station starts the transaction, as a real one would after accepting
        for _ in range(100):
            if station.received:
                break
            time.sleep(0.05)
        reply = soap(live_url, "CP-R", "StartTransaction",
                     start("APP-1", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                     address=address)
        transaction_id = int(_text(reply, "transactionId"))
        task = api.get(sent.headers["Location"], headers={}).json()
        for _ in range(100):
            if task["done"]:
                break
            time.sleep(0.1)
            task = api.get(sent.headers["Location"]).json()
        assert task["results"][0]["transactionId"] == transaction_id


def test_reservations_list_and_cancel(api, gateway, live_url):
    api.post("/api/v1/tags", json={"idTag": "RES-1"})
    with station_server("1.6") as (station, address):
        register_station(gateway.sessions, "CP-V", "1.6", address)
        reserved = api.post("/api/v1/chargepoints/CP-V/commands/ReserveNow", json={
            "connectorId": 1, "expiryDate": "2031-01-01T00:00:00Z", "idTag": "RES-1",
            "reservationId": 77}, headers={"Prefer": "wait=10"})
        assert reserved.status_code == 200, reserved.text
        listed = api.get("/api/v1/reservations?active=true&station=CP-V").json()["items"]
        assert [(r["reservationId"], r["status"]) for r in listed] == [(77, "Accepted")]
        url = listed[0]["links"]["self"]  # the gateway's id: OCPP's are per charge point
        cancelled = api.post(f"{url}/cancel", headers={"Prefer": "wait=10"})
        assert cancelled.status_code == 200 and cancelled.json()["operation"] == \
            "CancelReservation"
        assert [request.reservationId for operation, request in station.requests
                if operation == "CancelReservation"] == [77]
        assert api.get(url).json()["status"] == "Cancelled"
        problem(api.post(f"{url}/cancel"), 409)
        # left out, the id is allocated by the gateway (per station), as in the web UI
        allocated = api.post("/api/v1/chargepoints/CP-V/commands/ReserveNow", json={
            "connectorId": 1, "expiryDate": "2031-01-01T00:00:00Z", "idTag": "RES-1"},
            headers={"Prefer": "wait=10"})
        assert allocated.status_code == 200, allocated.text
        assert allocated.json()["payload"]["reservationId"] == 78
        # the outcome as the web UI shows it: an answer that declines is a refusal
        assert (allocated.json()["outcome"], allocated.json()["outcomeText"]) == (
            {"accepted": 1}, "1 accepted")
        station.answers["ReserveNow"] = cp16.ReserveNowResponse(status="Occupied")
        refused = api.post("/api/v1/chargepoints/CP-V/commands/ReserveNow", json={
            "connectorId": 1, "expiryDate": "2031-01-01T00:00:00Z", "idTag": "RES-1"},
            headers={"Prefer": "wait=10"}).json()
        assert (refused["outcome"], refused["outcomeText"]) == ({"refused": 1}, "1 refused")
        assert [(r["state"], r["outcome"], r["outcomeReason"]) for r in refused["results"]] == [
            ("answered", "refused", "Occupied")]
    assert api.get("/api/v1/tasks?operation=ReserveNow&station=CP-V").json()["items"][0][
        "results"][0]["state"] == "answered"
    assert api.get("/api/v1/tasks?state=failed").json()["items"] == []


# --- tokens and webhooks by API ----------------------------------------------------------------
def test_tokens_by_api(api, tokens):
    created = api.post("/api/v1/tokens", json={"name": "billing", "scope": "operate"})
    assert created.status_code == 201
    secret = created.json()["token"]
    assert api.as_(secret).get("/api/v1").json()["caller"]["scope"] == "operate"
    listed = api.get("/api/v1/tokens").json()["items"]
    assert "token" not in listed[-1] and listed[-1]["prefix"] == secret[:8]
    problem(api.post("/api/v1/tokens", json={"name": "billing"}), 409)
    me = next(t for t in listed if t["name"] == "test-admin")
    problem(api.delete(f"/api/v1/tokens/{me['id']}"), 409)  # not itself


def test_webhook_subscriptions_by_api(api, gateway, monkeypatch):
    refused = problem(api.post("/api/v1/webhooks", json={"url": "http://10.1.2.3:1/hook"}), 422)
    assert "SOAPGW_WEBHOOK_ALLOWED_NETWORKS" in refused["errors"][0]["message"]
    problem(api.post("/api/v1/webhooks", json={"url": "http://169.254.169.254/latest"}), 422)
    problem(api.post("/api/v1/webhooks", json={"url": "http://192.0.2.1/h",
                                               "types": ["nope"]}), 422)
    created = api.post("/api/v1/webhooks", json={"url": "http://192.0.2.1/hook",
                                                 "types": ["transaction.started"],
                                                 "stations": ["CP-1"]})
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and hook["state"] == "active"
    assert "secret" not in api.get(hook["links"]["self"]).json()
    paused = api.patch(hook["links"]["self"], json={"active": False}).json()
    assert (paused["state"], paused["pausedReason"]) == ("paused", "paused by hand")
    assert api.patch(hook["links"]["self"], json={"active": True}).json()["state"] == "active"
    rotated = api.post(f"{hook['links']['self']}/rotate-secret").json()
    assert rotated["secret"] != hook["secret"]
    assert api.get(hook["links"]["deliveries"]).json()["items"] == []
    assert api.delete(hook["links"]["self"]).status_code == 204
    problem(api.get(hook["links"]["self"]), 404)
