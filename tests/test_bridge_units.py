"""The bridge's parts without sockets: URLs, backoff, the queue filled from the outbox and
its bound, the transaction id map, the CLI on a fresh database."""
from __future__ import annotations

import json
import os
import random
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from soapgw.bridge.addressing import basic_auth, station_url
from soapgw.bridge.backoff import Backoff
from soapgw.core import upstream, upstream_queue
from soapgw.core.enums import EventType
from soapgw.core.events import NewEvent, publish
from soapgw.core.upstream_secret import PasswordBox
from soapgw.store.models import JournalEntry, UpstreamStation

from conftest import command_env, soapgw_command


@pytest.mark.smoke
@pytest.mark.parametrize("cb", ["CP-1", "a b#c%d/e?f", "ünï"])
def test_station_url_keeps_the_base_path_and_decodes_to_the_id(cb):
    url = station_url("wss://csms.example:8443/ocpp/v16/", cb)
    parts = urlsplit(url)
    assert parts.path.startswith("/ocpp/v16/") and not parts.query and not parts.fragment
    assert unquote(parts.path.rsplit("/", 1)[1]) == cb
    assert basic_auth("CP-1", b"pw") == "Basic Q1AtMTpwdw=="


@pytest.mark.smoke
def test_backoff_grows_with_jitter_and_is_capped():
    backoff = Backoff(random.Random(1))
    delays = [backoff.next_delay() for _ in range(12)]
    assert delays[0] <= 1.0 and max(delays) <= 300 and delays[8] > delays[1]
    backoff.connected()
    assert max(backoff.next_delay() for _ in range(12)) <= 30  # the CSMS was there before
    assert backoff.next_delay(refused=True) >= 240  # 401/404: long, no storm


def _message(cb, action, request, response=None, decided=None):
    payload = {"action": action, "request": request, "response": response or {}}
    if decided:
        payload["decidedBy"] = decided
    return NewEvent(EventType.STATION_MESSAGE, cb, payload)


@pytest.mark.smoke
def test_queue_from_the_outbox_bounded_meter_values_first(gateway, seed):
    seed.station("CP-1")
    seed.station("CP-OFF")
    with gateway.sessions.begin() as db:
        upstream.set_enabled(db, ["CP-OFF"], False)
        upstream_queue.cursor(db)
        meter = {"connectorId": 1, "meterValue": [{"timestamp": "2030-01-01T00:00:00Z",
                                                    "sampledValue": [{"value": "1"}]}]}
        publish(db, [
            _message("CP-1", "BootNotification", {"chargePointVendor": "V",
                                                  "chargePointModel": "M"}),
            _message("CP-1", "Authorize", {"idTag": "T"}),
            _message("CP-1", "StatusNotification", {"connectorId": 1, "status": "Available",
                                                    "errorCode": "NoError"}),
            *[_message("CP-1", "MeterValues", meter) for _ in range(4)],
            _message("CP-1", "DataTransfer", {"vendorId": "v"}, {"status": "Accepted"},
                     decided="upstream"),
            _message("CP-1", "Heartbeat", {}),
            _message("CP-OFF", "Heartbeat", {}),
        ])
    with gateway.sessions.begin() as db:
        copied = upstream_queue.copy_events(db, default_url=True)
        dropped = upstream_queue.bound(db, "CP-1", 3)
        from soapgw.store import journal
        journal.write(db, dropped)
    # boot cached, Authorize and decided DataTransfer not queued
    assert copied.counts == {"CP-1": 7} and copied.complete
    assert [r.action for r in copied.rows["CP-1"]] == \
        ["StatusNotification", *["MeterValues"] * 4, "Heartbeat"]
    assert copied.rows["CP-1"][1].payload == meter and copied.rows["CP-1"][-1].response == {}
    with gateway.sessions() as db:
        rows = upstream_queue.queued(db, "CP-1")
        boot = db.get(UpstreamStation, "CP-1").boot_request
        drops = db.scalars(select(JournalEntry.action)).all()
        assert not upstream_queue.queued(db, "CP-OFF")
    assert [r.action for r in rows] == ["StatusNotification", "MeterValues", "Heartbeat"]
    assert json.loads(boot)["chargePointVendor"] == "V"
    assert drops == ["Dropped:MeterValues"] * 3


@pytest.mark.smoke
def test_transaction_map_both_ways(gateway):
    start = {"connectorId": 1, "idTag": "T", "timestamp": "2030-01-01T10:00:00.000Z",
             "meterStart": 5}
    key = upstream_queue.start_key(start)
    assert key == upstream_queue.start_key(dict(start, timestamp="2030-01-01T10:00:00Z"))
    with gateway.sessions.begin() as db:
        upstream_queue.record_start(db, "CP-1", key, 9001, "Accepted")  # answered live
        upstream_queue.link_local(db, "CP-1", key, 17)  # then soapgw's id is known
    with gateway.sessions() as db:
        assert upstream_queue.csms_id_of(db, "CP-1", 17) == 9001
        assert upstream_queue.local_id_of(db, "CP-1", 9001) == 17
        assert upstream_queue.local_id_of(db, "CP-1", 9002) is None
        assert upstream_queue.local_id_of(db, "CP-2", 9001) is None


@pytest.mark.smoke
def test_passwords_are_sealed(tmp_path):
    box = PasswordBox(tmp_path)
    token = box.seal(b"s3cret")
    assert b"s3cret" not in token and box.open(token) == b"s3cret"
    assert (tmp_path / "upstream.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.smoke
def test_upstream_commands_on_a_fresh_database(tmp_path):
    env = command_env(f"sqlite:///{tmp_path / 'fresh.db'}",
                      SOAPGW_INSTANCE_PATH=str(tmp_path / "instance"))
    assert soapgw_command("upstream", "off", "CP-1", "CP-2", env=env).returncode == 0
    assert soapgw_command("upstream", "on", "CP-2", env=env).returncode == 0
    assert soapgw_command("upstream", "url", "CP-1", "wss://h.example/base/", env=env) \
        .returncode == 0
    bad = soapgw_command("upstream", "url", "CP-1", "https://h.example", env=env)
    assert bad.returncode == 2 and "ws://" in bad.stderr
    piped = soapgw_command("upstream", "password", "CP-1", env=env, input="from stdin\n")
    assert piped.returncode == 0
    wins = soapgw_command("upstream", "password", "CP-2", env={
        **env, "SOAPGW_UPSTREAM_PASSWORD": "from env"}, input="ignored\n")
    assert wins.returncode == 0
    assert soapgw_command("chargebox", "add", "CP-1", "CP-2", env=env).returncode == 0
    text = soapgw_command("upstream", "status", env=env)
    lines = text.stdout.splitlines()
    assert text.returncode == 0
    assert lines[0].split("\t") == ["charge_box_id", "connected", "since", "queue", "oldest",
                                    "last_error"]
    assert [line.split("\t")[:2] for line in lines[1:]] == [["CP-1", "no"], ["CP-2", "no"]]
    rows = json.loads(soapgw_command("upstream", "status", "--json", env=env).stdout)
    assert rows[0]["connected"] is False and set(rows[0]) == {
        "charge_box_id", "connected", "since", "queue", "oldest", "last_error"}
    assert "from stdin" not in text.stdout
    from soapgw.store.database import make_engine, make_session_factory
    with make_session_factory(make_engine(env["SOAPGW_DATABASE_URL"]))() as db:
        links = {r.charge_box_id: r for r in db.scalars(select(UpstreamStation))}
    box = PasswordBox(tmp_path / "instance")
    assert box.open(links["CP-1"].password) == b"from stdin"
    assert box.open(links["CP-2"].password) == b"from env"
    assert links["CP-1"].url == "wss://h.example/base" and links["CP-1"].enabled is False


@pytest.mark.smoke
def test_the_wake_bell_reaches_the_bridge_and_never_fails_the_worker(tmp_path, monkeypatch):
    import asyncio
    import time

    from soapgw.bridge import wake
    monkeypatch.setattr(wake, "QUIET_AFTER_MISS", 0.2)
    bell = wake.WakeBell(tmp_path)
    bell.ring()  # no bridge listening: nothing raised, and quiet for a while (a hot path)

    async def scenario():
        listener = wake.WakeListener(tmp_path)
        listener.start()
        try:
            bell.ring()
            await asyncio.sleep(0.05)
            assert not listener.rung.is_set()  # still quiet after the miss
            time.sleep(0.2)
            for _ in range(500):  # more than the socket buffer holds: never blocks
                bell.ring()
            await asyncio.wait_for(listener.rung.wait(), 5)
            listener.rung.clear()
            bell.ring()  # a full buffer is no miss: it rings on
            await asyncio.wait_for(listener.rung.wait(), 5)
            return oct(os.stat(listener.path).st_mode & 0o777)
        finally:
            listener.close()

    assert asyncio.run(scenario()) == "0o600"  # only this user's processes may ring
    bell.ring()  # the bridge is gone again


@pytest.mark.smoke
def test_new_queue_rows_are_handed_to_a_link_in_memory_only_while_it_is_up():
    from datetime import datetime, timezone

    from soapgw.bridge.link import HANDED_MAX, Link, LinkConfig
    from soapgw.core.upstream_queue import Queued

    def rows(*ids):
        return [Queued(i, "CP-1", "MeterValues", {}, {}, None, datetime.now(timezone.utc))
                for i in ids]

    link = Link("CP-1", LinkConfig("ws://127.0.0.1:9/ocpp", None, 0), bridge=None)
    link.offer(rows(1, 2))  # not connected: the sender reads SQL when it connects
    assert (link._handed, link._gap, link.wakeup.is_set()) == ([], True, True)
    link.ws, link.connected_since, link._gap = object(), datetime.now(timezone.utc), False
    link.offer(rows(3, 4), booted=True)
    assert [r.id for r in link._handed] == [3, 4] and not link._gap and link._boot_again
    link.offer(None)  # queued but not handed over (a boot only, or rows were dropped)
    assert (link._handed, link._gap) == ([], True)
    link._gap = False
    link.offer(rows(*range(5, 6 + HANDED_MAX)))  # more than it keeps: read from SQL
    assert (link._handed, link._gap) == ([], True)


@pytest.mark.smoke
def test_links_that_connect_together_share_their_startup_reads(gateway, seed):
    """1,000 links opening at once must not make 1,000 reads: those that ask while a read
    runs are read together by the next (at most BATCH stations each), each gets its own."""
    import asyncio

    from soapgw.bridge.startup import BATCH, StartupReads
    from soapgw.bridge.store import Store

    ids = [f"CP-{n:03d}" for n in range(450)]
    for cb in ids:
        seed.station(cb)
    meter = {"connectorId": 1, "meterValue": [{"timestamp": "2030-01-01T00:00:00Z",
                                                "sampledValue": [{"value": "1"}]}]}
    with gateway.sessions.begin() as db:
        upstream_queue.cursor(db)
        publish(db, [_message("CP-007", "BootNotification", {"chargePointVendor": "V",
                                                             "chargePointModel": "M"}),
                     *[_message("CP-007", "MeterValues", meter) for _ in range(3)],
                     _message("CP-300", "Heartbeat", {})])
    with gateway.sessions.begin() as db:
        upstream_queue.copy_events(db, default_url=True)

    store = Store(gateway.engine, gateway.sessions)
    reads = []
    plain_read = store.read

    async def counted_read(work, *args):
        reads.append(len(args[0]))
        return await plain_read(work, *args)

    store.read = counted_read

    async def connect_all():
        startup = StartupReads(store)
        return await asyncio.gather(*(startup.read(cb) for cb in ids))

    try:
        starts = dict(zip(ids, asyncio.run(connect_all())))
    finally:
        store.close()
    assert len(reads) <= 4 and max(reads) <= BATCH and sum(reads) == len(ids), reads
    boot, rows = starts["CP-007"]
    assert boot["chargePointVendor"] == "V" and [r.action for r in rows] == ["MeterValues"] * 3
    assert rows == sorted(rows, key=lambda r: r.id) and rows[0].payload == meter
    assert starts["CP-300"][0] is None and [r.action for r in starts["CP-300"][1]] == \
        ["Heartbeat"]
    assert all(starts[cb] == (None, []) for cb in ids if cb not in ("CP-007", "CP-300"))
