"""Engines and sessions. SQLite (default) runs in WAL mode with foreign keys on; PostgreSQL by URL."""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from soapgw.store import driver_cursor
from soapgw.store.wal_checkpoint import autocheckpoint_pages

# Execution option: this engine or connection only reads (see _on_begin).
READ_ONLY = "soapgw_read_only"

# What the core's Core-SQL functions run on: a Connection on the inbound hot path (an ORM
# Session's per-statement bookkeeping cost more than SQLite itself), a Session elsewhere.
Db = Connection | Session


def connection_of(db: Db) -> Connection:
    """The Connection under ``db`` (a Session's begins its transaction), for statements that
    go straight to the driver."""
    return db if isinstance(db, Connection) else db.connection()


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine for ``url``; SQLite files get their folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def is_sqlite_file(url: URL) -> bool:
    """An SQLite database in a file (not in memory): WAL, the writer lock, checkpoints."""
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def _sqlite_engine(url, **kwargs) -> Engine:
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", 30)  # wait for the other writer instead of failing
    connect_args.setdefault("check_same_thread", False)
    if is_sqlite_file(url):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # The connection used last has the freshest page cache (a connection's cache is void
        # once another wrote): LIFO, not the pool's default FIFO, which rotated them all.
        kwargs.setdefault("pool_use_lifo", True)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, open transactions (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint_pages()}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Take the write lock up front: a deferred transaction that reads and then writes can
        # fail with SQLITE_BUSY at once when another process wrote in between; IMMEDIATE waits.
        # Read-only work (web pages) asks for READ_ONLY and takes no lock: WAL gives a snapshot.
        # On the driver's cursor: every station message begins a transaction (driver_cursor).
        read_only = connection.get_execution_options().get(READ_ONLY)
        driver_cursor.on_driver(connection, "BEGIN" if read_only else "BEGIN IMMEDIATE",
                                autobegin=False)

    return engine


class _SqliteWriterLock:
    """Writers wait their turn on a kernel file lock next to the database, then BEGIN IMMEDIATE.

    Without it, SQLite's busy handler makes a waiting writer sleep 1, 2, 5, 10 ... ms between
    tries, so two busy gunicorn workers spend much of their time asleep and p99 latency
    explodes; flock() wakes the next writer the moment the lock is free. A threading lock
    serialises the threads of one process (flock does not, on a shared descriptor).
    """

    def __init__(self, path: str):
        self.path = path
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    def _descriptor(self) -> int:
        if self._pid != os.getpid():  # opened after fork, once per process
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def __enter__(self):
        self._thread_lock.acquire()
        try:
            fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *exc):
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


def writer_lock(engine: Engine):
    """A context manager that queues write transactions: a file lock for an SQLite file,
    nothing for other databases (they lock rows, not the whole database)."""
    if is_sqlite_file(engine.url):
        return _SqliteWriterLock(f"{engine.url.database}.writelock")
    return contextlib.nullcontext()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
