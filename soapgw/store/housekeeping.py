"""Background upkeep in each server process: the journal is purged past its retention."""
from __future__ import annotations

import logging
import os
import threading

from sqlalchemy.orm import Session, sessionmaker

from soapgw.config import Settings
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.store import journal

log = logging.getLogger(__name__)


class JournalHousekeeper:
    INTERVAL_SECONDS = 3600

    def __init__(self, sessions: sessionmaker[Session], settings: Settings):
        self.sessions, self.settings = sessions, settings
        self._started_in: int | None = None  # the pid: threads do not survive a fork
        self._lock = threading.Lock()

    def start_once(self) -> None:
        if self._started_in == os.getpid():
            return
        with self._lock:
            if self._started_in != os.getpid():
                self._started_in = os.getpid()
                threading.Thread(target=self._loop, name="journal-purge", daemon=True).start()

    def purge_now(self) -> int:
        with self.sessions.begin() as db:
            days = RuntimeSettings.load(db, self.settings).journal_retention_days
            return journal.purge(db, days)

    def _loop(self) -> None:
        stop = threading.Event()
        while True:
            try:
                removed = self.purge_now()
                if removed:
                    log.info("journal: removed %d entries past retention", removed)
            except Exception:  # noqa: BLE001  (try again next round)
                log.exception("journal purge failed")
            stop.wait(self.INTERVAL_SECONDS)
