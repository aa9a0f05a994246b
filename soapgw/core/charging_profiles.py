"""The charging profile library: profiles stored once, sent to stations many times.

A stored profile is an OCPP 1.6 ChargingProfile without a transaction: it is checked with
the OCPP 1.6 JSON schema of SetChargingProfile (the ``ocpp`` package's, through
``core/ocpp_schemas.py``) and with the rules of the specification the schema cannot say
(section 3.13 and 7.8-7.10: periods start at 0 and grow, Recurring needs its recurrency and a
start, Relative has no start ...). What depends on where it goes (a ChargePointMaxProfile
only on connector 0, RemoteStartTransaction only with a TxProfile) is checked when building
the command (``set_charging_profile_request``, ``remote_start_request``).

Functions run in the caller's transaction and raise ``Invalid`` (field -> reason) or
``NotFound`` before writing anything. Field names are the columns'; a period's problem is
named ``periods`` and says its row.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from soapgw.core import ocpp_schemas
from soapgw.core.enums import (ChargingProfileKindType, ChargingProfilePurposeType,
                               ChargingRateUnitType, RecurrencyKind, values)
from soapgw.core.errors import Invalid, NotFound
from soapgw.store.models import StoredChargingProfile
from soapgw.timestamps import format_timestamp, now

MAX_ID = 2 ** 31 - 1
MAX_PERIODS = 100  # far beyond what stations take (ChargingScheduleMaxPeriods is often 24)
PURPOSES = values(ChargingProfilePurposeType)
KINDS = values(ChargingProfileKindType)
RECURRENCIES = values(RecurrencyKind)
RATE_UNITS = values(ChargingRateUnitType)
# The longest schedule a recurrency can repeat (OCPP 1.6, 7.10: duration within the period).
_RECURRENCE_SECONDS = {RecurrencyKind.daily.value: 86_400, RecurrencyKind.weekly.value: 604_800}

_DECIMAL = re.compile(r"Decimal\('([^']*)'\)")
# Where the schema names a field -> the service's name for it.
_SCHEMA_FIELDS = {
    "chargingProfileId": "charging_profile_id", "stackLevel": "stack_level",
    "chargingProfilePurpose": "purpose", "chargingProfileKind": "kind",
    "recurrencyKind": "recurrency_kind", "validFrom": "valid_from", "validTo": "valid_to",
    "duration": "duration", "startSchedule": "start_schedule",
    "chargingRateUnit": "charging_rate_unit", "minChargingRate": "min_charging_rate",
    "chargingSchedulePeriod": "periods", "transactionId": "transaction_id",
}


@dataclass
class Period:
    """A row of the schedule: from ``start_period`` seconds on, at most ``limit``."""

    start_period: int | None
    limit: Decimal | None
    number_phases: int | None = None

    def ocpp(self) -> dict:
        period = {"startPeriod": self.start_period, "limit": self.limit}
        if self.number_phases is not None:
            period["numberPhases"] = self.number_phases
        return period


@dataclass
class ProfileValues:
    """What an operator sets on a stored profile."""

    charging_profile_id: int | None
    stack_level: int | None
    purpose: str
    kind: str
    charging_rate_unit: str
    periods: list[Period] = field(default_factory=list)
    recurrency_kind: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    duration: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: Decimal | None = None
    description: str | None = None
    note: str | None = None


def decimal_or_none(text) -> Decimal | None:
    """A rate as typed ("16", "16.5", "") -> Decimal; anything else raises ValueError."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = Decimal(str(text).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a number")
    return value


# --- the OCPP shape ----------------------------------------------------------------------------
def ocpp_profile(values: ProfileValues, transaction_id: int | None = None) -> dict:
    """The OCPP-J 1.6 ChargingProfile (csChargingProfiles), numbers with fractions as Decimal."""
    schedule = {"chargingRateUnit": values.charging_rate_unit,
                "chargingSchedulePeriod": [p.ocpp() for p in values.periods]}
    for key, value in (("duration", values.duration),
                       ("startSchedule", values.start_schedule and
                        format_timestamp(values.start_schedule)),
                       ("minChargingRate", values.min_charging_rate)):
        if value is not None:
            schedule[key] = value
    profile = {"chargingProfileId": values.charging_profile_id,
               "stackLevel": values.stack_level,
               "chargingProfilePurpose": values.purpose,
               "chargingProfileKind": values.kind}
    for key, value in (("transactionId", transaction_id),
                       ("recurrencyKind", values.recurrency_kind),
                       ("validFrom", values.valid_from and format_timestamp(values.valid_from)),
                       ("validTo", values.valid_to and format_timestamp(values.valid_to))):
        if value is not None:
            profile[key] = value
    profile["chargingSchedule"] = schedule
    return profile


def values_of(row: StoredChargingProfile) -> ProfileValues:
    return ProfileValues(
        charging_profile_id=row.charging_profile_id, stack_level=row.stack_level,
        purpose=row.purpose, kind=row.kind, charging_rate_unit=row.charging_rate_unit,
        periods=periods_of(row), recurrency_kind=row.recurrency_kind,
        valid_from=row.valid_from, valid_to=row.valid_to, duration=row.duration,
        start_schedule=row.start_schedule,
        min_charging_rate=decimal_or_none(row.min_charging_rate),
        description=row.description, note=row.note)


def periods_of(row: StoredChargingProfile) -> list[Period]:
    return [Period(p["startPeriod"], decimal_or_none(p["limit"]), p.get("numberPhases"))
            for p in json.loads(row.periods or "[]")]


# --- the rules ---------------------------------------------------------------------------------
def _schema_problems(profile: dict) -> dict[str, str]:
    problems: dict[str, str] = {}
    for error in ocpp_schemas.schema_errors("SetChargingProfile",
                                            {"connectorId": 0, "csChargingProfiles": profile}):
        message = _DECIMAL.sub(r"\1", error.message)  # Decimal('10.55') -> 10.55
        path = [str(p) for p in error.absolute_path][1:]  # below csChargingProfiles
        if "chargingSchedulePeriod" in path:
            at = path.index("chargingSchedulePeriod")
            row = f"row {int(path[at + 1]) + 1}: " if len(path) > at + 1 else ""
            problems.setdefault("periods", row + message)
            continue
        name = _SCHEMA_FIELDS.get(path[-1] if path else "", path[-1] if path else "profile")
        problems.setdefault(name, message)
    return problems


def _rule_problems(values: ProfileValues) -> dict[str, str]:
    problems: dict[str, str] = {}
    if values.charging_profile_id is not None and not 0 < values.charging_profile_id <= MAX_ID:
        problems["charging_profile_id"] = f"use 1 to {MAX_ID}"
    if values.stack_level is not None and not 0 <= values.stack_level <= 1000:
        problems["stack_level"] = "use 0 (lowest) to 1000"
    if values.kind == ChargingProfileKindType.recurring:
        if not values.recurrency_kind:
            problems["recurrency_kind"] = "a Recurring profile needs Daily or Weekly"
        if values.start_schedule is None:
            problems["start_schedule"] = "a Recurring profile needs a start (what recurs)"
        limit = _RECURRENCE_SECONDS.get(values.recurrency_kind or "")
        if limit and values.duration is not None and values.duration > limit:
            problems["duration"] = (f"a {values.recurrency_kind} profile lasts at most "
                                    f"{limit} seconds")
    elif values.recurrency_kind:
        problems["recurrency_kind"] = "only a Recurring profile has a recurrency"
    if values.kind == ChargingProfileKindType.relative and values.start_schedule is not None:
        problems["start_schedule"] = ("a Relative profile starts with the charging; leave the "
                                      "start empty")
    if values.valid_from and values.valid_to and values.valid_to <= values.valid_from:
        problems["valid_to"] = "must come after valid from"
    if values.duration is not None and values.duration <= 0:
        problems["duration"] = "use more than 0 seconds, or leave it empty (until the end)"
    if values.min_charging_rate is not None and values.min_charging_rate < 0:
        problems["min_charging_rate"] = "cannot be negative"
    problem = _periods_problem(values.periods, values.duration)
    if problem:
        problems["periods"] = problem
    return problems


def _periods_problem(periods: list[Period], duration: int | None) -> str | None:
    if not periods:
        return "give at least one period (start 0 and a limit)"
    if len(periods) > MAX_PERIODS:
        return f"at most {MAX_PERIODS} periods"
    for number, period in enumerate(periods, 1):
        if period.start_period is None or period.limit is None:
            return f"row {number}: give both the start and the limit"
        if period.start_period < 0:
            return f"row {number}: the start cannot be negative"
        if period.limit < 0:
            return f"row {number}: the limit cannot be negative"
        if period.number_phases is not None and period.number_phases not in (1, 2, 3):
            return f"row {number}: phases are 1, 2 or 3"
    if periods[0].start_period != 0:
        return "the first period starts at 0 seconds"
    for number, (before, after) in enumerate(zip(periods, periods[1:]), 2):
        if after.start_period <= before.start_period:
            return f"row {number}: starts must grow from row to row"
    if duration is not None and periods[-1].start_period >= duration:
        return f"row {len(periods)}: starts after the schedule's duration ({duration} s)"
    return None


def problems_of(values: ProfileValues) -> dict[str, str]:
    """Every problem with the profile, the schema's first (they name the field precisely)."""
    problems = _rule_problems(values)
    if not problems:
        problems = _schema_problems(ocpp_profile(values))
    return problems


def _check(db: Session, values: ProfileValues, pk: int | None = None) -> dict:
    problems = {}
    for name, choices in (("purpose", PURPOSES), ("kind", KINDS),
                          ("charging_rate_unit", RATE_UNITS)):
        if getattr(values, name) not in choices:
            problems[name] = f"use one of {', '.join(choices)}"
    if values.recurrency_kind and values.recurrency_kind not in RECURRENCIES:
        problems["recurrency_kind"] = f"use one of {', '.join(RECURRENCIES)}"
    for name in ("charging_profile_id", "stack_level"):
        if getattr(values, name) is None:
            problems[name] = "required"
    for name, limit in (("description", 255), ("note", 4000)):
        if len((getattr(values, name) or "").strip()) > limit:
            problems[name] = f"at most {limit} characters"
    if problems:
        raise Invalid(problems)
    problems = problems_of(values)
    taken = db.scalar(select(StoredChargingProfile.id).where(
        StoredChargingProfile.charging_profile_id == values.charging_profile_id))
    if taken is not None and taken != pk:
        problems.setdefault("charging_profile_id", f"profile {values.charging_profile_id} is "
                                                   "already in the library")
    if problems:
        raise Invalid(problems)
    return {
        "charging_profile_id": values.charging_profile_id, "stack_level": values.stack_level,
        "purpose": values.purpose, "kind": values.kind,
        "recurrency_kind": values.recurrency_kind or None,
        "valid_from": values.valid_from, "valid_to": values.valid_to,
        "charging_rate_unit": values.charging_rate_unit, "duration": values.duration,
        "start_schedule": values.start_schedule,
        "min_charging_rate": (None if values.min_charging_rate is None
                              else str(values.min_charging_rate)),
        "periods": json.dumps([{**p.ocpp(), "limit": str(p.limit)} for p in values.periods]),
        "description": (values.description or "").strip() or None,
        "note": (values.note or "").strip() or None,
    }


# --- the library -------------------------------------------------------------------------------
def profile(db: Session, pk: int) -> StoredChargingProfile:
    found = db.get(StoredChargingProfile, pk)
    if found is None:
        raise NotFound(f"no stored charging profile {pk}")
    return found


def next_profile_id(db: Session) -> int:
    """An OCPP chargingProfileId not used in the library yet."""
    return (db.scalar(select(func.max(StoredChargingProfile.charging_profile_id))) or 0) + 1


def create_profile(db: Session, values: ProfileValues) -> StoredChargingProfile:
    row = StoredChargingProfile(**_check(db, values), created_at=now(), updated_at=now())
    db.add(row)
    db.flush()
    return row


def update_profile(db: Session, pk: int, values: ProfileValues) -> StoredChargingProfile:
    row = profile(db, pk)
    for name, value in _check(db, values, pk).items():
        setattr(row, name, value)
    row.updated_at = now()
    return row


def copy_profile(db: Session, pk: int) -> StoredChargingProfile:
    """A copy under the next free chargingProfileId, to be changed from there."""
    values = values_of(profile(db, pk))
    values.charging_profile_id = next_profile_id(db)
    values.description = ("Copy of " + (values.description or
                                        f"profile {profile(db, pk).charging_profile_id}"))[:255]
    return create_profile(db, values)


def delete_profile(db: Session, pk: int) -> int:
    """Delete a stored profile (profiles installed on stations stay). Returns its OCPP id."""
    row = profile(db, pk)
    db.delete(row)
    db.flush()
    return row.charging_profile_id


# --- commands built from a stored profile ------------------------------------------------------
def set_charging_profile_request(db: Session, pk: int, connector_id: int,
                                 transaction_id: int | None = None) -> dict:
    """The SetChargingProfile payload sending stored profile ``pk`` to ``connector_id``."""
    row = profile(db, pk)
    problems = {}
    if connector_id is None or connector_id < 0:
        problems["connector_id"] = "use 0 (the whole station) or a connector number"
    elif (row.purpose == ChargingProfilePurposeType.charge_point_max_profile
          and connector_id != 0):
        problems["connector_id"] = "a ChargePointMaxProfile goes to connector 0 only"
    elif row.purpose == ChargingProfilePurposeType.tx_profile and connector_id == 0:
        problems["connector_id"] = "a TxProfile goes to the connector of its transaction, not 0"
    if transaction_id is not None and row.purpose != ChargingProfilePurposeType.tx_profile:
        problems["transaction_id"] = "only a TxProfile names a transaction"
    if problems:
        raise Invalid(problems)
    return {"connectorId": connector_id,
            "csChargingProfiles": ocpp_profile(values_of(row), transaction_id)}


def remote_start_profile(db: Session, pk: int) -> dict:
    """The chargingProfile of a RemoteStartTransaction: only a TxProfile, without a
    transaction (OCPP 1.6, 5.11: the transaction does not exist yet)."""
    row = profile(db, pk)
    if row.purpose != ChargingProfilePurposeType.tx_profile:
        raise Invalid({"profile": f"RemoteStartTransaction takes a TxProfile; profile "
                                  f"{row.charging_profile_id} is a {row.purpose}"})
    return ocpp_profile(values_of(row))


def choices(db: Session, purpose: str | None = None, limit: int = 1000) -> list[tuple[int, str]]:
    """(pk, label) of stored profiles for pickers, by OCPP id."""
    query = select(StoredChargingProfile.id, StoredChargingProfile.charging_profile_id,
                   StoredChargingProfile.purpose, StoredChargingProfile.description
                   ).order_by(StoredChargingProfile.charging_profile_id).limit(limit)
    if purpose:
        query = query.where(StoredChargingProfile.purpose == purpose)
    return [(pk, f"#{ocpp_id} {purpose_}" + (f" – {description}" if description else ""))
            for pk, ocpp_id, purpose_, description in db.execute(query)]
