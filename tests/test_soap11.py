"""SOAP 1.1 stations (text/xml, SOAPAction): every OCPP 1.5 and 1.6 operation is processed and
answered in SOAP 1.1, faults too, and the journal and the station remember SOAP 1.1."""
from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import select

from official_schema import schema_errors
from soap_messages import CS15, CS16, SOAP11, SOAP12, WSA, body_of, envelope, post, text_of
from soapgw.store.models import ChargeBox, JournalEntry, StationQuirk, Transaction

NAMESPACES = {"1.5": CS15, "1.6": CS16}
_BOOT = ("<cs:bootNotificationRequest><cs:chargePointVendor>Acme</cs:chargePointVendor>"
         "<cs:chargePointModel>Old-1.1</cs:chargePointModel></cs:bootNotificationRequest>")


def _requests(version: str) -> list[tuple[str, str]]:
    """The ten CentralSystemService operations, in session order; {tx} is the transactionId."""
    if version == "1.5":
        meter = ("<cs:values><cs:timestamp>2026-03-01T10:30:00Z</cs:timestamp>"
                 '<cs:value unit="Wh" measurand="Energy.Active.Import.Register">2000</cs:value>'
                 "</cs:values>")
        status = "Occupied"
    else:
        meter = ("<cs:meterValue><cs:timestamp>2026-03-01T10:30:00Z</cs:timestamp>"
                 "<cs:sampledValue><cs:value>2000</cs:value><cs:unit>Wh</cs:unit>"
                 "</cs:sampledValue></cs:meterValue>")
        status = "Charging"
    return [
        ("BootNotification", _BOOT),
        ("Heartbeat", "<cs:heartbeatRequest/>"),
        ("StatusNotification",
         f"<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>"
         f"<cs:status>{status}</cs:status><cs:errorCode>NoError</cs:errorCode>"
         "<cs:timestamp>2026-03-01T09:59:00Z</cs:timestamp></cs:statusNotificationRequest>"),
        ("Authorize", "<cs:authorizeRequest><cs:idTag>TAG1</cs:idTag></cs:authorizeRequest>"),
        ("StartTransaction",
         "<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>TAG1</cs:idTag>"
         "<cs:timestamp>2026-03-01T10:00:00Z</cs:timestamp><cs:meterStart>1000</cs:meterStart>"
         "</cs:startTransactionRequest>"),
        ("MeterValues",
         "<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId>"
         f"<cs:transactionId>{{tx}}</cs:transactionId>{meter}</cs:meterValuesRequest>"),
        ("StopTransaction",
         "<cs:stopTransactionRequest><cs:transactionId>{tx}</cs:transactionId>"
         "<cs:idTag>TAG1</cs:idTag><cs:timestamp>2026-03-01T11:00:00Z</cs:timestamp>"
         "<cs:meterStop>6000</cs:meterStop></cs:stopTransactionRequest>"),
        ("DataTransfer",
         "<cs:dataTransferRequest><cs:vendorId>com.example</cs:vendorId>"
         "<cs:messageId>Ping</cs:messageId><cs:data>x</cs:data></cs:dataTransferRequest>"),
        ("FirmwareStatusNotification",
         "<cs:firmwareStatusNotificationRequest><cs:status>Installed</cs:status>"
         "</cs:firmwareStatusNotificationRequest>"),
        ("DiagnosticsStatusNotification",
         "<cs:diagnosticsStatusNotificationRequest><cs:status>Uploaded</cs:status>"
         "</cs:diagnosticsStatusNotificationRequest>"),
    ]


def post11(url: str, identity: str | None, operation: str, body: str, version: str,
           message_id: str | None = None):
    data = envelope(identity, body, ns=NAMESPACES[version], soap=SOAP11,
                    action=f"/{operation}", message_id=message_id)
    return post(url, data, soap11=True, action=f"/{operation}")


def assert_soap11(response) -> etree._Element:
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "action=" not in response.headers["Content-Type"]  # a SOAP 1.2 media-type parameter
    root = etree.fromstring(response.content)
    assert etree.QName(root).namespace == SOAP11
    assert SOAP12.encode() not in response.content
    return root


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_every_operation_in_soap11_is_answered_in_soap11(live_url, seed, version):
    identity = f"OLD-{version}"
    seed.station(identity)
    seed.tag("TAG1")
    transaction_id = None
    message_ids = []
    for operation, body in _requests(version):
        message_id = f"urn:uuid:soap11-{version}-{operation}"
        message_ids.append(message_id)
        response = post11(live_url, identity, operation, body.replace("{tx}", str(transaction_id)),
                          version, message_id)
        assert response.status_code == 200, f"{operation}: {response.text}"
        root = assert_soap11(response)
        element = body_of(response.content)
        name = f"{operation[0].lower()}{operation[1:]}Response"
        assert element.tag == f"{{{NAMESPACES[version]}}}{name}"
        assert schema_errors(element, "CentralSystemService", version) == [], operation
        assert root.xpath("//a:Action/text()", namespaces={"a": WSA}) == [f"/{operation}Response"]
        assert root.xpath("//a:RelatesTo/text()", namespaces={"a": WSA}) == [message_id]
        if operation == "BootNotification":
            assert text_of(element, "status") == "Accepted"
            interval = "heartbeatInterval" if version == "1.5" else "interval"
            assert text_of(element, interval) == "300"
        elif operation in ("Authorize", "StartTransaction", "StopTransaction"):
            assert text_of(element, "status") == "Accepted"
        if operation == "StartTransaction":
            transaction_id = int(text_of(element, "transactionId"))
            assert transaction_id > 0

    (cb,) = seed.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == identity))
    assert (cb.soap_version, cb.ocpp_version, cb.model) == ("1.1", version, "Old-1.1")
    assert (cb.firmware_status, cb.diagnostics_status) == ("Installed", "Uploaded")
    assert cb.endpoint_address == "http://127.0.0.1:9/ocpp"
    (transaction,) = seed.scalars(select(Transaction))
    assert (transaction.id, transaction.meter_stop) == (transaction_id, 6000)
    assert "soap-1.1" in seed.scalars(select(StationQuirk.code)
                                      .where(StationQuirk.charge_box_pk == cb.id))
    journal = seed.rows(select(JournalEntry.direction, JournalEntry.action,
                               JournalEntry.soap_version, JournalEntry.ocpp_version,
                               JournalEntry.http_status, JournalEntry.message_id)
                        .order_by(JournalEntry.id))
    assert len(journal) == 20
    assert {(row[2], row[3]) for row in journal} == {("1.1", version)}
    assert [row[1] for row in journal if row[0] == "in"] == [op for op, _ in _requests(version)]
    assert [row[5] for row in journal if row[0] == "in"] == message_ids
    assert {row[4] for row in journal if row[0] == "out"} == {200}


@pytest.mark.smoke
def test_soap11_fault_is_a_soap11_fault_and_journaled_as_11(live_url, seed):
    seed.station("OLD-F")
    # a heartbeat without chargeBoxIdentity: ProtocolError, said the SOAP 1.1 way
    response = post11(live_url, None, "Heartbeat", "<cs:heartbeatRequest/>", "1.6",
                      "urn:uuid:soap11-fault")
    assert response.status_code == 500  # the SOAP 1.1 HTTP binding: every fault is a 500
    root = assert_soap11(response)
    (fault,) = root.xpath("/s:Envelope/s:Body/s:Fault", namespaces={"s": SOAP11})
    assert [etree.QName(child).localname for child in fault] == ["faultcode", "faultstring"]
    assert fault.findtext("faultcode") == "s:Client.ProtocolError"
    assert "chargeBoxIdentity" in fault.findtext("faultstring")
    # the prefix of the faultcode QName is the SOAP 1.1 envelope namespace
    assert fault.find("faultcode").nsmap["s"] == SOAP11
    assert root.xpath("//a:RelatesTo/text()", namespaces={"a": WSA}) == ["urn:uuid:soap11-fault"]
    journal = seed.rows(select(JournalEntry.direction, JournalEntry.soap_version,
                               JournalEntry.http_status, JournalEntry.fault_code)
                        .order_by(JournalEntry.id))
    assert journal == [("in", "1.1", None, None), ("out", "1.1", 500, "ProtocolError")]


def test_soap11_must_understand_header_for_us_is_a_soap11_must_understand_fault(live_url, seed):
    seed.station("OLD-MU")
    extra = '<x:Billing xmlns:x="urn:x" s:mustUnderstand="1">a</x:Billing>'
    data = envelope("OLD-MU", "<cs:heartbeatRequest/>", soap=SOAP11, action="/Heartbeat",
                    extra_headers=extra)
    response = post(live_url, data, soap11=True, action="/Heartbeat")
    assert response.status_code == 500
    root = assert_soap11(response)
    assert root.xpath("//s:Fault/faultcode/text()", namespaces={"s": SOAP11}) == [
        "s:MustUnderstand"]


@pytest.mark.parametrize("soap, attribute, role", [
    (SOAP11, "actor", "http://proxy.example/billing"),
    (SOAP12, "role", "http://proxy.example/billing"),
    (SOAP12, "role", "http://www.w3.org/2003/05/soap-envelope/role/none"),
])
def test_must_understand_header_for_another_node_is_not_ours_to_fault(live_url, seed, soap,
                                                                      attribute, role):
    # SOAP 1.1 section 4.2.2 / SOAP 1.2 part 1 section 5.2.3: mustUnderstand binds only the
    # node a header block is targeted at (bug fixed: soapgw faulted on every such block).
    seed.station("OLD-ROLE")
    extra = (f'<x:Billing xmlns:x="urn:x" s:mustUnderstand="1" s:{attribute}="{role}">a'
             "</x:Billing>")
    data = envelope("OLD-ROLE", "<cs:heartbeatRequest/>", soap=soap, action="/Heartbeat",
                    extra_headers=extra)
    response = post(live_url, data, soap11=soap == SOAP11, action="/Heartbeat")
    assert response.status_code == 200, response.text
    assert body_of(response.content).tag == f"{{{CS16}}}heartbeatResponse"
