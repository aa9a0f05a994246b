"""The OCPP-J upstream bridge against a central system we did not write (the ``ocpp``
package's, over real WebSockets on 127.0.0.1), with ``soapgw serve`` running the bridge."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from soapgw.store.database import make_engine, make_session_factory
from soapgw.store.models import JournalEntry, Task, Transaction

from conftest import command_env, soapgw_command
from soap_messages import BOOT, body_of, envelope, post, text_of
from upstream_csms import Csms

pytestmark = pytest.mark.slow


@pytest.fixture
def csms():
    server = Csms()
    yield server
    server.close()


def _sessions(url):
    return make_session_factory(make_engine(url))


def send(base, cb, action, body, ns=None):
    kwargs = {"ns": ns} if ns else {}
    reply = post(base, envelope(cb, body, action=f"/{action}", **kwargs), action=f"/{action}")
    assert reply.status_code == 200, reply.text
    return body_of(reply.content)


def status(env) -> list[dict]:
    result = soapgw_command("upstream", "status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def link(env, cb) -> dict:
    return next(row for row in status(env) if row["charge_box_id"] == cb)


def wait(predicate, timeout=20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def bridged(served_gateway, sqlite_url, tmp_path):
    """``soapgw serve`` with the bridge pointed at a CSMS; returns (base_url, env)."""
    def start(csms_url: str, stations=("CP-1",), **extra):
        env = command_env(sqlite_url, SOAPGW_INSTANCE_PATH=str(tmp_path / "instance"),
                          SOAPGW_UPSTREAM_URL=csms_url, **extra)
        result = soapgw_command("chargebox", "add", *stations, env=env)
        assert result.returncode == 0, result.stderr
        base = served_gateway(sqlite_url, **{k: v for k, v in env.items()
                                            if k.startswith("SOAPGW_") and k != "SOAPGW_DATABASE_URL"})
        return base, env
    return start


START = ("<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>TAG1</cs:idTag>"
         "<cs:timestamp>2030-01-01T10:00:00Z</cs:timestamp><cs:meterStart>100</cs:meterStart>"
         "</cs:startTransactionRequest>")


def meter(transaction_id, at="2030-01-01T10:05:00Z", value="150"):
    return (f"<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:transactionId>"
            f"{transaction_id}</cs:transactionId><cs:meterValue><cs:timestamp>{at}</cs:timestamp>"
            f"<cs:sampledValue><cs:value>{value}</cs:value><cs:unit>Wh</cs:unit></cs:sampledValue>"
            "</cs:meterValue></cs:meterValuesRequest>")


def stop(transaction_id):
    return (f"<cs:stopTransactionRequest><cs:transactionId>{transaction_id}</cs:transactionId>"
            "<cs:idTag>TAG1</cs:idTag><cs:timestamp>2030-01-01T10:30:00Z</cs:timestamp>"
            "<cs:meterStop>400</cs:meterStop><cs:reason>Local</cs:reason>"
            "</cs:stopTransactionRequest>")


def status_body(state, at):
    return (f"<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>"
            f"<cs:status>{state}</cs:status><cs:errorCode>NoError</cs:errorCode>"
            f"<cs:timestamp>{at}</cs:timestamp></cs:statusNotificationRequest>")


def test_csms_down_for_a_whole_session_then_replayed_in_order(csms, bridged):
    csms.start()
    base, env = bridged(csms.url)
    assert wait(lambda: link(env, "CP-1")["connected"])  # bridged before it ever spoke
    assert csms.connections == [("CP-1", None)]  # no password stored: no Basic auth
    csms.stop()  # down for the whole session
    assert wait(lambda: not link(env, "CP-1")["connected"], 10)
    assert text_of(send(base, "CP-1", "BootNotification", BOOT), "status") == "Accepted"
    send(base, "CP-1", "StatusNotification", status_body("Preparing", "2030-01-01T09:59:00Z"))
    send(base, "CP-1", "Authorize", "<cs:authorizeRequest><cs:idTag>TAG1</cs:idTag>"
                                    "</cs:authorizeRequest>")
    local = int(text_of(send(base, "CP-1", "StartTransaction", START), "transactionId"))
    send(base, "CP-1", "StatusNotification", status_body("Charging", "2030-01-01T10:00:01Z"))
    send(base, "CP-1", "MeterValues", meter(local))
    send(base, "CP-1", "Heartbeat", "<cs:heartbeatRequest/>")
    send(base, "CP-1", "StopTransaction", stop(local))
    send(base, "CP-1", "StatusNotification", status_body("Finishing", "2030-01-01T10:30:01Z"))
    assert wait(lambda: link(env, "CP-1")["queue"] >= 6)
    row = link(env, "CP-1")
    assert row["connected"] is False and row["last_error"]

    csms.start()  # back
    assert csms.wait_for(lambda: len(csms.messages("CP-1", "StatusNotification")) >= 1
                         and csms.messages("CP-1", "StopTransaction"), 60)
    got = [(m.action, m.payload) for m in csms.messages("CP-1")]
    actions = [a for a, _ in got]
    # boot first, the latest status, then the queue in order; no Authorize, no stale Heartbeat
    assert actions == ["BootNotification", "StatusNotification", "StartTransaction",
                       "MeterValues", "StopTransaction"], actions
    assert got[0][1]["charge_point_vendor"] == "Acme"
    assert got[1][1]["status"] == "Finishing"
    assert got[2][1]["timestamp"].startswith("2030-01-01T10:00:00")  # original timestamps
    upstream_id = 5001
    assert got[3][1]["transaction_id"] == upstream_id
    assert got[3][1]["meter_value"][0]["timestamp"].startswith("2030-01-01T10:05:00")
    assert got[4][1]["transaction_id"] == upstream_id
    assert wait(lambda: link(env, "CP-1")["queue"] == 0 and link(env, "CP-1")["connected"])
    # every frame journaled, with its uniqueId
    sessions = _sessions(env["SOAPGW_DATABASE_URL"])
    with sessions() as db:
        frames = db.execute(select(JournalEntry.direction, JournalEntry.action,
                                   JournalEntry.message_id, JournalEntry.relates_to)
                            .where(JournalEntry.peer.like("ws://%"))
                            .order_by(JournalEntry.id)).all()
    calls = [f for f in frames if f.direction == "out" and f.message_id]
    assert [f.action for f in calls][:5] == actions
    assert all(len(f.message_id) <= 36 for f in calls)
    answered = {f.relates_to for f in frames if f.direction == "in"}
    assert {f.message_id for f in calls} <= answered


QUICK = dict(react_delay=0.02, step_delay=0.1, reboot_delay=0.1, retry_delay=0.5,
             session_interval=0, meter_interval=1, boot_spread=0)


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_live_session_of_a_simulated_station(csms, bridged, version):
    """Decisions answered by the CSMS (boot interval, an idTag only it knows), a remote start
    and stop by the CSMS with its own transaction id, meter values in 1.6 shape."""
    from soapgw.simulator import start_simulation
    csms.start()
    cb = f"SIM{version[-1]}-0001"
    base, env = bridged(csms.url, stations=(cb,))
    assert wait(lambda: link(env, cb)["connected"])
    sim = start_simulation(base, 1, version, prefix=f"SIM{version[-1]}-", **QUICK)
    try:
        assert sim.wait_booted(timeout=20)
        station = sim.station(cb)
        assert station.config["HeartbeatInterval"].value == "77"  # the CSMS's interval
        assert csms.wait_for(lambda: csms.messages(cb, "BootNotification"))
        from ocpp.v16 import call
        answer = csms.call(cb, call.RemoteStartTransaction(id_tag="CSMS-ONLY", connector_id=1))
        assert answer.status == "Accepted"
        # the tag is unknown to soapgw: only the CSMS's answer lets the session start
        assert sim.wait_for(lambda s: s.transaction_ids(), timeout=20)
        local = station.transaction_ids()[0]
        assert csms.wait_for(lambda: csms.messages(cb, "StartTransaction"))
        upstream_id = 5001
        assert csms.wait_for(lambda: any(m.payload.get("transaction_id") == upstream_id
                                         for m in csms.messages(cb, "MeterValues")))
        values = next(m.payload for m in csms.messages(cb, "MeterValues")
                      if m.payload.get("transaction_id") == upstream_id)
        assert values["meter_value"][0]["sampled_value"]  # 1.6 shape, whatever the version
        units = {v.get("unit") for m in csms.messages(cb, "MeterValues")
                 for mv in m.payload["meter_value"] for v in mv["sampled_value"]}
        assert "Volt" not in units and "Amp" not in units
        answer = csms.call(cb, call.RemoteStopTransaction(transaction_id=upstream_id))
        assert answer.status == "Accepted"
        assert csms.wait_for(lambda: csms.messages(cb, "StopTransaction"))
        assert csms.messages(cb, "StopTransaction")[0].payload["transaction_id"] == upstream_id
        # an id the bridge never mapped is refused, never guessed
        assert csms.call(cb, call.RemoteStopTransaction(transaction_id=local)).status == \
            "Rejected" or local == upstream_id
        sessions = _sessions(env["SOAPGW_DATABASE_URL"])
        with sessions() as db:
            tx = db.get(Transaction, local)
            assert tx.stop_timestamp is not None and tx.id_tag == "CSMS-ONLY"
            origins = {t.origin for t in db.scalars(select(Task))}
        assert origins == {"upstream"}
        listing = soapgw_command("tasks", "list", env=env)
        assert "\tupstream\t" in listing.stdout
    finally:
        sim.stop(finish_sessions=False)


def _operations():
    from ocpp.v16 import call
    later = "2099-01-01T00:00:00Z"
    profile = {"chargingProfileId": 9, "stackLevel": 0,
               "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
               "chargingSchedule": {"chargingRateUnit": "A", "startSchedule":
                                    "2030-01-01T00:00:00Z", "chargingSchedulePeriod": [
                                        {"startPeriod": 0, "limit": 16}]}}
    both = {
        "CancelReservation": call.CancelReservation(reservation_id=1),
        "ChangeAvailability": call.ChangeAvailability(connector_id=1, type="Operative"),
        "ChangeConfiguration": call.ChangeConfiguration(key="MeterValueSampleInterval",
                                                        value="30"),
        "ClearCache": call.ClearCache(),
        "DataTransfer": call.DataTransfer(vendor_id="acme", message_id="m", data="d"),
        "GetConfiguration": call.GetConfiguration(key=["HeartbeatInterval"]),
        "GetDiagnostics": call.GetDiagnostics(location="ftp://127.0.0.1/diag/"),
        "GetLocalListVersion": call.GetLocalListVersion(),
        "ReserveNow": call.ReserveNow(connector_id=1, expiry_date=later, id_tag="T",
                                      reservation_id=7),
        "SendLocalList": call.SendLocalList(list_version=3, update_type="Full",
                                            local_authorization_list=[]),
        "UnlockConnector": call.UnlockConnector(connector_id=1),
        "UpdateFirmware": call.UpdateFirmware(location="ftp://127.0.0.1/fw.bin",
                                              retrieve_date=later),
    }
    only16 = {
        "ClearChargingProfile": call.ClearChargingProfile(id=9),
        "GetCompositeSchedule": call.GetCompositeSchedule(connector_id=1, duration=60),
        "SetChargingProfile": call.SetChargingProfile(connector_id=1,
                                                      cs_charging_profiles=profile),
        "TriggerMessage": call.TriggerMessage(requested_message="Heartbeat"),
    }
    return both, only16


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_every_csms_operation_reaches_the_station(csms, bridged, version):
    from ocpp.exceptions import NotSupportedError
    from ocpp.v16 import call
    from soapgw.simulator import start_simulation
    csms.start()
    cb = f"OPS{version[-1]}-0001"
    base, env = bridged(csms.url, stations=(cb,))
    sim = start_simulation(base, 1, version, prefix=f"OPS{version[-1]}-", **QUICK)
    try:
        assert sim.wait_booted(timeout=20)
        assert csms.wait_for(lambda: cb in csms.stations and link(env, cb)["connected"])
        both, only16 = _operations()
        for action, payload in both.items():
            answer = csms.call(cb, payload)  # the ocpp package checks it against its schema
            assert answer is not None, action
        received = [r.operation for r in sim.received(cb)]
        assert set(both) <= set(received), received
        for action, payload in only16.items():
            if version == "1.5":
                with pytest.raises(NotSupportedError):
                    csms.call(cb, payload)
            else:
                assert csms.call(cb, payload) is not None, action
        after = [r.operation for r in sim.received(cb)]
        if version == "1.5":  # NotSupported: nothing was sent to the station
            assert not set(only16) & set(after)
        else:
            assert set(only16) <= set(after)
            assert csms.wait_for(lambda: len(csms.messages(cb, "Heartbeat")) >= 1)  # triggered
        # the link's own keys never reach the station
        before = len(sim.received(cb))
        assert csms.call(cb, call.ChangeConfiguration(
            key="WebSocketPingInterval", value="15")).status == "Accepted"
        sockets = len(csms.connections)
        assert csms.call(cb, call.ChangeConfiguration(
            key="AuthorizationKey", value=b"new secret 123".hex())).status == "Accepted"
        assert csms.wait_for(lambda: len(csms.connections) > sockets, 20)
        assert csms.connections[-1] == (cb, "Basic " + __import__("base64").b64encode(
            f"{cb}:new secret 123".encode()).decode())
        time.sleep(1)
        assert len(sim.received(cb)) == before  # not even a GetConfiguration
        sessions = _sessions(env["SOAPGW_DATABASE_URL"])
        with sessions() as db:
            raw = b"".join(e.raw for e in db.scalars(select(JournalEntry)))
        assert b"new secret 123".hex().encode() not in raw and b"new secret 123" not in raw
    finally:
        sim.stop(finish_sessions=False)


def test_basic_auth_refused_then_accepted_and_a_dead_callback(csms, bridged):
    from ocpp.exceptions import GenericError
    from ocpp.v16 import call
    csms.passwords = {"CP 1#%": "pw:1"}
    csms.start()
    cb = "CP 1#%"  # percent-encoded in the URL, decoded back by the CSMS
    base, env = bridged(csms.url, stations=(cb,))
    assert wait(lambda: "401" in (link(env, cb)["last_error"] or ""))
    assert csms.refused[0] == (cb, 401) and not link(env, cb)["connected"]
    result = soapgw_command("upstream", "password", cb, env=env, input="pw:1\n")
    assert result.returncode == 0, result.stderr
    assert wait(lambda: link(env, cb)["connected"], 20)  # no restart, no long backoff
    assert csms.connections[-1][1] == "Basic " + __import__("base64").b64encode(
        f"{cb}:pw:1".encode()).decode()
    shown = soapgw_command("upstream", "status", env=env).stdout
    assert "pw:1" not in shown
    # the station's callback address refuses connections: GenericError with the reason
    send(base, cb, "Heartbeat", "<cs:heartbeatRequest/>")
    with pytest.raises(GenericError) as failure:
        csms.call(cb, call.GetConfiguration())
    assert "task" in str(failure.value.description)


def test_csms_closing_the_socket(csms, bridged):
    csms.start()
    base, env = bridged(csms.url)
    send(base, "CP-1", "BootNotification", BOOT)
    assert csms.wait_for(lambda: csms.messages("CP-1", "BootNotification"))
    csms.drop("CP-1")
    assert csms.wait_for(lambda: len(csms.messages("CP-1", "BootNotification")) == 2, 20)
    assert csms.messages("CP-1")[-1].action == "BootNotification"  # first on the new socket
    assert len(csms.connections) == 2
    assert wait(lambda: link(env, "CP-1")["connected"])


def _bridge_pid(database_url: str) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"bridge" in command and b"soapgw" in command and \
                f"SOAPGW_DATABASE_URL={database_url}".encode() in environ:
            return int(entry.name)
    return None


def test_kill_9_of_the_bridge_with_messages_queued(csms, bridged):
    csms.start()
    base, env = bridged(csms.url)
    assert wait(lambda: link(env, "CP-1")["connected"])
    csms.stop()
    send(base, "CP-1", "BootNotification", BOOT)
    local = int(text_of(send(base, "CP-1", "StartTransaction", START), "transactionId"))
    for n in range(5):
        send(base, "CP-1", "MeterValues", meter(local, f"2030-01-01T10:0{n}:30Z", str(200 + n)))
    assert wait(lambda: link(env, "CP-1")["queue"] >= 6)
    pid = _bridge_pid(env["SOAPGW_DATABASE_URL"])
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    send(base, "CP-1", "StopTransaction", stop(local))  # while no bridge runs: in the outbox
    csms.start()  # serve restarts the bridge; everything goes out, in order, once
    assert csms.wait_for(lambda: csms.messages("CP-1", "StopTransaction"), 60)
    got = [(m.action, m.payload) for m in csms.messages("CP-1")]
    assert [a for a, _ in got] == ["BootNotification", "StartTransaction"] + \
        ["MeterValues"] * 5 + ["StopTransaction"]
    assert [p["meter_value"][0]["sampled_value"][0]["value"] for a, p in got
            if a == "MeterValues"] == [str(200 + n) for n in range(5)]
    assert {p["transaction_id"] for a, p in got[2:]} == {5001}


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_node_soap_station_session_reaches_the_csms_in_16_shape(csms, bridged, version):
    """A station built with node-soap from the official WSDLs (tests/interop): every message of
    its session reaches the CSMS, OCPP 1.5 in 1.6 shape (values -> sampledValue, Amp -> A,
    transactionData/values -> the transactionData list)."""
    import shutil
    from test_inbound_interop import _node_client_skip_reason, run_node_session
    if _node_client_skip_reason():
        pytest.skip(_node_client_skip_reason())
    assert shutil.which("node")
    csms.start()
    cb = f"NODE-{version}"
    base, env = bridged(csms.url, stations=(cb,))
    assert wait(lambda: link(env, cb)["connected"])
    session = run_node_session(version, base, cb)
    boot = session["results"]["BootNotification"]
    assert int(boot.get("interval") or boot["heartbeatInterval"]) == 77  # the CSMS decided
    assert csms.wait_for(lambda: csms.messages(cb, "DiagnosticsStatusNotification"), 20)
    got = {m.action: m.payload for m in csms.messages(cb)}
    assert set(got) == {"BootNotification", "Heartbeat", "StatusNotification", "Authorize",
                        "StartTransaction", "MeterValues", "StopTransaction", "DataTransfer",
                        "FirmwareStatusNotification", "DiagnosticsStatusNotification"}
    assert session["results"]["DataTransfer"]["data"] == "from the CSMS"
    readings = got["MeterValues"]["meter_value"][0]["sampled_value"]
    assert [r.get("unit") for r in readings] == ["Wh", "A"]
    assert got["MeterValues"]["transaction_id"] == 5001
    assert got["StopTransaction"]["transaction_id"] == 5001
    end = got["StopTransaction"]["transaction_data"]
    assert end[0]["sampled_value"][0]["value"] == "6000"
