"""REST API: the charging profile library (/api/v1/charging-profiles), over real HTTP."""
from __future__ import annotations

import pytest

from api_support import api, problem, tokens  # noqa: F401  (fixtures)

PROFILE = {"chargingProfileId": 7, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
           "chargingProfileKind": "Relative", "description": "Fast start",
           "chargingSchedule": {"chargingRateUnit": "W", "duration": 3600,
                                "minChargingRate": 1400.5,
                                "chargingSchedulePeriod": [
                                    {"startPeriod": 0, "limit": 11000},
                                    {"startPeriod": 600, "limit": 7400.5, "numberPhases": 3}]}}


def test_charging_profiles_crud(api, tokens):
    created = api.post("/api/v1/charging-profiles", json=PROFILE)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/api/v1/charging-profiles/7"
    body = created.json()
    assert body["chargingSchedule"] == PROFILE["chargingSchedule"]
    assert (body["description"], body["links"]["self"]) == ("Fast start",
                                                            "/api/v1/charging-profiles/7")
    problem(api.post("/api/v1/charging-profiles", json=PROFILE), 409)
    problem(api.as_(tokens["read"]).post("/api/v1/charging-profiles",
                                         json={**PROFILE, "chargingProfileId": 8}), 403)
    replaced = api.request("PUT", "/api/v1/charging-profiles/7",
                           json={**PROFILE, "chargingProfileId": 9, "stackLevel": 4})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["links"]["self"] == "/api/v1/charging-profiles/9"
    problem(api.get("/api/v1/charging-profiles/7"), 404)
    listed = api.get("/api/v1/charging-profiles?chargingProfilePurpose=TxProfile").json()
    assert [(p["chargingProfileId"], p["stackLevel"]) for p in listed["items"]] == [(9, 4)]
    assert api.get("/api/v1/charging-profiles?chargingProfilePurpose=TxDefaultProfile"
                   ).json()["items"] == []
    assert api.delete("/api/v1/charging-profiles/9").status_code == 204
    problem(api.get("/api/v1/charging-profiles/9"), 404)


@pytest.mark.parametrize("changes,field", [
    ({"chargingProfileKind": "Recurring"}, "recurrencyKind"),
    ({"chargingSchedule": {**PROFILE["chargingSchedule"], "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 16.05}]}}, "chargingSchedule.chargingSchedulePeriod"),
    ({"chargingSchedule": {**PROFILE["chargingSchedule"],
                           "startSchedule": "2030-01-01T00:00:00Z"}},
     "chargingSchedule.startSchedule"),
])
def test_ocpp_rules_refuse_with_the_field(api, changes, field):
    refused = problem(api.post("/api/v1/charging-profiles", json={**PROFILE, **changes}), 422)
    assert field in [e["field"] for e in refused["errors"]]
