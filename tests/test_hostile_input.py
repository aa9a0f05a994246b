"""Input that used to get a 500 InternalError (a station retries those forever) or was stored
wrongly: numbers beyond xs:int, xsi:nil / xsi:type on the request element, negative connector
ids, resent MeterValues, other HTTP methods and paths. On SQLite and PostgreSQL alike."""
from __future__ import annotations

import pytest
import requests
from lxml import etree
from sqlalchemy import func, select

from soap_messages import SERVICE_PATH, WSA, body_of, envelope, fault_subcode, post
from soapgw.store.models import (Connector, ConnectorStatus, JournalEntry, MeterValueRow,
                                 StationQuirk, Transaction)

XSI = "http://www.w3.org/2001/XMLSchema-instance"
INT_MAX = 2**31 - 1


@pytest.fixture
def station(seed):
    seed.station("CB1")
    seed.tag("TAG1")
    return "CB1"


def start(connector="1", meter="1000", reservation: str | None = None,
          timestamp="2026-03-01T10:00:00Z") -> str:
    reservation = f"<cs:reservationId>{reservation}</cs:reservationId>" if reservation else ""
    return (f"<cs:startTransactionRequest><cs:connectorId>{connector}</cs:connectorId>"
            f"<cs:idTag>TAG1</cs:idTag><cs:timestamp>{timestamp}</cs:timestamp>"
            f"<cs:meterStart>{meter}</cs:meterStart>{reservation}</cs:startTransactionRequest>")


def status(connector="1") -> str:
    return (f"<cs:statusNotificationRequest><cs:connectorId>{connector}</cs:connectorId>"
            "<cs:status>Available</cs:status><cs:errorCode>NoError</cs:errorCode>"
            "</cs:statusNotificationRequest>")


def meter_values(connector="1", transaction: str | None = None,
                 timestamp="2026-03-01T10:05:00Z", value="1234") -> str:
    transaction = f"<cs:transactionId>{transaction}</cs:transactionId>" if transaction else ""
    return (f"<cs:meterValuesRequest><cs:connectorId>{connector}</cs:connectorId>{transaction}"
            f"<cs:meterValue><cs:timestamp>{timestamp}</cs:timestamp>"
            f"<cs:sampledValue><cs:value>{value}</cs:value>"
            "<cs:measurand>Energy.Active.Import.Register</cs:measurand></cs:sampledValue>"
            "<cs:sampledValue><cs:value>7.2</cs:value><cs:measurand>Power.Active.Import"
            "</cs:measurand><cs:phase>L1</cs:phase></cs:sampledValue>"
            "</cs:meterValue></cs:meterValuesRequest>")


def stop(transaction: str) -> str:
    return (f"<cs:stopTransactionRequest><cs:transactionId>{transaction}</cs:transactionId>"
            "<cs:timestamp>2026-03-01T11:00:00Z</cs:timestamp><cs:meterStop>2000</cs:meterStop>"
            "</cs:stopTransactionRequest>")


def call(url, body, **kwargs):
    return post(url, envelope("CB1", body, **kwargs))


def journal_pairs(seed) -> list[tuple[str, str | None]]:
    return [(e.direction, e.fault_code)
            for e in seed.scalars(select(JournalEntry).order_by(JournalEntry.id))]


# --- xs:int ranges --------------------------------------------------------------------------
TOO_BIG = [str(2**31), str(2**63), str(10**30), "9" * 5000, str(-(2**31) - 1)]


@pytest.mark.smoke
@pytest.mark.parametrize("number", TOO_BIG)
@pytest.mark.parametrize("message", ["start-meter", "start-connector", "status-connector",
                                     "meter-connector", "stop-transaction"])
def test_integers_beyond_xs_int_are_type_constraint_violations(live_url, station, seed,
                                                                 message, number):
    body = {"start-meter": start(meter=number), "start-connector": start(connector=number),
            "status-connector": status(number), "meter-connector": meter_values(number),
            "stop-transaction": stop(number)}[message]
    response = call(live_url, body)
    assert response.status_code == 400, response.text
    assert fault_subcode(response.content) == "TypeConstraintViolation"
    assert "out of range" in response.text
    assert journal_pairs(seed) == [("in", None), ("out", "TypeConstraintViolation")]
    assert seed.scalars(select(Transaction)) == []


@pytest.mark.smoke
def test_xs_int_bounds_themselves_are_accepted(live_url, station, seed):
    response = call(live_url, start(meter=str(INT_MAX)))
    assert response.status_code == 200, response.text
    response = call(live_url, start(meter=str(-(2**31)), timestamp="2026-03-01T10:01:00Z"))
    assert response.status_code == 200, response.text
    assert sorted(seed.scalars(select(Transaction.meter_start))) == [-(2**31), INT_MAX]


def test_an_optional_integer_out_of_range_is_dropped_and_the_message_kept(live_url, station,
                                                                           seed):
    """Not essential (a reservationId, the transaction of meter values): dropped like any
    unreadable optional value, recorded, and the transaction or the values are stored."""
    response = call(live_url, start(reservation=str(2**31)))
    assert response.status_code == 200, response.text
    response = call(live_url, meter_values(transaction=str(10**30)))
    assert response.status_code == 200, response.text
    (transaction,) = seed.scalars(select(Transaction))
    assert transaction.reservation_id is None
    assert [row.transaction_pk for row in seed.scalars(select(MeterValueRow))] == [None, None]
    assert "invalid-value" in seed.scalars(select(StationQuirk.code))


# --- xsi:nil / xsi:type on the request element ----------------------------------------------
@pytest.mark.smoke
def test_nil_request_elements(live_url, station, seed):
    response = call(live_url, f'<cs:heartbeatRequest xmlns:xsi="{XSI}" xsi:nil="true"/>')
    assert response.status_code == 200, response.text
    assert etree.QName(body_of(response.content)).localname == "heartbeatResponse"
    response = call(live_url, f'<cs:authorizeRequest xmlns:xsi="{XSI}" xsi:nil="true"/>')
    assert response.status_code == 400, response.text
    assert fault_subcode(response.content) == "OccurenceConstraintViolation"
    response = call(live_url, f'<cs:statusNotificationRequest xmlns:xsi="{XSI}" xsi:nil="1"/>')
    assert fault_subcode(response.content) == "OccurenceConstraintViolation"
    assert "nil-element" in seed.scalars(select(StationQuirk.code))
    assert len(journal_pairs(seed)) == 6


@pytest.mark.smoke
@pytest.mark.parametrize("xsi_type", ["cs:StartTransactionRequest", "cs:BootNotificationRequest",
                                      "xs:string", "xs:int", "cs:IdTagInfo", "nope:Nothing"])
def test_xsi_type_on_the_request_element_is_ignored(live_url, station, seed, xsi_type):
    body = (f'<cs:authorizeRequest xmlns:xsi="{XSI}" xmlns:xs="http://www.w3.org/2001/XMLSchema"'
            f' xsi:type="{xsi_type}"><cs:idTag>TAG1</cs:idTag></cs:authorizeRequest>')
    response = call(live_url, body)
    assert response.status_code == 200, response.text
    assert body_of(response.content).xpath("//*[local-name()='status']/text()") == ["Accepted"]
    nested = (f'<cs:heartbeatRequest xmlns:xsi="{XSI}" xsi:type="{xsi_type}"/>')
    assert call(live_url, nested).status_code == 200
    inner = start().replace("<cs:idTag>", f'<cs:idTag xmlns:xsi="{XSI}" xsi:type="{xsi_type}">')
    assert call(live_url, inner).status_code == 200
    assert "xsi-type" in seed.scalars(select(StationQuirk.code))


# --- negative connector ids -------------------------------------------------------------------
@pytest.mark.smoke
@pytest.mark.parametrize("message", ["start", "status", "meter"])
def test_a_negative_connector_id_is_refused_and_creates_no_connector(live_url, station, seed,
                                                                      message):
    body = {"start": start(connector="-7"), "status": status("-7"),
            "meter": meter_values("-7")}[message]
    response = call(live_url, body)
    assert response.status_code == 400, response.text
    assert fault_subcode(response.content) == "PropertyConstraintViolation"
    assert "connectorId -7" in response.text
    assert seed.scalars(select(Connector)) == []
    for table in (Transaction, ConnectorStatus, MeterValueRow):
        assert seed.scalars(select(table)) == []
    assert journal_pairs(seed) == [("in", None), ("out", "PropertyConstraintViolation")]


# --- MeterValues resent ------------------------------------------------------------------------
@pytest.mark.smoke
def test_resent_meter_values_are_stored_once(live_url, station, seed):
    transaction = body_of(call(live_url, start()).content).xpath(
        "//*[local-name()='transactionId']/text()")[0]
    message = envelope("CB1", meter_values(transaction=transaction),
                       message_id="urn:uuid:resent-1")
    for _ in range(3):  # the gateway answered, the station never got it, and resends
        assert post(live_url, message).status_code == 200
    assert seed.rows(select(func.count()).select_from(MeterValueRow))[0][0] == 2
    quirks = seed.rows(select(StationQuirk.code, StationQuirk.count, StationQuirk.detail)
                       .where(StationQuirk.code == "resent-meter-values"))
    assert [(code, count) for code, count, _ in quirks] == [("resent-meter-values", 2)]
    assert "urn:uuid:resent-1" in quirks[0][2]
    # new samples are new, also at a known timestamp with another measurand or transaction
    assert call(live_url, meter_values(transaction=transaction,
                                       timestamp="2026-03-01T10:06:00Z")).status_code == 200
    assert call(live_url, meter_values()).status_code == 200  # no transaction: another key
    assert seed.rows(select(func.count()).select_from(MeterValueRow))[0][0] == 6
    # every request journaled, resends included
    assert len(journal_pairs(seed)) == 2 * 6


# --- HTTP methods and paths --------------------------------------------------------------------
@pytest.mark.smoke
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"])
def test_other_methods_are_answered_in_soap_and_journaled(live_url, seed, method):
    response = requests.request(method, live_url + SERVICE_PATH, data=b"<x/>", timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert response.headers["Content-Type"].startswith("application/soap+xml")
    if method != "HEAD":
        assert fault_subcode(response.content) == "ProtocolError"
    entries = seed.scalars(select(JournalEntry).order_by(JournalEntry.id))
    assert [(e.direction, e.fault_code, e.http_status) for e in entries] == [
        ("in", None, None), ("out", "ProtocolError", 405)]
    assert entries[0].raw.startswith(f"{method} {SERVICE_PATH} HTTP/1.1".encode())
    assert entries[0].peer == "127.0.0.1"
    # the WSDL is still served
    assert requests.get(live_url + SERVICE_PATH + "?wsdl", timeout=10).status_code == 200


@pytest.mark.smoke
@pytest.mark.parametrize("path", ["/services/Nope", "/services/CentralSystemServiceX",
                                  "/services/"])
def test_unknown_service_paths_are_404(live_url, station, seed, path):
    data = envelope("CB1", "<cs:heartbeatRequest/>")
    response = post(live_url, data, path=path)
    assert response.status_code == 404
    assert fault_subcode(response.content) == "ProtocolError"
    assert "/services/CentralSystemService" in response.text
    assert requests.get(live_url + path + "?wsdl", timeout=10).status_code == 404
    entries = seed.scalars(select(JournalEntry).order_by(JournalEntry.id))
    assert [(e.direction, e.http_status) for e in entries] == [
        ("in", None), ("out", 404), ("in", None), ("out", 404)]
    assert entries[0].raw.endswith(data)
    assert etree.fromstring(response.content).xpath("//a:To/text()", namespaces={"a": WSA})
    # nothing was processed: the station's heartbeat is not recorded
    assert seed.scalars(select(StationQuirk)) == []


@pytest.mark.smoke
def test_xsi_nil_false_and_xsi_type_on_the_identity_are_read_as_values(live_url, station, seed):
    """Found by the fuzz run: spyne took xsi:nil="false" for nil (an InternalError on an
    essential field) and logged an error for xsi:type on the chargeBoxIdentity header."""
    body = start().replace("<cs:idTag>", f'<cs:idTag xmlns:xsi="{XSI}" xsi:nil="false">')
    assert call(live_url, body).status_code == 200
    identity = (f'<cs:chargeBoxIdentity xmlns:xsi="{XSI}" xsi:type="xs:int">CB1'
                "</cs:chargeBoxIdentity>")
    data = envelope(None, "<cs:heartbeatRequest/>", extra_headers=identity)
    assert post(live_url, data).status_code == 200
    assert "xsi-type" in seed.scalars(select(StationQuirk.code))
    (transaction,) = seed.scalars(select(Transaction))
    assert transaction.id_tag == "TAG1"
