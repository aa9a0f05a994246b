"""Tasks in SQL against real stations and real databases: side effects in the model,
concurrency, restarts, and the callback safety rules end to end (inbound registration to
outbound call)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from soapgw.app import Gateway, create_app
from soapgw.soap.schema import cp16
from soapgw.store.migrate import upgrade
from soapgw.store.models import (ChargeBox, ConfigurationKey, DataTransferRecord,
                                 InstalledChargingProfile, Reservation, StationQuirk, Transaction)

from conftest import command_env, make_settings, soapgw_command
from outbound_support import (register_station, results, serve_wsgi, station_server, task,
                              task_runner)
from soap_messages import envelope, post

PROFILE = {"chargingProfileId": 9, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
           "chargingProfileKind": "Absolute", "chargingSchedule": {
               "chargingRateUnit": "W", "chargingSchedulePeriod": [
                   {"startPeriod": 0, "limit": 7400}]}}


@pytest.fixture
def fast(gateway, tmp_path):
    gateway.settings = make_settings(gateway.settings.database_url, tmp_path,
                                     operation_timeout=1, connect_timeout=2)
    return gateway


def one(gateway, task_id):
    (result,) = results(gateway.sessions, task_id)
    return result


# --- side effects --------------------------------------------------------------------------------
def test_reservations(fast):
    gateway = fast
    reserve = {"connectorId": 2, "expiryDate": "2030-01-01T10:00:00Z", "idTag": "TAG1",
               "reservationId": 501}
    with station_server() as (station, address), station_server() as (_, other_address), \
            task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB-R", "1.6", address)
        register_station(gateway.sessions, "CB-OTHER", "1.6", other_address)
        seen = []

        def accept(request):  # the reservation exists (Waiting) before the station answers
            with gateway.sessions() as db:
                seen.append(db.scalar(select(Reservation.status).join(ChargeBox).where(
                    ChargeBox.charge_box_id == "CB-R",
                    Reservation.reservation_id == request.reservationId)))
            return cp16.ReserveNowResponse(status="Accepted")
        station.answers["ReserveNow"] = accept
        assert one(gateway, runner.run("ReserveNow", reserve, ["CB-R"], "test")).state == \
            "answered"
        assert seen == ["Waiting"]
        # reservation ids are per station: another station has its own 501
        other = one(gateway, runner.run("ReserveNow", reserve, ["CB-OTHER"], "test"))
        assert other.state == "answered", other.error

        station.answers["ReserveNow"] = cp16.ReserveNowResponse(status="Occupied")
        rejected = one(gateway, runner.run("ReserveNow", reserve | {"reservationId": 502},
                                           ["CB-R"], "test"))
        assert json.loads(rejected.response) == {"status": "Occupied"}
        station.delay = 1.5  # no answer in time: the reservation is removed as well
        timed_out = one(gateway, runner.run("ReserveNow", reserve | {"reservationId": 503},
                                            ["CB-R"], "test"))
        assert timed_out.state == "timed_out"
        station.delay = 0
        runner.run("CancelReservation", {"reservationId": 501}, ["CB-R"], "test")
    with gateway.sessions() as db:
        rows = {(cb, r.reservation_id): r for r, cb in db.execute(
            select(Reservation, ChargeBox.charge_box_id).join(ChargeBox))}
        kept = rows[("CB-R", 501)]
        assert (kept.status, kept.id_tag, kept.expiry_date) == (
            "Cancelled", "TAG1", datetime(2030, 1, 1, 10, tzinfo=timezone.utc))
        assert rows[("CB-OTHER", 501)].status == "Accepted"  # not the other station's
        assert sorted(rows) == [("CB-OTHER", 501), ("CB-R", 501)]  # 502, 503 removed


def test_configuration_local_list_profiles_data_transfer(fast):
    gateway = fast
    with station_server() as (station, address), task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB-C", "1.6", address)
        runner.run("GetConfiguration", {}, ["CB-C"], "test")
        with gateway.sessions() as db:
            keys = {k.key: (k.value, k.readonly) for k in db.scalars(select(ConfigurationKey))}
        assert keys == {"HeartbeatInterval": ("300", False), "NumberOfConnectors": ("2", True)}

        def refreshed(request):  # after ChangeConfiguration the station reports the new value
            return cp16.GetConfigurationResponse(configurationKey=[
                cp16.KeyValue(key=k, readonly=False, value="900") for k in request.key])
        station.answers["GetConfiguration"] = refreshed
        runner.run("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "900"},
                   ["CB-C"], "test")
        assert [r.operation for r in station.received[-2:]] == [
            "ChangeConfiguration", "GetConfiguration"]
        runner.run("SendLocalList", {"listVersion": 12, "updateType": "Full"}, ["CB-C"], "test")
        runner.run("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": PROFILE},
                   ["CB-C"], "test")
        runner.run("SetChargingProfile", {"connectorId": 2, "csChargingProfiles": PROFILE | {
            "chargingProfileId": 10}}, ["CB-C"], "test")
        replacing = PROFILE | {"chargingProfileId": 11}  # same level and purpose, connector 1
        runner.run("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": replacing},
                   ["CB-C"], "test")
        with gateway.sessions() as db:
            installed = sorted((p.connector_id, p.charging_profile_id) for p in
                               db.scalars(select(InstalledChargingProfile)))
        assert installed == [(1, 11), (2, 10)]
        runner.run("ClearChargingProfile", {"id": 10}, ["CB-C"], "test")
        runner.run("DataTransfer", {"vendorId": "com.example", "data": "ping"}, ["CB-C"], "test")
    with gateway.sessions() as db:
        assert db.scalar(select(ConfigurationKey.value).where(
            ConfigurationKey.key == "HeartbeatInterval")) == "900"
        station_row = db.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == "CB-C")).one()
        assert station_row.local_list_version == 12
        profiles = db.scalars(select(InstalledChargingProfile)).all()
        assert [(p.connector_id, p.charging_profile_id, p.stack_level) for p in profiles] == \
            [(1, 11, 1)]
        assert json.loads(profiles[0].profile)["chargingSchedule"]["chargingRateUnit"] == "W"
        transfer = db.scalars(select(DataTransferRecord)).one()
        assert (transfer.direction, transfer.status, transfer.response_data) == \
            ("out", "Accepted", "pong")


def test_remote_start_carries_the_transaction_id(gateway, live_url, tmp_path):
    """The station accepts, then sends StartTransaction to the gateway: the task's result
    carries the transactionId the gateway gave it."""
    gateway.settings = make_settings(gateway.settings.database_url, tmp_path,
                                     operation_timeout=10)
    with station_server() as (station, address), task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB-RS", "1.6", address)

        def start_later():
            time.sleep(0.3)
            body = ("<cs:startTransactionRequest><cs:connectorId>2</cs:connectorId>"
                    "<cs:idTag>TAG7</cs:idTag><cs:timestamp>2030-01-01T00:00:00Z</cs:timestamp>"
                    "<cs:meterStart>100</cs:meterStart></cs:startTransactionRequest>")
            post(live_url, envelope("CB-RS", body, action="/StartTransaction",
                                    from_address=address), action="/StartTransaction")

        def accept(request):
            threading.Thread(target=start_later, daemon=True).start()
            return cp16.RemoteStartTransactionResponse(status="Accepted")
        station.answers["RemoteStartTransaction"] = accept
        started = time.monotonic()
        task_id = runner.run("RemoteStartTransaction", {"connectorId": 2, "idTag": "TAG7"},
                             ["CB-RS"], "test")
        elapsed = time.monotonic() - started
    result = one(gateway, task_id)
    with gateway.sessions() as db:
        transaction = db.scalars(select(Transaction)).one()
    assert result.state == "answered" and json.loads(result.response) == {"status": "Accepted"}
    assert result.transaction_id == transaction.id
    assert elapsed < 5  # it did not wait for the timeout
    assert task(gateway.sessions, task_id).finished_at >= result.finished_at


# --- concurrency ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_sixty_stations_answer_concurrently(gateway, tmp_path):
    # A generous timeout: 60 threads on a shared 2-core machine must not time out by load alone.
    gateway.settings = make_settings(gateway.settings.database_url, tmp_path,
                                     operation_timeout=15, connect_timeout=15)
    count, delay = 60, 0.5
    with station_server() as (station, address), task_runner(gateway, max_workers=60) as runner:
        station.delay = delay
        ids = [f"CB-{i:03d}" for i in range(count)]
        for cb in ids:
            register_station(gateway.sessions, cb, "1.6", f"{address}{cb}")
        started = time.monotonic()
        task_id = runner.run("Reset", {"type": "Soft"}, ids, "test")
        elapsed = time.monotonic() - started
    outcome = results(gateway.sessions, task_id)
    assert [r.state for r in outcome] == ["answered"] * count, {r.error for r in outcome}
    assert sorted(r.identity for r in station.received) == ids
    assert sorted(r.to for r in station.received) == sorted(f"{address}{cb}" for cb in ids)
    print(f"\n{count} stations answering in {delay:g} s each: {elapsed:.2f} s in all")
    assert elapsed < count * delay / 5  # sequential would take 30 s


@pytest.mark.slow
def test_two_hundred_silent_stations_take_a_few_timeouts(fast):
    gateway = fast  # operation timeout 1 s
    count = 200
    with station_server() as (station, address), task_runner(gateway, max_workers=50) as runner:
        station.delay = 5
        ids = [f"SILENT-{i:03d}" for i in range(count)]
        for cb in ids:
            register_station(gateway.sessions, cb, "1.6", f"{address}{cb}")
        started = time.monotonic()
        task_id = runner.run("ClearCache", {}, ids, "test")
        elapsed = time.monotonic() - started
    outcome = results(gateway.sessions, task_id)
    assert {r.state for r in outcome} == {"timed_out"}
    print(f"\n{count} silent stations, 1 s timeout, 50 workers: {elapsed:.2f} s in all")
    assert elapsed < 4 * 1 * 3  # 4 rounds of one timeout each, with room for a busy machine


# --- restarts ------------------------------------------------------------------------------------
def test_tasks_survive_a_restart_and_an_interrupted_call_is_marked(database_url, tmp_path):
    engine_gateway = Gateway.from_settings(make_settings(database_url, tmp_path))
    upgrade(engine_gateway.engine)
    env = command_env(database_url, SOAPGW_OPERATION_TIMEOUT="120")
    with station_server() as (station, address):
        register_station(engine_gateway.sessions, "CB-OK", "1.6", address)
        register_station(engine_gateway.sessions, "CB-HANG", "1.6", address + "hang")
        done = soapgw_command("call", "CB-OK", "Reset", '{"type": "Hard"}', env=env)
        assert done.returncode == 0, done.stderr
        station.behaviour = lambda envelope: time.sleep(60)  # never answers in time
        script = Path(sys.executable).with_name("soapgw")
        process = subprocess.Popen([str(script), "call", "CB-HANG", "ClearCache"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while len(station.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(station.received) == 2, "the command never reached the station"
        process.send_signal(signal.SIGKILL)  # the gateway dies mid-call
        process.communicate(timeout=30)
    listing = soapgw_command("tasks", "list", env=env)  # a new process: "after the restart"
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[1].split("\t")[2:] [:1] == ["ClearCache"] and "1 failed" in lines[1]
    assert lines[2].split("\t")[2] == "Reset" and "1 accepted" in lines[2]  # the outcome
    shown = soapgw_command("tasks", "show", lines[1].split("\t")[0], "--json", env=env)
    data = json.loads(shown.stdout)
    (result,) = data["results"]
    assert (result["state"], result["error_kind"]) == ("failed", "interrupted")
    assert result["sent_at"] is not None and data["finished_at"] is not None
    assert "whether the station acted is unknown" in result["error"]
    engine_gateway.engine.dispose()


# --- callback safety, from registration to the call ----------------------------------------------
BOOT = ("<cs:bootNotificationRequest><cs:chargePointVendor>V</cs:chargePointVendor>"
        "<cs:chargePointModel>M</cs:chargePointModel></cs:bootNotificationRequest>")


def boot(url: str, identity: str, from_address: str, headers: dict | None = None):
    import requests
    data = envelope(identity, BOOT, action="/BootNotification", from_address=from_address)
    response = requests.post(url + "/services/CentralSystemService", data=data, timeout=30,
                             headers={"Content-Type": "application/soap+xml; charset=utf-8",
                                      **(headers or {})})
    assert response.status_code == 200 and b">Accepted<" in response.content, response.content
    return response


def station_row(gateway, identity) -> ChargeBox:
    with gateway.sessions() as db:
        return db.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == identity)).one()


def test_a_foreign_callback_is_refused_recorded_and_never_called(fast, live_url):
    gateway = fast
    register_station(gateway.sessions, "CB-S", "1.6", None, peer_host=None)
    boot(live_url, "CB-S", "http://10.1.2.3:8080/ocpp")  # answered normally
    row = station_row(gateway, "CB-S")
    assert (row.endpoint_address, row.endpoint_verdict) == ("http://10.1.2.3:8080/ocpp",
                                                            "refused")
    assert row.endpoint_peer_host == "127.0.0.1"
    assert "is not the address the station's requests come from (127.0.0.1)" in \
        row.endpoint_verdict_reason
    with gateway.sessions() as db:
        quirk = db.scalars(select(StationQuirk).where(StationQuirk.code == "callback-refused")).one()
    assert "10.1.2.3" in quirk.detail
    with task_runner(gateway) as runner:
        refused = one(gateway, runner.run("Reset", {"type": "Hard"}, ["CB-S"], "test"))
    assert (refused.state, refused.error_kind, refused.sent_at) == (
        "failed", "endpoint_refused", None)
    assert refused.error.startswith("not sent to http://10.1.2.3:8080/ocpp: callback host")

    # the station's own address (its requests come from 127.0.0.1) is called
    with station_server() as (station, address), task_runner(gateway) as runner:
        boot(live_url, "CB-S", address)
        assert station_row(gateway, "CB-S").endpoint_verdict == "allowed"
        assert one(gateway, runner.run("Reset", {"type": "Hard"}, ["CB-S"], "test")).state == \
            "answered"
        assert len(station.received) == 1


def test_metadata_addresses_are_never_called_even_when_pinned(fast, live_url):
    gateway = fast
    register_station(gateway.sessions, "CB-M", "1.6", None, peer_host=None)
    boot(live_url, "CB-M", "http://169.254.169.254/latest/meta-data/")
    assert "never called" in station_row(gateway, "CB-M").endpoint_verdict_reason
    register_station(gateway.sessions, "CB-PIN", "1.6", "http://[fd00:ec2::254]/",
                     pinned=True, peer_host="fd00:ec2::254")
    with task_runner(gateway) as runner:
        outcomes = [one(gateway, runner.run("Reset", {"type": "Hard"}, [cb], "test"))
                    for cb in ("CB-M", "CB-PIN")]
    assert [(r.error_kind, "never called" in r.error) for r in outcomes] == \
        [("endpoint_refused", True)] * 2


def test_a_pinned_address_is_called(fast):
    gateway = fast
    with station_server() as (station, address), task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB-P", "1.6", address, pinned=True,
                         peer_host="192.0.2.50")  # its requests come from elsewhere
        assert one(gateway, runner.run("Reset", {"type": "Soft"}, ["CB-P"], "test")).state == \
            "answered"


def _gateway_with(database_url, tmp_path, **overrides):
    gateway = Gateway.from_settings(make_settings(database_url, tmp_path / uuid.uuid4().hex,
                                                  **overrides))
    upgrade(gateway.engine)
    url, server = serve_wsgi(create_app(gateway=gateway))
    return gateway, url, server


def test_forwarded_client_address_behind_a_trusted_proxy(database_url, tmp_path):
    import ipaddress
    proxy = (ipaddress.ip_network("127.0.0.1/32"),)
    # (with no trusted proxy at all, a local proxy is refused outright: test_station_auth)
    elsewhere = (ipaddress.ip_network("192.0.2.99/32"),)
    for trusted, verdict in ((proxy, "allowed"), (elsewhere, "refused")):
        gateway, url, server = _gateway_with(database_url, tmp_path, trusted_proxies=trusted)
        try:
            identity = f"CB-X-{verdict}"  # one database for both rounds
            register_station(gateway.sessions, identity, "1.6", None, peer_host=None)
            boot(url, identity, "http://192.0.2.10:8080/ocpp",
                 headers={"X-Forwarded-For": "192.0.2.10"})
            row = station_row(gateway, identity)
            assert row.endpoint_verdict == verdict
            assert row.endpoint_peer_host == ("192.0.2.10" if trusted == proxy else "127.0.0.1")
        finally:
            server.shutdown()
            server.server_close()
            gateway.engine.dispose()


def test_the_rules_are_enforced_again_before_every_call(database_url, tmp_path):
    """Learnt while 127.0.0.2 was an allowed network; the setting is gone when calling."""
    import ipaddress
    allowed = (ipaddress.ip_network("127.0.0.2/32"),)
    gateway, url, server = _gateway_with(database_url, tmp_path, allowed_callback_networks=allowed)
    try:
        with station_server(host="127.0.0.2") as (station, address):
            register_station(gateway.sessions, "CB-E", "1.6", None, peer_host=None)
            boot(url, "CB-E", address)  # the request comes from 127.0.0.1
            assert station_row(gateway, "CB-E").endpoint_verdict == "allowed"
            without = make_settings(database_url, tmp_path / "without")
            with task_runner(gateway, settings=without) as runner:
                refused = one(gateway, runner.run("Reset", {"type": "Hard"}, ["CB-E"], "t"))
            assert refused.error_kind == "endpoint_refused" and station.received == []
            assert station_row(gateway, "CB-E").endpoint_verdict == "refused"
            with task_runner(gateway) as runner:
                answered = one(gateway, runner.run("Reset", {"type": "Hard"}, ["CB-E"], "t"))
            assert answered.state == "answered" and len(station.received) == 1
    finally:
        server.shutdown()
        server.server_close()
        gateway.engine.dispose()
