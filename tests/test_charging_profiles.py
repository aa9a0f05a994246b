"""The charging profile library (core.charging_profiles): OCPP 1.6 rules, the library's
writes, and the commands built from a stored profile."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from soapgw.core import charging_profiles as profiles
from soapgw.core import ocppj
from soapgw.core.charging_profiles import Period, ProfileValues
from soapgw.core.errors import Invalid, NotFound
from soapgw.store.models import StoredChargingProfile

START = datetime(2030, 1, 1, 6, 0, tzinfo=timezone.utc)


def values(**changes) -> ProfileValues:
    base = dict(charging_profile_id=10, stack_level=1, purpose="TxDefaultProfile",
                kind="Absolute", charging_rate_unit="A", start_schedule=START, duration=7200,
                min_charging_rate=Decimal("6"),
                periods=[Period(0, Decimal("16")), Period(3600, Decimal("10.5"), 3)],
                description="Evening cap")
    base.update(changes)
    return ProfileValues(**base)


def test_stored_profile_is_the_ocpp_charging_profile(gateway):
    with gateway.sessions.begin() as db:
        pk = profiles.create_profile(db, values()).id
    with gateway.sessions() as db:
        payload = profiles.set_charging_profile_request(db, pk, connector_id=1)
    assert payload == {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 10, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "A", "duration": 7200, "startSchedule": "2030-01-01T06:00:00Z",
            "minChargingRate": Decimal("6"), "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": Decimal("16")},
                {"startPeriod": 3600, "limit": Decimal("10.5"), "numberPhases": 3}]}}}
    assert ocppj.validate("SetChargingProfile", payload) == []


@pytest.mark.parametrize("changes,field,words", [
    ({"periods": []}, "periods", "at least one period"),
    ({"periods": [Period(60, Decimal(16))]}, "periods", "first period starts at 0"),
    ({"periods": [Period(0, Decimal(16)), Period(0, Decimal(8))]}, "periods", "row 2"),
    ({"periods": [Period(0, Decimal("16.05"))]}, "periods", "multiple of 0.1"),
    ({"periods": [Period(0, Decimal(16), 4)]}, "periods", "phases are 1, 2 or 3"),
    ({"periods": [Period(0, None)]}, "periods", "row 1: give both"),
    ({"kind": "Recurring"}, "recurrency_kind", "Daily or Weekly"),
    ({"kind": "Recurring", "recurrency_kind": "Daily", "duration": 90000}, "duration",
     "at most 86400"),
    ({"recurrency_kind": "Daily"}, "recurrency_kind", "only a Recurring"),
    ({"kind": "Relative"}, "start_schedule", "leave the start empty"),
    ({"valid_from": START, "valid_to": START}, "valid_to", "after valid from"),
    ({"min_charging_rate": Decimal("6.25")}, "min_charging_rate", "multiple of 0.1"),
    ({"charging_profile_id": 0}, "charging_profile_id", "use 1 to"),
    ({"purpose": "Whatever"}, "purpose", "use one of"),
])
def test_rules_of_ocpp_16_refuse_before_writing(gateway, changes, field, words):
    with gateway.sessions.begin() as db:
        with pytest.raises(Invalid) as refused:
            profiles.create_profile(db, values(**changes))
    assert words in refused.value.problems[field]
    with gateway.sessions() as db:
        assert db.scalar(select(func.count()).select_from(StoredChargingProfile)) == 0


def test_library_edit_copy_delete(gateway):
    with gateway.sessions.begin() as db:
        pk = profiles.create_profile(db, values()).id
        with pytest.raises(Invalid) as taken:
            profiles.create_profile(db, values())
        assert "already in the library" in taken.value.problems["charging_profile_id"]
    with gateway.sessions.begin() as db:
        profiles.update_profile(db, pk, values(stack_level=3, kind="Recurring",
                                               recurrency_kind="Daily"))
        copy = profiles.copy_profile(db, pk)
        assert (copy.charging_profile_id, copy.stack_level, copy.recurrency_kind) == (11, 3,
                                                                                      "Daily")
        assert copy.description == "Copy of Evening cap"
        assert profiles.periods_of(copy) == profiles.periods_of(profiles.profile(db, pk))
        copy_pk = copy.id
    with gateway.sessions.begin() as db:
        assert profiles.delete_profile(db, pk) == 10
        with pytest.raises(NotFound):
            profiles.profile(db, pk)
        assert profiles.next_profile_id(db) == 12
        assert [label for _pk, label in profiles.choices(db)] == [
            "#11 TxDefaultProfile – Copy of Evening cap"]
        assert json.loads(profiles.profile(db, copy_pk).periods)[1]["limit"] == "10.5"


def test_where_a_profile_may_go(gateway):
    with gateway.sessions.begin() as db:
        max_pk = profiles.create_profile(db, values(charging_profile_id=1,
                                                    purpose="ChargePointMaxProfile")).id
        tx_pk = profiles.create_profile(db, values(charging_profile_id=2, purpose="TxProfile",
                                                   kind="Relative", start_schedule=None)).id
        default_pk = profiles.create_profile(db, values(charging_profile_id=3)).id
    with gateway.sessions() as db:
        with pytest.raises(Invalid) as refused:
            profiles.set_charging_profile_request(db, max_pk, connector_id=1)
        assert "connector 0 only" in refused.value.problems["connector_id"]
        with pytest.raises(Invalid) as refused:
            profiles.set_charging_profile_request(db, tx_pk, connector_id=0)
        assert "not 0" in refused.value.problems["connector_id"]
        with pytest.raises(Invalid) as refused:
            profiles.set_charging_profile_request(db, default_pk, 1, transaction_id=5)
        assert "only a TxProfile" in refused.value.problems["transaction_id"]
        sent = profiles.set_charging_profile_request(db, tx_pk, 2, transaction_id=5)
        assert sent["csChargingProfiles"]["transactionId"] == 5
        assert profiles.remote_start_profile(db, tx_pk)["chargingProfilePurpose"] == "TxProfile"
        assert "transactionId" not in profiles.remote_start_profile(db, tx_pk)
        with pytest.raises(Invalid) as refused:
            profiles.remote_start_profile(db, default_pk)
        assert "takes a TxProfile" in refused.value.problems["profile"]
