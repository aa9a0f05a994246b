"""OCPP 1.6 smart charging for one simulated station: installed profiles, the limit in force
at an instant, and the composite schedule (GetCompositeSchedule).

Rules followed (OCPP 1.6 §3.13): per purpose the valid profile with the highest stackLevel
wins; TxProfile overrides TxDefaultProfile; ChargePointMaxProfile caps everything; a Relative
schedule starts with the transaction, a Recurring one repeats daily/weekly from its start.
Limits are converted between A and W with 230 V per phase (3 phases unless the period says).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

VOLTAGE = 230
DEFAULT_PHASES = 3
_RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(weeks=1)}


@dataclass(frozen=True)
class Period:
    start: int  # seconds from the start of the schedule
    limit: float
    phases: int | None = None


@dataclass
class Profile:
    id: int
    connector_id: int
    stack_level: int
    purpose: str  # ChargePointMaxProfile | TxDefaultProfile | TxProfile
    kind: str  # Absolute | Recurring | Relative
    unit: str  # A | W
    periods: list[Period]
    transaction_id: int | None = None
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    duration: int | None = None
    start_schedule: datetime | None = None
    min_rate: float | None = None
    installed_at: datetime | None = None

    @classmethod
    def from_ocpp(cls, data: dict, connector_id: int, now: datetime) -> "Profile":
        """From a ChargingProfile as a dict (camelCase OCPP names)."""
        schedule = data["chargingSchedule"]
        periods = sorted((Period(int(p["startPeriod"]), float(p["limit"]), p.get("numberPhases"))
                          for p in schedule.get("chargingSchedulePeriod") or []),
                         key=lambda p: p.start)
        return cls(id=int(data["chargingProfileId"]), connector_id=connector_id,
                   stack_level=int(data["stackLevel"]), purpose=data["chargingProfilePurpose"],
                   kind=data["chargingProfileKind"], unit=schedule["chargingRateUnit"],
                   periods=periods, transaction_id=data.get("transactionId"),
                   recurrency=data.get("recurrencyKind"), valid_from=data.get("validFrom"),
                   valid_to=data.get("validTo"), duration=schedule.get("duration"),
                   start_schedule=schedule.get("startSchedule"),
                   min_rate=(float(schedule["minChargingRate"])
                             if schedule.get("minChargingRate") is not None else None),
                   installed_at=now)

    def schedule_start(self, at: datetime, tx_start: datetime | None) -> datetime | None:
        """When the schedule in force at ``at`` started (None: not running)."""
        if self.kind == "Relative":
            return tx_start
        start = self.start_schedule or self.valid_from or self.installed_at
        if start is None:
            return None
        if self.kind == "Recurring" and self.recurrency in _RECURRENCE and at >= start:
            step = _RECURRENCE[self.recurrency]
            start += step * ((at - start) // step)
        return start

    def limit_at(self, at: datetime, tx_start: datetime | None) -> tuple[float, int] | None:
        """(limit, phases) at ``at``, or None when the profile does not apply then."""
        if (self.valid_from and at < self.valid_from) or (self.valid_to and at >= self.valid_to):
            return None
        start = self.schedule_start(at, tx_start)
        if start is None or at < start:
            return None
        offset = (at - start).total_seconds()
        if self.duration is not None and offset >= self.duration:
            return None
        current = None
        for period in self.periods:
            if period.start <= offset:
                current = period
        if current is None:
            return None
        return current.limit, current.phases or DEFAULT_PHASES

    def breakpoints(self, begin: datetime, end: datetime,
                    tx_start: datetime | None) -> set[datetime]:
        """Instants in [begin, end) where this profile's limit may change."""
        points = {t for t in (self.valid_from, self.valid_to) if t}
        probe, seen = begin, 0
        while probe < end and seen < 1000:  # bounded: weekly/daily repeats in the window
            start = self.schedule_start(probe, tx_start)
            if start is None:
                break
            points.update(start + timedelta(seconds=p.start) for p in self.periods)
            if self.duration is not None:
                points.add(start + timedelta(seconds=self.duration))
            if self.kind != "Recurring" or self.recurrency not in _RECURRENCE:
                break
            probe, seen = start + _RECURRENCE[self.recurrency], seen + 1
            points.add(probe)
        return {p for p in points if begin <= p < end}


def convert(limit: float, unit: str, phases: int, target: str) -> float:
    if unit == target:
        return limit
    factor = VOLTAGE * phases
    return limit * factor if target == "W" else limit / factor


@dataclass
class SmartCharging:
    """Profiles installed on one station and the physical maximum they cap."""

    max_power_w: float
    profiles: list[Profile] = field(default_factory=list)

    def install(self, profile: Profile) -> None:
        # Same id, or same purpose and stack level on the same connector: replaced.
        self.profiles = [p for p in self.profiles if not (
            p.id == profile.id or (p.connector_id == profile.connector_id
                                   and p.purpose == profile.purpose
                                   and p.stack_level == profile.stack_level))]
        self.profiles.append(profile)

    def clear(self, profile_id: int | None = None, connector_id: int | None = None,
              purpose: str | None = None, stack_level: int | None = None) -> int:
        """Remove the matching profiles (every criterion given must match); how many went."""
        def matches(p: Profile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return ((connector_id is None or p.connector_id == connector_id)
                    and (purpose is None or p.purpose == purpose)
                    and (stack_level is None or p.stack_level == stack_level))
        before = len(self.profiles)
        self.profiles = [p for p in self.profiles if not matches(p)]
        return before - len(self.profiles)

    def end_transaction(self, connector_id: int) -> None:
        """A TxProfile lives as long as its transaction."""
        self.profiles = [p for p in self.profiles
                         if not (p.purpose == "TxProfile" and p.connector_id == connector_id)]

    def _winner(self, purpose: str, connector_ids: tuple[int, ...], at: datetime,
                tx_start: datetime | None) -> tuple[float, int, str] | None:
        candidates = sorted((p for p in self.profiles
                             if p.purpose == purpose and p.connector_id in connector_ids),
                            key=lambda p: -p.stack_level)
        for profile in candidates:
            found = profile.limit_at(at, tx_start)
            if found is not None:
                return found[0], found[1], profile.unit
        return None

    def limit(self, connector_id: int, at: datetime, tx_start: datetime | None,
              unit: str = "W") -> float:
        """The limit in force on a connector at ``at`` (physical maximum when unlimited)."""
        best = self.max_power_w if unit == "W" else convert(self.max_power_w, "W",
                                                             DEFAULT_PHASES, "A")
        chosen = [self._winner("ChargePointMaxProfile", (0,), at, tx_start)]
        tx = self._winner("TxProfile", (connector_id,), at, tx_start) if tx_start else None
        # A TxDefaultProfile on the connector beats one installed for all connectors (0).
        chosen.append(tx or self._winner("TxDefaultProfile", (connector_id,), at, tx_start)
                      or self._winner("TxDefaultProfile", (0,), at, tx_start))
        for found in chosen:
            if found is not None:
                best = min(best, convert(found[0], found[2], found[1], unit))
        return best

    def composite(self, connector_id: int, begin: datetime, duration: int,
                  tx_start: datetime | None, unit: str) -> dict:
        """A ChargingSchedule (dict, OCPP names) for [begin, begin + duration]."""
        end = begin + timedelta(seconds=duration)
        points = {begin}
        for profile in self.profiles:
            if profile.connector_id in (0, connector_id):
                points |= profile.breakpoints(begin, end, tx_start)
        periods: list[dict] = []
        for point in sorted(points):
            limit = round(self.limit(connector_id, point, tx_start, unit), 1)
            if not periods or periods[-1]["limit"] != limit:
                periods.append({"startPeriod": int((point - begin).total_seconds()),
                                "limit": Decimal(str(limit))})
        return {"duration": duration, "startSchedule": begin, "chargingRateUnit": unit,
                "chargingSchedulePeriod": periods}
