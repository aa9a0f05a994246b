"""The bridge against the npm ``ocpp-rpc`` central system in strict mode (every frame in and
out checked against the OCPP 1.6 JSON schemas; each violation reported), with simulated
OCPP 1.5 and 1.6 SOAP stations and Basic auth. Skips without node."""
from __future__ import annotations

import itertools
import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import command_env, soapgw_command

INTEROP = Path(__file__).resolve().parent / "interop"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    shutil.which("node") is None or not (INTEROP / "node_modules" / "ocpp-rpc").exists(),
    reason="node or ocpp-rpc missing (make test runs npm ci in tests/interop)")]
QUICK = dict(react_delay=0.02, step_delay=0.1, reboot_delay=0.1, retry_delay=0.5,
             session_interval=0, meter_interval=1, boot_spread=0)


class RpcCsms:
    def __init__(self, password: str):
        self.process = subprocess.Popen(["node", str(INTEROP / "ocpp_rpc_csms.js"), password],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        self.events: list[dict] = []
        self.results: dict[int, queue.Queue] = {}
        self.ids = itertools.count(1)
        first = json.loads(self.process.stdout.readline())
        self.port = first["port"]
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            event = json.loads(line)
            self.events.append(event)
            if event["event"] == "result":
                self.results.setdefault(event["id"], queue.Queue()).put(event)

    def command(self, identity, method, params, timeout=60):
        number = next(self.ids)
        waiter = self.results.setdefault(number, queue.Queue())
        self.process.stdin.write(json.dumps({"id": number, "identity": identity,
                                             "method": method, "params": params}) + "\n")
        self.process.stdin.flush()
        return waiter.get(timeout=timeout)

    def calls(self, identity, method=None):
        return [e for e in list(self.events) if e["event"] == "call"
                and e["identity"] == identity and (method is None or e["method"] == method)]

    def violations(self):
        return [e for e in list(self.events) if e["event"] == "violation"]

    def close(self):
        self.process.stdin.close()
        self.process.terminate()
        self.process.wait(10)


def wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_sessions_against_ocpp_rpc_in_strict_mode(served_gateway, sqlite_url, tmp_path, version):
    from soapgw.simulator import start_simulation
    csms = RpcCsms("rpc secret")
    cb = f"RPC{version[-1]}-0001"
    try:
        env = command_env(sqlite_url, SOAPGW_INSTANCE_PATH=str(tmp_path / "instance"),
                          SOAPGW_UPSTREAM_URL=f"ws://127.0.0.1:{csms.port}/ocpp")
        assert soapgw_command("chargebox", "add", cb, env=env).returncode == 0
        assert soapgw_command("upstream", "password", cb, env=env,
                              input="rpc secret\n").returncode == 0
        base = served_gateway(sqlite_url, **{k: v for k, v in env.items()
                                            if k.startswith("SOAPGW_UPSTREAM")
                                            or k == "SOAPGW_INSTANCE_PATH"})
        assert wait(lambda: any(e["event"] == "connect" and e["identity"] == cb
                                for e in csms.events))
        sim = start_simulation(base, 1, version, prefix=f"RPC{version[-1]}-", **QUICK)
        try:
            assert sim.wait_booted(timeout=20)
            assert sim.station(cb).config["HeartbeatInterval"].value == "66"
            answer = csms.command(cb, "RemoteStartTransaction", {"connectorId": 1,
                                                                 "idTag": "RPC-TAG"})
            assert answer["result"] == {"status": "Accepted"}
            assert wait(lambda: csms.calls(cb, "StartTransaction"))
            upstream_id = 7001
            assert wait(lambda: any(c["params"].get("transactionId") == upstream_id
                                    for c in csms.calls(cb, "MeterValues")))
            assert "result" in csms.command(cb, "GetConfiguration", {"key": ["HeartbeatInterval"]})
            assert "result" in csms.command(cb, "DataTransfer", {"vendorId": "acme"})
            assert "result" in csms.command(cb, "ChangeAvailability",
                                            {"connectorId": 0, "type": "Operative"})
            trigger = csms.command(cb, "TriggerMessage", {"requestedMessage": "StatusNotification"})
            if version == "1.5":
                assert trigger["error"]["code"] == "NotSupported"
            else:
                assert trigger["result"]["status"] in ("Accepted", "Rejected", "NotImplemented")
            stop = csms.command(cb, "RemoteStopTransaction", {"transactionId": upstream_id})
            assert stop["result"] == {"status": "Accepted"}
            assert wait(lambda: csms.calls(cb, "StopTransaction"))
            assert csms.calls(cb, "StopTransaction")[0]["params"]["transactionId"] == upstream_id
            assert csms.command(cb, "RemoteStopTransaction", {"transactionId": 999})["result"] \
                == {"status": "Rejected"}
            time.sleep(1)
            assert csms.violations() == []  # every frame either way fits the OCPP 1.6 schemas
            assert csms.calls(cb)[0]["method"] == "BootNotification"
        finally:
            sim.stop(finish_sessions=False)
    finally:
        csms.close()
