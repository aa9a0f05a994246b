"""SQL from the event loop: blocking SQLAlchemy work runs in a small thread pool; writes take
the SQLite writer lock like every other writer. ``Writer`` gathers what needs no answer
(journal records, acknowledged queue rows, link states) and commits it in groups, so a busy
replay costs one commit per batch, not one per message."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from soapgw.core import upstream_queue
from soapgw.store import journal
from soapgw.store.database import READ_ONLY, writer_lock
from soapgw.store.journal import JournalRecord

log = logging.getLogger(__name__)


class Store:
    def __init__(self, engine: Engine, sessions: sessionmaker[Session], threads: int = 6):
        self.sessions = sessions
        # Reads take no write lock (WAL gives a snapshot): the copy loop reads every 10 ms,
        # and a BEGIN IMMEDIATE each time would queue the stations' writers behind it.
        self.read_engine = engine.execution_options(**{READ_ONLY: True})
        self.lock = writer_lock(engine)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="soapgw-bridge-db")

    def _write(self, work: Callable, *args):
        with self.lock, self.sessions.begin() as db:
            return work(db, *args)

    def _read(self, work: Callable, *args):
        with self.sessions(bind=self.read_engine) as db:
            return work(db, *args)

    async def write(self, work: Callable, *args):
        """``work(db, *args)`` in a write transaction; its result."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._write, work,
                                                                *args)

    async def read(self, work: Callable, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._read, work,
                                                                *args)

    async def blocking(self, work: Callable, *args):
        """Anything else that blocks (the task runner)."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, work, *args)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class Writer:
    """Group commits of fire-and-forget writes, in order."""

    def __init__(self, store: Store):
        self.store = store
        self.records: list[JournalRecord] = []
        self.removed: list[int] = []
        self.actions: list[tuple[Callable, tuple]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def journal(self, records: list[JournalRecord]) -> None:
        self.records.extend(records)
        self._kick()

    def acknowledged(self, queue_id: int) -> None:
        self.removed.append(queue_id)
        self._kick()

    def later(self, work: Callable, *args) -> None:
        """``work(db, *args)`` in the next group commit."""
        self.actions.append((work, args))
        self._kick()

    def _kick(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def flushed(self) -> None:
        """Wait until everything handed over so far is committed."""
        await self._idle.wait()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            records, removed, actions = self.records, self.removed, self.actions
            self.records, self.removed, self.actions = [], [], []
            if records or removed or actions:
                try:
                    await self.store.write(self._commit, records, removed, actions)
                except Exception:  # noqa: BLE001  (the database is away: keep the bridge up)
                    log.exception("bridge: could not write %d journal records, %d queue "
                                  "acknowledgements", len(records), len(removed))
                    await asyncio.sleep(1.0)
            if not (self.records or self.removed or self.actions):
                self._idle.set()

    @staticmethod
    def _commit(db, records, removed, actions) -> None:
        if records:
            journal.write(db, records)
        upstream_queue.remove(db, removed)
        for work, args in actions:
            work(db, *args)
