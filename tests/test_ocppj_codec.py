"""The OCPP-J 1.6 codec (core/ocppj.py): every action of both services, requests and responses,
against the ``ocpp`` package's OCPP 1.6 JSON schemas; payload problems; frames."""
from __future__ import annotations

import dataclasses
import itertools
import json
import typing
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum

import pytest

from soapgw.core import messages as m
from soapgw.core import ocppj
from soapgw.core.commands.errors import TaskError
from soapgw.core.commands.payloads import response_problems, validate_request
from soapgw.core.errors import ErrorCode, OcppError
from soapgw.core.names import camel
from soapgw.core.ocpp_schemas import schema
from soapgw.timestamps import format_timestamp, parse_timestamp

T0 = "2024-05-06T07:08:09Z"
T1 = "2024-05-06T09:08:09.250Z"
ALL = [(action, response) for action in sorted(ocppj.ACTIONS) for response in (False, True)]
ids = [f"{action}{'Response' if response else ''}" for action, response in ALL]

# Real-life payloads, one per action and direction (the shapes stations and central systems send).
SAMPLED = [{"value": "1234567", "context": "Sample.Periodic", "measurand":
            "Energy.Active.Import.Register", "location": "Outlet", "unit": "Wh"},
           {"value": "16.2", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
           {"value": "231", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
           {"value": "54", "measurand": "SoC", "location": "EV", "unit": "Percent"}]
PROFILE = {"chargingProfileId": 12, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
           "chargingProfileKind": "Relative", "transactionId": 4711,
           "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
               {"startPeriod": 0, "limit": Decimal("32.0"), "numberPhases": 3},
               {"startPeriod": 3600, "limit": Decimal("10.5")}]}}
REALISTIC = {
    ("Authorize", False): {"idTag": "04E91C5A123F80"},
    ("Authorize", True): {"idTagInfo": {"status": "Accepted", "expiryDate": T1,
                                        "parentIdTag": "FLEET-7"}},
    ("BootNotification", False): {"chargePointVendor": "Elecq", "chargePointModel": "AC22-2",
                                  "chargePointSerialNumber": "EQ-0001234",
                                  "firmwareVersion": "3.4.1", "iccid": "8949020000001234567",
                                  "imsi": "262011234567890", "meterType": "EM340"},
    ("BootNotification", True): {"status": "Accepted", "currentTime": T0, "interval": 300},
    ("DataTransfer", False): {"vendorId": "com.elecq", "messageId": "GetPrice",
                              "data": '{"connector":1}'},
    ("DataTransfer", True): {"status": "Accepted", "data": '{"price":"0.39"}'},
    ("DiagnosticsStatusNotification", False): {"status": "Uploaded"},
    ("DiagnosticsStatusNotification", True): {},
    ("FirmwareStatusNotification", False): {"status": "Installing"},
    ("FirmwareStatusNotification", True): {},
    ("Heartbeat", False): {},
    ("Heartbeat", True): {"currentTime": T1},
    ("MeterValues", False): {"connectorId": 1, "transactionId": 4711, "meterValue": [
        {"timestamp": T0, "sampledValue": SAMPLED}]},
    ("MeterValues", True): {},
    ("StartTransaction", False): {"connectorId": 2, "idTag": "04E91C5A123F80",
                                  "meterStart": 1234000, "reservationId": 5, "timestamp": T0},
    ("StartTransaction", True): {"transactionId": 4711, "idTagInfo": {"status": "Accepted"}},
    ("StatusNotification", False): {"connectorId": 1, "errorCode": "NoError",
                                    "status": "SuspendedEV", "timestamp": T0},
    ("StatusNotification", True): {},
    ("StopTransaction", False): {"transactionId": 4711, "idTag": "04E91C5A123F80",
                                 "meterStop": 1251000, "timestamp": T1, "reason": "EVDisconnected",
                                 "transactionData": [
                                     {"timestamp": T0, "sampledValue": SAMPLED[:1]},
                                     {"timestamp": T1, "sampledValue": [
                                         {"value": "1251000", "context": "Transaction.End",
                                          "unit": "Wh"}]}]},
    ("StopTransaction", True): {"idTagInfo": {"status": "Accepted"}},
    ("CancelReservation", False): {"reservationId": 5},
    ("CancelReservation", True): {"status": "Accepted"},
    ("ChangeAvailability", False): {"connectorId": 0, "type": "Inoperative"},
    ("ChangeAvailability", True): {"status": "Scheduled"},
    ("ChangeConfiguration", False): {"key": "MeterValueSampleInterval", "value": "60"},
    ("ChangeConfiguration", True): {"status": "RebootRequired"},
    ("ClearCache", False): {},
    ("ClearCache", True): {"status": "Accepted"},
    ("ClearChargingProfile", False): {"connectorId": 1, "chargingProfilePurpose": "TxProfile"},
    ("ClearChargingProfile", True): {"status": "Unknown"},
    ("GetCompositeSchedule", False): {"connectorId": 1, "duration": 86400,
                                      "chargingRateUnit": "W"},
    ("GetCompositeSchedule", True): {"status": "Accepted", "connectorId": 1, "scheduleStart": T0,
                                     "chargingSchedule": {
                                         "duration": 86400, "startSchedule": T0,
                                         "chargingRateUnit": "W",
                                         "minChargingRate": Decimal("1380"),
                                         "chargingSchedulePeriod": [
                                             {"startPeriod": 0, "limit": Decimal("11000")},
                                             {"startPeriod": 28800, "limit": Decimal("7400.5"),
                                              "numberPhases": 1}]}},
    ("GetConfiguration", False): {"key": ["HeartbeatInterval", "ConnectionTimeOut"]},
    ("GetConfiguration", True): {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        {"key": "AuthorizationKey", "readonly": False}], "unknownKey": ["ConnectionTimeOut"]},
    ("GetDiagnostics", False): {"location": "ftp://diag.example.net/uploads/", "retries": 3,
                                "retryInterval": 120, "startTime": T0, "stopTime": T1},
    ("GetDiagnostics", True): {"fileName": "diag-EQ0001234-20240506.tar.gz"},
    ("GetLocalListVersion", False): {},
    ("GetLocalListVersion", True): {"listVersion": 17},
    ("RemoteStartTransaction", False): {"connectorId": 1, "idTag": "04E91C5A123F80",
                                        "chargingProfile": {k: v for k, v in PROFILE.items()
                                                            if k != "transactionId"}},
    ("RemoteStartTransaction", True): {"status": "Accepted"},
    ("RemoteStopTransaction", False): {"transactionId": 4711},
    ("RemoteStopTransaction", True): {"status": "Rejected"},
    ("ReserveNow", False): {"connectorId": 2, "expiryDate": T1, "idTag": "04E91C5A123F80",
                            "parentIdTag": "FLEET-7", "reservationId": 5},
    ("ReserveNow", True): {"status": "Occupied"},
    ("Reset", False): {"type": "Soft"},
    ("Reset", True): {"status": "Accepted"},
    ("SendLocalList", False): {"listVersion": 18, "updateType": "Differential",
                               "localAuthorizationList": [
                                   {"idTag": "04E91C5A123F80", "idTagInfo": {
                                       "status": "Accepted", "expiryDate": T1}},
                                   {"idTag": "DEADBEEF"}]},
    ("SendLocalList", True): {"status": "VersionMismatch"},
    ("SetChargingProfile", False): {"connectorId": 1, "csChargingProfiles": PROFILE},
    ("SetChargingProfile", True): {"status": "NotSupported"},
    ("TriggerMessage", False): {"requestedMessage": "MeterValues", "connectorId": 1},
    ("TriggerMessage", True): {"status": "NotImplemented"},
    ("UnlockConnector", False): {"connectorId": 1},
    ("UnlockConnector", True): {"status": "UnlockFailed"},
    ("UpdateFirmware", False): {"location": "https://fw.example.net/ac22/3.5.0.bin",
                                "retrieveDate": T0, "retries": 5, "retryInterval": 600},
    ("UpdateFirmware", True): {},
}


# --- building the maximal payload from the schema itself ---------------------------------------
_numbers = itertools.count(3)


def maximal(node: dict):
    """A value for a schema node with every property the schema allows, at the edge of its
    limits (strings at maxLength, the last enum value, lists of two)."""
    if "enum" in node:
        return node["enum"][-1]
    kind = node.get("type", "object")
    if kind == "object":
        return {name: maximal(sub) for name, sub in node.get("properties", {}).items()}
    if kind == "array":
        return [maximal(node["items"]) for _ in range(max(2, node.get("minItems", 0)))]
    if kind == "string":
        if node.get("format") == "date-time":
            return "2024-02-29T23:59:59.999Z"
        if node.get("format") == "uri":
            return "https://files.example.net/path/x.bin"
        return "x" * node.get("maxLength", 40)
    if kind == "integer":
        return next(_numbers)
    if kind == "number":
        return Decimal("12.3") if node.get("multipleOf") else Decimal(next(_numbers))
    if kind == "boolean":
        return True
    raise AssertionError(f"schema type {kind} not handled")


def normalise(payload):
    """What the codec is allowed to change: timestamps to UTC ``Z`` with milliseconds."""
    if isinstance(payload, dict):
        return {k: normalise(v) for k, v in payload.items()}
    if isinstance(payload, list):
        return [normalise(v) for v in payload]
    if isinstance(payload, str):
        try:
            return format_timestamp(parse_timestamp(payload)[0])
        except ValueError:
            return payload
    return payload


def assert_typed(value, node: dict, kind: type, path: str, complete: bool = False):
    """The decoded ``value`` has the Python type the schema ``node`` calls for (and, when
    ``complete``, every field the schema allows is set)."""
    if "enum" in node:
        assert isinstance(value, Enum) and value.value == value, path
    elif node.get("type") == "object":
        assert isinstance(value, kind), path
        hints = typing.get_type_hints(kind)
        by_json = {camel(f.name): f for f in dataclasses.fields(kind)}
        assert set(by_json) == set(node.get("properties", {})), f"{path}: fields differ"
        for name, sub in node.get("properties", {}).items():
            item = getattr(value, by_json[name].name)
            if item is None:
                assert not complete, f"{path}/{name} is missing"
                continue
            assert_typed(item, sub, _inner(hints[by_json[name].name]), f"{path}/{name}",
                         complete)
    elif node.get("type") == "array":
        assert isinstance(value, list), path
        for index, item in enumerate(value):
            assert_typed(item, node["items"], kind, f"{path}/{index}", complete)
    elif node.get("format") == "date-time":
        assert isinstance(value, datetime) and value.tzinfo == timezone.utc, path
    else:
        python = {"string": str, "integer": int, "number": Decimal, "boolean": bool}
        assert type(value) is python[node["type"]], f"{path}: {type(value).__name__}"


def _inner(hint):
    """The dataclass (or item type) a hint stands for: ``list[X] | None`` -> X."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if args and typing.get_origin(hint) is not list:
        hint = args[0]
    while typing.get_origin(hint) is list:
        hint = typing.get_args(hint)[0]
    return hint


# --- every action, both directions ---------------------------------------------------------------
def test_every_action_of_both_services_has_a_type_and_a_realistic_sample():
    assert set(m.ACTIONS) | set(m.CHARGE_POINT_ACTIONS) == set(ocppj.ACTIONS)
    assert len(ocppj.ACTIONS) == 28  # 10 + 19, DataTransfer in both
    assert set(REALISTIC) == set(ALL)
    assert m.CHARGE_POINT_ACTIONS["DataTransfer"] == m.ACTIONS["DataTransfer"]


@pytest.mark.smoke
@pytest.mark.parametrize("action,response", ALL, ids=ids)
def test_realistic_payload_round_trips(action, response):
    payload = REALISTIC[action, response]
    assert ocppj.validate(action, payload, response=response) == []
    message = ocppj.decode(action, payload, response=response)
    assert isinstance(message, ocppj.message_type(action, response))
    assert ocppj.action_of(message) == (action, response) or action == "DataTransfer"
    assert_typed(message, schema(action, response), type(message), action)
    encoded = ocppj.encode(message)
    assert encoded == normalise(payload)
    assert ocppj.validate(action, encoded, response=response) == []
    # and through JSON text, as it travels
    assert ocppj.from_json(ocppj.to_json(encoded)) == encoded


@pytest.mark.parametrize("action,response", ALL, ids=ids)
def test_maximal_payload_with_every_schema_field_round_trips(action, response):
    node = schema(action, response)
    payload = maximal(node)
    assert ocppj.validate(action, payload, response=response) == []
    message = ocppj.decode(action, payload, response=response)
    assert_typed(message, node, ocppj.message_type(action, response), action, complete=True)
    assert ocppj.encode(message) == normalise(payload)


@pytest.mark.parametrize("action,response", ALL, ids=ids)
def test_required_fields_and_lists_follow_the_schema(action, response):
    """A dataclass field without default is required by the schema; a list the schema requires
    is a required_list (encoded even when empty), all the way down."""
    def walk(kind, node, path):
        required = set(node.get("required", ()))
        hints = typing.get_type_hints(kind)
        for f in dataclasses.fields(kind):
            name = camel(f.name)
            sub = node["properties"][name]
            no_default = f.default is dataclasses.MISSING and \
                f.default_factory is dataclasses.MISSING
            if no_default:
                assert name in required, f"{path}/{name} required in the core, not the schema"
            if sub.get("type") == "array":
                assert bool(f.metadata.get("required")) == (name in required), f"{path}/{name}"
            inner = _inner(hints[f.name])
            if dataclasses.is_dataclass(inner):
                walk(inner, sub["items"] if sub.get("type") == "array" else sub, f"{path}/{name}")
    walk(ocppj.message_type(action, response), schema(action, response), action)


def test_every_enumerated_value_of_every_schema_decodes_to_its_member():
    """The core enums hold every value the 1.6 schemas allow (the codec types them all)."""
    def walk(kind, node, path):
        hints = typing.get_type_hints(kind)
        for f in dataclasses.fields(kind):
            sub = node["properties"][camel(f.name)]
            sub = sub["items"] if sub.get("type") == "array" else sub
            inner = _inner(hints[f.name])
            if "enum" in sub:
                assert issubclass(inner, Enum), f"{path}/{f.name}"
                missing = set(sub["enum"]) - {member.value for member in inner}
                assert not missing, f"{path}/{f.name}: {inner.__name__} lacks {missing}"
            elif dataclasses.is_dataclass(inner):
                walk(inner, sub, f"{path}/{f.name}")
    for action, response in ALL:
        walk(ocppj.message_type(action, response), schema(action, response), action)


# --- encoding rules -------------------------------------------------------------------------------
@pytest.mark.smoke
def test_encode_writes_ocppj_values():
    naive = datetime(2024, 5, 6, 7, 8, 9, 123456)  # a naive datetime is UTC
    message = m.StopTransactionRequest(transaction_id=1, meter_stop=10, timestamp=naive,
                                       reason=m.Reason.remote, id_tag=None)
    payload = ocppj.encode(message)
    assert payload == {"transactionId": 1, "meterStop": 10,
                       "timestamp": "2024-05-06T07:08:09.123Z", "reason": "Remote"}
    assert type(payload["reason"]) is str  # plain JSON types, not the enum
    assert "transactionData" not in payload  # an empty optional list is left out
    # a list the schema requires stays, even empty (the schema then says what is wrong)
    assert ocppj.encode(m.MeterValue(timestamp=naive)) == {
        "timestamp": "2024-05-06T07:08:09.123Z", "sampledValue": []}
    # fractional numbers: Decimal inside, JSON numbers outside; floats become exact Decimals
    period = ocppj.encode(m.ChargingSchedulePeriod(start_period=0, limit=16.1))
    assert period == {"startPeriod": 0, "limit": Decimal("16.1")}
    assert ocppj.to_json(period) == '{"startPeriod":0,"limit":16.1}'
    assert ocppj.to_json({"limit": Decimal("16.0")}) == '{"limit":16}'
    assert ocppj.encode(m.GetConfigurationResponse(
        configuration_key=[m.KeyValue("K", readonly=False)])) == {
        "configurationKey": [{"key": "K", "readonly": False}]}
    with pytest.raises(TypeError):
        ocppj.encode({"not": "a message"})


def test_encode_takes_plain_strings_from_the_soap_side():
    """The SOAP edges build messages with plain strings, out-of-vocabulary ones included."""
    message = m.StatusNotificationRequest(connector_id=1, status="Charging",
                                          error_code="Mode3Error")
    assert ocppj.encode(message) == {"connectorId": 1, "status": "Charging",
                                     "errorCode": "Mode3Error"}
    assert ocppj.validate("StatusNotification", ocppj.encode(message)) == [
        "errorCode: 'Mode3Error' is not one of " + repr(
            schema("StatusNotification")["properties"]["errorCode"]["enum"])]


def test_decode_types_values_and_keeps_unknown_vocabulary_as_sent():
    message = ocppj.decode("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                  "status": "Occupied",
                                                  "timestamp": "2024-05-06T09:08:09+02:00"})
    assert message.status == "Occupied" and type(message.status) is str
    assert message.error_code is m.ChargePointErrorCode.no_error
    assert message.timestamp == datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    limit = ocppj.decode("SetChargingProfile", REALISTIC["SetChargingProfile", False])
    assert limit.cs_charging_profiles.charging_schedule.charging_schedule_period[1].limit == \
        Decimal("10.5")
    # integers for a number field and floats from a json.loads without parse_float
    period = ocppj.decode("GetCompositeSchedule", json.loads(json.dumps(ocppj.from_json(
        ocppj.to_json(REALISTIC["GetCompositeSchedule", True])), default=float)), response=True)
    assert period.charging_schedule.charging_schedule_period[1].limit == Decimal("7400.5")
    assert period.charging_schedule.min_charging_rate == Decimal(1380)


# --- bad payloads --------------------------------------------------------------------------------
BAD = [
    ("SetChargingProfile", False,
     {"connectorId": 1, "csChargingProfiles": {**PROFILE, "chargingSchedule": {
         "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0,
                                                              "limit": 16.15}]}}},
     ["csChargingProfiles/chargingSchedule/chargingSchedulePeriod/0/limit: "
      "Decimal('16.15') is not a multiple of 0.1"]),
    ("StatusNotification", False, {"connectorId": 1, "status": "Available"},
     ["'errorCode' is a required property"]),
    ("BootNotification", False, {"chargePointVendor": "V" * 21, "chargePointModel": "M"},
     [f"chargePointVendor: '{'V' * 21}' is too long"]),
    ("StartTransaction", False, {"connectorId": "1", "idTag": "T", "meterStart": 0,
                                 "timestamp": "2024-02-30T10:00:00Z"},
     ["connectorId: '1' is not of type 'integer'",
      "timestamp: '2024-02-30T10:00:00Z' is not a 'date-time'"]),
    ("Reset", False, {"type": "Warm", "delay": 3},
     ["Additional properties are not allowed ('delay' was unexpected)",
      "type: 'Warm' is not one of ['Hard', 'Soft']"]),
    ("GetConfiguration", True, {"configurationKey": [{"key": "A", "readonly": "no"}]},
     ["configurationKey/0/readonly: 'no' is not of type 'boolean'"]),
    ("MeterValues", False, {"connectorId": 1, "meterValue": []},
     ["meterValue: [] should be non-empty"]),
]


@pytest.mark.parametrize("action,response,payload,problems", BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_validate_names_each_problem_with_its_path(action, response, payload, problems):
    assert ocppj.validate(action, payload, response=response) == problems
    with pytest.raises(ocppj.PayloadError) as raised:
        ocppj.require_valid(action, payload, response=response)
    assert raised.value.problems == problems
    assert raised.value.reason.startswith(f"invalid {action}{' response' if response else ''} "
                                          "payload (OCPP 1.6 JSON schema): ")


def test_require_valid_answers_the_ocppj_error_code():
    def code(action, payload):
        with pytest.raises(ocppj.PayloadError) as raised:
            ocppj.require_valid(action, payload)
        return raised.value.code
    assert code("Reset", {}) is ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    assert code("Reset", {"type": 1}) is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert code("Reset", {"type": "Warm"}) is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert code("Reset", {"type": "Soft", "x": 1}) is ErrorCode.FORMATION_VIOLATION
    assert ocppj.require_valid("ChangeConfiguration", {"key": "k", "value": "v"}) == \
        {"key": "k", "value": "v"}
    assert ocppj.require_valid("SetChargingProfile", json.loads(json.dumps(
        REALISTIC["SetChargingProfile", False], default=float)))["csChargingProfiles"][
        "chargingSchedule"]["chargingSchedulePeriod"][1]["limit"] == Decimal("10.5")


@pytest.mark.parametrize("payload,code,problem", [
    ({"idTag": 7}, ErrorCode.TYPE_CONSTRAINT_VIOLATION, "idTag: 7 is not of type 'string'"),
    ({"idTag": "T", "connectorId": True}, ErrorCode.TYPE_CONSTRAINT_VIOLATION,
     "connectorId: True is not of type 'integer'"),
    ({"connectorId": 1}, ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
     "'idTag' is a required property"),
    ({"idTag": "T", "chargingProfile": {**PROFILE, "chargingSchedule": {
        "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0}]}}},
     ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
     "chargingProfile/chargingSchedule/chargingSchedulePeriod/0: 'limit' is a required property"),
    ({"idTag": "T", "chargingProfile": {**PROFILE, "validFrom": "tomorrow"}},
     ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
     "chargingProfile/validFrom: not a date and time: 'tomorrow'"),
    ({"idTag": "T", "colour": "red"}, ErrorCode.FORMATION_VIOLATION, "unknown field(s) colour"),
    ([], ErrorCode.TYPE_CONSTRAINT_VIOLATION, "[] is not of type 'object'"),
])
def test_decode_refuses_a_payload_of_the_wrong_shape(payload, code, problem):
    with pytest.raises(ocppj.PayloadError) as raised:
        ocppj.decode("RemoteStartTransaction", payload)
    assert raised.value.code is code
    assert raised.value.problems == [problem]


def test_unknown_actions_are_not_implemented():
    for call in (lambda: ocppj.decode("Teleport", {}), lambda: ocppj.validate("Teleport", {}),
                 lambda: ocppj.message_type("CertificateSigned")):
        with pytest.raises(OcppError) as raised:
            call()
        assert raised.value.code is ErrorCode.NOT_IMPLEMENTED


def test_command_payload_checks_use_the_same_validator():
    payload = {"type": "Warm"}
    with pytest.raises(TaskError) as raised:
        validate_request("Reset", payload)
    assert str(raised.value) == ("invalid Reset payload (OCPP 1.6 JSON schema): "
                                 + "; ".join(ocppj.validate("Reset", payload)))
    assert response_problems("Reset", {"status": "Maybe"}) == \
        ocppj.validate("Reset", {"status": "Maybe"}, response=True)


# --- frames ---------------------------------------------------------------------------------------
@pytest.mark.smoke
def test_frames_encode_and_decode():
    unique_id = ocppj.new_unique_id()
    assert len(unique_id) == ocppj.MAX_UNIQUE_ID_LENGTH == 36
    boot = m.BootNotificationRequest(charge_point_vendor="V", charge_point_model="M")
    call = ocppj.Call(unique_id, "BootNotification", boot)
    assert ocppj.encode_frame(call) == [2, unique_id, "BootNotification",
                                        {"chargePointVendor": "V", "chargePointModel": "M"}]
    text = ocppj.to_json(ocppj.encode_frame(call))
    assert ocppj.decode_frame(text) == ocppj.Call(unique_id, "BootNotification",
                                                  {"chargePointVendor": "V",
                                                   "chargePointModel": "M"})
    result = ocppj.CallResult("42", m.HeartbeatResponse(current_time=datetime(
        2024, 5, 6, tzinfo=timezone.utc)))
    assert ocppj.encode_frame(result) == [3, "42", {"currentTime": "2024-05-06T00:00:00Z"}]
    assert ocppj.decode_frame(b'[3, "42", {"limit": 1.5}]') == \
        ocppj.CallResult("42", {"limit": Decimal("1.5")})
    error = ocppj.CallError("42", ErrorCode.NOT_IMPLEMENTED, "no such action", {"action": "X"})
    assert ocppj.encode_frame(error) == [4, "42", "NotImplemented", "no such action",
                                         {"action": "X"}]
    assert ocppj.decode_frame(ocppj.encode_frame(error)) == error
    assert ocppj.encode_frame(ocppj.CallError("42", ErrorCode.INTERNAL_ERROR)) == \
        [4, "42", "InternalError", "", {}]


def test_unique_id_is_at_most_36_characters():
    assert ocppj.decode_frame([2, "x" * 36, "Heartbeat", {}]).unique_id == "x" * 36
    for frame in ([2, "x" * 37, "Heartbeat", {}], [3, "", {}], [3, 42, {}]):
        with pytest.raises(ocppj.FrameError) as raised:
            ocppj.decode_frame(frame)
        assert raised.value.code is ErrorCode.PROTOCOL_ERROR
    with pytest.raises(ocppj.FrameError, match="37 characters long"):
        ocppj.encode_frame(ocppj.Call("x" * 37, "Heartbeat", {}))


@pytest.mark.parametrize("data,code,unique_id", [
    ("[2, \"1\", \"Heartbeat\", {}", ErrorCode.FORMATION_VIOLATION, None),
    ('{"a": 1}', ErrorCode.PROTOCOL_ERROR, None),
    ([], ErrorCode.PROTOCOL_ERROR, None),
    ([5, "1", {}], ErrorCode.PROTOCOL_ERROR, None),
    (["2", "1", "Heartbeat", {}], ErrorCode.PROTOCOL_ERROR, None),
    ([2, "1", "Heartbeat"], ErrorCode.PROTOCOL_ERROR, "1"),
    ([2, "1", 7, {}], ErrorCode.PROTOCOL_ERROR, "1"),
    ([2, "1", "Heartbeat", []], ErrorCode.FORMATION_VIOLATION, "1"),
    ([3, "1", "ok"], ErrorCode.FORMATION_VIOLATION, "1"),
    ([4, "1", "GenericError", "x", None], ErrorCode.FORMATION_VIOLATION, "1"),
    ([4, "1", 500, "x", {}], ErrorCode.PROTOCOL_ERROR, "1"),
])
def test_malformed_frames_say_what_is_wrong_and_keep_the_id(data, code, unique_id):
    with pytest.raises(ocppj.FrameError) as raised:
        ocppj.decode_frame(data)
    assert raised.value.code is code
    assert raised.value.unique_id == unique_id


def test_callerror_codes_outside_ocppj_and_the_errata_spelling():
    assert ocppj.decode_frame([4, "1", "FormatViolation", "bad", {}]).error_code is \
        ErrorCode.FORMATION_VIOLATION
    odd = ocppj.decode_frame([4, "1", "Busy", "try later", {"retry": 5}])
    assert odd == ocppj.CallError("1", ErrorCode.GENERIC_ERROR, "Busy: try later", {"retry": 5})
