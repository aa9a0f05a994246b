"""OCPP 1.5 CentralSystemService <-> core mapping (soapgw.soap.mapping.cs15), without a server.

The first test diffs the 1.5 and 1.6 definitions field by field and enumeration by enumeration:
every difference it finds must be in the list below, and each entry of the list has a test of
its own here. A new difference (a changed definition) fails until it is mapped and listed.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from spyne import XmlAttribute, XmlData

from soapgw.core import messages as m
from soapgw.soap.mapping import cs15 as mapping
from soapgw.soap.schema import cs15, cs16
from soapgw.soap.schema.base import named

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
OP = cs15.SERVICE.by_name


def to_core(name: str, request):
    return mapping.request_to_core(OP[name], request)


def from_core(name: str, response):
    return mapping.response_from_core(OP[name], response)


# --- every difference between the two definitions -----------------------------------------
def _shape(complex_type, prefix: str = "") -> dict[str, tuple[str, ...] | None]:
    """``{path: enumeration values or None}`` for every field; attributes as ``path@name``."""
    out: dict[str, tuple[str, ...] | None] = {}
    for name, kind in complex_type._type_info.items():
        if issubclass(kind, XmlData):
            continue
        if issubclass(kind, XmlAttribute):
            out[f"{prefix[:-1]}@{name}"] = getattr(kind.type, "ocpp_values", None)
            continue
        path = prefix + name
        base = named(kind)
        if hasattr(base, "_type_info"):
            out[path] = None
            out.update(_shape(base, path + "."))
        else:
            out[path] = getattr(base, "ocpp_values", None)
    return out


# 1.5 path -> the 1.6 path the mapping turns it into (everything else keeps its path).
RENAMED = {
    "MeterValues request": {
        "values": "meterValue", "values.timestamp": "meterValue.timestamp",
        "values.value": "meterValue.sampledValue",
        **{f"values.value@{a}": f"meterValue.sampledValue.{a}"
           for a in ("context", "format", "measurand", "location", "unit")}},
    "StopTransaction request": {
        # transactionData/values/... is flattened into 1.6 transactionData/... (None: the
        # level disappears)
        "transactionData.values": None,
        "transactionData.values.timestamp": "transactionData.timestamp",
        "transactionData.values.value": "transactionData.sampledValue",
        **{f"transactionData.values.value@{a}": f"transactionData.sampledValue.{a}"
           for a in ("context", "format", "measurand", "location", "unit")}},
    "BootNotification response": {"heartbeatInterval": "interval"},
}
# What remains after the renames: fields one version lacks, and enumeration values that the
# receiving side does not know (1.5 values in requests, 1.6 values in responses).
DIFFERENCES = {
    # the 1.5 reading text is the element's own text: the 1.6 `value` child has no 1.5 path
    ("MeterValues request", "1.6 only", "meterValue.sampledValue.value"),
    ("MeterValues request", "1.6 only", "meterValue.sampledValue.phase"),
    ("MeterValues request", "1.5 value", "meterValue.sampledValue.unit", "Amp"),
    ("MeterValues request", "1.5 value", "meterValue.sampledValue.unit", "Volt"),
    ("StopTransaction request", "flattened", "transactionData.values"),
    ("StopTransaction request", "1.6 only", "reason"),
    ("StopTransaction request", "1.6 only", "transactionData.sampledValue.value"),
    ("StopTransaction request", "1.6 only", "transactionData.sampledValue.phase"),
    ("StopTransaction request", "1.5 value", "transactionData.sampledValue.unit", "Amp"),
    ("StopTransaction request", "1.5 value", "transactionData.sampledValue.unit", "Volt"),
    ("StatusNotification request", "1.5 value", "status", "Occupied"),
    ("StatusNotification request", "1.5 value", "errorCode", "Mode3Error"),
    ("BootNotification response", "1.6 value", "status", "Pending"),
}


def test_every_difference_between_15_and_16_is_known():
    found = set()
    for op15 in cs15.SERVICE.operations:
        op16 = cs16.SERVICE.by_name[op15.name]
        for side in ("request", "response"):
            key = f"{op15.name} {side}"
            renames = RENAMED.get(key, {})
            shape15 = {}
            for path, values in _shape(getattr(op15, side)).items():
                if path in renames and renames[path] is None:
                    found.add((key, "flattened", path))
                else:
                    shape15[renames.get(path, path)] = values
            shape16 = _shape(getattr(op16, side))
            for path in shape15.keys() - shape16.keys():
                found.add((key, "1.5 only", path))
            for path in shape16.keys() - shape15.keys():
                found.add((key, "1.6 only", path))
            for path in shape15.keys() & shape16.keys():
                values15, values16 = shape15[path] or (), shape16[path] or ()
                sent, understood = ((values15, values16) if side == "request"
                                    else (values16, values15))
                for value in sent:
                    if value not in understood:
                        found.add((key, f"{'1.5' if side == 'request' else '1.6'} value",
                                   path, value))
    assert found == DIFFERENCES
    assert {op.name for op in cs15.SERVICE.operations} == set(m.ACTIONS)


# --- MeterValues --------------------------------------------------------------------------
def reading(value, **attributes):
    return cs15.MeterValueValue(value=value, **attributes)


def test_meter_values_become_sampled_values_with_attributes_as_fields():
    request = cs15.MeterValuesRequest(connectorId=2, transactionId=7, values=[
        cs15.MeterValue(timestamp=T0, value=[
            reading("1234", context="Sample.Periodic", format="Raw",
                    measurand="Energy.Active.Import.Register", location="Outlet", unit="Wh"),
            reading("16.5", measurand="Current.Import", unit="Amp"),
            reading("230", measurand="Voltage", unit="Volt", location="Inlet"),
            reading("99")]),
        cs15.MeterValue(timestamp=T0 + timedelta(minutes=1), value=[
            reading("21.5", measurand="Temperature", unit="Celsius", location="Body",
                    context="Sample.Clock", format="SignedData")]),
    ])
    assert to_core("MeterValues", request) == m.MeterValuesRequest(
        connector_id=2, transaction_id=7, meter_value=[
            m.MeterValue(timestamp=T0, sampled_value=[
                m.SampledValue("1234", "Sample.Periodic", "Raw", "Energy.Active.Import.Register",
                               None, "Outlet", "Wh"),
                m.SampledValue("16.5", measurand="Current.Import", unit="A"),
                m.SampledValue("230", measurand="Voltage", unit="V", location="Inlet"),
                m.SampledValue("99")]),
            m.MeterValue(timestamp=T0 + timedelta(minutes=1), sampled_value=[
                m.SampledValue("21.5", "Sample.Clock", "SignedData", "Temperature", None,
                               "Body", "Celsius")]),
        ])


@pytest.mark.parametrize("unit", cs15.UnitOfMeasure.ocpp_values)
def test_every_15_unit_has_its_16_spelling(unit):
    request = cs15.MeterValuesRequest(connectorId=1, values=[
        cs15.MeterValue(timestamp=T0, value=[reading("1", unit=unit)])])
    (sample,) = to_core("MeterValues", request).meter_value[0].sampled_value
    assert sample.unit == {"Amp": "A", "Volt": "V"}.get(unit, unit)
    assert sample.unit in cs16.UnitOfMeasure.ocpp_values


@pytest.mark.parametrize("attribute, enum15, enum16", [
    ("context", cs15.ReadingContext, cs16.ReadingContext),
    ("format", cs15.ValueFormat, cs16.ValueFormat),
    ("measurand", cs15.Measurand, cs16.Measurand),
    ("location", cs15.Location, cs16.Location),
])
def test_other_reading_attributes_are_spelt_the_same_in_16(attribute, enum15, enum16):
    for value in enum15.ocpp_values:
        request = cs15.MeterValuesRequest(connectorId=1, values=[
            cs15.MeterValue(timestamp=T0, value=[reading("1", **{attribute: value})])])
        (sample,) = to_core("MeterValues", request).meter_value[0].sampled_value
        assert getattr(sample, attribute) == value and value in enum16.ocpp_values


def test_values_outside_the_15_vocabulary_are_kept_as_sent():
    request = cs15.MeterValuesRequest(connectorId=1, values=[cs15.MeterValue(
        timestamp=T0, value=[reading("5", unit="kA", measurand="SoC", context="Trigger")])])
    (sample,) = to_core("MeterValues", request).meter_value[0].sampled_value
    assert (sample.unit, sample.measurand, sample.context) == ("kA", "SoC", "Trigger")


def test_unusable_readings_are_dropped_and_the_rest_kept():
    request = cs15.MeterValuesRequest(connectorId=1, transactionId=None, values=[
        cs15.MeterValue(timestamp=None, value=[reading("1")]),  # timestamp removed by the reader
        cs15.MeterValue(timestamp=T0, value=[reading(None, unit="Wh"), reading("2")]),
    ])
    core = to_core("MeterValues", request)
    assert core.transaction_id is None
    assert core.meter_value == [m.MeterValue(T0, [m.SampledValue("2")])]


def test_meter_values_without_values_and_naive_timestamps():
    assert to_core("MeterValues", cs15.MeterValuesRequest(connectorId=0)) == \
        m.MeterValuesRequest(connector_id=0, transaction_id=None, meter_value=[])
    naive = cs15.MeterValuesRequest(connectorId=1, values=[
        cs15.MeterValue(timestamp=T0.replace(tzinfo=None), value=[reading("3")])])
    assert to_core("MeterValues", naive).meter_value[0].timestamp == T0


def test_meter_values_response_is_empty():
    assert isinstance(from_core("MeterValues", m.MeterValuesResponse()),
                      cs15.MeterValuesResponse)


# --- StopTransaction ----------------------------------------------------------------------
def test_stop_transaction_data_is_flattened_and_has_no_reason():
    request = cs15.StopTransactionRequest(
        transactionId=12, idTag="TAG1", timestamp=T0, meterStop=5000, transactionData=[
            cs15.TransactionData(values=[
                cs15.MeterValue(timestamp=T0 - timedelta(hours=1), value=[
                    reading("1000", context="Transaction.Begin", unit="Wh")])]),
            cs15.TransactionData(values=[
                cs15.MeterValue(timestamp=T0 - timedelta(minutes=30), value=[
                    reading("12", measurand="Current.Import", unit="Amp")]),
                cs15.MeterValue(timestamp=T0, value=[
                    reading("5000", context="Transaction.End", unit="Wh"),
                    reading("231", measurand="Voltage", unit="Volt")])]),
            cs15.TransactionData(values=None),  # an empty <transactionData/>
        ])
    assert to_core("StopTransaction", request) == m.StopTransactionRequest(
        transaction_id=12, meter_stop=5000, timestamp=T0, id_tag="TAG1", reason=None,
        transaction_data=[
            m.MeterValue(T0 - timedelta(hours=1),
                         [m.SampledValue("1000", context="Transaction.Begin", unit="Wh")]),
            m.MeterValue(T0 - timedelta(minutes=30),
                         [m.SampledValue("12", measurand="Current.Import", unit="A")]),
            m.MeterValue(T0, [m.SampledValue("5000", context="Transaction.End", unit="Wh"),
                              m.SampledValue("231", measurand="Voltage", unit="V")]),
        ])


def test_stop_without_transaction_data_or_usable_timestamp():
    request = cs15.StopTransactionRequest(transactionId=3, timestamp=None, meterStop=None)
    assert to_core("StopTransaction", request) == m.StopTransactionRequest(
        transaction_id=3, meter_stop=None, timestamp=None, id_tag=None, transaction_data=[])


@pytest.mark.parametrize("info", [None, m.IdTagInfo("Blocked")])
def test_stop_transaction_response(info):
    response = from_core("StopTransaction", m.StopTransactionResponse(id_tag_info=info))
    assert isinstance(response, cs15.StopTransactionResponse)
    assert (response.idTagInfo and response.idTagInfo.status) == (info and info.status)


# --- StatusNotification -------------------------------------------------------------------
def status_request(status="Available", error_code="NoError", **extra):
    return cs15.StatusNotificationRequest(connectorId=1, status=status, errorCode=error_code,
                                          **extra)


@pytest.mark.parametrize("status15, status16", [
    ("Occupied", "Charging"),  # what SteVe does: see the mapping module's docstring
    ("Available", "Available"), ("Reserved", "Reserved"), ("Unavailable", "Unavailable"),
    ("Faulted", "Faulted"),
    ("Charging", "Charging"),  # not 1.5 (the reader records it): kept as sent
])
def test_status_notification_statuses(status15, status16):
    assert to_core("StatusNotification", status_request(status15)).status == status16
    assert status15 not in cs15.ChargePointStatus.ocpp_values or \
        status16 in cs16.ChargePointStatus.ocpp_values


@pytest.mark.parametrize("code", cs15.ChargePointErrorCode.ocpp_values)
def test_every_15_error_code_has_its_16_spelling(code):
    mapped = to_core("StatusNotification", status_request("Faulted", code)).error_code
    assert mapped == ("EVCommunicationError" if code == "Mode3Error" else code)
    assert mapped in cs16.ChargePointErrorCode.ocpp_values


def test_status_notification_keeps_every_other_field():
    request = status_request("Faulted", "OtherError", info="door open", timestamp=T0,
                             vendorId="com.example", vendorErrorCode="E42")
    assert to_core("StatusNotification", request) == m.StatusNotificationRequest(
        connector_id=1, status="Faulted", error_code="OtherError", info="door open",
        timestamp=T0, vendor_id="com.example", vendor_error_code="E42")
    assert to_core("StatusNotification", status_request(error_code=None)).error_code is None
    assert isinstance(from_core("StatusNotification", m.StatusNotificationResponse()),
                      cs15.StatusNotificationResponse)


# --- BootNotification ---------------------------------------------------------------------
def test_boot_notification_request_fields():
    request = cs15.BootNotificationRequest(
        chargePointVendor="Acme", chargePointModel="X1", chargePointSerialNumber="CPS",
        chargeBoxSerialNumber="CBS", firmwareVersion="1.0", iccid="89", imsi="26",
        meterType="MT", meterSerialNumber="MS")
    assert to_core("BootNotification", request) == m.BootNotificationRequest(
        "Acme", "X1", "CPS", "CBS", "1.0", "89", "26", "MT", "MS")
    # a station that leaves out its model still boots (the core records the quirk)
    assert to_core("BootNotification", cs15.BootNotificationRequest(
        chargePointVendor="Acme")).charge_point_model is None


@pytest.mark.parametrize("status16, status15", [
    ("Accepted", "Accepted"), ("Rejected", "Rejected"),
    ("Pending", "Rejected"),  # 1.5 has no Pending
])
def test_boot_notification_response(status16, status15):
    response = from_core("BootNotification", m.BootNotificationResponse(
        status=status16, current_time=T0.replace(microsecond=123456), interval=300))
    assert isinstance(response, cs15.BootNotificationResponse)
    assert (response.status, response.currentTime, response.heartbeatInterval) == (
        status15, T0, 300)
    assert status15 in cs15.RegistrationStatus.ocpp_values
    assert not hasattr(response, "interval")


# --- Authorize / StartTransaction / Heartbeat ---------------------------------------------
@pytest.mark.parametrize("status", cs16.AuthorizationStatus.ocpp_values)
def test_authorize_and_every_authorization_status(status):
    assert to_core("Authorize", cs15.AuthorizeRequest(idTag="TAG1")) == m.AuthorizeRequest("TAG1")
    info = m.IdTagInfo(status, expiry_date=T0, parent_id_tag="PARENT")
    response = from_core("Authorize", m.AuthorizeResponse(id_tag_info=info))
    assert isinstance(response, cs15.AuthorizeResponse)
    assert (response.idTagInfo.status, response.idTagInfo.expiryDate,
            response.idTagInfo.parentIdTag) == (status, T0, "PARENT")
    assert status in cs15.AuthorizationStatus.ocpp_values


def test_start_transaction():
    request = cs15.StartTransactionRequest(connectorId=1, idTag="TAG1", timestamp=T0,
                                           meterStart=1000, reservationId=9)
    assert to_core("StartTransaction", request) == m.StartTransactionRequest(1, "TAG1", T0, 1000, 9)
    response = from_core("StartTransaction", m.StartTransactionResponse(
        transaction_id=44, id_tag_info=m.IdTagInfo("ConcurrentTx")))
    assert (response.transactionId, response.idTagInfo.status) == (44, "ConcurrentTx")


def test_heartbeat():
    assert to_core("Heartbeat", None) == m.HeartbeatRequest()
    response = from_core("Heartbeat", m.HeartbeatResponse(current_time=T0))
    assert isinstance(response, cs15.HeartbeatResponse) and response.currentTime == T0


# --- Firmware / Diagnostics / DataTransfer ------------------------------------------------
@pytest.mark.parametrize("operation, enum15, enum16", [
    ("FirmwareStatusNotification", cs15.FirmwareStatus, cs16.FirmwareStatus),
    ("DiagnosticsStatusNotification", cs15.DiagnosticsStatus, cs16.DiagnosticsStatus),
])
def test_firmware_and_diagnostics_statuses_are_spelt_the_same_in_16(operation, enum15, enum16):
    for status in enum15.ocpp_values:
        request = OP[operation].request(status=status)
        assert to_core(operation, request).status == status and status in enum16.ocpp_values
    _, response_type = m.ACTIONS[operation]
    assert isinstance(from_core(operation, response_type()), OP[operation].response)


@pytest.mark.parametrize("status", cs16.DataTransferStatus.ocpp_values)
def test_data_transfer(status):
    request = cs15.DataTransferRequest(vendorId="com.example", messageId="Ping", data="{}")
    assert to_core("DataTransfer", request) == m.DataTransferRequest("com.example", "Ping", "{}")
    response = from_core("DataTransfer", m.DataTransferResponse(status=status, data="pong"))
    assert (response.status, response.data) == (status, "pong")
    assert status in cs15.DataTransferStatus.ocpp_values
