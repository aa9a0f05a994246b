"""Settings an operator may change at run time: stored in SQL, defaulting to the environment."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from soapgw.config import Settings
from soapgw.store.models import Setting


@dataclass(frozen=True)
class RuntimeSettings:
    heartbeat_interval: int
    auto_register: bool
    journal_retention_days: int

    KEYS = ("heartbeat_interval", "auto_register", "journal_retention_days")

    @classmethod
    def load(cls, db: Session, defaults: Settings) -> "RuntimeSettings":
        stored = dict(db.execute(select(Setting.key, Setting.value)).all())

        def pick(key: str, default):
            raw = stored.get(key)
            if raw is None:
                return default
            return raw.lower() == "true" if isinstance(default, bool) else int(raw)

        return cls(heartbeat_interval=pick("heartbeat_interval", defaults.heartbeat_interval),
                   auto_register=pick("auto_register", defaults.auto_register),
                   journal_retention_days=pick("journal_retention_days",
                                               defaults.journal_retention_days))

    @staticmethod
    def save(db: Session, key: str, value) -> None:
        if key not in RuntimeSettings.KEYS:
            raise KeyError(key)
        text = ("true" if value else "false") if isinstance(value, bool) else str(int(value))
        db.merge(Setting(key=key, value=text))
