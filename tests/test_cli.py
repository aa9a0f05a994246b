"""The soapgw command line: commands, exit codes, one-line errors, concurrent use with serve."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import command_env, free_port, soapgw_command
from soap_messages import envelope, post

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path):
    return command_env(f"sqlite:///{tmp_path / 'cli.db'}")


@pytest.mark.smoke
def test_chargebox_and_tag_commands(env):
    added = soapgw_command("chargebox", "add", "CB-A", "CB-B", "--status", "Pending", env=env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added 2 charge box(es), 0 already registered"
    again = soapgw_command("chargebox", "add", "CB-B", "CB-C", env=env)
    assert again.stdout.strip() == "added 1 charge box(es), 1 already registered"
    listing = soapgw_command("chargebox", "list", env=env).stdout.splitlines()
    assert [line.split("\t")[:2] for line in listing[1:]] == [
        ["CB-A", "Pending"], ["CB-B", "Pending"], ["CB-C", "Accepted"]]
    # the same rules as the web UI's (core.tags): the parent must exist
    orphan = soapgw_command("tag", "add", "T1", "--parent", "P", env=env)
    assert orphan.returncode == 2
    assert orphan.stderr.strip() == ("soapgw: --parent: there is no id tag 'P': add the "
                                     "parent first")
    assert soapgw_command("tag", "add", "P", env=env).returncode == 0
    tag = soapgw_command("tag", "add", "T1", "--parent", "P", "--expiry", "2030-01-01T00:00:00",
                         "--max-active", "2", "--blocked", env=env)
    assert tag.returncode == 0, tag.stderr
    again = soapgw_command("tag", "add", "T1", env=env)
    assert (again.returncode, again.stderr.strip()) == (
        1, "soapgw: IDTAG: the id tag 'T1' already exists")
    rows = soapgw_command("tag", "list", env=env).stdout.splitlines()
    assert rows[1].split("\t") == ["P", "-", "-", "1", "no"]
    assert rows[2].split("\t") == ["T1", "P", "2030-01-01T00:00:00+00:00", "2", "yes"]


def test_hundreds_of_chargeboxes_in_one_call(env):
    ids = [f"BULK-{n:04d}" for n in range(500)]
    started = time.monotonic()
    result = soapgw_command("chargebox", "add", *ids, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "added 500 charge box(es), 0 already registered"
    assert time.monotonic() - started < 30  # a generous bound: the insert is one statement


@pytest.mark.parametrize("args, message", [
    (["tag", "add", "T", "--expiry", "someday"], "--expiry: not a date and time"),
    (["tag", "add", "T", "--max-active", "-1"], "--max-active: use 0 (no limit) to 1000"),
    (["tag", "add", "T" * 21], "IDTAG: 'TTTTTTTTTTTTTTTTTTTTT': the id tag is longer than 20"),
    (["chargebox", "add", "CB\x01"], "ID: 'CB\\x01': the charge point id contains control"),
    (["serve", "--sync", "--ui-workers", "1"], "--ui-workers does not go with --sync"),
    (["serve", "--sync", "--threads", "2"], "--threads does not go with --sync"),
])
def test_bad_arguments_exit_2_with_one_line(env, args, message):
    result = soapgw_command(*args, env=env)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_duplicate_tag_is_an_error(env):
    assert soapgw_command("tag", "add", "T", env=env).returncode == 0
    result = soapgw_command("tag", "add", "T", env=env)
    assert result.returncode == 1 and "already exists" in result.stderr


@pytest.mark.smoke
@pytest.mark.parametrize("variable, value, message", [
    ("SOAPGW_HEARTBEAT_INTERVAL", "often", "SOAPGW_HEARTBEAT_INTERVAL='often' is not a whole"),
    ("SOAPGW_HEARTBEAT_INTERVAL", "0", "SOAPGW_HEARTBEAT_INTERVAL='0' is out of range"),
    ("SOAPGW_AUTO_REGISTER", "maybe", "SOAPGW_AUTO_REGISTER='maybe' is not a boolean"),
    ("SOAPGW_PUBLIC_URL", "example.org", "SOAPGW_PUBLIC_URL='example.org' is not an http(s)"),
    ("SOAPGW_MAX_MESSAGE_BYTES", "12", "SOAPGW_MAX_MESSAGE_BYTES='12' is out of range"),
    ("SOAPGW_MAX_MESSAGE_ELEMENTS", "many", "SOAPGW_MAX_MESSAGE_ELEMENTS='many' is not a whole"),
    ("SOAPGW_JOURNAL_RETENTION_DAYS", "-3", "SOAPGW_JOURNAL_RETENTION_DAYS='-3' is out of"),
    ("SOAPGW_DATABASE_URL", "mysql://x/y", "only sqlite and postgresql"),
    ("SOAPGW_DATABASE_URL", "::nonsense::", "is not a database URL"),
])
def test_bad_settings_stop_with_a_line_naming_the_variable(env, variable, value, message):
    result = soapgw_command("chargebox", "list", env={**env, variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_db_upgrade_and_wsdl_export(env, tmp_path):
    first = soapgw_command("db", "upgrade", env=env)
    assert first.returncode == 0 and "migrated" in first.stdout
    assert soapgw_command("db", "upgrade", env=env).stdout.strip() == "database already up to date"
    out = tmp_path / "exported"
    result = soapgw_command("wsdl", "export", str(out), env=env)
    assert result.returncode == 0, result.stderr
    root = Path(__file__).resolve().parents[1] / "wsdl"
    exported = sorted(p.name for p in out.iterdir())
    assert exported == sorted(p.name for p in root.glob("*.wsdl"))
    for name in exported:
        assert (out / name).read_bytes() == (root / name).read_bytes()


def test_serve_runs_with_the_cli_on_the_same_sqlite_file_and_stops_on_sigterm(env, tmp_path):
    port = free_port()
    script = Path(sys.executable).with_name("soapgw")
    process = subprocess.Popen([str(script), "serve", "--port", str(port), "--workers", "2"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                requests.get(url + "/health", timeout=5)
                break
            except requests.RequestException:  # not listening yet, or a busy machine
                time.sleep(0.1)
        # Registered while the server runs, used by it at once.
        assert soapgw_command("chargebox", "add", "LIVE-1", env=env).returncode == 0
        reply = post(url, envelope("LIVE-1", "<cs:heartbeatRequest/>"))
        assert reply.status_code == 200
        listing = soapgw_command("chargebox", "list", env=env).stdout
        assert "LIVE-1\tAccepted\t1.6" in listing
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()
    assert b"Shutting down" in output


def test_journal_purge_respects_retention(env, tmp_path):
    from datetime import datetime, timedelta, timezone
    from soapgw.store.database import make_engine, make_session_factory
    from soapgw.store.journal import JournalRecord, write
    from soapgw.store.migrate import upgrade
    engine = make_engine(env["SOAPGW_DATABASE_URL"])
    upgrade(engine)
    old = datetime.now(timezone.utc) - timedelta(days=40)
    with make_session_factory(engine).begin() as db:
        write(db, [JournalRecord(direction="in", raw=b"old", created_at=old),
                   JournalRecord(direction="in", raw=b"new")])
    engine.dispose()
    result = soapgw_command("journal", "purge", env=env)
    assert result.stdout.strip() == "removed 1 journal entries past retention"
    kept = soapgw_command("journal", "purge", env={**env, "SOAPGW_JOURNAL_RETENTION_DAYS": "0"})
    assert kept.stdout.strip() == "removed 0 journal entries past retention"


def test_housekeep_once_marks_silent_stations_offline(env, tmp_path):
    from datetime import datetime, timezone

    from sqlalchemy import update

    from soapgw.core import events
    from soapgw.store.database import make_engine, make_session_factory
    from soapgw.store.models import ChargeBox

    assert soapgw_command("chargebox", "add", "CB-SILENT", "CB-NEW", env=env).returncode == 0
    sessions = make_session_factory(make_engine(env["SOAPGW_DATABASE_URL"]))
    with sessions.begin() as db:
        db.execute(update(ChargeBox).where(ChargeBox.charge_box_id == "CB-SILENT").values(
            last_message_at=datetime(2020, 1, 1, tzinfo=timezone.utc)))
    result = soapgw_command("housekeep", "--once", env=env)
    assert result.returncode == 0, result.stderr
    with sessions() as db:
        found = events.read(db)
    # a station never heard from is not "offline": it was never online
    assert [(e.type, e.charge_box_id) for e in found] == [("station.offline", "CB-SILENT")]
    assert found[0].payload == {"lastMessageAt": "2020-01-01T00:00:00Z",
                                "heartbeatInterval": 300}
