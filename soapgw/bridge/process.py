"""The bridge process: one asyncio loop for every bridged station.

Every RELOAD seconds it reads which stations are bridged (Accepted, not switched off, with a
URL) and their settings, so ``soapgw upstream ...`` and newly registered stations take
effect without a restart; when a SOAP worker rings (``bridge.wake``), or every POLL seconds,
it moves the outbox's new station messages into the durable queue (bounded per station) and
hands the new rows to the links concerned.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from soapgw.bridge.advisor import AdvisorServer
from soapgw.bridge.commands import Commands
from soapgw.bridge.link import Link, LinkConfig
from soapgw.bridge.startup import StartupReads
from soapgw.bridge.store import Store, Writer
from soapgw.bridge.wake import WakeListener
from soapgw.config import Settings
from soapgw.core import upstream_queue
from soapgw.core.events import last_id
from soapgw.core.upstream_secret import PasswordBox, SecretUnreadable
from soapgw.store import journal
from soapgw.store.models import ChargeBox, UpstreamStation

log = logging.getLogger(__name__)
RELOAD = 2.0
POLL = 0.1  # the safety net under the wake-up bell: a read without lock
HANDSHAKES = 64  # handshakes under way at once (1,000 stations start without a storm)


@dataclass(frozen=True)
class Wanted:
    url: str
    token: bytes | None
    ping_interval: int | None


def wanted_links(db, default_url: str | None) -> dict[str, Wanted]:
    """Every station that should have a link now."""
    accepted = db.scalars(select(ChargeBox.charge_box_id).where(
        ChargeBox.registration_status == "Accepted"))
    rows = {r.charge_box_id: r for r in db.execute(select(
        UpstreamStation.charge_box_id, UpstreamStation.enabled, UpstreamStation.url,
        UpstreamStation.password, UpstreamStation.ping_interval))}
    wanted = {}
    for cb in accepted:
        row = rows.get(cb)
        if row is not None and not row.enabled:
            continue
        url = (row.url if row is not None else None) or default_url
        if url:
            wanted[cb] = Wanted(url, row.password if row else None,
                                row.ping_interval if row else None)
    return wanted


class Bridge:
    def __init__(self, settings: Settings, engine: Engine, sessions: sessionmaker[Session],
                 task_runner):
        self.settings = settings
        self.store = Store(engine, sessions)
        self.startup = StartupReads(self.store)
        self.box = PasswordBox(settings.instance_path)
        self.commands = Commands(self.store, task_runner, settings, self.box)
        self.links: dict[str, Link] = {}
        self.writer: Writer | None = None
        self.handshakes: asyncio.Semaphore | None = None
        self._passwords: dict[bytes, bytes] = {}  # token -> password, decrypted once

    async def run(self, stop: asyncio.Event) -> None:
        self.writer = Writer(self.store)
        self.handshakes = asyncio.Semaphore(HANDSHAKES)
        advisor = AdvisorServer(self)
        self.wake = WakeListener(self.settings.instance_path)
        await self.store.write(upstream_queue.reset_link_states)
        await self.store.write(upstream_queue.cursor)  # registered as an outbox consumer
        await advisor.start()
        self.wake.start()
        loops = [asyncio.create_task(self.writer.run(), name="bridge-writer"),
                 asyncio.create_task(self._reload_loop(), name="bridge-reload"),
                 asyncio.create_task(self._copy_loop(), name="bridge-copy")]
        log.info("bridge running (default URL %s), advisor at %s",
                 self.settings.upstream_url or "none", advisor.path)
        try:
            await stop.wait()
        finally:
            self.wake.close()
            await advisor.close()
            await asyncio.gather(*(link.stop() for link in self.links.values()),
                                 return_exceptions=True)
            await asyncio.wait_for(self.writer.flushed(), 10)
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            self.store.close()

    # --- which stations ---------------------------------------------------------------------
    async def _reload_loop(self) -> None:
        while True:
            try:
                await self.reload()
            except Exception:  # noqa: BLE001  (the database is away: try again)
                log.exception("bridge: reloading the stations failed")
            await asyncio.sleep(RELOAD)

    def _config(self, charge_box_id: str, wanted: Wanted) -> LinkConfig | None:
        password = None
        if wanted.token is not None:
            password = self._passwords.get(wanted.token)
            if password is None:
                try:
                    password = self._passwords[wanted.token] = self.box.open(wanted.token)
                except SecretUnreadable as error:
                    self.writer.later(upstream_queue.set_link_state, charge_box_id, False,
                                      None, str(error))
                    return None
        ping = (wanted.ping_interval if wanted.ping_interval is not None
                else self.settings.upstream_ping_interval)
        return LinkConfig(wanted.url, password, ping)

    async def reload(self) -> None:
        wanted = await self.store.read(wanted_links, self.settings.upstream_url)
        for cb in [cb for cb in self.links if cb not in wanted]:
            log.info("%s: no longer bridged", cb)
            await self.links.pop(cb).stop()
        for cb, want in wanted.items():
            config = self._config(cb, want)
            link = self.links.get(cb)
            if config is None:
                if link is not None:
                    await self.links.pop(cb).stop()
            elif link is None:
                link = self.links[cb] = Link(cb, config, self)
                link.start()
            elif config != link.config:
                link.reconfigure(config)

    # --- the outbox into the queue ------------------------------------------------------------
    def _copy(self, db) -> upstream_queue.Copied:
        copied = upstream_queue.copy_events(db, self.settings.upstream_url is not None)
        for cb in copied.counts:
            records = upstream_queue.bound(db, cb, self.settings.upstream_queue_max)
            if records:
                journal.write(db, records)
                log.warning("bridge: %s's queue full, %d message(s) dropped", cb, len(records))
                copied.rows.pop(cb, None)  # some were dropped: the link reads what is left
        return copied

    async def _copy_loop(self) -> None:
        seen = -1
        while True:
            rung = self.wake.rung.is_set()  # a worker committed a message: no need to look
            self.wake.rung.clear()
            while True:
                try:
                    newest = None if rung else await self.store.read(last_id)
                    if newest is not None and newest == seen:
                        break
                    rung = False
                    copied = await self.store.write(self._copy)
                except Exception:  # noqa: BLE001
                    log.exception("bridge: copying the outbox failed")
                    break
                for cb in copied.counts:
                    link = self.links.get(cb)
                    if link is not None:
                        link.offer(copied.rows.get(cb), cb in copied.boots)
                if copied.complete:
                    seen = -1 if newest is None else newest  # after a ring: look next time
                    break
            try:
                await asyncio.wait_for(self.wake.rung.wait(), POLL)
            except asyncio.TimeoutError:
                pass
