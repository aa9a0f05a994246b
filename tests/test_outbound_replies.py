"""What stations answer, read leniently, and what goes wrong, each a distinct task error:
real HTTP on 127.0.0.1, our SoapSender (zeep) as the client."""
from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from soapgw.core.commands.payloads import response_problems
from soapgw.core.commands.runner import Target
from soapgw.soap_out.client import SoapSender

from conftest import SAMPLES, free_port, make_settings
from outbound_support import serve_wsgi, station_server

CP16, CP15 = "urn://Ocpp/Cp/2015/10/", "urn://Ocpp/Cp/2012/06/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture
def sender(tmp_path) -> SoapSender:
    return SoapSender(make_settings("sqlite://", tmp_path, operation_timeout=0.5,
                                    connect_timeout=1, public_url="http://gw.test"))


def reply_with(station, body: bytes, status: str = "200 OK",
               content_type: str = "application/soap+xml; charset=utf-8"):
    station.behaviour = lambda envelope: (status, content_type, body)


def send(sender, address, operation, payload=None, version="1.6"):
    return sender.send(Target("CB1", version, address), operation, payload or {})


# --- the shared corpus: every response sample is understood -----------------------------------
CONF_SAMPLES = sorted(SAMPLES.glob("*_conf_*.xml")) if SAMPLES.is_dir() else []
SAMPLE_REQUESTS = {
    "ClearCache": {}, "GetConfiguration": {}, "RemoteStartTransaction": {"idTag": "T"},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 60},
    "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative", "chargingSchedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]}}},
}
SAMPLE_EXPECTED = {
    "ClearCache": {"status": "Accepted"},
    "RemoteStartTransaction": {"status": "Accepted"},
    "SetChargingProfile": {"status": "Accepted"},
    "GetCompositeSchedule": {
        "status": "Accepted", "connectorId": 1, "scheduleStart": "2023-01-18T13:22:55.768Z",
        "chargingSchedule": {"duration": 6480000, "chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0}]}},
}


def test_the_corpus_has_response_samples():
    if not SAMPLES.is_dir():
        pytest.skip(f"no sample corpus at {SAMPLES}")
    assert len(CONF_SAMPLES) == 5


@pytest.mark.smoke
@pytest.mark.parametrize("path", CONF_SAMPLES, ids=[p.name for p in CONF_SAMPLES])
def test_every_response_sample_is_understood(sender, path: Path):
    version = {"15": "1.5", "16": "1.6"}[path.name[:2]]
    operation = path.name.split("_")[1]
    with station_server(version) as (station, address):
        reply_with(station, path.read_bytes())
        reply = send(sender, address, operation, SAMPLE_REQUESTS[operation], version)
    assert reply.error is None, reply.error
    assert response_problems(operation, reply.response) == []
    if operation == "GetConfiguration":
        keys = reply.response["configurationKey"]
        assert len(keys) == 12 and reply.response.get("unknownKey") is None
        assert keys[2] == {"key": "Three-phase", "readonly": True, "value": "0"}  # "1"
        assert keys[6] == {"key": "NetworkFailure", "readonly": False, "value": "0"}  # "0"
        assert keys[11]["value"] == '""'
    else:
        assert reply.response == SAMPLE_EXPECTED[operation]
    assert [r.direction for r in reply.journal] == ["out", "in"]
    assert reply.journal[1].raw == path.read_bytes()


# --- lenient reading -----------------------------------------------------------------------------
def _envelope(body: str, header: str = "", soap: str = SOAP12, ns: str = CP16) -> bytes:
    return (f'<e:Envelope xmlns:e="{soap}" xmlns:c="{ns}">'
            + (f"<e:Header>{header}</e:Header>" if header else "")
            + f"<e:Body>{body}</e:Body></e:Envelope>").encode()


LENIENT = {
    "no header, elements out of order, 1/0 booleans, whitespace": (_envelope(
        "<c:getConfigurationResponse><c:unknownKey> X </c:unknownKey>"
        "<c:configurationKey><c:value>5</c:value><c:readonly>1</c:readonly><c:key>A</c:key>"
        "</c:configurationKey><c:configurationKey><c:key>B</c:key><c:readonly>0</c:readonly>"
        "</c:configurationKey></c:getConfigurationResponse>"), "GetConfiguration",
        {"configurationKey": [{"key": "A", "readonly": True, "value": "5"},
                              {"key": "B", "readonly": False}], "unknownKey": ["X"]}),
    "SOAP 1.1": (_envelope("<c:resetResponse><c:status>Rejected</c:status></c:resetResponse>",
                           soap=SOAP11), "Reset", {"status": "Rejected"}),
    "unqualified children, no RelatesTo": (_envelope(
        '<c:dataTransferResponse><status xmlns="">Accepted</status><data xmlns="">x</data>'
        "</c:dataTransferResponse>",
        header='<a:Action xmlns:a="http://www.w3.org/2005/08/addressing">'
               "/DataTransferResponse</a:Action>"), "DataTransfer",
        {"status": "Accepted", "data": "x"}),
    "unknown elements and an empty optional number": (_envelope(
        "<c:getCompositeScheduleResponse><c:connectorId></c:connectorId><c:vendorExtra>1"
        "</c:vendorExtra><c:status>Rejected</c:status></c:getCompositeScheduleResponse>"),
        "GetCompositeSchedule", {"status": "Rejected"}),
}


@pytest.mark.parametrize("case", LENIENT, ids=list(LENIENT))
def test_replies_are_read_leniently(sender, case):
    body, operation, expected = LENIENT[case]
    payload = {"GetCompositeSchedule": {"connectorId": 1, "duration": 60}}.get(
        operation, {"type": "Hard"} if operation == "Reset" else
        {"vendorId": "v"} if operation == "DataTransfer" else {})
    with station_server() as (station, address):
        reply_with(station, body, content_type="text/xml; charset=utf-8"
                   if b"xmlsoap" in body else "application/soap+xml; charset=utf-8")
        reply = send(sender, address, operation, payload)
    assert reply.error is None, reply.error
    assert reply.response == expected
    assert reply.journal[1].soap_version == ("1.1" if b"xmlsoap" in body else "1.2")


# --- distinct errors -----------------------------------------------------------------------------
FAULT12 = _envelope(
    '<e:Fault><e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value xmlns:o="urn://Ocpp/Cp/'
    '2015/10/">o:SecurityError</e:Value></e:Subcode></e:Code><e:Reason><e:Text xml:lang="en">'
    "not  allowed\n here</e:Text></e:Reason></e:Fault>")
FAULT11 = _envelope("<e:Fault><faultcode>e:Client.FormationViolation</faultcode>"
                    "<faultstring>bad request</faultstring></e:Fault>", soap=SOAP11)


def test_a_soap_fault(sender):
    with station_server() as (station, address):
        reply_with(station, FAULT12, "400 Bad Request")
        reply = send(sender, address, "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "fault"
    assert reply.error.fault_code == "SecurityError"
    assert str(reply.error) == "the station answered a SOAP Fault: SecurityError: not allowed here"
    assert reply.journal[1].action == "Fault:SecurityError"
    assert reply.journal[1].http_status == 400 and reply.journal[1].fault_code == "SecurityError"


def test_a_soap11_fault_with_http_500(sender):
    with station_server() as (station, address):
        reply_with(station, FAULT11, "500 Internal Server Error", "text/xml")
        reply = send(sender, address, "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "fault"
    assert str(reply.error) == \
        "the station answered a SOAP Fault: FormationViolation: bad request"


def test_http_500_without_a_fault(sender):
    with station_server() as (station, address):
        reply_with(station, b"<html><body>Oops, crashed</body></html>",
                   "500 Internal Server Error", "text/html")
        reply = send(sender, address, "Reset", {"type": "Hard"})
        reply_with(station, b"", "503 Service Unavailable", "text/plain")
        empty = send(sender, address, "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "http_error"
    assert str(reply.error) == (f"the station at {address} answered HTTP 500 without a SOAP "
                                "answer: <html><body>Oops, crashed</body></html>")
    assert reply.journal[1].http_status == 500
    assert empty.error.kind.value == "http_error" and "HTTP 503" in str(empty.error)


def test_redirects_are_not_followed(sender):
    """A redirect could lead past the callback safety rules."""
    with station_server() as (station, address), station_server() as (other, elsewhere):
        station.behaviour = lambda envelope: ("307 Temporary Redirect", "text/plain", b"")
        reply = send(sender, address, "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "http_error" and "HTTP 307" in str(reply.error)
    assert other.received == []


def test_a_timeout(sender):
    with station_server() as (station, address):
        station.delay = 2
        reply = send(sender, address, "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "timeout"
    assert str(reply.error) == \
        f"the station at {address} did not answer within 0.5 s (operation timeout)"
    assert [r.direction for r in reply.journal] == ["out"]  # the call, no reply


def test_a_connect_timeout(sender):
    """A listening socket whose accept queue is full drops new SYNs: connect times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        reply = send(sender, f"http://127.0.0.1:{port}/", "Reset", {"type": "Hard"})
    finally:
        for s in fillers:
            s.close()
        listener.close()
    assert reply.error.kind.value == "timeout"
    assert "connect timeout" in str(reply.error) or "operation timeout" in str(reply.error)


def test_a_refused_connection(sender):
    address = f"http://127.0.0.1:{free_port()}/Ocpp/ChargePointService/"
    reply = send(sender, address, "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "connection_refused"
    assert str(reply.error) == f"connection to {address} refused (nothing listens there)"



def test_an_unresolvable_host(sender):
    """RFC 2606: .invalid never resolves (the task runner's safety check refuses such an
    address before sending; the sender on its own reports it as unreachable)."""
    reply = send(sender, "http://station.invalid:8080/ocpp", "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "unreachable"
    assert str(reply.error) == "cannot resolve the host of http://station.invalid:8080/ocpp"


def test_the_wsdls_are_parsed_once_per_process(sender):
    from soapgw.soap_out.client import wsdl_document
    assert wsdl_document("1.6") is wsdl_document("1.6")
    assert wsdl_document("1.5") is not wsdl_document("1.6")
    with station_server() as (_station, address):
        send(sender, address, "ClearCache")
    assert wsdl_document("1.6") is wsdl_document("1.6")

@pytest.mark.parametrize("body,message", [
    (b"this is not XML", "is not XML"),
    (_envelope("<c:unlockConnectorResponse><c:status>Unlocked</c:status>"
               "</c:unlockConnectorResponse>"), "expected resetResponse in the reply, got "
                                                  "unlockConnectorResponse"),
    (b"<html/>", "the reply is not a SOAP envelope"),
])
def test_unreadable_replies(sender, body, message):
    with station_server() as (station, address):
        reply_with(station, body)
        reply = send(sender, address, "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "invalid_reply"
    assert message in str(reply.error)


def test_the_reply_size_is_limited(tmp_path):
    sender = SoapSender(make_settings("sqlite://", tmp_path, max_message_bytes=2048))
    with station_server() as (station, address):
        reply_with(station, b"<x>" + b" " * 10000 + b"</x>")
        reply = send(sender, address, "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "invalid_reply" and "longer than 2048" in str(reply.error)


def test_the_1_5_vocabulary_is_mapped(sender):
    with station_server("1.5") as (station, address):
        reply_with(station, _envelope(
            "<c:sendLocalListResponse><c:status>HashError</c:status><c:hash>ab</c:hash>"
            "</c:sendLocalListResponse>", ns=CP15))
        reply = send(sender, address, "SendLocalList",
                     {"listVersion": 1, "updateType": "Full"}, "1.5")
        reply_with(station, _envelope("<c:unlockConnectorResponse><c:status>Rejected</c:status>"
                                      "</c:unlockConnectorResponse>", ns=CP15))
        unlock = send(sender, address, "UnlockConnector", {"connectorId": 1}, "1.5")
    assert reply.response == {"status": "Failed"}
    assert unlock.response == {"status": "UnlockFailed"}


def test_a_station_trickling_its_answer_is_cut_off(sender):
    """The read timeout restarts with every packet; the whole answer has a deadline too."""
    def trickle(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/soap+xml")])

        def body():
            for _ in range(20):
                time.sleep(0.25)  # below the 0.5 s read timeout each time
                yield b" "
        return body()
    url, server = serve_wsgi(trickle)
    try:
        started = time.monotonic()
        reply = send(sender, url + "/", "Reset", {"type": "Hard"})
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert reply.error.kind.value == "timeout"
    assert "was still sending its answer after 1.5 s" in str(reply.error)
    assert elapsed < 3
