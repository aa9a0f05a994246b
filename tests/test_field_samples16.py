"""Real OCPP 1.6 station messages (../shared/soap-samples) get a valid answer from the gateway."""
from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import select

from conftest import SAMPLES
from official_schema import schema_errors
from soap_messages import body_of, fault_subcode, post
from soapgw.store.models import JournalEntry, StationQuirk

REQUESTS_16 = sorted(p.name for p in SAMPLES.glob("16_*_req_*.xml")
                     if "GetCompositeSchedule" not in p.name  # CS->CP requests, not ours
                     and "SetChargingProfile" not in p.name and "RemoteStart" not in p.name)


def identity_of(data: bytes) -> str:
    root = etree.fromstring(data)
    (value,) = root.xpath("//*[local-name()='chargeBoxIdentity']/text()")
    return value.strip()


def id_tags_of(data: bytes) -> list[str]:
    return [t.strip() for t in etree.fromstring(data).xpath("//*[local-name()='idTag']/text()")]


@pytest.mark.parametrize("sample", REQUESTS_16)
def test_field_sample_gets_a_valid_answer(live_url, seed, sample):
    data = (SAMPLES / sample).read_bytes()
    seed.station(identity_of(data))  # the sample's own station id, read at test time
    for tag in id_tags_of(data):
        seed.tag(tag)
    response = post(live_url, data)
    assert response.status_code == 200, response.text
    reply = body_of(response.content)
    assert schema_errors(reply, "CentralSystemService", "1.6") == []
    operation = sample.split("_")[1]
    assert etree.QName(reply).localname == operation[0].lower() + operation[1:] + "Response"


def test_field_samples_quirks_are_recorded(live_url, seed):
    for sample in ("16_MeterValues_req_izivia.xml", "16_StartTransaction_req_izivia.xml",
                   "16_BootNotification_req_izivia-enovates-nomodel.xml"):
        data = (SAMPLES / sample).read_bytes()
        seed.station(identity_of(data))
        for tag in id_tags_of(data):
            seed.tag(tag)
        assert post(live_url, data).status_code == 200
    codes = set(seed.scalars(select(StationQuirk.code)))
    assert {"out-of-order", "missing-required"} <= codes


def test_malformed_sample_gets_a_fault_and_a_journal_entry(live_url, seed):
    data = (SAMPLES / "15_StopTransaction_req_izivia-malformed-xsi.xml").read_bytes()
    response = post(live_url, data)
    assert response.status_code == 400
    assert fault_subcode(response.content) == "FormationViolation"
    incoming = seed.scalars(select(JournalEntry).where(JournalEntry.direction == "in"))
    assert [entry.raw for entry in incoming] == [data]


def _values(data: bytes, *names: str) -> dict[str, str | None]:
    """Text of the first element of each local name in the sample (read at test time)."""
    root = etree.fromstring(data)
    found = {}
    for name in names:
        texts = root.xpath(f"//*[local-name()='{name}']/text()")
        found[name] = texts[0].strip() if texts else None
    return found


def _utc(text: str):
    from soapgw.timestamps import parse_timestamp
    return parse_timestamp(text)[0]


def test_field_samples_are_stored_as_sent(live_url, seed):
    """What each real 1.6 station said is in the database, field by field, whatever its
    prefixes, element order, missing fields or mustUnderstand headers."""
    from soapgw.store.models import (ChargeBox, Connector, ConnectorStatus, MeterValueRow,
                                     Transaction)
    boot_fields = ("chargePointVendor", "chargePointModel", "chargePointSerialNumber",
                   "chargeBoxSerialNumber", "firmwareVersion", "iccid", "imsi", "meterType",
                   "meterSerialNumber")
    for sample in REQUESTS_16:
        data = (SAMPLES / sample).read_bytes()
        identity = identity_of(data)
        seed.station(identity)
        for tag in id_tags_of(data):
            seed.tag(tag)
        assert post(live_url, data).status_code == 200, sample

        (cb,) = seed.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == identity))
        assert (cb.ocpp_version, cb.soap_version) == ("1.6", "1.2")
        operation = sample.split("_")[1]
        if operation == "BootNotification":
            sent = _values(data, *boot_fields)
            assert [cb.vendor, cb.model, cb.charge_point_serial_number,
                    cb.charge_box_serial_number, cb.firmware_version, cb.iccid, cb.imsi,
                    cb.meter_type, cb.meter_serial_number] == [sent[f] for f in boot_fields]
            assert cb.last_boot_at is not None
        elif operation == "Heartbeat":
            assert cb.last_heartbeat_at is not None
        elif operation == "FirmwareStatusNotification":
            assert cb.firmware_status == _values(data, "status")["status"]
        elif operation == "StatusNotification":
            sent = _values(data, "connectorId", "status", "errorCode", "info", "timestamp",
                           "vendorId", "vendorErrorCode")
            (row,) = seed.rows(select(Connector.connector_id, ConnectorStatus.status,
                                      ConnectorStatus.error_code, ConnectorStatus.info,
                                      ConnectorStatus.status_timestamp,
                                      ConnectorStatus.vendor_id,
                                      ConnectorStatus.vendor_error_code)
                               .join(Connector).where(Connector.charge_box_pk == cb.id))
            assert tuple(row) == (int(sent["connectorId"]), sent["status"], sent["errorCode"],
                                  sent["info"], _utc(sent["timestamp"]), sent["vendorId"],
                                  sent["vendorErrorCode"])
        elif operation == "StartTransaction":  # meterStart before timestamp in the sample
            sent = _values(data, "connectorId", "idTag", "meterStart", "timestamp")
            (row,) = seed.rows(select(Connector.connector_id, Transaction.id_tag,
                                      Transaction.meter_start, Transaction.start_timestamp)
                               .join(Connector).where(Connector.charge_box_pk == cb.id))
            assert tuple(row) == (int(sent["connectorId"]), sent["idTag"],
                                  int(sent["meterStart"]), _utc(sent["timestamp"]))
        elif operation == "MeterValues":  # value last in its sampledValue in the sample
            sent = _values(data, "connectorId", "timestamp", "value", "context", "measurand",
                           "location", "unit")
            (row,) = seed.rows(select(Connector.connector_id, MeterValueRow.value_timestamp,
                                      MeterValueRow.value, MeterValueRow.context,
                                      MeterValueRow.measurand, MeterValueRow.location,
                                      MeterValueRow.unit, MeterValueRow.transaction_pk)
                               .join(Connector).where(Connector.charge_box_pk == cb.id))
            assert tuple(row) == (int(sent["connectorId"]), _utc(sent["timestamp"]),
                                  sent["value"], sent["context"], sent["measurand"],
                                  sent["location"], sent["unit"], None)
        else:
            pytest.fail(f"no check for {sample}")
    codes = dict(seed.rows(select(StationQuirk.code, StationQuirk.detail)))
    assert "unknown-transaction" in codes  # the sample's transactionId is not ours
    assert "chargePointModel is missing" in codes["missing-required"]
