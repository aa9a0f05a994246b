"""Request and response models of the charging profile library (OCPP-J 1.6 names)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from soapgw.api.schemas import Links, Page, PageQuery, Strict
from soapgw.core.charging_profiles import (KINDS, MAX_ID, MAX_PERIODS, PURPOSES, RATE_UNITS,
                                           RECURRENCIES)

RATE_MAX = 1e9  # far beyond any station; keeps numbers finite


class ChargingSchedulePeriod(Strict):
    startPeriod: int = Field(ge=0, le=MAX_ID, description="seconds from the schedule's start")
    limit: float = Field(ge=0, le=RATE_MAX, description="in the chargingRateUnit, steps of 0.1")
    numberPhases: int | None = Field(None, ge=1, le=3)


class ChargingSchedule(Strict):
    chargingRateUnit: Literal[RATE_UNITS]
    duration: int | None = Field(None, ge=1, le=MAX_ID, description="seconds")
    startSchedule: datetime | None = None
    minChargingRate: float | None = Field(None, ge=0, le=RATE_MAX)
    chargingSchedulePeriod: list[ChargingSchedulePeriod] = Field(min_length=1,
                                                                 max_length=MAX_PERIODS)


class ChargingProfileFields(Strict):
    """An OCPP 1.6 ChargingProfile without a transaction, with a description and a note."""

    chargingProfileId: int = Field(ge=1, le=MAX_ID)
    stackLevel: int = Field(ge=0, le=1000)
    chargingProfilePurpose: Literal[PURPOSES]
    chargingProfileKind: Literal[KINDS]
    recurrencyKind: Literal[RECURRENCIES] | None = None
    validFrom: datetime | None = None
    validTo: datetime | None = None
    chargingSchedule: ChargingSchedule
    description: str | None = Field(None, max_length=255)
    note: str | None = Field(None, max_length=4000)


class StoredChargingProfile(ChargingProfileFields):
    createdAt: datetime
    updatedAt: datetime
    links: Links


class ChargingProfilePage(Page):
    items: list[StoredChargingProfile]


class ChargingProfileQuery(PageQuery):
    chargingProfilePurpose: Literal[PURPOSES] | None = None
