"""Settings an operator may change at run time: stored in SQL, defaulting to the environment."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from soapgw.config import MAX_TIMEOUT, Settings
from soapgw.core.errors import Invalid
from soapgw.store.models import Setting

# How each stored text is read back.
_KINDS = {"heartbeat_interval": int, "auto_register": bool, "journal_retention_days": int,
          "event_retention_days": int, "connect_timeout": float, "operation_timeout": float}
MAX_INTERVAL = 7 * 86400  # as SOAPGW_HEARTBEAT_INTERVAL
MAX_RETENTION = 3650
# Why a value is refused (None: it is fine); every edge shows these words.
_RULES = {
    "heartbeat_interval": lambda v: None if 1 <= v <= MAX_INTERVAL
    else f"use 1 to {MAX_INTERVAL} seconds",
    "journal_retention_days": lambda v: None if 0 <= v <= MAX_RETENTION
    else f"use 0 (forever) to {MAX_RETENTION} days",
    "event_retention_days": lambda v: None if 0 <= v <= MAX_RETENTION
    else f"use 0 (forever) to {MAX_RETENTION} days",
    "connect_timeout": lambda v: None if math.isfinite(v) and 0 < v <= MAX_TIMEOUT
    else f"use more than 0 and at most {MAX_TIMEOUT:g} seconds",
    "operation_timeout": lambda v: None if math.isfinite(v) and 0 < v <= MAX_TIMEOUT
    else f"use more than 0 and at most {MAX_TIMEOUT:g} seconds",
}


def _parse(kind: type, raw: str):
    return raw.lower() == "true" if kind is bool else kind(raw)


def _text(kind: type, value) -> str:
    if kind is bool:
        return "true" if value else "false"
    return str(float(value)) if kind is float else str(int(value))


@dataclass(frozen=True)
class RuntimeSettings:
    heartbeat_interval: int
    auto_register: bool
    journal_retention_days: int
    event_retention_days: int  # events every registered consumer has read
    connect_timeout: float  # seconds, for commands to stations
    operation_timeout: float

    KEYS = tuple(_KINDS)

    @classmethod
    def load(cls, db: Session, defaults: Settings) -> "RuntimeSettings":
        """One SELECT of the stored values; the environment's for the others."""
        stored = dict(db.execute(select(Setting.key, Setting.value)).all())
        return cls(**{key: _parse(kind, stored[key]) if stored.get(key) is not None
                       else kind(getattr(defaults, key)) for key, kind in _KINDS.items()})

    @staticmethod
    def save(db: Session, values: dict) -> None:
        """Store the given settings (any of KEYS); ``Invalid`` names each value out of
        bounds, and then nothing is stored."""
        problems = {}
        for key, value in values.items():
            if key not in _KINDS:
                problems[key] = "not a setting"
            elif value is None:
                problems[key] = "a value is needed"
            elif (rule := _RULES.get(key)) and (problem := rule(_KINDS[key](value))):
                problems[key] = problem
        if problems:
            raise Invalid(problems)
        for key, value in values.items():
            db.merge(Setting(key=key, value=_text(_KINDS[key], value)))
