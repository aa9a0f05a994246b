"""Interoperability: every operation sent by our client (zeep, our generated WSDLs) to a
station built with node-soap from the OFFICIAL OCPP ChargePointService WSDLs."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from lxml import etree

from soapgw.core.commands import operations
from soapgw.core.commands.payloads import response_problems
from soapgw.core.commands.runner import Target
from soapgw.soap_out.client import SoapSender

from conftest import OFFICIAL_WSDL, ROOT, make_settings
from test_outbound_operations import PAYLOADS

INTEROP = ROOT / "tests" / "interop"
WSDLS = {"1.5": OFFICIAL_WSDL / "1.5" / "ocpp_chargepointservice_1.5_final.wsdl",
         "1.6": OFFICIAL_WSDL / "1.6" / "OCPP_ChargePointService_1.6.wsdl"}
NAMESPACES = {"1.5": "urn://Ocpp/Cp/2012/06/", "1.6": "urn://Ocpp/Cp/2015/10/"}
PUBLIC = "http://gw.test:8080"
EXPECTED = {  # what the node station answers (chargepoint_station.js), in OCPP-J 1.6 shape
    "ChangeAvailability": {"status": "Scheduled"},
    "ClearChargingProfile": {"status": "Unknown"},
    "DataTransfer": {"status": "Accepted", "data": "from node"},
    "GetCompositeSchedule": {
        "status": "Accepted", "connectorId": 1, "scheduleStart": "2030-01-01T00:00:00Z",
        "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 11000.5},
            {"startPeriod": 60, "limit": 7400, "numberPhases": 3}]}},
    "GetConfiguration": {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "ChargePointId", "readonly": True}], "unknownKey": ["Nope"]},
    "GetDiagnostics": {"fileName": "node.log"},
    "GetLocalListVersion": {"listVersion": 4},
    "RemoteStopTransaction": {"status": "Rejected"},
    "TriggerMessage": {"status": "NotImplemented"},
    "UnlockConnector": {"status": "Unlocked"},
    "UpdateFirmware": {},
}


def _node_station_skip_reason() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed: the node-soap interoperability tests need them"
    if not (INTEROP / "node_modules" / "soap").is_dir():
        return "node-soap is not installed: run `npm ci --prefix tests/interop` (make test does)"
    if not all(path.is_file() for path in WSDLS.values()):
        return f"the official WSDLs are not at {OFFICIAL_WSDL}"
    return None


pytestmark = pytest.mark.skipif(_node_station_skip_reason() is not None,
                                reason=_node_station_skip_reason() or "")


@pytest.fixture(scope="module", params=["1.5", "1.6"])
def node_station(request):
    """(version, address, base URL) of a node-soap station from the official WSDL."""
    version = request.param
    process = subprocess.Popen(["node", str(INTEROP / "chargepoint_station.js"),
                                str(WSDLS[version]), version], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"the node station did not start: {process.stderr.read()}")
        base = f"http://127.0.0.1:{json.loads(line)['port']}"
        yield version, f"{base}/Ocpp/ChargePointService/", base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def sender(tmp_path_factory):
    return SoapSender(make_settings("sqlite://", tmp_path_factory.mktemp("interop"),
                                    public_url=PUBLIC, operation_timeout=5))


def test_every_operation_against_node_soap(node_station, sender):
    version, address, base = node_station
    names = operations.BY_VERSION[version]
    replies = {op: sender.send(Target(f"NODE-{version}", version, address), op, PAYLOADS[op])
               for op in names}
    for op, reply in replies.items():
        assert reply.error is None, f"{op}: {reply.error}"
        assert reply.response == EXPECTED.get(op, {"status": "Accepted"}), op
        assert response_problems(op, reply.response) == [], op
    received = requests.get(f"{base}/received", timeout=10).json()
    assert [r["operation"] for r in received] == list(names)
    for entry, op in zip(received, names):
        headers = entry["headers"]
        assert headers["chargeBoxIdentity"] == f"NODE-{version}"
        assert headers["Action"] == f"/{op}" and headers["To"] == address
        assert headers["MessageID"] == replies[op].message_id
        assert headers["From"]["Address"] == headers["ReplyTo"]["Address"] == \
            f"{PUBLIC}/services/CentralSystemService"
        root = etree.fromstring(entry["raw"].encode())
        (identity,) = root.xpath("//*[local-name()='chargeBoxIdentity']")
        assert etree.QName(identity).namespace == NAMESPACES[version]
        assert etree.QName(root).namespace == "http://www.w3.org/2003/05/soap-envelope"
    # the arguments node-soap read from our requests, checked for a few operations
    args = {r["operation"]: r["args"] for r in received}
    assert args["Reset"] == {"type": "Soft"}
    assert args["ReserveNow"]["expiryDate"].startswith("2030-01-01T10:00:00")
    local_list = "localAuthorisationList" if version == "1.5" else "localAuthorizationList"
    assert [a["idTag"] for a in args["SendLocalList"][local_list]] == ["TAG1", "TAG2"]
    if version == "1.6":
        profile = args["SetChargingProfile"]["csChargingProfiles"]
        assert profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] in ("16.5", 16.5)
