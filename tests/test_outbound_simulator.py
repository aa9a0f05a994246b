"""End to end with the station simulator (soapgw.simulator): stations boot against the
gateway, which learns their callback addresses from wsa:From, then commands them."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from soapgw.store.models import ChargeBox, ConfigurationKey, IdTag, Reservation, Transaction

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
        reservation = db.get(Reservation, 900 + int(version[-1]))
    reply = results(gateway.sessions, reserved)[0]
    assert json.loads(reply.response or "null") == {"status": "Accepted"}, reply.error
    assert reservation.status == "Accepted"
    assert json.loads(results(gateway.sessions, unlock)[0].response)["status"] in (
        "Unlocked", "UnlockFailed")
