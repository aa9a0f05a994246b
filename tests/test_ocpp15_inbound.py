"""OCPP 1.5 CentralSystemService over real HTTP, on the endpoint 1.6 stations use, on SQLite and
PostgreSQL: every answer valid against the official 1.5 schema, and a 1.5 station leaving the
same rows as a 1.6 station running the same session."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
from lxml import etree
from sqlalchemy import select

from conftest import SAMPLES
from official_schema import official_wsdl, schema_errors
from soap_messages import (BOOT, CS15, CS16, SERVICE_PATH, SOAP12, WSA, body_of, envelope,
                           fault_subcode, post, text_of)
from soapgw.store.models import (ChargeBox, Connector, ConnectorStatus, DataTransferRecord,
                                 FailedStop, JournalEntry, MeterValueRow, StationQuirk,
                                 Transaction)
from wsdl_structure import compare

UTC = timezone.utc


def call(url, identity, body, ns=CS15, **kwargs):
    return post(url, envelope(identity, body, ns=ns, **kwargs))


def ok15(response, operation: str) -> etree._Element:
    """The reply body element, checked: HTTP 200, 1.5 WS-A action, valid 1.5 schema."""
    assert response.status_code == 200, response.text
    assert f'action="/{operation}Response"' in response.headers["Content-Type"]
    element = body_of(response.content)
    assert element.tag == f"{{{CS15}}}{operation[0].lower()}{operation[1:]}Response"
    assert schema_errors(element, "CentralSystemService", "1.5") == []
    actions = etree.fromstring(response.content).xpath("//a:Action/text()", namespaces={"a": WSA})
    assert actions == [f"/{operation}Response"]
    return element


@pytest.fixture
def station(seed):
    seed.station("CB15")
    seed.tag("TAG1")
    return "CB15"


# --- every operation ----------------------------------------------------------------------
BOOT15 = ("<cs:bootNotificationRequest><cs:chargePointVendor>Acme</cs:chargePointVendor>"
          "<cs:chargePointModel>X1</cs:chargePointModel></cs:bootNotificationRequest>")
REQUESTS15 = {
    "Authorize": "<cs:authorizeRequest><cs:idTag>TAG1</cs:idTag></cs:authorizeRequest>",
    "BootNotification": BOOT15,
    "DataTransfer": ("<cs:dataTransferRequest><cs:vendorId>com.example</cs:vendorId>"
                     "<cs:messageId>Ping</cs:messageId><cs:data>x</cs:data>"
                     "</cs:dataTransferRequest>"),
    "DiagnosticsStatusNotification": ("<cs:diagnosticsStatusNotificationRequest><cs:status>"
                                      "Uploaded</cs:status>"
                                      "</cs:diagnosticsStatusNotificationRequest>"),
    "FirmwareStatusNotification": ("<cs:firmwareStatusNotificationRequest><cs:status>"
                                   "Installed</cs:status></cs:firmwareStatusNotificationRequest>"),
    "Heartbeat": "<cs:heartbeatRequest/>",
    "MeterValues": ("<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:values>"
                    "<cs:timestamp>2026-03-01T10:30:00Z</cs:timestamp>"
                    '<cs:value unit="Amp" measurand="Current.Import">16</cs:value>'
                    "</cs:values></cs:meterValuesRequest>"),
    "StartTransaction": ("<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
                         "<cs:idTag>TAG1</cs:idTag><cs:timestamp>2026-03-01T10:00:00Z"
                         "</cs:timestamp><cs:meterStart>0</cs:meterStart>"
                         "</cs:startTransactionRequest>"),
    "StatusNotification": ("<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>"
                           "<cs:status>Occupied</cs:status><cs:errorCode>NoError</cs:errorCode>"
                           "</cs:statusNotificationRequest>"),
    "StopTransaction": ("<cs:stopTransactionRequest><cs:transactionId>999</cs:transactionId>"
                        "<cs:idTag>TAG1</cs:idTag><cs:timestamp>2026-03-01T11:00:00Z"
                        "</cs:timestamp><cs:meterStop>10</cs:meterStop>"
                        "</cs:stopTransactionRequest>"),
}


@pytest.mark.parametrize("operation", sorted(REQUESTS15))
def test_every_15_operation_gets_a_valid_15_answer(live_url, station, operation):
    message_id = "urn:uuid:15-" + operation
    response = call(live_url, station, REQUESTS15[operation], action=f"/{operation}",
                    message_id=message_id)
    ok15(response, operation)
    relates = etree.fromstring(response.content).xpath("//a:RelatesTo/text()",
                                                       namespaces={"a": WSA})
    assert relates == [message_id]


@pytest.mark.smoke
def test_15_boot_answers_heartbeat_interval_on_the_shared_endpoint(live_url, station, seed):
    reply = ok15(call(live_url, station, BOOT15, action="/BootNotification"), "BootNotification")
    assert text_of(reply, "status") == "Accepted"
    assert text_of(reply, "heartbeatInterval") == "300"
    assert text_of(reply, "interval") is None
    (cb,) = seed.scalars(select(ChargeBox))
    assert (cb.vendor, cb.model, cb.ocpp_version) == ("Acme", "X1", "1.5")


@pytest.mark.parametrize("status, answered", [("Pending", "Rejected"), ("Rejected", "Rejected")])
def test_15_station_not_accepted_is_answered_rejected_as_15_has_no_pending(
        live_url, seed, status, answered):
    seed.station("CB-P", status=status)
    reply = ok15(call(live_url, "CB-P", BOOT15), "BootNotification")
    assert text_of(reply, "status") == answered
    response = call(live_url, "CB-P", "<cs:heartbeatRequest/>")
    assert response.status_code == 400 and fault_subcode(response.content) == "SecurityError"


def test_15_faults_carry_the_15_namespace(live_url):
    response = call(live_url, "NOBODY", "<cs:heartbeatRequest/>")
    assert response.status_code == 400
    (subcode,) = etree.fromstring(response.content).xpath(
        "//s:Subcode/s:Value", namespaces={"s": SOAP12})
    assert subcode.text == "ocpp:SecurityError" and subcode.nsmap["ocpp"] == CS15


@pytest.mark.parametrize("values, code", [
    ("<cs:values><cs:timestamp>yesterday</cs:timestamp><cs:value>1</cs:value></cs:values>",
     "TypeConstraintViolation"),
    ("<cs:values><cs:value>1</cs:value></cs:values>", "OccurenceConstraintViolation"),
])
def test_15_meter_values_without_a_usable_timestamp_are_refused(live_url, station, values,
                                                                 code):
    body = (f"<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId>{values}"
            "</cs:meterValuesRequest>")
    response = call(live_url, station, body)
    assert response.status_code == 400 and fault_subcode(response.content) == code


def test_15_reading_attribute_outside_the_vocabulary_is_kept_and_recorded(live_url, station,
                                                                          seed):
    body = ("<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:values>"
            "<cs:timestamp>2026-03-01T10:30:00Z</cs:timestamp>"
            '<cs:value unit="Hertz" measurand="Frequency"> 50 </cs:value>'
            "</cs:values></cs:meterValuesRequest>")
    ok15(call(live_url, station, body), "MeterValues")
    (row,) = seed.scalars(select(MeterValueRow))
    assert (row.value, row.unit, row.measurand) == ("50", "Hertz", "Frequency")
    assert "invalid-value" in seed.scalars(select(StationQuirk.code))


@pytest.mark.parametrize("attributes, quirk", [
    ('unit=" Amp " measurand="Current.Import "', None),  # trimmed like element text
    ('cs:unit="Amp" measurand="Current.Import"', "qualified-attribute"),  # spyne dropped it
    ('unit="Amp" measurand="Current.Import" phase="L1"', "unknown-attribute"),
])
def test_15_reading_attributes_are_repaired_by_the_reader(live_url, station, seed, attributes,
                                                         quirk):
    body = ("<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:values>"
            f"<cs:timestamp>2026-03-01T10:30:00Z</cs:timestamp><cs:value {attributes}>16"
            "</cs:value></cs:values></cs:meterValuesRequest>")
    ok15(call(live_url, station, body, action="/MeterValues"), "MeterValues")
    (row,) = seed.scalars(select(MeterValueRow))
    assert (row.value, row.unit, row.measurand, row.phase) == ("16", "A", "Current.Import", None)
    assert set(seed.scalars(select(StationQuirk.code))) == ({quirk} if quirk else set())


# --- WSDL ---------------------------------------------------------------------------------
def test_15_path_serves_the_15_wsdl_and_the_shared_path_stays_16(live_url, tmp_path):
    document = requests.get(f"{live_url}{SERVICE_PATH}OCPP15?wsdl", timeout=30)
    assert document.status_code == 200
    served = tmp_path / "served15.wsdl"
    served.write_bytes(document.content)
    assert compare(official_wsdl("CentralSystemService", "1.5"), served,
                   allow_missing_unreferenced=True) == []
    assert f"{live_url}{SERVICE_PATH}OCPP15".encode() in document.content
    shared = requests.get(f"{live_url}{SERVICE_PATH}?wsdl", timeout=30)
    assert etree.fromstring(shared.content).get("targetNamespace") == CS16


# --- a 1.5 and a 1.6 station running the same session -------------------------------------
# (measurand, 1.5 unit, 1.6 unit, value); 1.6 readings carry no phase, which 1.5 cannot say
READINGS = [("Energy.Active.Import.Register", "Wh", "Wh", "1500"),
            ("Current.Import", "Amp", "A", "16.2"),
            ("Voltage", "Volt", "V", "231.5"),
            ("Power.Active.Import", "kW", "kW", "3.7"),
            ("Temperature", "Celsius", "Celsius", "31")]


def _reading(version: str, measurand, unit15, unit16, value, context="Sample.Periodic",
             location="Outlet") -> str:
    if version == "1.5":
        return (f'<cs:value context="{context}" format="Raw" measurand="{measurand}" '
                f'location="{location}" unit="{unit15}">{value}</cs:value>')
    return (f"<cs:sampledValue><cs:value>{value}</cs:value><cs:context>{context}</cs:context>"
            f"<cs:format>Raw</cs:format><cs:measurand>{measurand}</cs:measurand>"
            f"<cs:location>{location}</cs:location><cs:unit>{unit16}</cs:unit>"
            "</cs:sampledValue>")


def _meter_value(version: str, timestamp: str, readings, **attributes) -> str:
    """One MeterValue: 1.5 ``values`` (or ``values`` inside transactionData), 1.6 ``meterValue``."""
    inner = "".join(_reading(version, *r, **attributes) for r in readings)
    tag = "values" if version == "1.5" else "meterValue"
    return f"<cs:{tag}><cs:timestamp>{timestamp}</cs:timestamp>{inner}</cs:{tag}>"


def _status(connector: int, version: str, status15, status16, error15="NoError",
            error16="NoError", timestamp="2026-03-01T09:59:00Z", info="") -> str:
    status, error = (status15, error15) if version == "1.5" else (status16, error16)
    extra = f"<cs:info>{info}</cs:info>" if info else ""
    return (f"<cs:statusNotificationRequest><cs:connectorId>{connector}</cs:connectorId>"
            f"<cs:status>{status}</cs:status><cs:errorCode>{error}</cs:errorCode>{extra}"
            f"<cs:timestamp>{timestamp}</cs:timestamp><cs:vendorId>com.example</cs:vendorId>"
            "<cs:vendorErrorCode>V1</cs:vendorErrorCode></cs:statusNotificationRequest>")


def run_session(url: str, identity: str, version: str) -> None:
    """Boot, status, authorize, start, meter values, stop with transactionData, data transfer,
    firmware and diagnostics status: the same session said in OCPP 1.5 or 1.6."""
    ns = CS15 if version == "1.5" else CS16

    def send(operation: str, body: str) -> etree._Element:
        response = call(url, identity, body, ns=ns, action=f"/{operation}")
        assert response.status_code == 200, response.text
        element = body_of(response.content)
        assert schema_errors(element, "CentralSystemService", version) == []
        return element

    assert text_of(send("BootNotification", BOOT), "status") == "Accepted"
    send("StatusNotification", _status(0, version, "Available", "Available"))
    send("StatusNotification", _status(1, version, "Available", "Available"))
    send("StatusNotification", _status(2, version, "Faulted", "Faulted", "Mode3Error",
                                       "EVCommunicationError", info="pilot lost"))
    send("StatusNotification", _status(2, version, "Reserved", "Reserved",
                                       timestamp="2026-03-01T09:59:30Z"))
    authorize = send("Authorize", "<cs:authorizeRequest><cs:idTag>TAG1</cs:idTag>"
                                  "</cs:authorizeRequest>")
    assert text_of(authorize, "status") == "Accepted"
    start = send("StartTransaction",
                 "<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
                 "<cs:idTag>TAG1</cs:idTag><cs:timestamp>2026-03-01T10:00:00Z</cs:timestamp>"
                 "<cs:meterStart>1000</cs:meterStart></cs:startTransactionRequest>")
    transaction_id = text_of(start, "transactionId")
    send("StatusNotification", _status(1, version, "Occupied", "Charging",
                                       timestamp="2026-03-01T10:00:01Z"))
    send("MeterValues",
         f"<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId>"
         f"<cs:transactionId>{transaction_id}</cs:transactionId>"
         + _meter_value(version, "2026-03-01T10:15:00Z", READINGS)
         + _meter_value(version, "2026-03-01T10:30:00Z", READINGS[:2], location="Inlet")
         + "</cs:meterValuesRequest>")
    send("MeterValues",  # a clock-aligned reading outside any transaction
         "<cs:meterValuesRequest><cs:connectorId>0</cs:connectorId>"
         + _meter_value(version, "2026-03-01T10:20:00Z", READINGS[:1], context="Sample.Clock")
         + "</cs:meterValuesRequest>")
    begin = _meter_value(version, "2026-03-01T10:00:00Z", READINGS[:1],
                         context="Transaction.Begin")
    end = _meter_value(version, "2026-03-01T11:00:00Z", READINGS[:3], context="Transaction.End")
    if version == "1.5":  # each transactionData holds `values`
        data = (f"<cs:transactionData>{begin}</cs:transactionData>"
                f"<cs:transactionData>{end}</cs:transactionData>")
    else:
        data = (begin + end).replace("cs:meterValue>", "cs:transactionData>")
    stop = send("StopTransaction",
                f"<cs:stopTransactionRequest><cs:transactionId>{transaction_id}"
                "</cs:transactionId><cs:idTag>TAG1</cs:idTag>"
                "<cs:timestamp>2026-03-01T11:00:00Z</cs:timestamp>"
                f"<cs:meterStop>6000</cs:meterStop>{data}</cs:stopTransactionRequest>")
    assert text_of(stop, "status") == "Accepted"
    send("StatusNotification", _status(1, version, "Available", "Available",
                                       timestamp="2026-03-01T11:00:05Z"))
    transfer = send("DataTransfer", "<cs:dataTransferRequest><cs:vendorId>com.example"
                                    "</cs:vendorId><cs:messageId>Ping</cs:messageId>"
                                    "<cs:data>{\"n\": 1}</cs:data></cs:dataTransferRequest>")
    assert text_of(transfer, "status") == "UnknownVendorId"
    send("FirmwareStatusNotification", "<cs:firmwareStatusNotificationRequest>"
                                       "<cs:status>DownloadFailed</cs:status>"
                                       "</cs:firmwareStatusNotificationRequest>")
    send("DiagnosticsStatusNotification", "<cs:diagnosticsStatusNotificationRequest>"
                                          "<cs:status>UploadFailed</cs:status>"
                                          "</cs:diagnosticsStatusNotificationRequest>")


def station_rows(seed, identity: str) -> dict[str, list[tuple]]:
    """What a session left in the database, ids and times of receipt left out."""
    (cb,) = seed.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == identity))
    transactions = seed.rows(
        select(Transaction.id, Connector.connector_id, Transaction.id_tag,
               Transaction.start_timestamp, Transaction.meter_start, Transaction.reservation_id,
               Transaction.start_status, Transaction.stop_timestamp, Transaction.meter_stop,
               Transaction.stop_reason, Transaction.stop_id_tag, Transaction.stopped_by)
        .join(Connector).where(Connector.charge_box_pk == cb.id).order_by(Transaction.id))
    number = {row[0]: index for index, row in enumerate(transactions)}  # ids differ: use order
    meter_values = seed.rows(
        select(Connector.connector_id, MeterValueRow.transaction_pk,
               MeterValueRow.value_timestamp, MeterValueRow.value, MeterValueRow.context,
               MeterValueRow.format, MeterValueRow.measurand, MeterValueRow.phase,
               MeterValueRow.location, MeterValueRow.unit, MeterValueRow.source)
        .join(Connector).where(Connector.charge_box_pk == cb.id))
    return {
        "charge_box": [(cb.registration_status, cb.vendor, cb.model,
                        cb.charge_point_serial_number, cb.charge_box_serial_number,
                        cb.firmware_version, cb.iccid, cb.imsi, cb.meter_type,
                        cb.meter_serial_number, cb.firmware_status, cb.diagnostics_status,
                        cb.last_boot_at is not None)],
        "connector_status": sorted(seed.rows(
            select(Connector.connector_id, ConnectorStatus.status,
                   ConnectorStatus.error_code, ConnectorStatus.info, ConnectorStatus.vendor_id,
                   ConnectorStatus.vendor_error_code, ConnectorStatus.status_timestamp)
            .join(Connector).where(Connector.charge_box_pk == cb.id))),
        "transaction": [(number[row[0]], *row[1:]) for row in transactions],
        "meter_value": sorted(((row[0], number.get(row[1]), *row[2:]) for row in meter_values),
                              key=repr),
        "data_transfer": sorted(seed.rows(
            select(DataTransferRecord.direction, DataTransferRecord.vendor_id,
                   DataTransferRecord.message_id, DataTransferRecord.data,
                   DataTransferRecord.status, DataTransferRecord.response_data)
            .where(DataTransferRecord.charge_box_pk == cb.id))),
        "station_quirk": sorted(seed.scalars(
            select(StationQuirk.code).where(StationQuirk.charge_box_pk == cb.id))),
    }


def test_15_and_16_stations_running_the_same_session_leave_the_same_rows(live_url, seed):
    for identity in ("CB15", "CB16"):
        seed.station(identity)
    seed.tag("TAG1", max_active_transactions=0)
    run_session(live_url, "CB15", "1.5")
    run_session(live_url, "CB16", "1.6")
    rows15, rows16 = station_rows(seed, "CB15"), station_rows(seed, "CB16")
    for table in rows16:
        assert rows15[table] == rows16[table], table
    # the session is all there, in the 1.6 vocabulary
    assert len(rows15["meter_value"]) == 5 + 2 + 1 + 1 + 3
    assert {row[9] for row in rows15["meter_value"]} == {"Wh", "A", "V", "kW", "Celsius"}
    assert ("Charging" in {row[1] for row in rows15["connector_status"]}
            and "EVCommunicationError" in {row[2] for row in rows15["connector_status"]})
    assert rows15["transaction"][0][7:] == (datetime(2026, 3, 1, 11, tzinfo=UTC), 6000, None,
                                            "TAG1", "station")
    assert rows15["charge_box"][0][10:] == ("DownloadFailed", "UploadFailed", True)
    versions = dict(seed.rows(select(ChargeBox.charge_box_id, ChargeBox.ocpp_version)))
    assert versions == {"CB15": "1.5", "CB16": "1.6"}
    assert seed.scalars(select(FailedStop)) == []


def test_station_booting_in_15_then_in_16_gets_its_version_updated(live_url, station, seed):
    def version():
        return seed.scalars(select(ChargeBox.ocpp_version).where(
            ChargeBox.charge_box_id == station))[0]

    ok15(call(live_url, station, BOOT15), "BootNotification")
    assert version() == "1.5"
    response = call(live_url, station, BOOT15, ns=CS16)
    assert response.status_code == 200
    assert text_of(body_of(response.content), "interval") == "300"
    assert version() == "1.6"
    ok15(call(live_url, station, "<cs:heartbeatRequest/>"), "Heartbeat")  # and back
    assert version() == "1.5"


# --- OCPP 1.2 -----------------------------------------------------------------------------
def test_ocpp12_request_gets_a_not_supported_soap12_fault(live_url, station, seed):
    response = call(live_url, station, "<cs:heartbeatRequest/>", ns="urn://Ocpp/Cs/2010/08/",
                    action="/Heartbeat")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/soap+xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{SOAP12}}}Envelope"
    assert root.xpath("//s:Fault/s:Code/s:Value/text()", namespaces={"s": SOAP12}) == [
        "s:Sender"]
    assert fault_subcode(response.content) == "NotSupported"
    assert "1.2" in text_of(root, "Text")
    assert seed.scalars(select(ChargeBox.ocpp_version)) == [None]  # not taken for a 1.x talk


# --- field samples ------------------------------------------------------------------------
REQUESTS_15 = sorted(p.name for p in SAMPLES.glob("15_*_req_*.xml"))
MALFORMED = "15_StopTransaction_req_izivia-malformed-xsi.xml"


def _texts(data: bytes, local_name: str) -> list[str]:
    return [t.strip() for t in etree.fromstring(data).xpath(
        f"//*[local-name()='{local_name}']/text()")]


def test_the_15_sample_corpus_is_there():
    assert MALFORMED in REQUESTS_15 and len(REQUESTS_15) >= 4


@pytest.mark.parametrize("sample", [s for s in REQUESTS_15 if s != MALFORMED])
def test_15_field_sample_gets_a_valid_15_answer(live_url, seed, sample):
    data = (SAMPLES / sample).read_bytes()
    for identity in _texts(data, "chargeBoxIdentity"):  # read from the sample at test time
        seed.station(identity)
    for tag in _texts(data, "idTag"):
        seed.tag(tag)
    response = post(live_url, data)
    operation = sample.split("_")[1]
    ok15(response, operation)
    (entry,) = seed.scalars(select(JournalEntry).where(JournalEntry.direction == "out"))
    assert (entry.ocpp_version, entry.action, entry.fault_code) == (
        "1.5", f"{operation}Response", None)


def test_malformed_15_sample_gets_a_formation_violation_and_a_journal_entry(live_url, seed):
    data = (SAMPLES / MALFORMED).read_bytes()
    response = post(live_url, data)
    assert response.status_code == 400
    assert fault_subcode(response.content) == "FormationViolation"
    entries = seed.scalars(select(JournalEntry).order_by(JournalEntry.id))
    assert [(e.direction, e.raw == data, e.fault_code) for e in entries] == [
        ("in", True, None), ("out", False, "FormationViolation")]
    assert entries[1].http_status == 400


def test_15_field_samples_are_stored_as_sent(live_url, seed):
    """gSOAP-style headers (mustUnderstand To/Action, From with an empty host), default
    namespaces, a pretty-printed MessageID: what the stations said is in the database."""
    from soapgw.timestamps import parse_timestamp
    samples = [s for s in REQUESTS_15 if s != MALFORMED]
    for sample in samples:
        data = (SAMPLES / sample).read_bytes()
        (identity,) = _texts(data, "chargeBoxIdentity")
        seed.station(identity)
        response = post(live_url, data)
        assert response.status_code == 200, sample
        (message_id,) = _texts(data, "MessageID")  # stripped: the sample has a newline in it
        assert etree.fromstring(response.content).xpath(
            "//a:RelatesTo/text()", namespaces={"a": WSA}) == [message_id]
        (cb,) = seed.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == identity))
        assert cb.ocpp_version == "1.5"
        operation = sample.split("_")[1]
        if operation == "Authorize":
            assert text_of(body_of(response.content), "status") == "Invalid"  # tag unknown
        elif operation == "DataTransfer":
            (row,) = seed.rows(select(DataTransferRecord.vendor_id, DataTransferRecord.message_id,
                                      DataTransferRecord.data, DataTransferRecord.status)
                               .where(DataTransferRecord.charge_box_pk == cb.id))
            assert tuple(row) == (*(_texts(data, n)[0] for n in ("vendorId", "messageId",
                                                                  "data")), "UnknownVendorId")
        elif operation == "StopTransaction":  # not one of ours: a failed stop, answered
            (row,) = seed.rows(select(FailedStop.transaction_id, FailedStop.id_tag,
                                      FailedStop.meter_stop, FailedStop.stop_timestamp)
                               .where(FailedStop.charge_box_pk == cb.id))
            sent = {n: _texts(data, n)[0] for n in ("transactionId", "idTag", "meterStop",
                                                    "timestamp")}
            assert tuple(row) == (int(sent["transactionId"]), sent["idTag"],
                                  int(sent["meterStop"]), parse_timestamp(sent["timestamp"])[0])
        else:
            pytest.fail(f"no check for {sample}")
    # From http://:8082/ (gSOAP): the empty host is the peer's (loopback here), a quirk
    assert "endpoint-empty-host" in seed.scalars(select(StationQuirk.code))
    assert len(seed.scalars(select(JournalEntry))) == 2 * len(samples)


@pytest.mark.parametrize("path, ns", [("OCPP15", CS15), ("OCPP16", CS16), ("OCPP15", CS16)])
def test_version_specific_paths_take_messages_too(live_url, station, seed, path, ns):
    # dispatch is by the namespace of the Body child, whatever the path
    response = post(live_url, envelope(station, "<cs:heartbeatRequest/>", ns=ns),
                    path=f"{SERVICE_PATH}{path}")
    assert response.status_code == 200, response.text
    assert body_of(response.content).tag == f"{{{ns}}}heartbeatResponse"
    assert seed.scalars(select(ChargeBox.ocpp_version)) == ["1.5" if ns == CS15 else "1.6"]
