"""Background upkeep, run by one process (``soapgw housekeep``, started by ``soapgw serve``):
journal and event purges past their retention, and stations falling silent marked offline
(event ``station.offline``; their next message publishes ``station.online``)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from soapgw.config import Settings
from soapgw.core import events
from soapgw.core.enums import EventType
from soapgw.core.events import NewEvent
from soapgw.core.liveness import online_cutoff
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.store import journal
from soapgw.store.models import ChargeBox
from soapgw.timestamps import format_timestamp, now

log = logging.getLogger(__name__)
_STATIONS = ChargeBox.__table__


class Housekeeper:
    PURGE_EVERY = 3600.0  # seconds
    OFFLINE_EVERY = 30.0

    def __init__(self, sessions: sessionmaker[Session], settings: Settings):
        self.sessions, self.settings = sessions, settings

    def purge_journal(self) -> int:
        with self.sessions.begin() as db:
            days = RuntimeSettings.load(db, self.settings).journal_retention_days
            return journal.purge(db, days)

    def purge_events(self) -> int:
        with self.sessions.begin() as db:
            days = RuntimeSettings.load(db, self.settings).event_retention_days
            return events.purge(db, days)

    def mark_offline(self, at: datetime | None = None) -> list[str]:
        """Stations not heard from for two heartbeat intervals and a grace (the rule the web
        UI shows as offline) get ``offline_since`` and a ``station.offline`` event, once."""
        at = at or now()
        with self.sessions.begin() as db:
            interval = RuntimeSettings.load(db, self.settings).heartbeat_interval
            rows = db.execute(
                update(_STATIONS)
                .where(_STATIONS.c.offline_since.is_(None),
                       _STATIONS.c.last_message_at < online_cutoff(interval, at))
                .values(offline_since=_STATIONS.c.last_message_at)
                .returning(_STATIONS.c.charge_box_id, _STATIONS.c.last_message_at)).all()
            events.publish(db, [NewEvent(EventType.STATION_OFFLINE, row.charge_box_id, {
                "lastMessageAt": format_timestamp(row.last_message_at),
                "heartbeatInterval": interval}, at) for row in rows])
        return [row.charge_box_id for row in rows]

    def run_once(self) -> None:
        for name, job in (("journal purge", self.purge_journal),
                          ("event purge", self.purge_events),
                          ("offline sweep", self.mark_offline)):
            self._guarded(name, job)

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set: the offline sweep every OFFLINE_EVERY seconds, the purges
        every PURGE_EVERY."""
        last_purge = None
        while not stop.is_set():
            clock = now()
            if last_purge is None or (clock - last_purge).total_seconds() >= self.PURGE_EVERY:
                self._guarded("journal purge", self.purge_journal)
                self._guarded("event purge", self.purge_events)
                last_purge = clock
            self._guarded("offline sweep", self.mark_offline)
            stop.wait(self.OFFLINE_EVERY)

    @staticmethod
    def _guarded(name: str, job: Callable) -> None:
        try:
            result = job()
            if result:
                log.info("%s: %s", name, result if isinstance(result, int) else len(result))
        except Exception:  # noqa: BLE001  (the database may be away: try again next round)
            log.exception("%s failed", name)
