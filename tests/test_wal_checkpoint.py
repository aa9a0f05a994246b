"""WAL checkpoints off the stations' path: under serve the housekeeper checkpoints, the
serving processes' own automatic checkpoint is only a fallback."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from soapgw.store import wal_checkpoint
from soapgw.store.database import make_engine
from soapgw.store.wal_checkpoint import WalCheckpointer, is_sqlite_file

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
    assert is_sqlite_file(served) and not is_sqlite_file(make_engine("sqlite://"))


def test_the_checkpointer_copies_the_wal_while_writers_go_on(tmp_path, monkeypatch):
    monkeypatch.setenv(wal_checkpoint.ENV, "background")
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    stop = threading.Event()
    checkpointer = WalCheckpointer(engine, interval=0.02)
    try:
        with engine.begin() as db:
            db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        checkpointer.start(stop)
        wal = tmp_path / "wal.db-wal"
        for n in range(300):  # ~300 commits of a page or more each: past no threshold
            with engine.begin() as db:
                db.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 3000})
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpointer.checkpoints > 0
        # nothing was left to copy once the writers stopped, no row lost
        raw = engine.raw_connection()
        try:
            busy, frames, copied = raw.cursor().execute(
                "PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            assert busy == 0 and copied == frames
            assert raw.cursor().execute("SELECT count(*) FROM t").fetchone()[0] == 300
        finally:
            raw.close()
        assert wal.exists()
    finally:
        stop.set()
        checkpointer.join(5)
        engine.dispose()
    assert not checkpointer._thread.is_alive()


def test_soapgw_housekeep_checkpoints_what_serving_processes_leave(tmp_path, monkeypatch):
    """The housekeeping process serve starts does the checkpoints: rows written by a
    connection that leaves them to it reach the database file itself (read without its WAL)."""
    import shutil
    import signal
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

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

        def rows_in_the_file_alone() -> int:
            copy = tmp_path / "file-alone.db"
            shutil.copyfile(tmp_path / "gw.db", copy)  # without gw.db-wal
            with sqlite3.connect(copy) as alone:
                try:
                    return alone.execute("SELECT count(*) FROM probe").fetchone()[0]
                except sqlite3.OperationalError:  # the table is not in the file yet
                    return 0

        deadline = time.monotonic() + 20
        while rows_in_the_file_alone() < 50 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rows_in_the_file_alone() == 50
    finally:
        housekeep.send_signal(signal.SIGTERM)
        housekeep.wait(30)
        engine.dispose()
    assert housekeep.returncode == 0
