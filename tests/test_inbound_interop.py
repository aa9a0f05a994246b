"""Interoperability: a charge point built with node-soap from the OFFICIAL OCPP
CentralSystemService WSDLs runs a whole session against `soapgw serve`, in OCPP 1.5 and 1.6."""
from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timezone

import pytest
from lxml import etree
from sqlalchemy import select

from conftest import OFFICIAL_WSDL, ROOT, Seed, command_env, make_settings, soapgw_command
from soap_messages import SERVICE_PATH, SOAP12, WSA
from soapgw.app import Gateway
from soapgw.store.models import (ChargeBox, Connector, ConnectorStatus, DataTransferRecord,
                                 JournalEntry, MeterValueRow, StationQuirk, Transaction)

INTEROP = ROOT / "tests" / "interop"
CLIENT = INTEROP / "centralsystem_client.js"
WSDLS = {"1.5": OFFICIAL_WSDL / "1.5" / "ocpp_centralsystemservice_1.5_final.wsdl",
         "1.6": OFFICIAL_WSDL / "1.6" / "OCPP_CentralSystemService_1.6.wsdl"}
NAMESPACES = {"1.5": "urn://Ocpp/Cs/2012/06/", "1.6": "urn://Ocpp/Cs/2015/10/"}
FROM = "http://127.0.0.1:9/node-station"
TAG = "NODE-TAG"
OPERATIONS = ["BootNotification", "Heartbeat", "StatusNotification", "Authorize",
              "StartTransaction", "MeterValues", "StopTransaction", "DataTransfer",
              "FirmwareStatusNotification", "DiagnosticsStatusNotification"]
UTC = timezone.utc


def _node_client_skip_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed: the node-soap interoperability tests need it"
    if not (INTEROP / "node_modules" / "soap").is_dir():
        return "node-soap is not installed: run `npm ci --prefix tests/interop` (make test does)"
    if not all(path.is_file() for path in WSDLS.values()):
        return f"the official WSDLs are not at {OFFICIAL_WSDL}"
    return None


pytestmark = pytest.mark.skipif(_node_client_skip_reason() is not None,
                                reason=_node_client_skip_reason() or "")


def utc(value: datetime) -> datetime:
    """Database timestamps as aware UTC (SQLite hands them back naive)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def run_node_session(version: str, base_url: str, identity: str) -> dict:
    process = subprocess.run(["node", str(CLIENT), str(WSDLS[version]), version,
                              base_url + SERVICE_PATH, identity, TAG, FROM],
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, f"the node charge point failed: {process.stderr}"
    return json.loads(process.stdout)


def register(database_url: str, identity: str) -> None:
    env = command_env(database_url)
    for args in (("db", "upgrade"), ("chargebox", "add", identity), ("tag", "add", TAG)):
        result = soapgw_command(*args, env=env)
        assert result.returncode == 0, f"soapgw {' '.join(args)}: {result.stderr}"


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_node_soap_charge_point_runs_a_whole_session(version, database_url, served_gateway,
                                                    tmp_path):
    identity = f"NODE-{version}"
    register(database_url, identity)
    url = served_gateway(database_url)
    output = run_node_session(version, url, identity)
    results = output["results"]

    # --- the answers, as node-soap read them with the official WSDL ---
    assert list(results) == OPERATIONS
    boot = results["BootNotification"]
    assert boot["status"] == "Accepted"
    assert boot["heartbeatInterval" if version == "1.5" else "interval"] == 300
    assert ("interval" if version == "1.5" else "heartbeatInterval") not in boot
    assert boot["currentTime"] and results["Heartbeat"]["currentTime"]
    assert results["Authorize"]["idTagInfo"]["status"] == "Accepted"
    start = results["StartTransaction"]
    assert start["idTagInfo"]["status"] == "Accepted"
    transaction_id = start["transactionId"]
    assert isinstance(transaction_id, int) and transaction_id > 0
    assert results["StopTransaction"]["idTagInfo"]["status"] == "Accepted"
    assert results["DataTransfer"] == {"status": "UnknownVendorId"}  # no vendor handler here
    for empty in ("StatusNotification", "MeterValues", "FirmwareStatusNotification",
                  "DiagnosticsStatusNotification"):
        assert results[empty] in (None, {}), empty

    # --- what node-soap sent: SOAP 1.2, chargeBoxIdentity and WS-Addressing headers ---
    assert output["contentTypes"] == [
        f'application/soap+xml; charset=utf-8; action="/{op}"' for op in OPERATIONS]
    message_ids = []
    for raw, operation in zip(output["requests"], OPERATIONS):
        root = etree.fromstring(raw.encode())
        assert etree.QName(root).namespace == SOAP12
        (identity_header,) = root.xpath("//*[local-name()='chargeBoxIdentity']")
        assert etree.QName(identity_header).namespace == NAMESPACES[version]
        assert identity_header.text == identity
        wsa = {"a": WSA}
        assert root.xpath("//a:Action/text()", namespaces=wsa) == [f"/{operation}"]
        assert root.xpath("//a:From/a:Address/text()", namespaces=wsa) == [FROM]
        message_ids += root.xpath("//a:MessageID/text()", namespaces=wsa)
    assert len(set(message_ids)) == len(OPERATIONS)

    # --- the database ---
    gateway = Gateway.from_settings(make_settings(database_url, tmp_path))
    try:
        seed = Seed(gateway)
        (cb,) = seed.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == identity))
        assert (cb.ocpp_version, cb.ocpp_transport, cb.soap_version) == (version, "SOAP", "1.2")
        assert cb.endpoint_address == FROM
        assert (cb.vendor, cb.model, cb.charge_point_serial_number, cb.firmware_version) == (
            "NodeSoap", f"CP-{version}", "NS-1", "0.9.0")
        assert (cb.firmware_status, cb.diagnostics_status) == ("Installed", "Uploaded")
        assert cb.last_boot_at is not None and cb.last_heartbeat_at is not None

        (transaction,) = seed.scalars(select(Transaction))
        assert transaction.id == transaction_id
        assert (transaction.id_tag, transaction.meter_start, transaction.start_status) == (
            TAG, 1000, "Accepted")
        assert utc(transaction.start_timestamp) == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
        assert transaction.stop_timestamp is not None
        assert utc(transaction.stop_timestamp) == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
        assert (transaction.meter_stop, transaction.stop_id_tag, transaction.stopped_by) == (
            6000, TAG, "station")
        assert transaction.stop_reason == ("Local" if version == "1.6" else None)

        values = seed.rows(
            select(Connector.connector_id, MeterValueRow.transaction_pk,
                   MeterValueRow.value_timestamp, MeterValueRow.value, MeterValueRow.context,
                   MeterValueRow.measurand, MeterValueRow.location, MeterValueRow.unit,
                   MeterValueRow.source).join(Connector))
        assert sorted((*row[:2], utc(row[2]), *row[3:]) for row in values) == sorted([
            (1, transaction_id, datetime(2026, 3, 1, 10, 15, tzinfo=UTC), "2500",
             "Sample.Periodic", "Energy.Active.Import.Register", "Outlet", "Wh", "MeterValues"),
            (1, transaction_id, datetime(2026, 3, 1, 10, 15, tzinfo=UTC), "16.2",
             "Sample.Periodic", "Current.Import", "Outlet", "A", "MeterValues"),
            (1, transaction_id, datetime(2026, 3, 1, 11, 0, tzinfo=UTC), "6000",
             "Transaction.End", "Energy.Active.Import.Register", "Outlet", "Wh",
             "StopTransaction"),
        ])

        statuses = seed.rows(select(Connector.connector_id, ConnectorStatus.status,
                                    ConnectorStatus.error_code, ConnectorStatus.info,
                                    ConnectorStatus.status_timestamp).join(Connector))
        assert [(*row[:4], utc(row[4])) for row in statuses] == [
            (1, "Available", "NoError", "node ready", datetime(2026, 3, 1, 9, 59, tzinfo=UTC))]

        assert seed.rows(select(DataTransferRecord.direction, DataTransferRecord.vendor_id,
                                DataTransferRecord.message_id, DataTransferRecord.data,
                                DataTransferRecord.status)) == [
            ("in", "org.nodesoap", "Hello", '{"from": "node"}', "UnknownVendorId")]

        # node-soap from the official WSDL is a clean station: nothing to tolerate
        assert seed.scalars(select(StationQuirk.code)) == []

        journal = seed.rows(select(JournalEntry.direction, JournalEntry.action,
                                   JournalEntry.ocpp_version, JournalEntry.soap_version,
                                   JournalEntry.http_status, JournalEntry.message_id,
                                   JournalEntry.relates_to).order_by(JournalEntry.id))
        assert [(row[0], row[1]) for row in journal] == [
            pair for op in OPERATIONS for pair in (("in", op), ("out", f"{op}Response"))]
        assert {(row[2], row[3]) for row in journal} == {(version, "1.2")}
        assert [row[4] for row in journal if row[0] == "out"] == [200] * len(OPERATIONS)
        assert [row[5] for row in journal if row[0] == "in"] == message_ids
        assert [row[6] for row in journal if row[0] == "out"] == message_ids
    finally:
        gateway.engine.dispose()
