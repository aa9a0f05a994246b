"""Settings an operator may change at run time: stored in SQL, defaulting to the environment."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from soapgw.config import Settings
from soapgw.store.models import Setting

# How each stored text is read back; the bounds are checked by the settings form.
_KINDS = {"heartbeat_interval": int, "auto_register": bool, "journal_retention_days": int,
          "event_retention_days": int, "connect_timeout": float, "operation_timeout": float}


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
    def save(db: Session, key: str, value) -> None:
        if key not in _KINDS:
            raise KeyError(key)
        db.merge(Setting(key=key, value=_text(_KINDS[key], value)))
