"""OCPP 1.6 CentralSystemService over real HTTP, on SQLite and PostgreSQL: behaviour per operation."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from soap_messages import BOOT, CS16, SOAP12, body_of, envelope, fault_subcode, post, text_of
from official_schema import schema_errors
from soapgw.store.models import (ChargeBox, Connector, ConnectorStatus, DataTransferRecord,
                                 EndpointChange, FailedStop, IdTag, JournalEntry, MeterValueRow,
                                 Reservation, StationQuirk, Transaction, UnknownChargeBox,
                                 UnknownIdTag)

UTC = timezone.utc


def call(url, identity, body, **kwargs):
    response = post(url, envelope(identity, body, **kwargs))
    return response


def ok(response, operation: str):
    """The reply body element, checked: HTTP 200 and valid against the official schema."""
    assert response.status_code == 200, response.text
    element = body_of(response.content)
    assert element.tag == f"{{{CS16}}}{operation[0].lower()}{operation[1:]}Response"
    assert schema_errors(element, "CentralSystemService", "1.6") == []
    return element


def start_body(connector=1, tag="TAG1", timestamp="2026-03-01T10:00:00Z", meter=1000,
               reservation=None):
    extra = f"<cs:reservationId>{reservation}</cs:reservationId>" if reservation else ""
    return (f"<cs:startTransactionRequest><cs:connectorId>{connector}</cs:connectorId>"
            f"<cs:idTag>{tag}</cs:idTag><cs:timestamp>{timestamp}</cs:timestamp>"
            f"<cs:meterStart>{meter}</cs:meterStart>{extra}</cs:startTransactionRequest>")


def stop_body(transaction_id, timestamp="2026-03-01T11:00:00Z", meter=5000, extra=""):
    return (f"<cs:stopTransactionRequest><cs:transactionId>{transaction_id}</cs:transactionId>"
            f"<cs:timestamp>{timestamp}</cs:timestamp><cs:meterStop>{meter}</cs:meterStop>"
            f"{extra}</cs:stopTransactionRequest>")



@pytest.fixture
def station(seed):
    seed.station("CB1")
    seed.tag("TAG1")
    return "CB1"


@pytest.mark.smoke
def test_boot_of_a_known_station_stores_boot_data_and_answers_interval(live_url, station, seed):
    reply = ok(call(live_url, station, BOOT, action="/BootNotification"), "BootNotification")
    assert text_of(reply, "status") == "Accepted"
    assert text_of(reply, "interval") == "300"
    current = datetime.fromisoformat(text_of(reply, "currentTime"))
    assert current.tzinfo is not None and abs(current - datetime.now(UTC)) < timedelta(minutes=1)
    (cb,) = seed.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == station))
    assert (cb.vendor, cb.model, cb.charge_point_serial_number, cb.charge_box_serial_number,
            cb.firmware_version, cb.iccid, cb.imsi, cb.meter_type, cb.meter_serial_number) == (
        "Acme", "X1", "CPS-1", "CBS-1", "1.2.3", "8931", "2620", "M-T", "M-S")
    assert (cb.ocpp_version, cb.ocpp_transport, cb.soap_version) == ("1.6", "SOAP", "1.2")
    assert cb.last_boot_at is not None and cb.endpoint_address == "http://127.0.0.1:9/ocpp"


def test_heartbeat_interval_comes_from_settings(live_url, station, gateway):
    from soapgw.core.runtime_settings import RuntimeSettings
    with gateway.sessions.begin() as db:
        RuntimeSettings.save(db, {"heartbeat_interval": 42})
    reply = ok(call(live_url, station, BOOT), "BootNotification")
    assert text_of(reply, "interval") == "42"


def test_boot_of_unknown_station_is_rejected_and_recorded(live_url, seed):
    for _ in range(2):
        reply = ok(call(live_url, "NEW-1", BOOT), "BootNotification")
        assert text_of(reply, "status") == "Rejected"
    (unknown,) = seed.scalars(select(UnknownChargeBox))
    assert (unknown.charge_box_id, unknown.attempts, unknown.last_action) == (
        "NEW-1", 2, "BootNotification")
    assert seed.scalars(select(ChargeBox)) == []


def test_auto_registration_accepts_unknown_station(live_url, seed, gateway):
    from soapgw.core.runtime_settings import RuntimeSettings
    with gateway.sessions.begin() as db:
        RuntimeSettings.save(db, {"auto_register": True})
    call(live_url, "AUTO-1", "<cs:heartbeatRequest/>")  # refused: only Boot registers
    reply = ok(call(live_url, "AUTO-1", BOOT), "BootNotification")
    assert text_of(reply, "status") == "Accepted"
    assert [cb.charge_box_id for cb in seed.scalars(select(ChargeBox))] == ["AUTO-1"]
    assert seed.scalars(select(UnknownChargeBox)) == []
    ok(call(live_url, "AUTO-1", "<cs:heartbeatRequest/>"), "Heartbeat")


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_non_accepted_station_boots_with_its_status_and_nothing_else(live_url, seed, status):
    seed.station("CB-P", status=status)
    reply = ok(call(live_url, "CB-P", BOOT), "BootNotification")
    assert text_of(reply, "status") == status
    response = call(live_url, "CB-P", "<cs:heartbeatRequest/>")
    assert response.status_code == 400 and fault_subcode(response.content) == "SecurityError"
    assert status in response.text


def test_accepted_station_may_talk_without_booting(live_url, station, seed):
    reply = ok(call(live_url, station, "<cs:heartbeatRequest/>"), "Heartbeat")
    assert text_of(reply, "currentTime").endswith("+00:00")
    (cb,) = seed.scalars(select(ChargeBox))
    assert cb.last_heartbeat_at is not None and cb.last_boot_at is None


@pytest.mark.parametrize("tag, expected", [
    ("TAG1", "Accepted"), ("BLOCKED", "Blocked"), ("OLD", "Expired"), ("NOPE", "Invalid")])
def test_authorize_answers_each_tag_status(live_url, station, seed, tag, expected):
    seed.tag("BLOCKED", blocked=True)
    seed.tag("OLD", expiry_date=datetime(2020, 1, 1, tzinfo=UTC))
    reply = ok(call(live_url, station, f"<cs:authorizeRequest><cs:idTag>{tag}</cs:idTag>"
                                       "</cs:authorizeRequest>"), "Authorize")
    assert text_of(reply, "status") == expected


def test_authorize_gives_parent_and_expiry(live_url, station, seed):
    seed.tag("CHILD", parent_id_tag="TAG1", expiry_date=datetime(2099, 1, 1, tzinfo=UTC))
    reply = ok(call(live_url, station, "<cs:authorizeRequest><cs:idTag>CHILD</cs:idTag>"
                                       "</cs:authorizeRequest>"), "Authorize")
    assert text_of(reply, "parentIdTag") == "TAG1"
    assert text_of(reply, "expiryDate").startswith("2099-01-01T00:00:00")


def test_start_transaction_is_stored_and_idempotent(live_url, station, seed):
    first = ok(call(live_url, station, start_body()), "StartTransaction")
    again = ok(call(live_url, station, start_body()), "StartTransaction")
    other = ok(call(live_url, station, start_body(meter=2000)), "StartTransaction")
    assert text_of(first, "transactionId") == text_of(again, "transactionId")
    assert text_of(other, "transactionId") != text_of(first, "transactionId")
    assert text_of(first, "status") == "Accepted"
    assert text_of(other, "status") == "ConcurrentTx"  # TAG1 allows one active transaction
    (tx, _) = seed.scalars(select(Transaction).order_by(Transaction.id))
    assert (tx.meter_start, tx.start_timestamp, tx.id_tag) == (
        1000, datetime(2026, 3, 1, 10, tzinfo=UTC), "TAG1")


def test_start_with_unknown_tag_is_stored_and_the_tag_recorded_unknown(live_url, station, seed):
    reply = ok(call(live_url, station, start_body(tag="STRANGER")), "StartTransaction")
    assert text_of(reply, "status") == "Invalid"
    assert int(text_of(reply, "transactionId")) > 0
    assert seed.scalars(select(IdTag).where(IdTag.id_tag == "STRANGER")) == []
    (unknown,) = seed.scalars(select(UnknownIdTag))
    assert (unknown.id_tag, unknown.count, unknown.last_action, unknown.last_charge_box_id) == (
        "STRANGER", 1, "StartTransaction", station)
    assert len(seed.scalars(select(Transaction))) == 1


def test_unknown_tag_presented_again_is_counted_on_one_row(live_url, station, seed):
    for _ in range(3):
        ok(call(live_url, station, "<cs:authorizeRequest><cs:idTag>NOPE</cs:idTag>"
                                   "</cs:authorizeRequest>"), "Authorize")
    ok(call(live_url, station, start_body(tag="NOPE")), "StartTransaction")
    ok(call(live_url, station, "<cs:authorizeRequest><cs:idTag>TAG1</cs:idTag>"
                               "</cs:authorizeRequest>"), "Authorize")
    (unknown,) = seed.scalars(select(UnknownIdTag))
    assert (unknown.id_tag, unknown.count, unknown.last_action) == ("NOPE", 4, "StartTransaction")
    assert unknown.first_seen <= unknown.last_seen


def test_start_uses_up_a_matching_reservation(live_url, station, seed, gateway):
    ok(call(live_url, station, start_body(connector=2, tag="TAG1", meter=1)), "StartTransaction")
    ok(call(live_url, station, stop_body(1, meter=2)), "StopTransaction")
    (connector,) = seed.scalars(select(Connector).where(Connector.connector_id == 2))
    with gateway.sessions.begin() as db:
        db.add(Reservation(reservation_id=77, charge_box_pk=connector.charge_box_pk,
                           connector_pk=connector.id, id_tag="TAG1", status="Accepted",
                           expiry_date=datetime.now(UTC) + timedelta(hours=1)))
    ok(call(live_url, station, start_body(connector=2, reservation=77, meter=3)),
       "StartTransaction")
    (reservation,) = seed.scalars(select(Reservation))
    assert reservation.status == "Used" and reservation.transaction_pk is not None


def test_stop_transaction_with_transaction_data(live_url, station, seed):
    tx = text_of(ok(call(live_url, station, start_body()), "StartTransaction"), "transactionId")
    data = ("<cs:transactionData><cs:timestamp>2026-03-01T10:30:00Z</cs:timestamp>"
            "<cs:sampledValue><cs:value>3000</cs:value><cs:measurand>"
            "Energy.Active.Import.Register</cs:measurand><cs:unit>Wh</cs:unit></cs:sampledValue>"
            "</cs:transactionData>")
    reply = ok(call(live_url, station, stop_body(tx, extra="<cs:reason>Local</cs:reason>" + data)),
               "StopTransaction")
    assert reply is not None
    (row,) = seed.scalars(select(Transaction))
    assert (row.meter_stop, row.stop_reason, row.stopped_by) == (5000, "Local", "station")
    (value,) = seed.scalars(select(MeterValueRow))
    assert (value.value, value.transaction_pk, value.source, value.unit) == (
        "3000", row.id, "StopTransaction", "Wh")


@pytest.mark.parametrize("case, body, reason", [
    ("unknown id", stop_body(999), "no transaction 999"),
    ("offline start: id 0", stop_body(0), "no transaction 0"),
    ("offline start: id -1", stop_body(-1), "no transaction -1"),
    ("before start", stop_body("{tx}", timestamp="2026-03-01T09:00:00Z"), "before the start"),
    ("meter below start", stop_body("{tx}", meter=10), "below meterStart"),
])
def test_bad_stop_is_recorded_and_answered_normally(live_url, station, seed, case, body, reason):
    tx = text_of(ok(call(live_url, station, start_body()), "StartTransaction"), "transactionId")
    ok(call(live_url, station, body.replace("{tx}", tx)), "StopTransaction")
    (failed,) = seed.scalars(select(FailedStop))
    assert reason in failed.fail_reason
    (row,) = seed.scalars(select(Transaction))
    assert row.stop_timestamp is None


def test_second_different_stop_is_recorded_as_failed_duplicate_is_not(live_url, station, seed):
    tx = text_of(ok(call(live_url, station, start_body()), "StartTransaction"), "transactionId")
    ok(call(live_url, station, stop_body(tx)), "StopTransaction")
    ok(call(live_url, station, stop_body(tx)), "StopTransaction")  # the same stop again
    assert seed.scalars(select(FailedStop)) == []
    ok(call(live_url, station, stop_body(tx, meter=6000)), "StopTransaction")
    (failed,) = seed.scalars(select(FailedStop))
    assert "already stopped" in failed.fail_reason
    (row,) = seed.scalars(select(Transaction))
    assert row.meter_stop == 5000


def test_meter_values_one_row_per_sample(live_url, station, seed):
    tx = text_of(ok(call(live_url, station, start_body()), "StartTransaction"), "transactionId")
    samples = "".join(
        f"<cs:sampledValue><cs:value>{v}</cs:value><cs:context>Sample.Periodic</cs:context>"
        f"<cs:format>Raw</cs:format><cs:measurand>{m}</cs:measurand><cs:phase>L1</cs:phase>"
        f"<cs:location>Outlet</cs:location><cs:unit>{u}</cs:unit></cs:sampledValue>"
        for v, m, u in (("1500", "Energy.Active.Import.Register", "Wh"),
                        ("7.2", "Power.Active.Import", "kW")))
    body = (f"<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId>"
            f"<cs:transactionId>{tx}</cs:transactionId><cs:meterValue>"
            f"<cs:timestamp>2026-03-01T10:15:00Z</cs:timestamp>{samples}</cs:meterValue>"
            f"</cs:meterValuesRequest>")
    ok(call(live_url, station, body), "MeterValues")
    rows = seed.scalars(select(MeterValueRow).order_by(MeterValueRow.id))
    assert [(r.value, r.measurand, r.unit, r.phase, r.context, r.format, r.location)
            for r in rows] == [
        ("1500", "Energy.Active.Import.Register", "Wh", "L1", "Sample.Periodic", "Raw", "Outlet"),
        ("7.2", "Power.Active.Import", "kW", "L1", "Sample.Periodic", "Raw", "Outlet")]
    assert {r.transaction_pk for r in rows} == {int(tx)}
    assert rows[0].value_timestamp == datetime(2026, 3, 1, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize("transaction", ["-1", "0", ""])
def test_meter_values_transaction_below_one_means_none(live_url, station, seed, transaction):
    body = ("<cs:meterValuesRequest><cs:connectorId>2</cs:connectorId>"
            f"<cs:transactionId>{transaction}</cs:transactionId><cs:meterValue>"
            "<cs:timestamp>2026-03-01T10:15:00Z</cs:timestamp><cs:sampledValue><cs:value>1"
            "</cs:value></cs:sampledValue></cs:meterValue></cs:meterValuesRequest>")
    ok(call(live_url, station, body), "MeterValues")
    (row,) = seed.scalars(select(MeterValueRow))
    assert row.transaction_pk is None and row.value == "1"
    quirks = set(seed.scalars(select(StationQuirk.code)))
    assert ("empty-element" in quirks) == (transaction == "")  # <transactionId></transactionId>
    assert "unknown-transaction" not in quirks


def test_status_notification_log_and_reservation_cancel(live_url, station, seed, gateway):
    def status(value, timestamp=""):
        ts = f"<cs:timestamp>{timestamp}</cs:timestamp>" if timestamp else ""
        return (f"<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>"
                f"<cs:status>{value}</cs:status><cs:errorCode>NoError</cs:errorCode>"
                f"<cs:info>hello</cs:info>{ts}<cs:vendorId>acme</cs:vendorId>"
                f"<cs:vendorErrorCode>E1</cs:vendorErrorCode></cs:statusNotificationRequest>")
    ok(call(live_url, station, status("Available", "2026-03-01T09:00:00Z")), "StatusNotification")
    (connector,) = seed.scalars(select(Connector))
    with gateway.sessions.begin() as db:
        db.add(Reservation(reservation_id=1, charge_box_pk=connector.charge_box_pk,
                           connector_pk=connector.id, id_tag="TAG1", status="Accepted",
                           expiry_date=datetime.now(UTC) + timedelta(hours=1)))
    ok(call(live_url, station, status("Faulted")), "StatusNotification")  # no timestamp: now
    rows = seed.scalars(select(ConnectorStatus).order_by(ConnectorStatus.id))
    assert [(r.status, r.error_code, r.info, r.vendor_id, r.vendor_error_code) for r in rows] == [
        ("Available", "NoError", "hello", "acme", "E1"), ("Faulted", "NoError", "hello", "acme",
                                                         "E1")]
    assert rows[0].status_timestamp == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert abs(rows[1].status_timestamp - datetime.now(UTC)) < timedelta(minutes=1)
    (reservation,) = seed.scalars(select(Reservation))
    assert reservation.status == "Cancelled"


def test_firmware_and_diagnostics_status_are_stored(live_url, station, seed):
    ok(call(live_url, station, "<cs:firmwareStatusNotificationRequest><cs:status>Installing"
                               "</cs:status></cs:firmwareStatusNotificationRequest>"),
       "FirmwareStatusNotification")
    ok(call(live_url, station, "<cs:diagnosticsStatusNotificationRequest><cs:status>Uploaded"
                               "</cs:status></cs:diagnosticsStatusNotificationRequest>"),
       "DiagnosticsStatusNotification")
    (cb,) = seed.scalars(select(ChargeBox))
    assert (cb.firmware_status, cb.diagnostics_status) == ("Installing", "Uploaded")
    assert cb.firmware_status_at is not None and cb.diagnostics_status_at is not None


def test_data_transfer_default_answer_and_registered_vendor(live_url, station, seed, gateway):
    from soapgw.core.messages import DataTransferResponse

    @gateway.central_system.data_transfer.handler("com.acme", "Ping")
    def ping(station_id, request):
        return DataTransferResponse(status="Accepted", data=f"pong {station_id} {request.data}")

    def transfer(vendor, message):
        return ok(call(live_url, station, f"<cs:dataTransferRequest><cs:vendorId>{vendor}"
                                          f"</cs:vendorId><cs:messageId>{message}</cs:messageId>"
                                          "<cs:data>x</cs:data></cs:dataTransferRequest>"),
                  "DataTransfer")
    assert text_of(transfer("com.other", "Ping"), "status") == "UnknownVendorId"
    assert text_of(transfer("com.acme", "Nope"), "status") == "UnknownMessageId"
    reply = transfer("com.acme", "Ping")
    assert (text_of(reply, "status"), text_of(reply, "data")) == ("Accepted", "pong CB1 x")
    rows = seed.scalars(select(DataTransferRecord).order_by(DataTransferRecord.id))
    assert [(r.vendor_id, r.status, r.direction) for r in rows] == [
        ("com.other", "UnknownVendorId", "in"), ("com.acme", "UnknownMessageId", "in"),
        ("com.acme", "Accepted", "in")]


def test_reply_carries_ws_addressing(live_url, station):
    response = call(live_url, station, "<cs:heartbeatRequest/>", message_id="42",
                    action="/Heartbeat")
    assert response.headers["Content-Type"].startswith("application/soap+xml")
    assert 'action="/HeartbeatResponse"' in response.headers["Content-Type"]
    from lxml import etree
    root = etree.fromstring(response.content)
    wsa = {"a": "http://www.w3.org/2005/08/addressing", "s": SOAP12}
    assert root.xpath("/s:Envelope/s:Header/a:Action/text()", namespaces=wsa) == [
        "/HeartbeatResponse"]
    assert root.xpath("/s:Envelope/s:Header/a:RelatesTo/text()", namespaces=wsa) == ["42"]
    (message_id,) = root.xpath("/s:Envelope/s:Header/a:MessageID/text()", namespaces=wsa)
    assert message_id.startswith("urn:uuid:")
    # conventional prefixes on output (some stations insist on them)
    assert root.prefix == "s" and root[0][0].prefix == "a"


@pytest.mark.parametrize("message_id", [
    "urn:uuid:0aa92653-5cd8-465f-89d0-eca833aec4c2", "uuid:9f70d5fe-2e47-4c9e-9faa-371446c19e41",
    "7230", "1OX17K"])
def test_message_ids_that_are_not_uris_are_answered_and_journaled(live_url, station, seed,
                                                                  message_id):
    from lxml import etree
    pretty = f"\n        {message_id}\n        "  # pretty-printed: whitespace around the value
    for sent in (message_id, pretty):
        response = call(live_url, station, "<cs:heartbeatRequest/>", message_id=sent)
        ok(response, "Heartbeat")
        assert etree.fromstring(response.content).xpath(
            "//a:RelatesTo/text()", namespaces={"a": "http://www.w3.org/2005/08/addressing"}
        ) == [message_id]
    rows = seed.rows(select(JournalEntry.direction, JournalEntry.message_id,
                            JournalEntry.relates_to).order_by(JournalEntry.id))
    assert rows == [("in", message_id, None), ("out", None, message_id)] * 2


def test_callback_address_is_learnt_and_its_history_kept(live_url, station, seed):
    call(live_url, station, "<cs:heartbeatRequest/>", from_address="http://127.0.0.1:7001/a")
    call(live_url, station, "<cs:heartbeatRequest/>", from_address="http://127.0.0.1:7001/a")
    call(live_url, station, "<cs:heartbeatRequest/>", from_address="http://localhost:7002/b")
    (cb,) = seed.scalars(select(ChargeBox))
    assert (cb.endpoint_address, cb.endpoint_source) == ("http://localhost:7002/b", "wsa:From")
    history = seed.scalars(select(EndpointChange.address).order_by(EndpointChange.id))
    assert history == ["http://127.0.0.1:7001/a", "http://localhost:7002/b"]


def test_callback_quirks_are_counted_on_every_message(live_url, station, seed):
    for _ in range(3):  # judged once, then remembered: the quirk must still count each time
        call(live_url, station, "<cs:heartbeatRequest/>", from_address="127.0.0.1:7003/c")
    (quirk,) = seen = seed.scalars(select(StationQuirk).where(
        StationQuirk.code == "endpoint-without-scheme"))
    assert quirk.count == 3, seen
    (cb,) = seed.scalars(select(ChargeBox))
    assert cb.endpoint_address == "http://127.0.0.1:7003/c" and cb.endpoint_verdict == "allowed"


def test_every_message_is_journaled_in_and_out(live_url, station, seed):
    call(live_url, station, "<cs:heartbeatRequest/>", message_id="m-1")
    call(live_url, "UNKNOWN", "<cs:heartbeatRequest/>", message_id="m-2")
    rows = seed.scalars(select(JournalEntry).order_by(JournalEntry.id))
    assert [(r.direction, r.charge_box_id, r.action, r.http_status) for r in rows] == [
        ("in", "CB1", "Heartbeat", None), ("out", "CB1", "HeartbeatResponse", 200),
        ("in", "UNKNOWN", "Heartbeat", None), ("out", "UNKNOWN", "Fault:SecurityError", 400)]
    assert rows[0].message_id == "m-1" and rows[1].relates_to == "m-1"
    assert b"heartbeatRequest" in rows[0].raw and b"heartbeatResponse" in rows[1].raw
    assert rows[1].duration_ms > 0 and rows[1].soap_version == "1.2"
    assert rows[0].peer == "127.0.0.1"


def test_quirks_are_recorded_per_station(live_url, station, seed):
    body = ("<cs:startTransactionRequest><cs:idTag>TAG1</cs:idTag><connectorId>2</connectorId>"
            "<cs:timestamp>2026-03-01T10:00:00.123456</cs:timestamp><cs:meterStart>5"
            "</cs:meterStart><cs:unexpected>1</cs:unexpected></cs:startTransactionRequest>")
    ok(call(live_url, f"  {station}\n ", body), "StartTransaction")
    codes = set(seed.scalars(select(StationQuirk.code)))
    assert {"out-of-order", "unqualified-element", "unknown-element", "timestamp-without-zone",
            "identity-whitespace"} <= codes
    # ... and what came is stored: no zone read as UTC, every microsecond kept
    (transaction,) = seed.scalars(select(Transaction))
    (connector,) = seed.scalars(select(Connector.connector_id))
    assert (connector, transaction.id_tag, transaction.meter_start,
            transaction.start_timestamp) == (
        2, "TAG1", 5, datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC))
    (cb,) = seed.scalars(select(ChargeBox))
    assert cb.charge_box_id == station and cb.last_message_at is not None


@pytest.mark.parametrize("header, quirk", [
    ('<a:chargeBoxIdentity xmlns:a="http://www.w3.org/2005/08/addressing">CB1'
     "</a:chargeBoxIdentity>", "identity-namespace"),
    ("<chargeBoxIdentity>CB1</chargeBoxIdentity>", "identity-namespace"),
    ("<cs:ChargeBoxIdentity>CB1</cs:ChargeBoxIdentity>", "identity-element-name"),
    ('<cs:chargeBoxIdentity s:mustUnderstand="true">\n   CB1\n</cs:chargeBoxIdentity>',
     "identity-whitespace"),
])
def test_charge_box_identity_where_stations_put_it(live_url, station, seed, header, quirk):
    ok(call(live_url, None, "<cs:heartbeatRequest/>", extra_headers=header), "Heartbeat")
    (cb,) = seed.scalars(select(ChargeBox))
    assert cb.last_heartbeat_at is not None
    assert quirk in seed.scalars(select(StationQuirk.code).where(
        StationQuirk.charge_box_pk == cb.id))


def test_unusable_from_addresses_are_repaired_and_recorded(database_url, tmp_path):
    """wsa:From of real stations: empty host, localhost, no scheme, the word anonymous; the
    station talks from 10.0.0.7 (behind a trusted proxy, as a station on a VPN would)."""
    import ipaddress

    import requests

    from conftest import Seed, make_settings, serve_wsgi
    from soapgw.app import Gateway, create_app
    from soapgw.store.migrate import upgrade
    gateway = Gateway.from_settings(make_settings(
        database_url, tmp_path, trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),)))
    upgrade(gateway.engine)
    url, server = serve_wsgi(create_app(gateway=gateway))
    seed = Seed(gateway)
    seed.station("CB1")
    try:
        for announced in ("http://:8082/", "http://localhost:8080/", "localhost:8095",
                          "anonymous"):
            response = requests.post(
                url + "/services/CentralSystemService", timeout=30,
                data=envelope("CB1", "<cs:heartbeatRequest/>", from_address=announced),
                headers={"Content-Type": "application/soap+xml", "X-Forwarded-For": "10.0.0.7"})
            ok(response, "Heartbeat")
        history = seed.scalars(select(EndpointChange.address).order_by(EndpointChange.id))
        assert history == ["http://10.0.0.7:8082/", "http://10.0.0.7:8080/",
                           "http://10.0.0.7:8095/"]
        (cb,) = seed.scalars(select(ChargeBox))
        assert cb.endpoint_address == "http://10.0.0.7:8095/"  # "anonymous" changes nothing
        assert (cb.endpoint_peer_host, cb.endpoint_verdict) == ("10.0.0.7", "allowed")
        assert {"endpoint-empty-host", "endpoint-localhost", "anonymous"} <= set(
            seed.scalars(select(StationQuirk.code)))
    finally:
        server.shutdown()
        server.server_close()
        gateway.engine.dispose()
