"""Group commit: units of work from several threads share one write transaction.

Each inbound message is a unit: its core writes, its reply and its journal rows. Run one by
one, every message pays for its own write lock, BEGIN and COMMIT (on SQLite, its own WAL
frames for pages the next message rewrites). When several threads of a process have a unit
ready at once, the first becomes the leader: it opens one transaction, runs every pending
unit in it, each inside a SAVEPOINT, commits, and hands the results back. The rules:

- A unit's result is handed back only after the COMMIT that holds its writes: an answer
  still goes out only once the message and its journal rows are durable.
- A unit that raises is rolled back to its savepoint alone and its exception is raised in
  its own thread (a refused station's message changes nothing, the others commit).
- When the COMMIT itself fails, every unit of the batch gets that exception: none of them
  was answered yet, so each thread answers its station as for any database failure.
- A lone unit runs without a savepoint, exactly as before group commit (a sync worker never
  has two units at once).
- The leader runs at most ``max_batch`` units, then hands the lead to the thread of the
  next waiting unit, so no thread serves others' messages for long.
- On an SQLite file, batches run on one connection the GroupCommit keeps (one batch runs at
  a time): taking a pooled connection and giving it back (with its reset) cost more than
  BEGIN and COMMIT themselves. It is dropped when BEGIN or COMMIT fails, and on fork.
  Other databases take a pooled connection per batch, whose pre-ping finds a server that
  went away.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from soapgw.store.database import is_sqlite_file

T = TypeVar("T")
MAX_BATCH = 16


class _Unit(Generic[T]):
    __slots__ = ("work", "done", "lead", "result", "error")

    def __init__(self, work: Callable[[Connection], T]):
        self.work = work
        self.done = threading.Event()
        self.lead = False  # set with done: this unit's thread leads the next batch
        self.result: T | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """Runs ``work(db)`` callables in shared write transactions (see the module's rules)."""

    def __init__(self, engine: Engine, write_lock=None, max_batch: int = MAX_BATCH):
        self.engine = engine
        self.write_lock = write_lock if write_lock is not None else contextlib.nullcontext()
        self.max_batch = max_batch
        self._mutex = threading.Lock()
        self._pending: list[_Unit] = []
        self._leading = False
        self.batches = 0  # counters for benchmarks and tests
        self.units = 0
        self._keeps = is_sqlite_file(engine.url)
        self._kept: Connection | None = None
        self._kept_pid: int | None = None

    def run(self, work: Callable[[Connection], T]) -> T:
        unit = _Unit(work)
        with self._mutex:
            self._pending.append(unit)
            leader = not self._leading
            self._leading = True
        if not leader:
            unit.done.wait()
            if unit.lead:  # handed the lead: our unit heads the next batch
                unit.done.clear()
                unit.lead = False
                self._lead()
        else:
            self._lead()
        if unit.error is not None:
            error, unit.error = unit.error, None  # no traceback cycle through the unit
            raise error
        return unit.result

    def _lead(self) -> None:
        with self._mutex:
            batch = self._pending[:self.max_batch]
            del self._pending[:self.max_batch]
        try:
            self._run_batch(batch)
        finally:
            with self._mutex:
                following = self._pending[0] if self._pending else None
                self._leading = following is not None
            for unit in batch:
                unit.done.set()
            if following is not None:
                following.lead = True
                following.done.set()

    def _run_batch(self, batch: list[_Unit]) -> None:
        self.batches += 1
        self.units += len(batch)
        try:
            with self.write_lock, self._transaction() as db:
                if len(batch) == 1:
                    unit = batch[0]
                    try:
                        unit.result = unit.work(db)
                    except BaseException as error:  # noqa: BLE001  (raised in its thread)
                        unit.error = error
                        raise
                    return
                cursor = db.connection.driver_connection.cursor()
                try:
                    for unit in batch:
                        cursor.execute("SAVEPOINT soapgw_unit")
                        try:
                            unit.result = unit.work(db)
                        except BaseException as error:  # noqa: BLE001  (raised in its thread)
                            unit.error = error
                            cursor.execute("ROLLBACK TO SAVEPOINT soapgw_unit")
                        cursor.execute("RELEASE SAVEPOINT soapgw_unit")
                finally:
                    cursor.close()
        except BaseException as error:  # noqa: BLE001  (BEGIN or COMMIT failed, or a lone unit)
            if not (len(batch) == 1 and batch[0].error is error):
                self._drop_kept()  # a lone unit's own error was rolled back like a savepoint's
            for unit in batch:
                if unit.error is None:
                    unit.error = error
                unit.result = None

    @contextlib.contextmanager
    def _transaction(self):
        """A write transaction on the kept connection (SQLite files) or a pooled one."""
        if not self._keeps:
            with self.engine.begin() as db:
                yield db
            return
        if self._kept is None or self._kept_pid != os.getpid():
            self._kept, self._kept_pid = self.engine.connect(), os.getpid()
        with self._kept.begin():
            yield self._kept

    def _drop_kept(self) -> None:
        """After a failure the connection's state is unknown: the next batch takes a new one
        (one inherited through fork is left alone, never closed from the child)."""
        kept, self._kept = self._kept, None
        if kept is not None and self._kept_pid == os.getpid():
            with contextlib.suppress(Exception):
                kept.close()
