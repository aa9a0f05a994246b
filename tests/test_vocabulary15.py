"""The OCPP 1.5 <-> 1.6 vocabulary (soap/ocpp15_vocabulary.py), checked against the official
WSDLs' enumerations, and the three users that share it; soapgw's enums (core/enums.py)."""
from __future__ import annotations

from functools import cache

import ocpp.v16.enums as ocpp_enums
import pytest
from lxml import etree

from official_schema import official_wsdl
from soapgw.core import enums
from soapgw.core.commands import tasks
from soapgw.core.ocpp_schemas import schema
from soapgw.simulator.dialect import Dialect15, central_service
from soapgw.soap import ocpp15_vocabulary as vocabulary
from soapgw.soap.mapping import cs15 as cs15_mapping
from soapgw.soap.schema import cs15, cs16
from soapgw.soap_out.json_mapping import from_soap, to_soap

XS = "{http://www.w3.org/2001/XMLSchema}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@cache
def official(service: str, version: str, type_name: str) -> tuple[str, ...]:
    """The values of an xs:enumeration simpleType of an official WSDL."""
    path = official_wsdl(service, version)
    if not path.is_file():
        pytest.skip(f"no official WSDL at {path}")
    tree = etree.parse(str(path), _PARSER)
    (simple,) = [node for node in tree.iter(f"{XS}simpleType") if node.get("name") == type_name]
    return tuple(e.get("value") for e in simple.iter(f"{XS}enumeration"))


CS, CP = "CentralSystemService", "ChargePointService"
# (spelling, service, 1.5 type, 1.6 type): each must translate every value of one version into
# the other version's vocabulary (where that version has a word for it).
SPELLINGS = [
    (vocabulary.UNIT, CS, "UnitOfMeasure", "UnitOfMeasure"),
    (vocabulary.ERROR_CODE, CS, "ChargePointErrorCode", "ChargePointErrorCode"),
    (vocabulary.CONNECTOR_STATUS, CS, "ChargePointStatus", "ChargePointStatus"),
    (vocabulary.REGISTRATION_STATUS, CS, "RegistrationStatus", "RegistrationStatus"),
    (vocabulary.UNLOCK_STATUS, CP, "UnlockStatus", "UnlockStatus"),
    (vocabulary.UPDATE_STATUS, CP, "UpdateStatus", "UpdateStatus"),
]
SPELLING_IDS = [s[2] + ("-cp" if s[1] == CP else "") for s in SPELLINGS]


@pytest.mark.parametrize("spelling,service,type15,type16", SPELLINGS, ids=SPELLING_IDS)
def test_every_15_value_has_its_16_spelling(spelling, service, type15, type16):
    values16 = set(official(service, "1.6", type16))
    for value in official(service, "1.5", type15):
        assert spelling.v16(value) in values16, (type15, value)


@pytest.mark.parametrize("spelling,service,type15,type16", SPELLINGS, ids=SPELLING_IDS)
def test_16_values_that_15_has_a_word_for_are_spelt_in_15(spelling, service, type15, type16):
    values15 = set(official(service, "1.5", type15))
    renamed16 = set(spelling.to_15) | set(spelling.to_16.values())
    for value in official(service, "1.6", type16):
        if value in renamed16 or value in values15:
            assert spelling.v15(value) in values15, (type16, value)
    assert set(spelling.to_16) <= values15 and set(spelling.to_15.values()) <= values15


def test_the_way_back_is_derived_from_one_table():
    assert vocabulary.UNIT.to_15 == {"A": "Amp", "V": "Volt"}
    assert vocabulary.ERROR_CODE.v15(vocabulary.ERROR_CODE.v16("Mode3Error")) == "Mode3Error"
    assert {vocabulary.CONNECTOR_STATUS.v15(s) for s in vocabulary.OCCUPIED_16} == {"Occupied"}
    assert vocabulary.CONNECTOR_STATUS.v16("Occupied") == "Charging"
    assert vocabulary.UPDATE_STATUS.v15("Failed") == "Failed"  # 1.5 has Failed too
    assert vocabulary.UNLOCK_STATUS.v15("NotSupported") == "Rejected"
    # values outside both vocabularies pass unchanged; so does None (an absent attribute)
    for spelling, *_ in SPELLINGS:
        assert spelling.v16("Frobnicated") == spelling.v15("Frobnicated") == "Frobnicated"
        assert spelling.v16(None) is None and spelling.v15(None) is None


def test_field_names_match_the_definitions():
    """The renamed fields exist under those names in the 1.5 and 1.6 definitions."""
    boot15 = cs15.SERVICE.by_name["BootNotification"].response._type_info
    boot16 = cs16.SERVICE.by_name["BootNotification"].response._type_info
    for name16, name15 in vocabulary.RESPONSE_FIELDS_15["BootNotification"].items():
        assert name15 in boot15 and name16 in boot16
    for operation, names in vocabulary.REQUEST_FIELDS_15.items():
        for name16 in names:
            assert name16 in schema(operation)["properties"]
    assert "localAuthorisationList" in etree.tostring(etree.parse(str(official_wsdl(
        CP, "1.5")), _PARSER)).decode()
    for operation, names in vocabulary.ANSWER_FIELDS_ONLY_15.items():
        assert not set(names) & set(schema(operation, response=True)["properties"])


# --- the three users -----------------------------------------------------------------------------
def test_the_command_client_translates_with_it():
    assert from_soap("1.5", "UnlockConnector", {"status": "Accepted"}) == {"status": "Unlocked"}
    assert from_soap("1.5", "UnlockConnector", {"status": "Rejected"}) == {
        "status": "UnlockFailed"}
    assert from_soap("1.5", "SendLocalList", {"status": "HashError", "hash": "ab12"}) == {
        "status": "Failed"}
    assert from_soap("1.6", "UnlockConnector", {"status": "NotSupported"}) == {
        "status": "NotSupported"}
    sent = to_soap("1.5", "SendLocalList", {"listVersion": 2, "updateType": "Full",
                                            "localAuthorizationList": [{"idTag": "A"}]})
    assert sent == {"listVersion": 2, "updateType": "Full",
                    "localAuthorisationList": [{"idTag": "A"}]}


def test_the_simulator_translates_with_it():
    dialect = Dialect15()
    for status in vocabulary.OCCUPIED_16:
        assert dialect.request("StatusNotification", {
            "connectorId": 1, "status": status, "errorCode": "EVCommunicationError"}) == {
            "connectorId": 1, "status": "Occupied", "errorCode": "Mode3Error"}
    meter = dialect.request("MeterValues", {"connectorId": 1, "meterValue": [{
        "timestamp": "t", "sampledValue": [{"value": "16", "unit": "A"}]}]})
    assert meter["values"][0]["value"][0]["unit"] == "Amp"
    assert dialect.reply("BootNotification", {"status": "Accepted", "heartbeatInterval": 60,
                                              "currentTime": "t"})["interval"] == 60
    assert central_service("1.5") is cs15.SERVICE and central_service("1.6") is cs16.SERVICE
    with pytest.raises(ValueError, match="not simulated"):
        central_service("2.0.1")


def test_the_15_central_system_mapping_translates_with_it():
    request = cs15.StatusNotificationRequest(connectorId=1, status="Occupied",
                                             errorCode="Mode3Error")
    core = cs15_mapping.request_to_core(cs15.SERVICE.by_name["StatusNotification"], request)
    assert (core.status, core.error_code) == ("Charging", "EVCommunicationError")


# --- soapgw's enums ------------------------------------------------------------------------------
@pytest.mark.smoke
def test_enums_reuse_the_ocpp_package_and_cover_soapgws_lists():
    assert enums.ChargePointStatus is ocpp_enums.ChargePointStatus
    assert enums.Reason is ocpp_enums.Reason
    assert enums.RegistrationStatus is ocpp_enums.RegistrationStatus
    assert {r.value for r in enums.Reason} == {
        "Other", "DeAuthorized", "EmergencyStop", "EVDisconnected", "HardReset", "Local",
        "PowerLoss", "Reboot", "Remote", "SoftReset", "UnlockCommand"}
    assert {s.value for s in enums.RegistrationStatus} == {"Accepted", "Pending", "Rejected"}
    assert {s.value for s in enums.ConnectorStatus} == \
        {s.value for s in enums.ChargePointStatus} | {"Occupied"}
    assert {s.value for s in enums.ReservationState} == \
        {s.value for s in enums.ReservationStatus} | {"Waiting", "Used", "Cancelled", "Expired"}
    assert enums.ACTIVE_RESERVATION_STATES == {"Waiting", "Accepted"}
    assert (tasks.QUEUED, tasks.SENT, tasks.ANSWERED, tasks.FAILED, tasks.TIMED_OUT) == \
        tuple(enums.TaskState)
    assert enums.TaskState.timed_out == "timed_out"  # equal to the strings stored in SQL
    # units: what the 1.6 JSON schema allows (the ocpp package lacks two of them)
    allowed = schema("MeterValues")["properties"]["meterValue"]["items"]["properties"][
        "sampledValue"]["items"]["properties"]["unit"]["enum"]
    assert {u.value for u in enums.UnitOfMeasure} == set(allowed)
    assert set(enums.__all__) <= set(dir(enums))
