"""Bad input from stations: each gets a SOAP Fault with the OCPP subcode and is journaled."""
from __future__ import annotations

import pytest
import requests
from lxml import etree
from sqlalchemy import select

from soap_messages import (BOOT, CS15, CS16, SERVICE_PATH, SOAP11, SOAP12, WSA, envelope,
                           fault_subcode, post)
from soapgw.store.models import (ChargeBox, ConnectorStatus, DataTransferRecord, FailedStop,
                                 JournalEntry, StationQuirk, Transaction, UnknownChargeBox,
                                 UnknownIdTag)


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


EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE s:Envelope SYSTEM "http://127.0.0.1:9/evil.dtd">
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:cs="urn://Ocpp/Cs/2015/10/">
<s:Header><cs:chargeBoxIdentity>CB1</cs:chargeBoxIdentity></s:Header>
<s:Body><cs:heartbeatRequest/></s:Body></s:Envelope>"""


@pytest.mark.smoke
@pytest.mark.parametrize("name, data, reason", [
    ("not xml", b"hello, I am not XML", "not well-formed XML"),
    ("empty", b"", "empty request"),
    ("not soap", b"<hello xmlns='urn:x'/>", "not a SOAP envelope"),
    ("no body", f'<s:Envelope xmlns:s="{SOAP12}"/>'.encode(), "no Body"),
    ("entity expansion", BILLION_LAUGHS, "DOCTYPE"),
    ("external entity", EXTERNAL_ENTITY, "DOCTYPE"),
    ("external DTD", EXTERNAL_DTD, "DOCTYPE"),
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


XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


ESSENTIAL = [
    ("<cs:authorizeRequest/>", "OccurenceConstraintViolation", "idTag is missing"),
    ("<cs:authorizeRequest><cs:idTag xsi:nil='true' " + XSI + "/></cs:authorizeRequest>",
     "OccurenceConstraintViolation", "idTag is missing"),
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
    ("<cs:stopTransactionRequest><cs:transactionId xsi:nil='true' " + XSI + "/><cs:timestamp>"
     "2026-01-01T00:00:00Z</cs:timestamp><cs:meterStop>1</cs:meterStop>"
     "</cs:stopTransactionRequest>", "OccurenceConstraintViolation", "transactionId is missing"),
    ("<cs:stopTransactionRequest><cs:transactionId>12a</cs:transactionId><cs:timestamp>"
     "2026-01-01T00:00:00Z</cs:timestamp><cs:meterStop>1</cs:meterStop>"
     "</cs:stopTransactionRequest>", "TypeConstraintViolation", "'12a' is not an integer"),
    ("<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>TAG1</cs:idTag>"
     "<cs:timestamp>2026-03-01T10:00:00Z</cs:timestamp><cs:meterStart>1.5e3</cs:meterStart>"
     "</cs:startTransactionRequest>", "TypeConstraintViolation", "'1.5e3' is not an integer"),
    ("<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>TAG1</cs:idTag>"
     "<cs:timestamp>2022-02-29T10:00:00Z</cs:timestamp><cs:meterStart>0</cs:meterStart>"
     "</cs:startTransactionRequest>", "TypeConstraintViolation", "impossible date"),
]
METER_VALUES_16 = ("<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:meterValue>"
                   "<cs:timestamp>soon</cs:timestamp><cs:sampledValue><cs:value>1</cs:value>"
                   "</cs:sampledValue></cs:meterValue></cs:meterValuesRequest>",
                   "TypeConstraintViolation", "not a date")


# The same cases in OCPP 1.5 (same element names); 1.5 MeterValues: see test_ocpp15_inbound.
@pytest.mark.parametrize("ns, body, code, reason", [
    pytest.param(ns, *case, id=f"{version}-{index}-{case[1]}")
    for version, ns, cases in (("1.6", CS16, ESSENTIAL + [METER_VALUES_16]),
                               ("1.5", CS15, ESSENTIAL))
    for index, case in enumerate(cases)])
def test_unusable_essential_fields(live_url, station, seed, ns, body, code, reason):
    data = envelope(station, body, ns=ns)
    response = post(live_url, data)
    assert_fault(response, code, reason=reason)
    incoming, outgoing = journal(seed)
    assert (incoming.raw, incoming.charge_box_id, incoming.ocpp_version) == (
        data, station, "1.6" if ns == CS16 else "1.5")
    assert (outgoing.fault_code, outgoing.http_status) == (code, 400)
    assert seed.scalars(select(Transaction)) == []
    assert seed.scalars(select(FailedStop)) == [] and seed.scalars(select(ConnectorStatus)) == []


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


# --- every refusal is a fault with its code and HTTP status, and is journaled ---------------------
ALIEN_HEADER = '<x:Security xmlns:x="urn:alien" s:mustUnderstand="true">t</x:Security>'
REFUSALS = {
    # name: (identity, body, namespace, extra headers, HTTP status, code, journaled station)
    "unknown namespace": ("CB1", "<x:ping xmlns:x='urn:example'/>", CS16, "", 400,
                          "NotImplemented", "CB1"),
    "unknown operation": ("CB1", "<cs:resetRequest><cs:type>Hard</cs:type></cs:resetRequest>",
                          CS16, "", 400, "NotImplemented", "CB1"),
    "OCPP 1.2": ("CB1", "<cs:heartbeatRequest/>", "urn://Ocpp/Cs/2010/08/", "", 400,
                 "NotSupported", "CB1"),
    "no chargeBoxIdentity": (None, "<cs:heartbeatRequest/>", CS16, "", 400, "ProtocolError",
                             None),
    "identity too long to store": ("C" * 256, "<cs:heartbeatRequest/>", CS16, "", 400,
                                   "ProtocolError", "C" * 255),
    "unknown station, 1.6": ("WHO", "<cs:authorizeRequest><cs:idTag>TAG1</cs:idTag>"
                                    "</cs:authorizeRequest>", CS16, "", 400, "SecurityError",
                             "WHO"),
    "unknown station, 1.5": ("WHO", "<cs:heartbeatRequest/>", CS15, "", 400, "SecurityError",
                             "WHO"),
    "Pending station": ("CB-PENDING", "<cs:heartbeatRequest/>", CS16, "", 400, "SecurityError",
                        "CB-PENDING"),
    "Rejected station": ("CB-REJECTED", "<cs:statusNotificationRequest><cs:connectorId>1"
                                        "</cs:connectorId><cs:status>Available</cs:status>"
                                        "<cs:errorCode>NoError</cs:errorCode>"
                                        "</cs:statusNotificationRequest>", CS15, "", 400,
                         "SecurityError", "CB-REJECTED"),
    "header not understood": ("CB1", "<cs:heartbeatRequest/>", CS16, ALIEN_HEADER, 500,
                              "MustUnderstand", None),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_every_refusal_is_a_fault_with_its_code_and_is_journaled(live_url, station, seed, case):
    identity, body, ns, extra, status, code, journaled = REFUSALS[case]
    seed.station("CB-PENDING", status="Pending")
    seed.station("CB-REJECTED", status="Rejected")
    data = envelope(identity, body, ns=ns, extra_headers=extra, message_id=f"urn:x:{case}")
    response = post(live_url, data)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/soap+xml")
    root = etree.fromstring(response.content)
    (value,) = root.xpath("//s:Fault/s:Code/s:Value/text()", namespaces={"s": SOAP12})
    if code == "MustUnderstand":
        assert value == "s:MustUnderstand" and fault_subcode(response.content) is None
    else:
        assert value == "s:Sender" and fault_subcode(response.content) == code
    assert fault_reason(response.content)  # a readable reason
    assert root.xpath("//a:RelatesTo/text()", namespaces={"a": WSA}) == [f"urn:x:{case}"]
    incoming, outgoing = journal(seed)
    assert (incoming.direction, incoming.raw, incoming.message_id) == ("in", data,
                                                                       f"urn:x:{case}")
    assert (outgoing.direction, outgoing.raw, outgoing.fault_code, outgoing.http_status,
            outgoing.relates_to) == ("out", response.content, code, status, f"urn:x:{case}")
    assert incoming.charge_box_id == outgoing.charge_box_id == journaled
    # nothing else changed: no status stored, no station registered by the refusal
    assert seed.scalars(select(ConnectorStatus)) == []
    assert sorted(seed.scalars(select(ChargeBox.charge_box_id))) == [
        "CB-PENDING", "CB-REJECTED", "CB1"]
    if journaled == "WHO":  # an unknown station is listed for an admin to accept
        (unknown,) = seed.scalars(select(UnknownChargeBox))
        assert (unknown.charge_box_id, unknown.attempts) == ("WHO", 1)


def test_receiver_fault_is_a_500_journaled_and_nothing_half_stored(live_url, station, seed,
                                                                     gateway):
    @gateway.central_system.data_transfer.handler("com.acme", "Crash")
    def crash(station_id, request):
        raise RuntimeError("vendor handler bug")

    body = ("<cs:dataTransferRequest><cs:vendorId>com.acme</cs:vendorId><cs:messageId>Crash"
            "</cs:messageId><cs:data>x</cs:data></cs:dataTransferRequest>")
    data = envelope(station, body)
    response = post(live_url, data)
    assert response.status_code == 500
    assert fault_subcode(response.content) == "InternalError"
    assert etree.fromstring(response.content).xpath(
        "//s:Fault/s:Code/s:Value/text()", namespaces={"s": SOAP12}) == ["s:Receiver"]
    assert "vendor handler bug" not in response.text  # the reason says what to do, not why
    incoming, outgoing = journal(seed)
    assert incoming.raw == data and incoming.charge_box_id == station
    assert (outgoing.fault_code, outgoing.http_status) == ("InternalError", 500)
    assert seed.scalars(select(DataTransferRecord)) == []


def test_the_default_size_limit_is_one_mebibyte_and_configurable(live_url, station, seed,
                                                                  tmp_path):
    from soapgw.config import Settings
    assert Settings.from_env({}).max_message_bytes == 1024 * 1024
    assert Settings.from_env({"SOAPGW_MAX_MESSAGE_BYTES": "4096"}).max_message_bytes == 4096
    padding = "<cs:data>" + "x" * (1024 * 1024) + "</cs:data>"
    big = envelope(station, "<cs:dataTransferRequest><cs:vendorId>v</cs:vendorId>" + padding
                   + "</cs:dataTransferRequest>")
    assert len(big) > 1024 * 1024
    assert_fault(post(live_url, big), "FormationViolation", reason="limit of 1048576")
    fits = envelope(station, "<cs:dataTransferRequest><cs:vendorId>v</cs:vendorId><cs:data>"
                    + "x" * (1000 * 1000) + "</cs:data></cs:dataTransferRequest>")
    assert post(live_url, fits).status_code == 200
    (record,) = seed.scalars(select(DataTransferRecord))
    assert len(record.data) == 1000 * 1000


def test_over_long_strings_are_stored_and_answered_on_every_database(live_url, station, seed):
    """Longer than the schema allows, and longer than the columns: the message still counts
    (PostgreSQL refused such rows with a 500 before), the column keeps what fits."""
    long = {n: "".join(chr(ord("a") + i % 26) for i in range(n)) for n in (30, 300)}
    boot = BOOT.replace("<cs:chargePointVendor>Acme", f"<cs:chargePointVendor>{long[300]}")
    messages = [
        boot,
        "<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId><cs:status>Available"
        f"</cs:status><cs:errorCode>{long[300].upper()}</cs:errorCode><cs:info>{long[300]}"
        f"</cs:info><cs:vendorErrorCode>{long[30]}</cs:vendorErrorCode>"
        "</cs:statusNotificationRequest>",
        f"<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>{long[300]}"
        "</cs:idTag><cs:timestamp>2026-03-01T10:00:00Z</cs:timestamp><cs:meterStart>0"
        "</cs:meterStart></cs:startTransactionRequest>",
        f"<cs:dataTransferRequest><cs:vendorId>{long[300]}</cs:vendorId><cs:messageId>"
        f"{long[300]}</cs:messageId></cs:dataTransferRequest>",
    ]
    for body in messages:
        response = post(live_url, envelope(station, body))
        assert response.status_code == 200, response.text
    long_id = "urn:uuid:" + long[300]
    response = post(live_url, envelope(station, "<cs:heartbeatRequest/>", message_id=long_id))
    assert response.status_code == 200
    assert etree.fromstring(response.content).xpath(
        "//a:RelatesTo/text()", namespaces={"a": WSA}) == [long_id]  # echoed whole
    (cb,) = seed.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == station))
    assert (cb.vendor, cb.model) == (long[300][:255], "X1")
    (status,) = seed.scalars(select(ConnectorStatus))
    assert (status.info, status.error_code, status.vendor_error_code) == (
        long[300][:255], long[300].upper()[:40], long[30])
    (transaction,) = seed.scalars(select(Transaction))
    assert transaction.id_tag == long[300][:255]
    assert long[300][:255] in seed.scalars(select(UnknownIdTag.id_tag))  # not registered
    (transfer,) = seed.scalars(select(DataTransferRecord))
    assert (transfer.vendor_id, transfer.message_id, transfer.status) == (
        long[300][:255], long[300][:255], "UnknownVendorId")
    entries = journal(seed)
    assert len(entries) == 10 and {e.http_status for e in entries[1::2]} == {200}
    assert entries[-2].message_id == long_id[:255]
    quirks = dict(seed.rows(select(StationQuirk.code, StationQuirk.detail)))
    assert "too-long" in quirks and "invalid-value" in quirks  # the value as sent is in the detail
