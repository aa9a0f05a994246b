"""The SOAP station simulator: the state machine of one station (fake clock, fake central
system), then real stations over HTTP against the gateway and a plain zeep client."""
from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree
from sqlalchemy import select
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport

from conftest import ROOT, command_env
from official_schema import schema_errors
from soap_messages import SOAP12, fault_subcode
from soapgw.simulator import Simulation, SimulationConfig, StationOptions
from soapgw.simulator.central_client import CentralClient, CentralUnavailable
from soapgw.simulator.commands import handle
from soapgw.simulator.dialect import Dialect15, charge_point_service
from soapgw.simulator.profiles import Profile, SmartCharging
from soapgw.simulator.station import Station
from soapgw.store.models import (ChargeBox, Connector, ConnectorStatus, MeterValueRow,
                                 Transaction)

UTC = timezone.utc
T0 = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
QUICK = dict(react_delay=0, step_delay=0.1, reboot_delay=0.1, retry_delay=0.5)


# --- fakes -----------------------------------------------------------------------------------
class Clock:
    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeCentral:
    """Records what the station sends and answers like an accepting central system."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.sent: list[tuple[str, dict]] = []
        self.tag_status = "Accepted"
        self.boot_status = "Accepted"
        self.unreachable = False
        self._ids = itertools.count(101)

    def call(self, action: str, payload: dict) -> dict:
        if self.unreachable:
            raise CentralUnavailable(f"{action}: connection refused")
        self.sent.append((action, payload))
        now = self.clock()
        if action == "StartTransaction":
            return {"transactionId": next(self._ids), "idTagInfo": {"status": self.tag_status}}
        return {
            "BootNotification": {"status": self.boot_status, "currentTime": now, "interval": 60},
            "Heartbeat": {"currentTime": now},
            "Authorize": {"idTagInfo": {"status": self.tag_status}},
            "StopTransaction": {"idTagInfo": {"status": "Accepted"}},
        }.get(action, {})

    def actions(self) -> list[str]:
        return [action for action, _ in self.sent]

    def of(self, action: str) -> list[dict]:
        return [payload for name, payload in self.sent if name == action]

    def statuses(self, connector_id: int | None = None) -> list[str]:
        return [p["status"] for p in self.of("StatusNotification")
                if connector_id is None or p["connectorId"] == connector_id]

    def clear(self) -> None:
        self.sent.clear()


def make_station(version: str = "1.6", **options) -> tuple[Station, FakeCentral, Clock]:
    clock = Clock()
    central = FakeCentral(clock)
    station = Station("CP1", version, central, StationOptions(**{**QUICK, **options}),
                      clock=clock)
    return station, central, clock


def run(station: Station, clock: Clock, seconds: float = 0, step: float = 0.1) -> None:
    """Let ``seconds`` pass in steps, running what falls due (bounded by construction)."""
    station.run_due()
    for _ in range(int(round(seconds / step))):
        clock.advance(step)
        station.run_due()


def booted(version: str = "1.6", **options) -> tuple[Station, FakeCentral, Clock]:
    station, central, clock = make_station(version, **options)
    station.start()
    run(station, clock)
    assert station.registration == "Accepted"
    central.clear()
    return station, central, clock


def charging(station: Station, clock: Clock, tag: str = "TAG1", connector: int = 1) -> int:
    assert handle(station, "RemoteStartTransaction",
                          {"idTag": tag, "connectorId": connector}) == {"status": "Accepted"}
    run(station, clock)
    (transaction_id,) = station.transaction_ids()
    return transaction_id


# --- boot, heartbeat, status -----------------------------------------------------------------
def test_boot_reports_every_connector_then_heartbeats_at_the_answered_interval():
    station, central, clock = make_station(connectors=2)
    station.start()
    run(station, clock)
    assert central.actions() == ["BootNotification"] + ["StatusNotification"] * 3
    boot = central.of("BootNotification")[0]
    assert (boot["chargePointVendor"], boot["chargePointModel"]) == ("soapgw", "SimCharger")
    assert [(p["connectorId"], p["status"]) for p in central.of("StatusNotification")] == [
        (0, "Available"), (1, "Available"), (2, "Available")]
    assert station.setting("HeartbeatInterval") == "60"
    central.clear()
    run(station, clock, 59.9)
    assert central.actions() == []
    run(station, clock, 60.2)
    assert central.actions() == ["Heartbeat", "Heartbeat"]


def test_heartbeat_option_overrides_the_answered_interval():
    station, central, clock = booted(heartbeat=5)
    run(station, clock, 10.05)
    assert central.actions() == ["Heartbeat", "Heartbeat"]


def test_rejected_boot_sends_nothing_else_and_retries_after_the_interval():
    station, central, clock = make_station()
    central.boot_status = "Rejected"
    station.start()
    run(station, clock, 59)
    assert central.actions() == ["BootNotification"]
    central.boot_status = "Accepted"
    run(station, clock, 1.1)
    assert central.actions()[:2] == ["BootNotification", "BootNotification"]
    assert station.registration == "Accepted" and "StatusNotification" in central.actions()


def test_unreachable_central_system_is_retried():
    station, central, clock = make_station(retry_delay=2)
    central.unreachable = True
    station.start()
    run(station, clock, 1)
    assert station.registration is None and "boot failed" in station.history[-1]
    central.unreachable = False
    run(station, clock, 1.1)
    assert station.registration == "Accepted"


# --- sessions and meter ------------------------------------------------------------------------
def test_automatic_session_authorizes_starts_meters_and_stops_with_transaction_data():
    station, central, clock = booted(session_interval=600, session_length=30, meter_interval=10,
                                     first_session_delay=1, id_tag="T-{n}")
    run(station, clock, 1)
    assert central.actions() == ["StatusNotification", "Authorize", "StartTransaction",
                                 "StatusNotification"]
    assert central.statuses(1) == ["Preparing", "Charging"]
    start = central.of("StartTransaction")[0]
    assert (start["connectorId"], start["idTag"], start["meterStart"]) == (1, "T-1", 0)
    central.clear()
    run(station, clock, 30)  # samples at 10, 20, 30 s; the session ends at 31 s
    meter_values = central.of("MeterValues")
    assert len(meter_values) == 3 and all(m["transactionId"] == 101 for m in meter_values)
    sample = {s["measurand"]: s for s in meter_values[0]["meterValue"][0]["sampledValue"]}
    assert sample["Power.Active.Import"]["value"] == "11040"
    assert sample["Energy.Active.Import.Register"]["unit"] == "Wh"
    assert sample["Current.Import"]["value"] == "16.0"
    (stop,) = central.of("StopTransaction")
    assert stop["transactionId"] == 101 and stop["reason"] == "Local"
    # 30 s at 11040 W = 92 Wh
    assert stop["meterStop"] == 92
    contexts = [mv["sampledValue"][0]["context"] for mv in stop["transactionData"]]
    assert contexts == ["Transaction.Begin", "Transaction.End"]
    assert central.statuses(1) == ["Finishing", "Available"]
    assert [tx.transaction_id for tx in station.completed] == [101]


def test_automatic_session_with_a_refused_tag_does_not_start():
    station, central, clock = booted(session_interval=600, first_session_delay=1)
    central.tag_status = "Invalid"
    run(station, clock, 1)
    assert "StartTransaction" not in central.actions()
    assert central.statuses(1) == ["Preparing", "Available"]


def test_start_answered_invalid_is_stopped_as_deauthorized():
    station, central, clock = booted()
    central.tag_status = "Invalid"
    handle(station, "RemoteStartTransaction", {"idTag": "TAG1"})
    run(station, clock, 0.1)
    (stop,) = central.of("StopTransaction")
    assert stop["reason"] == "DeAuthorized" and station.transaction_ids() == []


def test_start_answer_without_transaction_id_frees_the_connector():
    station, central, clock = booted()
    answer = central.call
    central.call = lambda action, payload: ({} if action == "StartTransaction"
                                            else answer(action, payload))
    handle(station, "RemoteStartTransaction", {"idTag": "TAG1"})
    run(station, clock)
    assert station.transaction_ids() == [] and station.connectors[1].transaction is None
    assert central.statuses(1) == ["Preparing", "Available"]


# --- commands: transactions --------------------------------------------------------------------
def test_remote_start_and_stop():
    station, central, clock = booted()
    transaction_id = charging(station, clock, "TAG9")
    assert central.actions() == ["StatusNotification", "StartTransaction", "StatusNotification"]
    # busy connector, unknown connector, unknown transaction: Rejected
    assert handle(station, "RemoteStartTransaction", {"idTag": "X", "connectorId": 1}) == {
        "status": "Rejected"}
    assert handle(station, "RemoteStartTransaction", {"idTag": "X", "connectorId": 7}) == {
        "status": "Rejected"}
    assert handle(station, "RemoteStopTransaction", {"transactionId": 999}) == {
        "status": "Rejected"}
    assert handle(station, "RemoteStopTransaction", {"transactionId": transaction_id}) == {
        "status": "Accepted"}
    run(station, clock)
    (stop,) = central.of("StopTransaction")
    assert (stop["transactionId"], stop["reason"], stop["idTag"]) == (transaction_id, "Remote",
                                                                     None)


def test_remote_start_authorizes_first_when_configured():
    station, central, clock = booted()
    assert handle(station, "ChangeConfiguration", {"key": "AuthorizeRemoteTxRequests",
                                                  "value": "true"}) == {"status": "Accepted"}
    central.tag_status = "Blocked"
    handle(station, "RemoteStartTransaction", {"idTag": "TAG1"})
    run(station, clock)
    assert "Authorize" in central.actions() and "StartTransaction" not in central.actions()


def test_remote_start_with_a_profile_other_than_tx_profile_is_rejected():
    station, _, _ = booted()
    profile = tx_profile(6, purpose="TxDefaultProfile")
    assert handle(station, "RemoteStartTransaction", {"idTag": "T", "chargingProfile": profile}) \
        == {"status": "Rejected"}


def test_remote_start_tx_profile_limits_power_from_the_start():
    station, central, clock = booted()
    profile = {"chargingProfileId": 4, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
               "chargingProfileKind": "Relative",
               "chargingSchedule": {"chargingRateUnit": "W",
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3000}]}}
    handle(station, "RemoteStartTransaction", {"idTag": "T", "connectorId": 1,
                                              "chargingProfile": profile})
    run(station, clock)
    assert station.connectors[1].power_w == 3000
    assert station.smart.profiles[0].transaction_id == 101


def test_unlock_connector_ends_the_session():
    station, central, clock = booted()
    charging(station, clock)
    assert handle(station, "UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
    assert handle(station, "UnlockConnector", {"connectorId": 5}) == {"status": "NotSupported"}
    run(station, clock)
    assert central.of("StopTransaction")[0]["reason"] == "UnlockCommand"


def test_unlock_connector_in_ocpp15_answers_accepted_or_rejected():
    station, _, _ = booted("1.5")
    assert handle(station, "UnlockConnector", {"connectorId": 1}) == {"status": "Accepted"}
    assert handle(station, "UnlockConnector", {"connectorId": 3}) == {"status": "Rejected"}


# --- commands: availability, reset, configuration ------------------------------------------------
def test_change_availability_is_scheduled_while_charging():
    station, central, clock = booted()
    transaction_id = charging(station, clock)
    assert handle(station, "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == {
        "status": "Scheduled"}
    assert handle(station, "ChangeAvailability", {"connectorId": 4, "type": "Inoperative"}) == {
        "status": "Rejected"}
    central.clear()
    handle(station, "RemoteStopTransaction", {"transactionId": transaction_id})
    run(station, clock)
    assert central.statuses(1) == ["Finishing", "Unavailable"]
    assert handle(station, "RemoteStartTransaction", {"idTag": "T", "connectorId": 1}) == {
        "status": "Rejected"}
    central.clear()
    assert handle(station, "ChangeAvailability", {"connectorId": 0, "type": "Operative"}) == {
        "status": "Accepted"}
    run(station, clock)
    assert central.statuses() == ["Available", "Available"]  # connector 0, then 1


def test_reset_ends_sessions_and_boots_again():
    station, central, clock = booted()
    charging(station, clock)
    assert handle(station, "Reset", {"type": "Soft"}) == {"status": "Accepted"}
    run(station, clock, 0.3)
    assert central.of("StopTransaction")[0]["reason"] == "SoftReset"
    assert central.actions().count("BootNotification") == 1 and station.boots == 2
    assert station.registration == "Accepted"


def test_change_and_get_configuration():
    station, central, clock = booted()
    change = lambda key, value: handle(station, "ChangeConfiguration",  # noqa: E731
                                               {"key": key, "value": value})["status"]
    assert change("NoSuchKey", "1") == "NotSupported"
    assert change("NumberOfConnectors", "4") == "Rejected"  # read-only
    assert change("MeterValueSampleInterval", "often") == "Rejected"
    assert change("MeterValuesSampledData", "Energy.Active.Import.Register,Bogus") == "Rejected"
    assert change("metervaluesampleinterval", "5") == "Accepted"  # keys are case-insensitive
    reply = handle(station, "GetConfiguration", {"key": ["MeterValueSampleInterval", "Nope"]})
    assert reply == {"configurationKey": [{"key": "MeterValueSampleInterval", "readonly": False,
                                           "value": "5"}], "unknownKey": ["Nope"]}
    everything = handle(station, "GetConfiguration", {"key": []})["configurationKey"]
    assert {"HeartbeatInterval", "NumberOfConnectors", "SupportedFeatureProfiles"} <= {
        k["key"] for k in everything}
    # the new interval applies at once
    charging(station, clock)
    central.clear()
    run(station, clock, 10.05)
    assert central.actions() == ["MeterValues", "MeterValues"]
    assert change("MeterValuesSampledData", "SoC,Voltage") == "Accepted"
    central.clear()
    run(station, clock, 5)
    samples = central.of("MeterValues")[0]["meterValue"][0]["sampledValue"]
    assert [(s["measurand"], s["unit"]) for s in samples] == [("SoC", "Percent"), ("Voltage", "V")]


def test_heartbeat_interval_change_reschedules_heartbeats():
    station, central, clock = booted()
    handle(station, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "2"})
    run(station, clock, 4.05)
    assert central.actions() == ["Heartbeat", "Heartbeat"]


# --- commands: local list, cache, reservations -------------------------------------------------
def test_send_local_list_keeps_list_and_version():
    station, central, clock = booted()
    accepted = {"status": "Accepted"}
    assert handle(station, "GetLocalListVersion", {}) == {"listVersion": 0}
    full = {"listVersion": 4, "updateType": "Full", "localAuthorizationList": [
        {"idTag": "A", "idTagInfo": accepted}, {"idTag": "B", "idTagInfo": accepted}]}
    assert handle(station, "SendLocalList", full)["status"] == "Accepted"
    assert handle(station, "GetLocalListVersion", {}) == {"listVersion": 4}
    stale = {"listVersion": 4, "updateType": "Differential", "localAuthorizationList": []}
    assert handle(station, "SendLocalList", stale)["status"] == "VersionMismatch"
    diff = {"listVersion": 5, "updateType": "Differential",
            "localAuthorizationList": [{"idTag": "B"}, {"idTag": "C", "idTagInfo": accepted}]}
    assert handle(station, "SendLocalList", diff)["status"] == "Accepted"
    assert sorted(station.auth.entries) == ["A", "C"] and station.auth.version == 5
    too_many = {"listVersion": 6, "updateType": "Full", "localAuthorizationList": [
        {"idTag": f"T{n}", "idTagInfo": accepted} for n in range(101)]}
    assert handle(station, "SendLocalList", too_many)["status"] == "Failed"
    # offline, the local list authorizes
    central.unreachable = True
    assert station.authorize("A") == accepted
    with pytest.raises(CentralUnavailable):
        station.authorize("Z")


def test_send_local_list_in_ocpp15_uses_its_spelling_and_answers_a_hash():
    station, _, _ = booted("1.5")
    entries = [{"idTag": "A"}, {"idTag": "B", "idTagInfo": {"status": "Blocked"}}]
    reply = handle(station, "SendLocalList", {"listVersion": 2, "updateType": "Full",
                                             "localAuthorisationList": entries})
    assert reply["status"] == "Accepted" and len(reply["hash"]) == 40
    assert station.auth.entries == {"B": {"status": "Blocked"}}


def test_clear_cache_forgets_cached_authorizations():
    station, central, clock = booted()
    station.authorize("TAG1")
    central.unreachable = True
    assert station.authorize("TAG1") == {"status": "Accepted"}  # from the cache
    assert handle(station, "ClearCache", {}) == {"status": "Accepted"}
    with pytest.raises(CentralUnavailable):
        station.authorize("TAG1")


def test_reserve_now_cancel_and_expiry():
    station, central, clock = booted(connectors=2)
    reserve = lambda connector, rid, tag="R1", minutes=10: station.handle(  # noqa: E731
        "ReserveNow", {"connectorId": connector, "reservationId": rid, "idTag": tag,
                       "expiryDate": clock() + timedelta(minutes=minutes)})["status"]
    assert reserve(1, 7) == "Accepted"
    assert reserve(1, 8) == "Occupied"
    assert reserve(0, 9) == "Rejected"  # ReserveConnectorZeroSupported is false
    assert reserve(3, 9) == "Rejected"
    assert reserve(2, 9, minutes=-1) == "Rejected"
    run(station, clock)
    assert central.statuses(1) == ["Reserved"]
    # only the reserving tag may start there; its StartTransaction names the reservation
    assert handle(station, "RemoteStartTransaction", {"idTag": "OTHER", "connectorId": 1}) == {
        "status": "Rejected"}
    charging(station, clock, "R1", 1)
    assert central.of("StartTransaction")[0]["reservationId"] == 7
    assert station.connectors[1].reservation is None
    assert reserve(1, 10) == "Occupied"  # charging
    assert reserve(2, 11, minutes=1) == "Accepted"
    assert handle(station, "CancelReservation", {"reservationId": 11}) == {"status": "Accepted"}
    assert handle(station, "CancelReservation", {"reservationId": 11}) == {"status": "Rejected"}
    assert reserve(2, 12, minutes=1) == "Accepted"
    run(station, clock)
    central.clear()
    run(station, clock, 60.1)
    assert central.statuses(2) == ["Available"] and station.connectors[2].reservation is None
    assert reserve(2, 13) == "Accepted"
    handle(station, "ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
    assert station.connectors[2].reservation is None  # an inoperative connector keeps none
    assert reserve(2, 14) == "Unavailable"


# --- commands: smart charging -----------------------------------------------------------------
def tx_profile(limit, unit="A", profile_id=1, stack=0, purpose="TxProfile", kind="Relative",
               periods=None, **extra):
    periods = periods or [{"startPeriod": 0, "limit": Decimal(str(limit))}]
    return {"chargingProfileId": profile_id, "stackLevel": stack,
            "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
            "chargingSchedule": {"chargingRateUnit": unit, "chargingSchedulePeriod": periods,
                                 **extra}}


def test_set_charging_profile_limits_the_simulated_power():
    station, central, clock = booted(meter_interval=10)
    set_profile = lambda connector, profile: station.handle(  # noqa: E731
        "SetChargingProfile", {"connectorId": connector, "csChargingProfiles": profile})["status"]
    assert set_profile(1, tx_profile(8)) == "Rejected"  # no transaction
    assert set_profile(1, tx_profile(8, purpose="ChargePointMaxProfile")) == "Rejected"
    assert set_profile(0, tx_profile(8, stack=11, purpose="ChargePointMaxProfile")) == "Rejected"
    charging(station, clock)
    assert set_profile(1, {**tx_profile(8), "transactionId": 5}) == "Rejected"  # other tx
    central.clear()
    run(station, clock, 10)
    assert set_profile(1, tx_profile(8)) == "Accepted"
    run(station, clock, 10)
    powers = [[s["value"] for s in m["meterValue"][0]["sampledValue"]
               if s["measurand"] == "Power.Active.Import"][0] for m in central.of("MeterValues")]
    assert powers == ["11040", "5520"]  # 8 A x 3 phases x 230 V
    # 10 s at 11040 W then 10 s at 5520 W
    assert int(station.connectors[1].meter_wh) == int(11040 * 10 / 3600 + 5520 * 10 / 3600)
    assert set_profile(0, tx_profile(4000, "W", 2, purpose="ChargePointMaxProfile",
                                     kind="Absolute")) == "Accepted"
    assert station.connectors[1].power_w == 4000
    clear = lambda **kw: handle(station, "ClearChargingProfile", kw)["status"]  # noqa: E731
    assert clear(id=2) == "Accepted" and station.connectors[1].power_w == 5520
    assert clear(id=2) == "Unknown"
    assert clear(chargingProfilePurpose="TxProfile") == "Accepted"
    assert station.connectors[1].power_w == 11040


def test_tx_profile_goes_with_its_transaction():
    station, central, clock = booted()
    transaction_id = charging(station, clock)
    handle(station, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": tx_profile(8)})
    handle(station, "RemoteStopTransaction", {"transactionId": transaction_id})
    run(station, clock)
    assert station.smart.profiles == []


def test_get_composite_schedule_combines_installed_profiles():
    station, central, clock = booted()
    max_profile = tx_profile(20, profile_id=1, purpose="ChargePointMaxProfile", kind="Absolute",
                             startSchedule=clock())
    default = tx_profile(0, profile_id=2, purpose="TxDefaultProfile", kind="Absolute",
                         startSchedule=clock(), duration=3600,
                         periods=[{"startPeriod": 0, "limit": Decimal("10")},
                                  {"startPeriod": 600, "limit": Decimal("32")}])
    for connector, profile in ((0, max_profile), (1, default)):
        assert handle(station, "SetChargingProfile", {"connectorId": connector,
                                                     "csChargingProfiles": profile}) == {
            "status": "Accepted"}
    reply = handle(station, "GetCompositeSchedule", {"connectorId": 1, "duration": 7200,
                                                    "chargingRateUnit": "A"})
    assert reply["status"] == "Accepted" and reply["connectorId"] == 1
    schedule = reply["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "A" and schedule["duration"] == 7200
    periods = [(p["startPeriod"], p["limit"]) for p in schedule["chargingSchedulePeriod"]]
    # 10 A, then capped at 20 A by the station maximum, then (TxDefault over) the 16 A hardware
    assert periods == [(0, Decimal("10.0")), (600, Decimal("16.0"))]
    watts = handle(station, "GetCompositeSchedule", {"connectorId": 1, "duration": 300,
                                                    "chargingRateUnit": "W"})
    assert watts["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": Decimal("6900.0")}]
    assert handle(station, "GetCompositeSchedule", {"connectorId": 9, "duration": 60}) == {
        "status": "Rejected"}


def test_recurring_and_relative_profiles():
    smart = SmartCharging(max_power_w=22080)
    daily = Profile.from_ocpp(tx_profile(10, kind="Recurring", purpose="TxDefaultProfile",
                                         startSchedule=T0, periods=[
                                             {"startPeriod": 0, "limit": 10},
                                             {"startPeriod": 3600, "limit": 32}]) | {
        "recurrencyKind": "Daily"}, 0, T0)
    smart.install(daily)
    next_day = T0 + timedelta(days=1, minutes=30)
    assert smart.limit(1, next_day, None, "A") == 10
    assert smart.limit(1, next_day + timedelta(hours=1), None, "A") == 32
    schedule = smart.composite(1, T0 + timedelta(hours=23), 2 * 3600, None, "A")
    assert [(p["startPeriod"], float(p["limit"])) for p in
            schedule["chargingSchedulePeriod"]] == [(0, 32.0), (3600, 10.0)]
    relative = Profile.from_ocpp(tx_profile(6, profile_id=9, stack=3), 1, T0)
    smart.install(relative)
    assert smart.limit(1, next_day, next_day - timedelta(minutes=1), "A") == 6
    assert smart.limit(1, next_day, None, "A") == 10  # no transaction: TxProfile out of play


# --- commands: trigger, firmware, diagnostics, data transfer ------------------------------------
@pytest.mark.parametrize("message,expected", [
    ("BootNotification", ["BootNotification", "StatusNotification", "StatusNotification"]),
    ("Heartbeat", ["Heartbeat"]),
    ("StatusNotification", ["StatusNotification"]),
    ("MeterValues", ["MeterValues"]),
    ("FirmwareStatusNotification", ["FirmwareStatusNotification"]),
    ("DiagnosticsStatusNotification", ["DiagnosticsStatusNotification"]),
])
def test_trigger_message_sends_the_message(message, expected):
    station, central, clock = booted()
    assert handle(station, "TriggerMessage", {"requestedMessage": message, "connectorId": 1}) == {
        "status": "Accepted"}
    run(station, clock)
    assert central.actions() == expected
    if message == "MeterValues":
        sample = central.of("MeterValues")[0]["meterValue"][0]["sampledValue"][0]
        assert sample["context"] == "Trigger"
    if message == "StatusNotification":
        assert central.of("StatusNotification")[0]["connectorId"] == 1
    assert handle(station, "TriggerMessage", {"requestedMessage": message, "connectorId": 3}) == {
        "status": "Rejected"}


def test_update_firmware_reports_progress_reboots_and_reports_installed():
    station, central, clock = booted()
    assert handle(station, "UpdateFirmware", {"retrieveDate": clock() + timedelta(seconds=5),
                                             "location": "https://fw.example/cp-2.1.bin"}) == {}
    run(station, clock, 4.9)
    assert central.actions() == []
    run(station, clock, 1)
    statuses = [p["status"] for p in central.of("FirmwareStatusNotification")]
    assert statuses == ["Downloading", "Downloaded", "Installing", "Installed"]
    boots = central.of("BootNotification")
    assert boots and boots[-1]["firmwareVersion"] == "cp-2.1.bin"
    actions = central.actions()
    assert actions.index("BootNotification") < len(actions) - 1 - actions[::-1].index(
        "FirmwareStatusNotification")  # Installed after the reboot


def test_update_firmware_from_an_unusable_location_fails_the_download():
    station, central, clock = booted()
    handle(station, "UpdateFirmware", {"retrieveDate": clock(), "location": "mailto:x@y"})
    run(station, clock, 1)
    assert [p["status"] for p in central.of("FirmwareStatusNotification")] == [
        "Downloading", "DownloadFailed"]


def test_get_diagnostics_names_a_file_and_uploads_it():
    station, central, clock = booted()
    reply = handle(station, "GetDiagnostics", {"location": "ftp://logs.example/in/"})
    assert reply["fileName"].startswith("diagnostics-CP1-") and reply["fileName"].endswith(".log")
    run(station, clock, 0.2)
    assert [p["status"] for p in central.of("DiagnosticsStatusNotification")] == [
        "Uploading", "Uploaded"]


def test_data_transfer():
    station, _, _ = booted()
    vendor = "soapgw.simulator"
    assert handle(station, "DataTransfer", {"vendorId": "acme"}) == {"status": "UnknownVendorId"}
    assert handle(station, "DataTransfer", {"vendorId": vendor, "messageId": "Echo",
                                           "data": "hi"}) == {"status": "Accepted", "data": "hi"}
    assert handle(station, "DataTransfer", {"vendorId": vendor, "messageId": "Nope"}) == {
        "status": "UnknownMessageId"}
    state = handle(station, "DataTransfer", {"vendorId": vendor, "messageId": "State"})
    assert '"status": "Available"' in state["data"]


def test_every_charge_point_operation_has_a_behaviour():
    from soapgw.simulator.commands import _HANDLERS
    for version in ("1.5", "1.6"):
        names = {op.name for op in charge_point_service(version).operations}
        assert names <= set(_HANDLERS), names - set(_HANDLERS)


# --- 1.5 dialect and the envelopes on the wire ---------------------------------------------------
def test_ocpp15_dialect_translates_statuses_meter_values_and_stops():
    dialect = Dialect15()
    status = dialect.request("StatusNotification", {"connectorId": 1, "status": "Charging",
                                                    "errorCode": "EVCommunicationError"})
    assert (status["status"], status["errorCode"]) == ("Occupied", "Mode3Error")
    assert dialect.request("FirmwareStatusNotification", {"status": "Downloading"}) is None
    assert dialect.request("DiagnosticsStatusNotification", {"status": "Uploading"}) is None
    samples = [{"value": "16.0", "measurand": "Current.Import", "unit": "A", "context": "Trigger"},
               {"value": "55", "measurand": "SoC", "unit": "Percent"}]
    meter = dialect.request("MeterValues", {"connectorId": 1, "transactionId": 5, "meterValue": [
        {"timestamp": T0, "sampledValue": samples}]})
    assert meter["values"] == [{"timestamp": T0, "value": [
        {"value": "16.0", "format": None, "measurand": "Current.Import", "context": None,
         "location": None, "unit": "Amp"}]}]
    stop = dialect.request("StopTransaction", {"transactionId": 5, "timestamp": T0,
                                               "meterStop": 9, "reason": "Remote",
                                               "transactionData": []})
    assert "reason" not in stop and stop["transactionData"] == []
    assert dialect.reply("BootNotification", {"status": "Accepted",
                                              "heartbeatInterval": 30})["interval"] == 30


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_every_request_a_station_sends_is_valid_against_the_official_schema(version):
    station, central, clock = booted(version, meter_interval=5,
                                     session_interval=1000, session_length=12,
                                     first_session_delay=0)
    station.boot()
    for message in ("Heartbeat", "StatusNotification", "DiagnosticsStatusNotification",
                    "FirmwareStatusNotification"):
        handle(station, "TriggerMessage", {"requestedMessage": message})
    handle(station, "GetDiagnostics", {"location": "ftp://x/"})
    handle(station, "UpdateFirmware", {"retrieveDate": clock(), "location": "http://x/fw"})
    handle(station, "DataTransfer", {"vendorId": "x"})
    handle(station, "ChangeConfiguration", {"key": "MeterValuesSampledData",
                                           "value": ",".join(["Energy.Active.Import.Register",
                                                              "Power.Active.Import",
                                                              "Current.Import", "Voltage",
                                                              "SoC", "Current.Offered"])})
    run(station, clock, 15)
    client = CentralClient("http://127.0.0.1:9/services/CentralSystemService", "CP1",
                           "http://127.0.0.1:8/CP1", version)
    seen = set()
    for action, payload in central.sent:
        shaped = client.dialect.request(action, payload)
        if shaped is None:
            continue
        seen.add(action)
        body = etree.fromstring(client.envelope(action, shaped)).find(f"{{{SOAP12}}}Body")[0]
        assert schema_errors(body, "CentralSystemService", version) == [], (action, payload)
    assert seen >= {"BootNotification", "Heartbeat", "StatusNotification", "Authorize",
                    "StartTransaction", "MeterValues", "StopTransaction",
                    "FirmwareStatusNotification", "DiagnosticsStatusNotification"}


def test_envelope_headers_announce_the_station():
    client = CentralClient("http://127.0.0.1:9/services/CentralSystemService", "CP1",
                           "http://127.0.0.1:8/CP1", "1.6")
    root = etree.fromstring(client.envelope("Heartbeat", {}))
    ns = {"s": SOAP12, "a": "http://www.w3.org/2005/08/addressing", "cs": client.namespace}
    header = root.find("s:Header", ns)
    assert header.findtext("cs:chargeBoxIdentity", namespaces=ns) == "CP1"
    assert header.findtext("a:Action", namespaces=ns) == "/Heartbeat"
    assert header.findtext("a:To", namespaces=ns) == client.central_url
    assert header.findtext("a:From/a:Address", namespaces=ns) == "http://127.0.0.1:8/CP1"
    assert header.findtext("a:ReplyTo/a:Address", namespaces=ns).endswith("/anonymous")
    assert header.findtext("a:MessageID", namespaces=ns).startswith("urn:uuid:")


# --- real stations over HTTP against the gateway -------------------------------------------------
HTTP_OPTIONS = dict(react_delay=0.02, step_delay=0.1, reboot_delay=0.1, retry_delay=0.5,
                    session_interval=0, meter_interval=0)


def eventually(check, timeout: float = 10.0, interval: float = 0.05):
    """``check()``'s first truthy result, polling; fails at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {check.__doc__ or check}")
        time.sleep(interval)


def needs_inbound(version: str) -> None:
    from soapgw.soap_in.versions import BY_OCPP_VERSION
    if version not in BY_OCPP_VERSION:
        pytest.skip(f"the gateway does not serve OCPP {version} stations yet")


@pytest.fixture
def simulate(live_url, seed):
    """Start registered simulated stations against the live gateway; stopped afterwards."""
    started = []

    def start(stations: int = 1, version: str = "1.6", prefix: str = "SIM", **options):
        needs_inbound(version)
        config = SimulationConfig(live_url, stations=stations, ocpp_version=version,
                                  prefix=prefix, boot_spread=0,
                                  options=StationOptions(**{**HTTP_OPTIONS, **options}))
        for station_id in config.station_ids():
            seed.station(station_id)
        simulation = Simulation(config).start()
        started.append(simulation)
        assert simulation.wait_booted(timeout=15), [list(s.history) for s in
                                                    simulation.stations.values()]
        return simulation

    yield start
    for simulation in started:
        simulation.stop(timeout=5)


def charge_box(seed, station_id: str) -> ChargeBox:
    (found,) = seed.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == station_id))
    return found


def transactions(seed, station_id: str) -> list[Transaction]:
    return seed.scalars(select(Transaction).join(Connector).join(ChargeBox)
                        .where(ChargeBox.charge_box_id == station_id).order_by(Transaction.id))


def latest_status(seed, station_id: str, connector_id: int) -> str | None:
    found = seed.scalars(select(ConnectorStatus.status).join(Connector).join(ChargeBox).where(
        ChargeBox.charge_box_id == station_id, Connector.connector_id == connector_id)
        .order_by(ConnectorStatus.id.desc()).limit(1))
    return found[0] if found else None


@pytest.mark.smoke
def test_stations_boot_become_known_at_their_announced_address_and_heartbeat(simulate, seed):
    simulation = simulate(3, heartbeat=1)
    for station_id in simulation.ids:
        assert simulation.url(station_id) == f"{simulation.base_url}/{station_id}"
        cb = eventually(lambda: (cb := charge_box(seed, station_id)).last_heartbeat_at and cb)
        assert cb.endpoint_address == simulation.url(station_id)
        assert (cb.ocpp_version, cb.soap_version, cb.vendor) == ("1.6", "1.2", "soapgw")
        assert latest_status(seed, station_id, 1) == "Available"
    assert simulation.traffic()["failed"] == {}
    assert len(simulation.latencies("BootNotification")) == 3


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_a_simulated_session_leaves_a_transaction_with_meter_values(simulate, seed, version):
    seed.tag("SIMTAG")
    simulation = simulate(1, version, session_interval=600, first_session_delay=0,
                          session_length=2.5, meter_interval=1, id_tag="SIMTAG")
    (station_id,) = simulation.ids

    def stopped():
        """the session's StopTransaction reached the gateway"""
        found = transactions(seed, station_id)
        return found and found[0].stop_timestamp and found[0]
    tx = eventually(stopped, timeout=15)
    assert charge_box(seed, station_id).ocpp_version == version
    assert (tx.id_tag, tx.start_status, tx.meter_start) == ("SIMTAG", "Accepted", 0)
    assert tx.meter_stop > tx.meter_start
    assert tx.stop_reason == ("Local" if version == "1.6" else None)  # 1.5 has no reason
    rows = seed.scalars(select(MeterValueRow).where(MeterValueRow.transaction_pk == tx.id))
    contexts = {(row.context, row.measurand) for row in rows}
    assert ("Sample.Periodic", "Power.Active.Import") in contexts
    assert ("Transaction.End", "Energy.Active.Import.Register") in contexts
    assert {row.unit for row in rows} >= {"Wh", "W", "A"}  # 1.5 "Amp" is stored as A
    # The station records the session once the gateway's reply is back, just after the
    # gateway committed the stop: wait for it rather than race it.
    completed = eventually(lambda: simulation.station(station_id).completed, timeout=10)
    assert completed[0].transaction_id == tx.id


class CpClient:
    """A plain zeep client built from our exported ChargePointService WSDL; every reply is
    also checked against the official schema."""

    def __init__(self, version: str, url: str, station_id: str):
        self.version, self.station_id = version, station_id
        self.history = HistoryPlugin()
        client = zeep.Client(str(ROOT / "wsdl" / f"soapgw_chargepointservice_{version}.wsdl"),
                             transport=Transport(operation_timeout=10), plugins=[self.history])
        namespace = charge_point_service(version).namespace
        self.service = client.create_service(f"{{{namespace}}}ChargePointServiceSoap", url)
        self.called: set[str] = set()

    def __call__(self, operation: str, **kwargs):
        result = getattr(self.service, operation)(
            **kwargs, _soapheaders={"ChargeBoxIdentity": self.station_id})
        body = self.history.last_received["envelope"].find(f"{{{SOAP12}}}Body")[0]
        assert schema_errors(body, "ChargePointService", self.version) == []
        self.called.add(operation)
        return result

    def status(self, operation: str, **kwargs) -> str:
        reply = self(operation, **kwargs)
        return getattr(reply, "status", reply)  # zeep unwraps a one-field response


def _configuration(cp: CpClient):
    assert cp.status("ChangeConfiguration", key="MeterValueSampleInterval", value="1") == "Accepted"
    assert cp.status("ChangeConfiguration", key="NumberOfConnectors", value="3") == "Rejected"
    assert cp.status("ChangeConfiguration", key="NoSuchKey", value="1") == "NotSupported"
    reply = cp("GetConfiguration", key=["MeterValueSampleInterval", "NoSuchKey"])
    assert [(k.key, k.value, k.readonly) for k in reply.configurationKey] == [
        ("MeterValueSampleInterval", "1", False)]
    assert reply.unknownKey == ["NoSuchKey"]
    everything = cp("GetConfiguration")
    assert len(everything.configurationKey) > 20 and not everything.unknownKey


def _remote_start(cp: CpClient, seed, station_id: str) -> Transaction:
    assert cp.status("RemoteStartTransaction", idTag="ZEEPTAG", connectorId=1) == "Accepted"
    tx = eventually(lambda: transactions(seed, station_id) and transactions(seed, station_id)[-1])
    assert (tx.id_tag, tx.start_status) == ("ZEEPTAG", "Accepted")
    eventually(lambda: latest_status(seed, station_id, 1) in ("Charging", "Occupied"))
    assert cp.status("RemoteStartTransaction", idTag="ZEEPTAG", connectorId=1) == "Rejected"
    return tx


def _remote_stop(cp: CpClient, seed, station_id: str, tx: Transaction) -> None:
    assert cp.status("RemoteStopTransaction", transactionId=tx.id + 1000) == "Rejected"
    assert cp.status("RemoteStopTransaction", transactionId=tx.id) == "Accepted"
    stopped = eventually(lambda: (t := transactions(seed, station_id)[-1]).stop_timestamp and t)
    assert stopped.id == tx.id and stopped.meter_stop >= stopped.meter_start


def _reservations(cp: CpClient, seed, station_id: str) -> None:
    expiry = datetime.now(UTC) + timedelta(minutes=10)
    assert cp.status("ReserveNow", connectorId=1, expiryDate=expiry, idTag="ZEEPTAG",
                     reservationId=501) == "Accepted"
    eventually(lambda: latest_status(seed, station_id, 1) == "Reserved")
    assert cp.status("ReserveNow", connectorId=1, expiryDate=expiry, idTag="OTHER",
                     reservationId=502) == "Occupied"
    assert cp.status("CancelReservation", reservationId=501) == "Accepted"
    assert cp.status("CancelReservation", reservationId=501) == "Rejected"
    eventually(lambda: latest_status(seed, station_id, 1) == "Available")


def _local_list(cp: CpClient, list_field: str) -> None:
    entry = {"idTag": "LOCAL1", "idTagInfo": {"status": "Accepted"}}
    assert cp.status("SendLocalList", updateType="Full", listVersion=7,
                     **{list_field: [entry]}) == "Accepted"
    assert cp("GetLocalListVersion") == 7
    assert cp.status("SendLocalList", updateType="Differential", listVersion=7,
                     **{list_field: []}) == "VersionMismatch"
    assert cp.status("ClearCache") == "Accepted"


def _data_transfer(cp: CpClient) -> None:
    reply = cp("DataTransfer", vendorId="soapgw.simulator", messageId="Echo", data="ping")
    assert (reply.status, reply.data) == ("Accepted", "ping")
    assert cp.status("DataTransfer", vendorId="acme") == "UnknownVendorId"


def _diagnostics_and_firmware(cp: CpClient, seed, station_id: str, simulation) -> None:
    file_name = cp("GetDiagnostics", location="ftp://logs.example/upload/")
    assert file_name.startswith(f"diagnostics-{station_id}-")
    eventually(lambda: charge_box(seed, station_id).diagnostics_status == "Uploaded")
    boots = simulation.station(station_id).boots
    assert cp("UpdateFirmware", retrieveDate=datetime.now(UTC),
              location="http://fw.example/sim-9.9.bin") is None
    cb = eventually(lambda: (cb := charge_box(seed, station_id)).firmware_status == "Installed"
                    and cb)
    assert cb.firmware_version == "sim-9.9.bin" and simulation.station(station_id).boots > boots


def _reset(cp: CpClient, simulation, station_id: str) -> None:
    station = simulation.station(station_id)
    boots = station.boots
    assert cp.status("Reset", type="Hard") == "Accepted"
    assert simulation.wait_for(lambda s: s.boots > boots and s.registration == "Accepted",
                               timeout=10)


def test_every_ocpp16_charge_point_operation_against_a_simulated_station(simulate, seed):
    seed.tag("ZEEPTAG")
    simulation = simulate(1, "1.6")
    (station_id,) = simulation.ids
    cp = CpClient("1.6", simulation.url(station_id), station_id)
    _configuration(cp)
    tx = _remote_start(cp, seed, station_id)
    # smart charging: an 8 A TxProfile shows in the composite schedule and in the meter values
    profile = {"chargingProfileId": 31, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
               "chargingProfileKind": "Relative", "chargingSchedule": {
                   "chargingRateUnit": "A",
                   "chargingSchedulePeriod": [{"startPeriod": 0, "limit": Decimal("8.0")}]}}
    assert cp.status("SetChargingProfile", connectorId=1, csChargingProfiles=profile) == "Accepted"
    composite = cp("GetCompositeSchedule", connectorId=1, duration=600, chargingRateUnit="A")
    assert composite.status == "Accepted" and composite.connectorId == 1
    assert [(p.startPeriod, p.limit) for p in composite.chargingSchedule.chargingSchedulePeriod] \
        == [(0, Decimal("8.0"))]
    eventually(lambda: seed.scalars(select(MeterValueRow).where(
        MeterValueRow.transaction_pk == tx.id, MeterValueRow.measurand == "Power.Active.Import",
        MeterValueRow.value == "5520")), timeout=10)
    assert cp.status("ClearChargingProfile", id=31) == "Accepted"
    assert cp.status("ClearChargingProfile", id=31) == "Unknown"
    assert cp.status("TriggerMessage", requestedMessage="MeterValues", connectorId=1) == "Accepted"
    assert cp.status("TriggerMessage", requestedMessage="Heartbeat") == "Accepted"
    eventually(lambda: charge_box(seed, station_id).last_heartbeat_at)
    assert cp.status("TriggerMessage", requestedMessage="StatusNotification",
                     connectorId=1) == "Accepted"
    assert cp.status("ChangeAvailability", connectorId=1, type="Inoperative") == "Scheduled"
    _remote_stop(cp, seed, station_id, tx)
    eventually(lambda: latest_status(seed, station_id, 1) == "Unavailable")
    assert cp.status("ChangeAvailability", connectorId=1, type="Operative") == "Accepted"
    eventually(lambda: latest_status(seed, station_id, 1) == "Available")
    assert cp.status("UnlockConnector", connectorId=1) == "Unlocked"
    assert cp.status("UnlockConnector", connectorId=9) == "NotSupported"
    _reservations(cp, seed, station_id)
    _local_list(cp, "localAuthorizationList")
    _data_transfer(cp)
    _diagnostics_and_firmware(cp, seed, station_id, simulation)
    assert cp.status("TriggerMessage", requestedMessage="BootNotification") == "Accepted"
    _reset(cp, simulation, station_id)
    assert cp.called == {op.name for op in charge_point_service("1.6").operations}
    assert simulation.traffic()["failed"] == {}


def test_every_ocpp15_charge_point_operation_against_a_simulated_station(simulate, seed):
    seed.tag("ZEEPTAG")
    simulation = simulate(1, "1.5")
    (station_id,) = simulation.ids
    cp = CpClient("1.5", simulation.url(station_id), station_id)
    _configuration(cp)
    tx = _remote_start(cp, seed, station_id)
    assert cp.status("ChangeAvailability", connectorId=1, type="Inoperative") == "Scheduled"
    _remote_stop(cp, seed, station_id, tx)
    eventually(lambda: latest_status(seed, station_id, 1) == "Unavailable")
    assert cp.status("ChangeAvailability", connectorId=0, type="Operative") == "Accepted"
    eventually(lambda: latest_status(seed, station_id, 1) == "Available")
    assert cp.status("UnlockConnector", connectorId=1) == "Accepted"
    assert cp.status("UnlockConnector", connectorId=9) == "Rejected"
    _reservations(cp, seed, station_id)
    _local_list(cp, "localAuthorisationList")
    _data_transfer(cp)
    _diagnostics_and_firmware(cp, seed, station_id, simulation)
    _reset(cp, simulation, station_id)
    assert cp.called == {op.name for op in charge_point_service("1.5").operations}
    assert simulation.traffic()["failed"] == {}


# --- the ChargePointService endpoint itself ------------------------------------------------------
CP16 = "urn://Ocpp/Cp/2015/10/"


def _post(url: str, identity: str, body: str, ns: str = CP16) -> requests.Response:
    data = (f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="http://www.w3.org/2005/08/addressing" '
            f'xmlns:cp="{ns}"><s:Header><cp:chargeBoxIdentity>{identity}</cp:chargeBoxIdentity>'
            f'<a:MessageID>urn:uuid:1</a:MessageID><a:Action>/ClearCache</a:Action></s:Header>'
            f'<s:Body>{body}</s:Body></s:Envelope>').encode()
    return requests.post(url, data=data, timeout=10,
                         headers={"Content-Type": "application/soap+xml; charset=utf-8"})


def test_station_endpoint_answers_like_a_station_and_faults_properly(simulate):
    simulation = simulate(1)
    (station_id,) = simulation.ids
    url = simulation.url(station_id)
    ok = _post(url, station_id, "<cp:clearCacheRequest/>")
    assert ok.status_code == 200 and 'action="/ClearCacheResponse"' in ok.headers["Content-Type"]
    root = etree.fromstring(ok.content)
    ns = {"s": SOAP12, "a": "http://www.w3.org/2005/08/addressing", "cp": CP16}
    assert root.findtext("s:Header/a:RelatesTo", namespaces=ns) == "urn:uuid:1"
    assert root.findtext("s:Header/a:Action", namespaces=ns) == "/ClearCacheResponse"
    assert root.findtext("s:Header/cp:chargeBoxIdentity", namespaces=ns) == station_id
    other = _post(url, "SOMEONE-ELSE", "<cp:clearCacheRequest/>")
    assert (other.status_code, fault_subcode(other.content)) == (400, "SecurityError")
    old = _post(url, station_id, "<cp:clearCacheRequest/>", ns="urn://Ocpp/Cp/2012/06/")
    assert fault_subcode(old.content) == "NotSupported"
    unknown = _post(url, station_id, "<cp:fooRequest/>")
    assert fault_subcode(unknown.content) == "NotImplemented"
    broken = requests.post(url, data=b"<not-xml", timeout=10)
    assert fault_subcode(broken.content) == "FormationViolation"
    missing = _post(url, station_id, "<cp:remoteStopTransactionRequest/>")
    assert fault_subcode(missing.content) == "OccurenceConstraintViolation"
    assert requests.get(f"{simulation.base_url}/NOBODY", timeout=10).status_code == 404
    wsdl = requests.get(url + "?wsdl", timeout=10)
    assert wsdl.status_code == 200 and url.encode() in wsdl.content
    state = requests.get(url, timeout=10).text
    assert state.startswith(f"{station_id} OCPP 1.6 Accepted")


# --- the command line --------------------------------------------------------------------------
def _simulate_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("soapgw")), "simulate", *args]


@pytest.mark.slow
def test_simulate_command_runs_stations_for_a_duration(live_url, seed, database_url):
    for n in (1, 2):
        seed.station(f"CLI{n:04d}")
    result = subprocess.run(
        _simulate_command("--central", live_url, "--stations", "2", "--prefix", "CLI",
                          "--duration", "2", "--heartbeat", "1", "--session-interval", "0"),
        env=command_env(database_url), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    urls = dict(line.split("\t") for line in lines[:2])
    assert sorted(urls) == ["CLI0001", "CLI0002"]
    assert lines[-1].startswith("sent: ") and "BootNotification=2" in lines[-1]
    for station_id, url in urls.items():
        assert charge_box(seed, station_id).endpoint_address == url


@pytest.mark.slow
def test_simulate_command_stops_cleanly_on_sigterm(live_url, seed, database_url):
    seed.station("TERM0001")
    process = subprocess.Popen(
        _simulate_command("--central", live_url, "--prefix", "TERM", "--session-interval", "0"),
        env=command_env(database_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        eventually(lambda: charge_box(seed, "TERM0001").last_boot_at, timeout=30)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == 0, stderr
    assert "BootNotification=1" in stdout


def test_simulate_command_usage_errors_and_an_unreachable_central_system(sqlite_url):
    env = command_env(sqlite_url)
    bad_listen = subprocess.run(_simulate_command("--central", "http://127.0.0.1:9",
                                                  "--listen", "nowhere"),
                                env=env, capture_output=True, text=True, timeout=60)
    assert bad_listen.returncode == 2 and "HOST:PORT" in bad_listen.stderr
    bad_url = subprocess.run(_simulate_command("--central", "ftp://x"),
                             env=env, capture_output=True, text=True, timeout=60)
    assert bad_url.returncode == 2 and "not an http(s) URL" in bad_url.stderr
    bad_tag = subprocess.run(_simulate_command("--central", "http://127.0.0.1:9",
                                               "--id-tag", "{card}"),
                             env=env, capture_output=True, text=True, timeout=60)
    assert bad_tag.returncode == 2 and "only {id} and {n}" in bad_tag.stderr
    # port 9 (discard) on 127.0.0.1 refuses connections
    nobody = subprocess.run(_simulate_command("--central", "http://127.0.0.1:9",
                                              "--duration", "1"),
                            env=env, capture_output=True, text=True, timeout=60)
    assert nobody.returncode == 1 and "no station was accepted" in nobody.stderr
