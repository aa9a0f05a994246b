"""The charging profile library: list, create, read, replace, delete (operate scope to
change). Profiles are sent with the SetChargingProfile / RemoteStartTransaction commands."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from flask import Response as FlaskResponse
from spectree import Response
from sqlalchemy import select

from soapgw.api.charging_profile_schemas import (ChargingProfileFields, ChargingProfilePage,
                                                 ChargingProfileQuery, StoredChargingProfile)
from soapgw.api.db import db
from soapgw.api.paging import keyset, page
from soapgw.api.present import iso, link
from soapgw.api.problems import ApiProblem, invalid
from soapgw.api.routing import route
from soapgw.core import charging_profiles as profiles
from soapgw.core.errors import Invalid
from soapgw.store import models

TAG = "charging profiles"
ID_RULE = "<int:profile_id>"
_SCHEDULE = "chargingSchedule."
FIELDS = {"charging_profile_id": "chargingProfileId", "stack_level": "stackLevel",
          "purpose": "chargingProfilePurpose", "kind": "chargingProfileKind",
          "recurrency_kind": "recurrencyKind", "valid_from": "validFrom", "valid_to": "validTo",
          "charging_rate_unit": _SCHEDULE + "chargingRateUnit",
          "duration": _SCHEDULE + "duration", "start_schedule": _SCHEDULE + "startSchedule",
          "min_charging_rate": _SCHEDULE + "minChargingRate",
          "periods": _SCHEDULE + "chargingSchedulePeriod"}


def _number(value: Decimal | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def view(row: models.StoredChargingProfile) -> dict:
    values = profiles.values_of(row)
    body = profiles.ocpp_profile(values)
    schedule = body["chargingSchedule"]
    for period in schedule["chargingSchedulePeriod"]:
        period["limit"] = _number(period["limit"])
    if "minChargingRate" in schedule:
        schedule["minChargingRate"] = _number(schedule["minChargingRate"])
    return {**body, "description": row.description, "note": row.note,
            "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at),
            "links": {"self": link("get_charging_profile",
                                   profile_id=row.charging_profile_id)}}


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None
                else value.astimezone(timezone.utc))
    except OverflowError:
        raise invalid({name: "out of range"}) from None


def _values(body: ChargingProfileFields) -> profiles.ProfileValues:
    schedule = body.chargingSchedule
    return profiles.ProfileValues(
        charging_profile_id=body.chargingProfileId, stack_level=body.stackLevel,
        purpose=body.chargingProfilePurpose, kind=body.chargingProfileKind,
        charging_rate_unit=schedule.chargingRateUnit,
        periods=[profiles.Period(p.startPeriod, Decimal(repr(p.limit)), p.numberPhases)
                 for p in schedule.chargingSchedulePeriod],
        recurrency_kind=body.recurrencyKind,
        valid_from=_utc(body.validFrom, "validFrom"), valid_to=_utc(body.validTo, "validTo"),
        duration=schedule.duration,
        start_schedule=_utc(schedule.startSchedule, _SCHEDULE + "startSchedule"),
        min_charging_rate=(None if schedule.minChargingRate is None
                           else Decimal(repr(schedule.minChargingRate))),
        description=body.description, note=body.note)


def refused(error: Invalid) -> ApiProblem:
    problems = {FIELDS.get(k, k): v for k, v in error.problems.items()}
    if "already in the library" in problems.get("chargingProfileId", ""):
        return ApiProblem(409, problems["chargingProfileId"], kind="exists")
    return invalid(problems)


def profile_or_404(profile_id: int) -> models.StoredChargingProfile:
    found = db().scalars(select(models.StoredChargingProfile).where(
        models.StoredChargingProfile.charging_profile_id == profile_id)).one_or_none()
    if found is None:
        raise ApiProblem(404, f"no stored charging profile {profile_id}")
    return found


@route("GET", "/charging-profiles", tag=TAG, query=ChargingProfileQuery,
       resp=Response(HTTP_200=ChargingProfilePage))
def list_charging_profiles(query: ChargingProfileQuery):
    """Stored charging profiles, oldest first."""
    table = models.StoredChargingProfile
    statement = select(table)
    if query.chargingProfilePurpose:
        statement = statement.where(table.purpose == query.chargingProfilePurpose)
    rows, cursor = keyset(db(), statement, table.id, query.limit, query.cursor,
                          descending=False, last=lambda row: row.StoredChargingProfile.id)
    return page([view(row.StoredChargingProfile) for row in rows], cursor)


@route("POST", "/charging-profiles", scope="operate", tag=TAG, json=ChargingProfileFields,
       resp=Response(HTTP_201=StoredChargingProfile, HTTP_409=None, HTTP_422=None))
def create_charging_profile(json: ChargingProfileFields):
    """Store a profile, checked with the OCPP 1.6 schema and rules."""
    try:
        row = profiles.create_profile(db(), _values(json))
    except Invalid as error:
        raise refused(error) from None
    db().commit()
    return view(row), 201, {"Location": link("get_charging_profile",
                                             profile_id=row.charging_profile_id)}


@route("GET", f"/charging-profiles/{ID_RULE}", tag=TAG,
       resp=Response(HTTP_200=StoredChargingProfile, HTTP_404=None))
def get_charging_profile(profile_id: int):
    """One stored profile, by its chargingProfileId."""
    return view(profile_or_404(profile_id))


@route("PUT", f"/charging-profiles/{ID_RULE}", scope="operate", tag=TAG,
       json=ChargingProfileFields,
       resp=Response(HTTP_200=StoredChargingProfile, HTTP_404=None, HTTP_409=None,
                     HTTP_422=None))
def replace_charging_profile(profile_id: int, json: ChargingProfileFields):
    """Replace a stored profile (its chargingProfileId may change)."""
    found = profile_or_404(profile_id)
    try:
        row = profiles.update_profile(db(), found.id, _values(json))
    except Invalid as error:
        raise refused(error) from None
    db().commit()
    return view(row)


@route("DELETE", f"/charging-profiles/{ID_RULE}", scope="operate", tag=TAG,
       resp=Response(HTTP_204=None, HTTP_404=None))
def delete_charging_profile(profile_id: int):
    """Delete a stored profile (profiles installed on stations stay)."""
    profiles.delete_profile(db(), profile_or_404(profile_id).id)
    db().commit()
    return FlaskResponse(status=204)
