"""End to end with the station simulator (soapgw.simulator): stations boot against the
gateway, which learns their callback addresses from wsa:From, then commands them."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from soapgw.core.commands import operations
from soapgw.core.commands.payloads import response_problems
from soapgw.soap.schema.registry import find
from soapgw.store.models import (ChargeBox, ConfigurationKey, DataTransferRecord, IdTag,
                                 InstalledChargingProfile, JournalEntry, Reservation, Task,
                                 Transaction)

from conftest import make_settings
from outbound_support import register_station, results, task_runner

simulator = pytest.importorskip("soapgw.simulator", reason="the station simulator is absent")

QUICK = dict(react_delay=0, step_delay=0.1, reboot_delay=0.1, retry_delay=0.5)


@pytest.mark.slow
@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_commands_to_simulated_stations(gateway, live_url, tmp_path, version):
    gateway.settings = make_settings(gateway.settings.database_url, tmp_path,
                                     operation_timeout=10, public_url=live_url)
    config = simulator.SimulationConfig(live_url, stations=3, ocpp_version=version,
                                        prefix=f"SIM{version[-1]}-",
                                        options=simulator.StationOptions(**QUICK))
    ids = config.station_ids()
    for cb in ids:  # registered, callback address not known yet
        register_station(gateway.sessions, cb, version, None, peer_host=None)
    with gateway.sessions.begin() as db:
        db.add(IdTag(id_tag="SIMTAG", max_active_transactions=0))
    with simulator.Simulation(config).start() as sim, task_runner(gateway) as runner:
        assert sim.wait_booted(timeout=20)
        with gateway.sessions() as db:
            rows = {cb.charge_box_id: cb for cb in db.scalars(select(ChargeBox))}
        for cb in ids:  # learnt from wsa:From, and allowed: the requests come from 127.0.0.1
            assert rows[cb].endpoint_address == sim.url(cb)
            assert rows[cb].endpoint_verdict == "allowed"

        configuration = runner.run("GetConfiguration", {}, ids, "test")
        assert {r.state for r in results(gateway.sessions, configuration)} == {"answered"}
        started = runner.run("RemoteStartTransaction", {"connectorId": 1, "idTag": "SIMTAG"},
                             ids[:1], "test")
        reserved = runner.run("ReserveNow", {"connectorId": 1, "expiryDate":
                                             "2099-01-01T00:00:00Z", "idTag": "SIMTAG",
                                             "reservationId": 900 + int(version[-1])},
                              ids[1:2], "test")
        unlock = runner.run("UnlockConnector", {"connectorId": 1}, ids[2:], "test")
        (start,) = results(gateway.sessions, started)
        assert json.loads(start.response) == {"status": "Accepted"}
        assert start.transaction_id is not None
        stopped = runner.run("RemoteStopTransaction", {"transactionId": start.transaction_id},
                             ids[:1], "test")
        assert json.loads(results(gateway.sessions, stopped)[0].response) == {"status": "Accepted"}
        assert sim.wait_for(lambda s: not s.transaction_ids(), ids[:1], timeout=10)
    with gateway.sessions() as db:
        transaction = db.get(Transaction, start.transaction_id)
        assert transaction.id_tag == "SIMTAG"
        assert db.scalar(select(ConfigurationKey.value).join(ChargeBox).where(
            ChargeBox.charge_box_id == ids[0],
            ConfigurationKey.key == "HeartbeatInterval")) is not None
        reservation = db.scalars(select(Reservation).where(
            Reservation.reservation_id == 900 + int(version[-1]))).one()
    reply = results(gateway.sessions, reserved)[0]
    assert json.loads(reply.response or "null") == {"status": "Accepted"}, reply.error
    assert reservation.status == "Accepted"
    assert json.loads(results(gateway.sessions, unlock)[0].response)["status"] in (
        "Unlocked", "UnlockFailed")


# --- every operation, from the gateway's task runner to a simulated station ------------------
def _eventually(check, timeout: float = 15.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or check}")
        time.sleep(0.05)


PROFILE_31 = {"chargingProfileId": 31, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
              "chargingProfileKind": "Relative", "chargingSchedule": {
                  "chargingRateUnit": "A",
                  "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0}]}}


@pytest.mark.slow
@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_every_operation_from_the_gateway_to_a_simulated_station(gateway, live_url, tmp_path,
                                                                 version):
    """Each ChargePointService operation of the version goes out through the task runner
    (zeep, our WSDLs) to a simulated station that learnt nothing but its own id: the station
    checks it received the right headers, acts like a station, and the gateway's model
    follows (keys, list version, reservation, profiles, transaction id, data transfer)."""
    public = live_url
    gateway.settings = make_settings(gateway.settings.database_url, tmp_path,
                                     operation_timeout=10, public_url=public)
    config = simulator.SimulationConfig(
        live_url, stations=1, ocpp_version=version, prefix=f"EVERY{version[-1]}-",
        boot_spread=0, options=simulator.StationOptions(**QUICK, meter_interval=0))
    (cb,) = config.station_ids()
    register_station(gateway.sessions, cb, version, None, peer_host=None)
    with gateway.sessions.begin() as db:
        db.add(IdTag(id_tag="SIMTAG", max_active_transactions=0))
    namespace = find("ChargePointService", version).namespace
    answers: dict[str, list[dict]] = {}
    message_ids: dict[str, list[str]] = {}

    with simulator.Simulation(config).start() as sim, task_runner(gateway) as runner:
        assert sim.wait_booted(timeout=20)
        station = sim.station(cb)

        def call(operation: str, payload: dict) -> dict:
            task_id = runner.run(operation, payload, [cb], "test")
            (result,) = results(gateway.sessions, task_id)
            assert result.state == "answered", f"{operation}: {result.error}"
            response = json.loads(result.response)
            assert response_problems(operation, response) == [], (operation, response)
            answers.setdefault(operation, []).append(response)
            message_ids.setdefault(operation, []).append(result.message_id)
            return response

        def model(statement):
            with gateway.sessions() as db:
                return db.scalar(statement)

        station_pk = model(select(ChargeBox.id).where(ChargeBox.charge_box_id == cb))

        # configuration: all keys read and stored; a change is applied and read back
        everything = call("GetConfiguration", {})
        assert len(everything["configurationKey"]) > 20
        assert model(select(func.count()).select_from(ConfigurationKey).where(
            ConfigurationKey.charge_box_pk == station_pk)) == len(everything["configurationKey"])
        assert call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "7"}) \
            == {"status": "Accepted"}
        assert station.config["MeterValueSampleInterval"].value == "7"
        assert [r.operation for r in sim.received(cb)[-2:]] == ["ChangeConfiguration",
                                                               "GetConfiguration"]
        assert model(select(ConfigurationKey.value).where(
            ConfigurationKey.charge_box_pk == station_pk,
            ConfigurationKey.key == "MeterValueSampleInterval")) == "7"
        assert call("ChangeConfiguration", {"key": "NumberOfConnectors", "value": "3"}) == \
            {"status": "Rejected"}

        # local list and cache
        assert call("SendLocalList", {"listVersion": 5, "updateType": "Full",
                                      "localAuthorizationList": [
                                          {"idTag": "LOCAL1", "idTagInfo": {"status": "Accepted"}}]}) \
            == {"status": "Accepted"}
        assert station.auth.version == 5 and list(station.auth.entries) == ["LOCAL1"]
        assert model(select(ChargeBox.local_list_version).where(ChargeBox.id == station_pk)) == 5
        assert call("GetLocalListVersion", {}) == {"listVersion": 5}
        assert call("ClearCache", {}) == {"status": "Accepted"}

        # a reservation: kept by the station and in the model, then cancelled in both
        reservation_id = 600 + int(version[-1])
        expiry = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert call("ReserveNow", {"connectorId": 1, "expiryDate": expiry, "idTag": "SIMTAG",
                                   "reservationId": reservation_id}) == {"status": "Accepted"}
        assert station.connectors[1].reservation.reservation_id == reservation_id
        assert model(select(Reservation.status).where(
            Reservation.reservation_id == reservation_id)) == "Accepted"
        assert call("CancelReservation", {"reservationId": reservation_id}) == \
            {"status": "Accepted"}
        assert station.connectors[1].reservation is None
        assert model(select(Reservation.status).where(
            Reservation.reservation_id == reservation_id)) == "Cancelled"

        # a remote start: the station starts charging, the result carries the transaction id
        assert call("RemoteStartTransaction", {"connectorId": 1, "idTag": "SIMTAG"}) == \
            {"status": "Accepted"}
        (start,) = results(gateway.sessions, _last_task(gateway))
        transaction_id = start.transaction_id
        assert transaction_id is not None
        assert sim.wait_for(lambda s: s.transaction_ids() == [transaction_id], timeout=10)
        full_power = station.options.max_power_w

        if version == "1.6":
            # smart charging: 8 A on three phases is what the station now draws
            assert call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles":
                                               PROFILE_31 | {"transactionId": transaction_id}}) \
                == {"status": "Accepted"}
            assert sim.wait_for(lambda s: s.connectors[1].power_w == 8 * 230 * 3, timeout=5), \
                station.connectors[1].power_w
            assert model(select(InstalledChargingProfile.charging_profile_id).where(
                InstalledChargingProfile.charge_box_pk == station_pk)) == 31
            composite = call("GetCompositeSchedule", {"connectorId": 1, "duration": 600,
                                                      "chargingRateUnit": "A"})
            assert composite["status"] == "Accepted"
            assert composite["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 8
            assert call("ClearChargingProfile", {"id": 31}) == {"status": "Accepted"}
            assert sim.wait_for(lambda s: s.connectors[1].power_w == full_power, timeout=5)
            assert model(select(func.count()).select_from(InstalledChargingProfile)) == 0
            # a triggered message is sent
            heartbeats = station.heartbeats
            assert call("TriggerMessage", {"requestedMessage": "Heartbeat"}) == \
                {"status": "Accepted"}
            assert sim.wait_for(lambda s: s.heartbeats > heartbeats, timeout=5)
            _eventually(lambda: model(select(ChargeBox.last_heartbeat_at).where(
                ChargeBox.id == station_pk)), what="the triggered Heartbeat at the gateway")

        # a remote stop ends the transaction at the gateway
        assert call("RemoteStopTransaction", {"transactionId": transaction_id}) == \
            {"status": "Accepted"}
        _eventually(lambda: model(select(Transaction.stop_timestamp).where(
            Transaction.id == transaction_id)), what="the StopTransaction at the gateway")
        assert sim.wait_for(lambda s: not s.transaction_ids(), timeout=5)

        assert call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == \
            {"status": "Accepted"}
        assert sim.wait_for(lambda s: s.connectors[1].status == "Unavailable", timeout=5)
        assert call("ChangeAvailability", {"connectorId": 1, "type": "Operative"}) == \
            {"status": "Accepted"}
        assert call("UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
        assert call("DataTransfer", {"vendorId": "soapgw.simulator", "messageId": "Echo",
                                     "data": "ping"}) == {"status": "Accepted", "data": "ping"}
        assert model(select(DataTransferRecord.response_data).where(
            DataTransferRecord.direction == "out")) == "ping"
        diagnostics = call("GetDiagnostics", {"location": "ftp://logs.example/upload/"})
        assert diagnostics["fileName"].startswith(f"diagnostics-{cb}-")
        _eventually(lambda: model(select(ChargeBox.diagnostics_status).where(
            ChargeBox.id == station_pk)) == "Uploaded", what="diagnostics uploaded")
        boots = station.boots
        assert call("UpdateFirmware", {"location": "http://fw.example/sim-9.9.bin",
                                       "retrieveDate": datetime.now(timezone.utc).strftime(
                                           "%Y-%m-%dT%H:%M:%SZ")}) == {}
        _eventually(lambda: model(select(ChargeBox.firmware_status).where(
            ChargeBox.id == station_pk)) == "Installed", what="firmware installed")
        assert sim.wait_for(lambda s: s.boots > boots and s.registration == "Accepted",
                            timeout=10)
        boots = station.boots
        assert call("Reset", {"type": "Soft"}) == {"status": "Accepted"}
        assert sim.wait_for(lambda s: s.boots > boots and s.registration == "Accepted",
                            timeout=10)
        received = sim.received(cb)

    # every operation of the version was sent, and the station got the right headers each time
    assert set(answers) == set(operations.BY_VERSION[version])
    assert {r.operation for r in received} == set(operations.BY_VERSION[version])
    sent_ids = [m for ids in message_ids.values() for m in ids]
    by_id = {r.message_id: r for r in received}
    assert len(by_id) == len(received)  # a fresh MessageID each time
    assert set(sent_ids) <= set(by_id)
    for r in received:
        assert r.soap_version == "1.2"
        assert r.content_type.startswith("application/soap+xml")
        assert f'action="/{r.operation}"' in r.content_type
        assert (r.identity, r.identity_namespace) == (cb, namespace)
        assert r.action == f"/{r.operation}"
        assert r.message_id.startswith("urn:uuid:")
        assert r.to == sim.url(cb)
        assert r.from_address == r.reply_to == f"{public}/services/CentralSystemService"
        assert r.peer == "127.0.0.1"
    for operation, ids in message_ids.items():
        assert all(by_id[m].operation == operation for m in ids)
    # and every call and its reply are in the journal
    with gateway.sessions() as db:
        journal = db.scalars(select(JournalEntry).where(JournalEntry.charge_box_id == cb)).all()
    outgoing = {e.message_id: e.action for e in journal if e.direction == "out"}
    replies = {e.relates_to for e in journal if e.direction == "in" and e.relates_to}
    for r in received:
        assert outgoing[r.message_id] == r.operation
        assert r.message_id in replies


def _last_task(gateway) -> int:
    with gateway.sessions() as db:
        return db.scalar(select(func.max(Task.id)))
