"""WAL checkpoints off the stations' path: under serve the housekeeper checkpoints, the
serving processes' own automatic checkpoint is only a fallback."""
from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from soapgw.store import wal_checkpoint
from soapgw.store.database import is_sqlite_file, make_engine
from soapgw.store.wal_checkpoint import WalCheckpointer

pytestmark = pytest.mark.smoke


def _autocheckpoint(engine) -> int:
    with engine.connect() as db:
        return db.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()


def test_connections_leave_checkpoints_to_the_housekeeper_only_under_serve(tmp_path,
                                                                           monkeypatch):
    monkeypatch.delenv(wal_checkpoint.ENV, raising=False)
    alone = make_engine(f"sqlite:///{tmp_path / 'alone.db'}")
    served = make_engine(f"sqlite:///{tmp_path / 'served.db'}")
    try:
        assert _autocheckpoint(alone) == wal_checkpoint.DEFAULT_PAGES
        monkeypatch.setenv(wal_checkpoint.ENV, "background")  # as serve does before forking
        assert _autocheckpoint(served) == wal_checkpoint.FALLBACK_PAGES
    finally:
        alone.dispose()
        served.dispose()
    assert is_sqlite_file(served.url) and not is_sqlite_file(make_engine("sqlite://").url)


def rows_in_the_file_alone(database: Path, table: str) -> int:
    """Rows of ``table`` in the database file itself, read from a copy without its WAL:
    only what a checkpoint copied there."""
    copy = database.with_name("file-alone.db")
    shutil.copyfile(database, copy)
    with sqlite3.connect(copy) as alone:
        try:
            return alone.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        except sqlite3.DatabaseError:  # not in the file yet (or copied mid-checkpoint)
            return 0


def wait_for_rows_in_the_file(database: Path, table: str, rows: int) -> int:
    deadline = time.monotonic() + 20
    while (found := rows_in_the_file_alone(database, table)) < rows \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_the_checkpointer_copies_the_wal_while_writers_go_on(tmp_path, monkeypatch):
    """The writers leave checkpoints to it (300 commits stay far below their fallback), and
    what they commit still reaches the database file."""
    monkeypatch.setenv(wal_checkpoint.ENV, "background")
    database = tmp_path / "wal.db"
    engine = make_engine(f"sqlite:///{database}")
    stop = threading.Event()
    checkpointer = WalCheckpointer(engine, interval=0.02)
    try:
        with engine.begin() as db:
            db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        checkpointer.start(stop)
        for _ in range(300):
            with engine.begin() as db:
                db.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 3000})
        assert wait_for_rows_in_the_file(database, "t", 300) == 300
    finally:
        stop.set()
        stopped = checkpointer.join(5)
        engine.dispose()
    assert stopped


def test_soapgw_housekeep_checkpoints_what_serving_processes_leave(tmp_path, monkeypatch):
    """The housekeeping process serve starts does the checkpoints: rows written by a
    connection that leaves them to it reach the database file itself (read without its WAL)."""
    from conftest import command_env

    url = f"sqlite:///{tmp_path / 'gw.db'}"
    env = command_env(url, SOAPGW_INSTANCE_PATH=str(tmp_path / "instance"),
                      **{wal_checkpoint.ENV: "background"})
    housekeep = subprocess.Popen([str(Path(sys.executable).with_name("soapgw")), "housekeep"],
                                 env=env, stderr=subprocess.DEVNULL)
    monkeypatch.setenv(wal_checkpoint.ENV, "background")
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the housekeeper migrates the database first
            try:
                with engine.begin() as db:
                    db.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, v TEXT)"))
                break
            except Exception:  # noqa: BLE001  (not created yet, or locked by the migration)
                time.sleep(0.1)
        for _ in range(50):
            with engine.begin() as db:
                db.execute(text("INSERT INTO probe (v) VALUES ('x')"))

        assert wait_for_rows_in_the_file(tmp_path / "gw.db", "probe", 50) == 50
    finally:
        housekeep.send_signal(signal.SIGTERM)
        housekeep.wait(30)
        engine.dispose()
    assert housekeep.returncode == 0
