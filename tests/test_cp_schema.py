"""ChargePointService 1.5/1.6 definitions (soapgw.soap.schema.cp15/cp16) with spyne alone:
round-trips through XML and real station/central-system messages from the shared quirk corpus."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from soapgw.soap.schema import cp15, cp16, registry
from soapgw.soap.schema.base import named
from spyne.util.xml import get_object_as_xml, get_xml_as_object  # after soapgw: compat shim

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "soap-samples"
SOAP12_BODY = "{http://www.w3.org/2003/05/soap-envelope}Body"


def round_trip(obj, cls, element: str):
    xml = get_object_as_xml(obj, cls, element)
    # through bytes, so nothing of the original objects can leak into the result
    return xml, get_xml_as_object(etree.fromstring(etree.tostring(xml)), cls)


def body_child(name: str) -> etree._Element:
    """The first element child of the SOAP Body of the sample starting with ``name``."""
    if not SAMPLES.is_dir():
        pytest.skip(f"no sample corpus at {SAMPLES}")
    (path,) = SAMPLES.glob(f"{name}*.xml")
    body = etree.parse(str(path)).find(SOAP12_BODY)
    return next(child for child in body if isinstance(child.tag, str))


def deserialise(element: etree._Element, service):
    """Read a Body child with the request or response type its element name stands for."""
    local = etree.QName(element).localname
    operation = service.by_element.get(local)
    if operation is not None:
        cls = operation.request
    else:
        cls = next(op.response for op in service.operations if op.response_element == local)
    return get_xml_as_object(element, cls)


def text_of(element: etree._Element, local_name: str) -> str:
    """A child's text found by local name alone (qualified or not), straight from the XML."""
    (value,) = element.xpath("*[local-name() = $n]/text()", n=local_name)
    return value


# --- the definitions themselves -----------------------------------------------------------------

def test_services_are_registered_with_every_operation():
    assert registry.find("ChargePointService", "1.5") is cp15.SERVICE
    assert registry.find("ChargePointService", "1.6") is cp16.SERVICE
    assert len(cp15.SERVICE.operations) == 15
    assert len(cp16.SERVICE.operations) == 19
    names16 = {op.name for op in cp16.SERVICE.operations}
    assert names16 - {op.name for op in cp15.SERVICE.operations} == {
        "ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile", "TriggerMessage"}
    assert cp15.SERVICE.header.get_namespace() == "urn://Ocpp/Cp/2012/06/"
    assert cp16.SERVICE.header.get_namespace() == "urn://Ocpp/Cp/2015/10/"


@pytest.mark.parametrize("service", [cp15.SERVICE, cp16.SERVICE], ids=["1.5", "1.6"])
def test_essential_paths_name_required_request_fields(service):
    for operation in service.operations:
        for path in operation.essential:
            kind = operation.request
            for part in path.split("."):
                field = kind._type_info[part]  # KeyError: a typo in the definition
                kind = named(field)
            # the leaf is required where it appears (its parents may be optional lists)
            assert field.Attributes.min_occurs >= 1, f"{operation.name}: {path}"


def test_versions_differ_where_the_wsdls_do():
    assert list(cp15.RemoteStartTransactionRequest._type_info) == ["idTag", "connectorId"]
    assert list(cp16.RemoteStartTransactionRequest._type_info) == [
        "connectorId", "idTag", "chargingProfile"]
    assert list(cp15.SendLocalListRequest._type_info) == [
        "updateType", "listVersion", "localAuthorisationList", "hash"]
    assert list(cp16.SendLocalListRequest._type_info) == [
        "listVersion", "localAuthorizationList", "updateType"]
    assert cp15.UnlockStatus.ocpp_values == ("Accepted", "Rejected")
    assert cp16.UnlockStatus.ocpp_values == ("Unlocked", "UnlockFailed", "NotSupported")
    assert "HashError" in cp15.UpdateStatus.ocpp_values
    assert "HashError" not in cp16.UpdateStatus.ocpp_values
    assert "RebootRequired" not in cp15.ConfigurationStatus.ocpp_values
    # 1.5 has no CiString types: configuration keys are plain xs:string there
    assert named(cp15.KeyValue._type_info["key"]).get_namespace() != cp15.NAMESPACE
    assert named(cp16.KeyValue._type_info["key"]) is cp16.CiString50Type
    assert cp16.CiString50Type.Attributes.max_len == 50


# --- spyne round-trips --------------------------------------------------------------------------

@pytest.mark.smoke
def test_set_charging_profile_round_trip_keeps_nested_schedule():
    start = datetime(2024, 3, 1, 6, 30, tzinfo=timezone.utc)
    request = cp16.SetChargingProfileRequest(
        connectorId=2,
        csChargingProfiles=cp16.ChargingProfile(
            chargingProfileId=17, transactionId=4711, stackLevel=1,
            chargingProfilePurpose="TxProfile", chargingProfileKind="Absolute",
            validTo=datetime(2024, 3, 2, tzinfo=timezone.utc),
            chargingSchedule=cp16.ChargingSchedule(
                duration=7200, startSchedule=start, chargingRateUnit="A",
                chargingSchedulePeriod=[
                    cp16.ChargingSchedulePeriod(startPeriod=0, limit=Decimal("16.5"),
                                                numberPhases=3),
                    cp16.ChargingSchedulePeriod(startPeriod=3600, limit=Decimal("8")),
                ],
                minChargingRate=Decimal("6.0"))))

    xml, back = round_trip(request, cp16.SetChargingProfileRequest, "setChargingProfileRequest")

    assert etree.QName(xml).namespace == cp16.NAMESPACE
    # elementFormDefault="qualified": every descendant is in the Cp 1.6 namespace
    assert {etree.QName(e).namespace for e in xml.iter()} == {cp16.NAMESPACE}
    assert back.connectorId == 2
    profile = back.csChargingProfiles
    assert (profile.chargingProfileId, profile.transactionId, profile.stackLevel) == (17, 4711, 1)
    assert (profile.chargingProfilePurpose, profile.chargingProfileKind) == ("TxProfile", "Absolute")
    assert profile.recurrencyKind is None and profile.validFrom is None
    assert profile.validTo == datetime(2024, 3, 2, tzinfo=timezone.utc)
    schedule = profile.chargingSchedule
    assert schedule.startSchedule == start and schedule.duration == 7200
    assert schedule.chargingRateUnit == "A"
    assert [(p.startPeriod, p.limit, p.numberPhases) for p in schedule.chargingSchedulePeriod] == [
        (0, Decimal("16.5"), 3), (3600, Decimal("8"), None)]
    assert all(isinstance(p.limit, Decimal) for p in schedule.chargingSchedulePeriod)
    assert schedule.minChargingRate == Decimal("6.0")


@pytest.mark.smoke
@pytest.mark.parametrize("module", [cp15, cp16], ids=["1.5", "1.6"])
def test_get_configuration_response_round_trip(module):
    response = module.GetConfigurationResponse(
        configurationKey=[
            module.KeyValue(key="HeartbeatInterval", readonly=False, value="900"),
            module.KeyValue(key="NumberOfConnectors", readonly=True, value="2"),
            module.KeyValue(key="AuthorizationKey", readonly=True),
        ],
        unknownKey=["NoSuchKey", "Another"])

    xml, back = round_trip(response, module.GetConfigurationResponse, "getConfigurationResponse")

    assert [etree.QName(e).localname for e in xml] == ["configurationKey"] * 3 + ["unknownKey"] * 2
    assert [(k.key, k.readonly, k.value) for k in back.configurationKey] == [
        ("HeartbeatInterval", False, "900"), ("NumberOfConnectors", True, "2"),
        ("AuthorizationKey", True, None)]
    assert all(type(k.readonly) is bool for k in back.configurationKey)
    assert back.unknownKey == ["NoSuchKey", "Another"]


def test_send_local_list_1_5_round_trip_with_hash():
    request = cp15.SendLocalListRequest(
        updateType="Differential", listVersion=3, hash="0f3c",
        localAuthorisationList=[
            cp15.AuthorisationData(idTag="TAG-1", idTagInfo=cp15.IdTagInfo(
                status="Accepted", expiryDate=datetime(2030, 1, 1, tzinfo=timezone.utc))),
            cp15.AuthorisationData(idTag="TAG-2"),  # no idTagInfo: remove from the list
        ])

    xml, back = round_trip(request, cp15.SendLocalListRequest, "sendLocalListRequest")

    assert [etree.QName(e).localname for e in xml] == [
        "updateType", "listVersion", "localAuthorisationList", "localAuthorisationList", "hash"]
    assert (back.updateType, back.listVersion, back.hash) == ("Differential", 3, "0f3c")
    first, second = back.localAuthorisationList
    assert first.idTag == "TAG-1" and first.idTagInfo.status == "Accepted"
    assert first.idTagInfo.expiryDate == datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert second.idTag == "TAG-2" and second.idTagInfo is None


# --- real messages (../shared/soap-samples) -----------------------------------------------------

def test_sample_16_get_composite_schedule_request():
    request = deserialise(body_child("16_GetCompositeSchedule_req"), cp16.SERVICE)
    assert isinstance(request, cp16.GetCompositeScheduleRequest)
    assert (request.connectorId, request.duration, request.chargingRateUnit) == (1, 1800, "A")


def test_sample_16_get_composite_schedule_response():
    response = deserialise(body_child("16_GetCompositeSchedule_conf"), cp16.SERVICE)
    assert isinstance(response, cp16.GetCompositeScheduleResponse)
    assert (response.status, response.connectorId) == ("Accepted", 1)
    # microseconds and Z survive
    assert response.scheduleStart == datetime(2023, 1, 18, 13, 22, 55, 768108, tzinfo=timezone.utc)
    schedule = response.chargingSchedule
    assert (schedule.duration, schedule.chargingRateUnit, schedule.startSchedule) == (
        6480000, "A", None)
    (period,) = schedule.chargingSchedulePeriod
    assert period.startPeriod == 0 and period.limit == Decimal(0)
    assert isinstance(period.limit, Decimal)


def test_sample_16_set_charging_profile_request_and_response():
    request = deserialise(body_child("16_SetChargingProfile_req"), cp16.SERVICE)
    assert isinstance(request, cp16.SetChargingProfileRequest)
    assert request.connectorId == 1
    profile = request.csChargingProfiles
    assert (profile.chargingProfileId, profile.stackLevel) == (101, 2)
    assert (profile.chargingProfilePurpose, profile.chargingProfileKind) == (
        "TxDefaultProfile", "Relative")
    assert profile.transactionId is None
    (period,) = profile.chargingSchedule.chargingSchedulePeriod
    assert (period.startPeriod, period.limit) == (0, Decimal(0))

    response = deserialise(body_child("16_SetChargingProfile_conf"), cp16.SERVICE)
    assert isinstance(response, cp16.SetChargingProfileResponse)
    assert response.status == "Accepted"


def test_sample_16_remote_start_with_unqualified_children_in_1_5_order():
    element = body_child("16_RemoteStartTransaction_req")
    # quirks of this central system: children without namespace, and idTag before connectorId
    # (the 1.5 order); spyne matches children by local name, so both values still come through
    assert {etree.QName(child).namespace for child in element} == {None}
    assert [etree.QName(child).localname for child in element] == ["idTag", "connectorId"]

    request = deserialise(element, cp16.SERVICE)

    assert isinstance(request, cp16.RemoteStartTransactionRequest)
    assert request.idTag == text_of(element, "idTag")
    assert request.connectorId == 4
    assert request.chargingProfile is None


def test_sample_15_clear_cache_response():
    response = deserialise(body_child("15_ClearCache_conf"), cp15.SERVICE)
    assert isinstance(response, cp15.ClearCacheResponse)
    assert response.status == "Accepted"


def test_sample_15_get_configuration_response_pretty_printed_with_numeric_booleans():
    element = body_child("15_GetConfiguration_conf")

    response = deserialise(element, cp15.SERVICE)

    keys = {k.key: k for k in response.configurationKey}
    assert len(response.configurationKey) == 12 and len(keys) == 12
    assert not response.unknownKey  # absent: spyne gives None, not []
    # readonly comes as true/false and as 1/0 (both legal xs:boolean)
    assert all(type(k.readonly) is bool for k in keys.values())
    assert (keys["HeartbeatInterval"].readonly, keys["HeartbeatInterval"].value) == (False, "1800")
    assert (keys["Name"].readonly, keys["Name"].value) == (False, "Park")
    assert keys["Three-phase"].readonly is True  # written as 1
    assert keys["NetworkFailure"].readonly is False  # written as 0
    assert keys["refcp"].value == '""'  # two quote characters, not an empty value


def test_sample_15_remote_start_response_without_header():
    response = deserialise(body_child("15_RemoteStartTransaction_conf"), cp15.SERVICE)
    assert isinstance(response, cp15.RemoteStartTransactionResponse)
    assert response.status == "Accepted"
