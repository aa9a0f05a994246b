"""Bad input from stations: each gets a SOAP Fault with the OCPP subcode and is journaled."""
from __future__ import annotations

import pytest
import requests
from lxml import etree
from sqlalchemy import select

from soap_messages import SERVICE_PATH, SOAP11, SOAP12, envelope, fault_subcode, post
from soapgw.store.models import JournalEntry, Transaction


@pytest.fixture
def station(seed):
    seed.station("CB1")
    seed.tag("TAG1")
    return "CB1"


def fault_reason(content: bytes) -> str:
    root = etree.fromstring(content)
    texts = root.xpath("//s:Reason/s:Text/text()", namespaces={"s": SOAP12})
    return texts[0] if texts else root.xpath("//faultstring/text()")[0]


def journal(seed):
    return seed.scalars(select(JournalEntry).order_by(JournalEntry.id))


def assert_fault(response, code: str, status: int = 400, reason: str | None = None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/soap+xml")
    assert "<html" not in response.text.lower()
    assert fault_subcode(response.content) == code, response.text
    if reason:
        assert reason in fault_reason(response.content)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol2;</s:Body></s:Envelope>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:cs="urn://Ocpp/Cs/2015/10/">
<s:Header><cs:chargeBoxIdentity>&xxe;</cs:chargeBoxIdentity></s:Header>
<s:Body><cs:heartbeatRequest/></s:Body></s:Envelope>"""


@pytest.mark.smoke
@pytest.mark.parametrize("name, data, reason", [
    ("not xml", b"hello, I am not XML", "not well-formed XML"),
    ("empty", b"", "empty request"),
    ("not soap", b"<hello xmlns='urn:x'/>", "not a SOAP envelope"),
    ("no body", f'<s:Envelope xmlns:s="{SOAP12}"/>'.encode(), "no Body"),
    ("entity expansion", BILLION_LAUGHS, "DOCTYPE"),
    ("external entity", EXTERNAL_ENTITY, "DOCTYPE"),
])
def test_unreadable_messages_are_formation_violations(live_url, seed, name, data, reason):
    response = post(live_url, data)
    assert_fault(response, "FormationViolation", reason=reason)
    assert "root:" not in response.text  # the external entity was never resolved
    (incoming, outgoing) = journal(seed)
    assert incoming.raw == data and incoming.direction == "in"
    assert outgoing.fault_code == "FormationViolation" and outgoing.http_status == 400


def test_message_over_the_size_limit_is_refused_unread(tmp_path, sqlite_url):
    from conftest import make_settings, serve_wsgi
    from soapgw.app import Gateway, create_app
    from soapgw.store.migrate import upgrade
    gateway = Gateway.from_settings(make_settings(sqlite_url, tmp_path, max_message_bytes=2048))
    upgrade(gateway.engine)
    url, server = serve_wsgi(create_app(gateway=gateway))
    try:
        big = envelope("CB1", "<cs:dataTransferRequest><cs:vendorId>v</cs:vendorId><cs:data>"
                       + "x" * 5000 + "</cs:data></cs:dataTransferRequest>")
        assert_fault(post(url, big), "FormationViolation", reason="limit of 2048")
        chunked = requests.post(url + SERVICE_PATH, data=iter([big[:1000], big[1000:]]),
                                headers={"Content-Type": "application/soap+xml"}, timeout=10)
        assert_fault(chunked, "FormationViolation", reason="limit of 2048")
        with gateway.sessions() as db:
            assert db.scalar(select(JournalEntry.fault_code).where(
                JournalEntry.direction == "out").limit(1)) == "FormationViolation"
    finally:
        server.shutdown()
        server.server_close()


def test_unknown_namespace_and_operation(live_url, station):
    response = post(live_url, envelope(station, "<x:ping xmlns:x='urn:example'/>"))
    assert_fault(response, "NotImplemented", reason="unknown message ping")
    response = post(live_url, envelope(station, "<cs:resetRequest><cs:type>Hard</cs:type>"
                                                "</cs:resetRequest>"))
    assert_fault(response, "NotImplemented", reason="resetRequest is not an OCPP 1.6")


def test_ocpp_12_is_not_supported(live_url, station):
    response = post(live_url, envelope(station, "<cs:heartbeatRequest/>",
                                       ns="urn://Ocpp/Cs/2010/08/"))
    assert_fault(response, "NotSupported", reason="OCPP 1.2")


def test_missing_charge_box_identity_is_a_protocol_error(live_url, seed):
    assert_fault(post(live_url, envelope(None, "<cs:heartbeatRequest/>")), "ProtocolError",
                 reason="chargeBoxIdentity")
    assert_fault(post(live_url, envelope("  ", "<cs:heartbeatRequest/>")), "ProtocolError")


def test_unknown_station_gets_security_error(live_url, seed):
    response = post(live_url, envelope("WHO", "<cs:authorizeRequest><cs:idTag>T</cs:idTag>"
                                              "</cs:authorizeRequest>"))
    assert_fault(response, "SecurityError", reason="not registered")


@pytest.mark.parametrize("body, code, reason", [
    ("<cs:authorizeRequest/>", "OccurenceConstraintViolation", "idTag is missing"),
    ("<cs:statusNotificationRequest><cs:status>Available</cs:status><cs:errorCode>NoError"
     "</cs:errorCode></cs:statusNotificationRequest>", "OccurenceConstraintViolation",
     "connectorId is missing"),
    ("<cs:statusNotificationRequest><cs:connectorId>one</cs:connectorId><cs:status>Available"
     "</cs:status><cs:errorCode>NoError</cs:errorCode></cs:statusNotificationRequest>",
     "TypeConstraintViolation", "'one' is not an integer"),
    ("<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId><cs:status>Sleeping"
     "</cs:status><cs:errorCode>NoError</cs:errorCode></cs:statusNotificationRequest>",
     "PropertyConstraintViolation", "'Sleeping' is not one of"),
    ("<cs:stopTransactionRequest><cs:timestamp>2026-01-01T00:00:00Z</cs:timestamp>"
     "<cs:meterStop>1</cs:meterStop></cs:stopTransactionRequest>",
     "OccurenceConstraintViolation", "transactionId is missing"),
    ("<cs:stopTransactionRequest><cs:transactionId></cs:transactionId><cs:timestamp>"
     "2026-01-01T00:00:00Z</cs:timestamp><cs:meterStop>1</cs:meterStop>"
     "</cs:stopTransactionRequest>", "OccurenceConstraintViolation", "transactionId is missing"),
    ("<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>TAG1</cs:idTag>"
     "<cs:timestamp>2022-02-29T10:00:00Z</cs:timestamp><cs:meterStart>0</cs:meterStart>"
     "</cs:startTransactionRequest>", "TypeConstraintViolation", "impossible date"),
    ("<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:meterValue><cs:timestamp>"
     "soon</cs:timestamp><cs:sampledValue><cs:value>1</cs:value></cs:sampledValue>"
     "</cs:meterValue></cs:meterValuesRequest>", "TypeConstraintViolation", "not a date"),
])
def test_unusable_essential_fields(live_url, station, seed, body, code, reason):
    response = post(live_url, envelope(station, body))
    assert_fault(response, code, reason=reason)
    assert journal(seed)[-1].fault_code == code
    assert seed.scalars(select(Transaction)) == []


def test_informative_breaches_are_tolerated(live_url, station, seed):
    """Missing model, over-long strings, garbage optional timestamp: stored, answered."""
    boot = ("<cs:bootNotificationRequest><cs:chargePointVendor>" + "V" * 30 +
            "</cs:chargePointVendor><cs:chargeBoxSerialNumber>123</cs:chargeBoxSerialNumber>"
            "</cs:bootNotificationRequest>")
    assert post(live_url, envelope(station, boot)).status_code == 200
    status = ("<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId><cs:status>"
              "Available</cs:status><cs:errorCode>NoError</cs:errorCode><cs:timestamp>"
              "2022-02-30T00:00:00Z</cs:timestamp></cs:statusNotificationRequest>")
    assert post(live_url, envelope(station, status)).status_code == 200
    stop = ("<cs:stopTransactionRequest><cs:transactionId>5</cs:transactionId><cs:timestamp>"
            "garbage</cs:timestamp><cs:meterStop>1</cs:meterStop></cs:stopTransactionRequest>")
    assert post(live_url, envelope(station, stop)).status_code == 200
    from soapgw.store.models import ChargeBox, ConnectorStatus, FailedStop, StationQuirk
    (cb,) = seed.scalars(select(ChargeBox))
    assert cb.vendor == "V" * 30 and cb.model is None and cb.charge_box_serial_number == "123"
    (status_row,) = seed.scalars(select(ConnectorStatus))
    assert status_row.status == "Available"
    (failed,) = seed.scalars(select(FailedStop))
    assert failed.transaction_id == 5
    codes = set(seed.scalars(select(StationQuirk.code)))
    assert {"too-long", "missing-required", "invalid-value", "boot-incomplete",
            "stop-without-timestamp"} <= codes


def test_must_understand_headers(live_url, station):
    understood = (f'<a:To xmlns:a="http://www.w3.org/2005/08/addressing" '
                  f's:mustUnderstand="true">http://x/</a:To>')
    data = envelope(station, "<cs:heartbeatRequest/>", extra_headers=understood).replace(
        b"<cs:chargeBoxIdentity>", b'<cs:chargeBoxIdentity s:mustUnderstand="1">')
    assert post(live_url, data).status_code == 200
    alien = '<x:Security xmlns:x="urn:alien" s:mustUnderstand="true">t</x:Security>'
    response = post(live_url, envelope(station, "<cs:heartbeatRequest/>", extra_headers=alien))
    assert response.status_code == 500
    code = etree.fromstring(response.content).xpath("//s:Fault/s:Code/s:Value/text()",
                                                    namespaces={"s": SOAP12})
    assert code == ["s:MustUnderstand"]


def test_get_without_wsdl_and_other_methods(live_url):
    response = requests.get(live_url + SERVICE_PATH, timeout=10)
    assert response.status_code == 405 and fault_subcode(response.content) == "ProtocolError"
    response = requests.put(live_url + SERVICE_PATH, data=b"x", timeout=10)
    assert response.status_code == 405


def test_soap11_faults_are_soap11(live_url, station):
    data = envelope(None, "<cs:heartbeatRequest/>", soap=SOAP11)
    response = post(live_url, data, soap11=True)
    assert response.status_code == 500  # SOAP 1.1 HTTP binding: every fault is a 500
    assert response.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{SOAP11}}}Envelope"
    assert root.xpath("//faultcode/text()") == ["s:Client.ProtocolError"]
