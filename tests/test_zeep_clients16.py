"""zeep clients built from the official 1.6 WSDL and from ours run every operation."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
import zeep
from zeep.transports import Transport

from conftest import OFFICIAL_WSDL, ROOT

UTC = timezone.utc
BINDING = "{urn://Ocpp/Cs/2015/10/}CentralSystemServiceSoap"
WSDLS = {
    "official": OFFICIAL_WSDL / "1.6" / "OCPP_CentralSystemService_1.6.wsdl",
    "ours": ROOT / "wsdl" / "soapgw_centralsystemservice_1.6.wsdl",
}


def service_for(wsdl: Path, url: str):
    client = zeep.Client(str(wsdl), settings=zeep.Settings(strict=True, forbid_dtd=True),
                         transport=Transport(operation_timeout=30, timeout=30))
    return client.create_service(BINDING, url + "/services/CentralSystemService")


@pytest.mark.parametrize("which", sorted(WSDLS))
def test_every_operation_from_a_zeep_client(which, live_url, seed):
    seed.station("ZEEP-1")
    seed.tag("TAG1")
    service = service_for(WSDLS[which], live_url)
    header = {"_soapheaders": {"ChargeBoxIdentity": "ZEEP-1"}}
    now = datetime.now(UTC).replace(microsecond=0)

    boot = service.BootNotification(chargePointVendor="Acme", chargePointModel="Z",
                                    firmwareVersion="9", **header)
    assert (boot.status, boot.interval) == ("Accepted", 300)
    assert abs((boot.currentTime - datetime.now(UTC)).total_seconds()) < 60
    assert service.Heartbeat(**header).tzinfo is not None
    assert service.Authorize(idTag="TAG1", **header).status == "Accepted"
    start = service.StartTransaction(connectorId=1, idTag="TAG1", timestamp=now, meterStart=10,
                                     **header)
    assert start.transactionId > 0 and start.idTagInfo.status == "Accepted"
    service.StatusNotification(connectorId=1, status="Charging", errorCode="NoError",
                               timestamp=now, **header)
    service.MeterValues(connectorId=1, transactionId=start.transactionId, meterValue=[
        {"timestamp": now, "sampledValue": [
            {"value": "20", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "3.6", "measurand": "Power.Active.Import", "unit": "kW"}]}], **header)
    stop = service.StopTransaction(transactionId=start.transactionId, idTag="TAG1",
                                   timestamp=now, meterStop=30, reason="Local", **header)
    assert stop.status == "Accepted"
    transfer = service.DataTransfer(vendorId="com.acme", messageId="m", data="d", **header)
    assert transfer.status == "UnknownVendorId"
    service.FirmwareStatusNotification(status="Installed", **header)
    service.DiagnosticsStatusNotification(status="Idle", **header)

    from sqlalchemy import select
    from soapgw.store.models import ChargeBox, MeterValueRow, Transaction
    (cb,) = seed.scalars(select(ChargeBox))
    assert (cb.firmware_status, cb.diagnostics_status, cb.firmware_version) == (
        "Installed", "Idle", "9")
    (tx,) = seed.scalars(select(Transaction))
    assert (tx.meter_start, tx.meter_stop, tx.stop_reason) == (10, 30, "Local")
    assert len(seed.scalars(select(MeterValueRow))) == 2


def test_served_wsdl_is_the_exported_one_with_the_request_address(live_url):
    served = requests.get(live_url + "/services/CentralSystemService?wsdl", timeout=10)
    assert served.status_code == 200 and served.headers["Content-Type"].startswith("text/xml")
    exported = WSDLS["ours"].read_text(encoding="utf-8")
    local = exported.replace("http://localhost:8080/services/CentralSystemServiceOCPP16",
                             live_url + "/services/CentralSystemService")
    assert served.text == local
    upper = requests.get(live_url + "/services/CentralSystemServiceOCPP16?WSDL", timeout=10)
    assert live_url + "/services/CentralSystemServiceOCPP16" in upper.text


def test_public_url_setting_is_used_in_the_wsdl(tmp_path, sqlite_url):
    from conftest import make_settings, serve_wsgi
    from soapgw.app import Gateway, create_app
    gateway = Gateway.from_settings(make_settings(sqlite_url, tmp_path,
                                                  public_url="https://csms.example.org/ocpp"))
    url, server = serve_wsgi(create_app(gateway=gateway))
    try:
        text = requests.get(url + "/services/CentralSystemService?wsdl", timeout=10).text
        assert 'location="https://csms.example.org/ocpp/services/CentralSystemService"' in text
    finally:
        server.shutdown()
        server.server_close()
