"""SQLite WAL checkpoints off the stations' path.

By default the writer whose COMMIT takes the WAL past 1,000 pages copies them into the
database file and syncs it, inside its transaction and so inside the writer lock: about 6 ms
on our machine, every 70-200 messages, for which every other writer waits (it was the tail
of the SOAP answer and of the bridge's forwarding at 100 messages/s).

Under ``soapgw serve`` the housekeeping process checkpoints instead, every INTERVAL seconds,
PASSIVE (it never waits for or blocks a writer or a reader), and the serving processes' own
automatic checkpoint is raised to FALLBACK_PAGES, a bound on the WAL for when the
housekeeper is away (being restarted) or never catches up with sustained writes (the WAL
file only starts over once a checkpoint has). serve tells its workers and helpers through
ENV.
"""
from __future__ import annotations

import logging
import os
import threading

from sqlalchemy import Engine

log = logging.getLogger(__name__)

ENV = "SOAPGW_WAL_CHECKPOINTS"  # "background": a housekeeper checkpoints (set by serve)
INTERVAL = 0.2  # seconds
DEFAULT_PAGES = 1000  # SQLite's own
FALLBACK_PAGES = 10_000  # ~40 MB of WAL


def autocheckpoint_pages() -> int:
    """The ``wal_autocheckpoint`` a new connection of this process gets."""
    return FALLBACK_PAGES if os.environ.get(ENV) == "background" else DEFAULT_PAGES


class WalCheckpointer:
    """A daemon thread that runs PASSIVE checkpoints on its own connection until ``stop``."""

    def __init__(self, engine: Engine, interval: float = INTERVAL):
        self.engine = engine
        self.interval = interval
        self._thread: threading.Thread | None = None

    def start(self, stop: threading.Event) -> None:
        self._thread = threading.Thread(target=self._run, args=(stop,), daemon=True,
                                        name="soapgw-wal-checkpoint")
        self._thread.start()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end (after ``stop``); whether it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    @staticmethod
    def checkpoint(connection) -> None:
        """One PASSIVE checkpoint: copies what no reader still needs, waits for nobody."""
        cursor = connection.cursor()
        try:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            cursor.close()

    def _run(self, stop: threading.Event) -> None:
        connection = None
        while not stop.wait(self.interval):
            try:
                if connection is None:
                    connection = self.engine.raw_connection()
                self.checkpoint(connection)
            except Exception:  # noqa: BLE001  (the database may be away: try again)
                log.exception("WAL checkpoint failed")
                if connection is not None:
                    connection.invalidate()
                    connection = None
        if connection is not None:
            connection.close()
