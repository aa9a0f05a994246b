"""Task outcomes (core.commands.outcome): every status value of every ChargePointService
answer, taken from the OCPP 1.6 JSON schemas, is either acceptance or a refusal; no answer
is a failure; the task's sum reads "2 accepted, 1 refused, 1 timed out"."""
from __future__ import annotations

import pytest

from soapgw.core.commands.operations import ALL
from soapgw.core.commands.outcome import (ACCEPTANCE, classify, overall, summary,
                                          summary_text)
from soapgw.core.enums import TaskOutcome
from soapgw.core.ocpp_schemas import schema

# What each operation's station may answer that means "done" (the rest declines).
ACCEPTING = {
    "CancelReservation": {"Accepted"}, "ChangeAvailability": {"Accepted", "Scheduled"},
    "ChangeConfiguration": {"Accepted", "RebootRequired"}, "ClearCache": {"Accepted"},
    "ClearChargingProfile": {"Accepted"}, "DataTransfer": {"Accepted"},
    "GetCompositeSchedule": {"Accepted"}, "RemoteStartTransaction": {"Accepted"},
    "RemoteStopTransaction": {"Accepted"}, "ReserveNow": {"Accepted"}, "Reset": {"Accepted"},
    "SendLocalList": {"Accepted"}, "SetChargingProfile": {"Accepted"},
    "TriggerMessage": {"Accepted"}, "UnlockConnector": {"Unlocked"},
}
WITHOUT_STATUS = {"GetConfiguration", "GetDiagnostics", "GetLocalListVersion", "UpdateFirmware"}


def status_vocabulary(operation: str) -> list[str]:
    return schema(operation, response=True).get("properties", {}).get("status", {}).get(
        "enum", [])


def test_every_operation_has_a_rule_and_the_table_knows_which_have_a_status():
    assert set(ACCEPTANCE) == set(ALL)
    assert {op for op in ALL if status_vocabulary(op)} == set(ACCEPTING)
    assert set(ALL) - set(ACCEPTING) == WITHOUT_STATUS


STATUS_CASES = [(op, status) for op in sorted(ACCEPTING) for status in status_vocabulary(op)]


@pytest.mark.parametrize("operation,status", STATUS_CASES,
                         ids=[f"{o}-{s}" for o, s in STATUS_CASES])
def test_each_status_value_is_acceptance_or_a_refusal(operation, status):
    verdict = classify(operation, "answered", {"status": status})
    if status in ACCEPTING[operation]:
        assert (verdict.outcome, verdict.reason, verdict.text) == (TaskOutcome.accepted, None,
                                                                   "accepted")
    else:
        assert (verdict.outcome, verdict.reason) == (TaskOutcome.refused, status)
        assert verdict.text == f"refused: {status}"


def test_the_refusals_the_issue_names():
    assert classify("ReserveNow", "answered", {"status": "Occupied"}).text == "refused: Occupied"
    for status in ("Faulted", "Unavailable", "Rejected"):
        assert classify("ReserveNow", "answered", {"status": status}).outcome == "refused"
    assert classify("SetChargingProfile", "answered",
                    {"status": "NotSupported"}).outcome == "refused"
    assert classify("ClearChargingProfile", "answered",
                    {"status": "Unknown"}).text == "refused: Unknown"
    # an answer without the status it must have is no acceptance either
    assert classify("Reset", "answered", {}).text == "refused: no status"


@pytest.mark.parametrize("operation,answer", [
    ("GetConfiguration", {"configurationKey": [], "unknownKey": ["X"]}),
    ("GetDiagnostics", {}), ("GetDiagnostics", {"fileName": "d.zip"}),
    ("UpdateFirmware", {}), ("GetLocalListVersion", {"listVersion": 0}),
    ("GetLocalListVersion", {"listVersion": 7})])
def test_answers_without_a_status_accept(operation, answer):
    assert classify(operation, "answered", answer).outcome == TaskOutcome.accepted


def test_local_list_version_minus_one_means_no_local_list():
    verdict = classify("GetLocalListVersion", "answered", {"listVersion": -1})
    assert (verdict.outcome, verdict.text) == (TaskOutcome.refused, "refused: -1")


@pytest.mark.parametrize("state,outcome,text", [
    ("queued", TaskOutcome.pending, "waiting"), ("sent", TaskOutcome.pending, "waiting"),
    ("timed_out", TaskOutcome.timed_out, "timed out"), ("failed", TaskOutcome.failed, "failed")])
def test_no_answer_is_no_success(state, outcome, text):
    # whatever was stored as a response, the state decides
    verdict = classify("Reset", state, {"status": "Accepted"})
    assert (verdict.outcome, verdict.text) == (outcome, text)


def test_an_answered_state_without_a_usable_answer_is_a_failure():
    assert classify("Reset", "answered", None).outcome == TaskOutcome.failed


def test_the_sum_in_words_and_its_colour():
    counts = summary([TaskOutcome.timed_out, TaskOutcome.accepted, TaskOutcome.refused,
                      TaskOutcome.accepted])
    assert counts == {"accepted": 2, "refused": 1, "timed_out": 1}
    assert summary_text(counts) == "2 accepted, 1 refused, 1 timed out"
    assert overall(counts) == "mixed"
    assert overall(summary([TaskOutcome.accepted] * 3)) == "accepted"
    assert overall(summary([TaskOutcome.refused, TaskOutcome.timed_out])) == "timed_out"
    assert overall(summary([TaskOutcome.refused, TaskOutcome.failed])) == "failed"
    assert overall(summary([TaskOutcome.accepted, TaskOutcome.pending])) == "pending"
    assert (summary([]), summary_text({}), overall({})) == ({}, "", None)
