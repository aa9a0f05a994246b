"""What a link sends first when its socket opens: the station's cached BootNotification and
its whole queue. Links that connect together (1,000 at start-up, or after the central system
was back) share their reads: while one read runs, the links that ask meanwhile wait for the
next, which reads them all at once. One read per link cost 1,000 reads at start-up, and the
stations' decision messages (answered through the same process) waited behind them.
"""
from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from soapgw.core import upstream_queue
from soapgw.core.upstream_queue import Queued
from soapgw.store.models import UpstreamStation

BATCH = 200  # stations per read (bound parameters; SQLite allows 32,766)

Start = tuple[dict | None, list[Queued]]


def _boot(text: str | None) -> dict | None:
    return json.loads(text) if text else None


def cached_boot(db, charge_box_id: str) -> dict | None:
    """The station's latest BootNotification request, as cached for the central system."""
    return _boot(db.scalar(select(UpstreamStation.boot_request).where(
        UpstreamStation.charge_box_id == charge_box_id)))


def read_starts(db, charge_box_ids: list[str]) -> dict[str, Start]:
    boots = dict(db.execute(select(UpstreamStation.charge_box_id, UpstreamStation.boot_request)
                            .where(UpstreamStation.charge_box_id.in_(charge_box_ids))).all())
    queues = upstream_queue.whole_queues(db, charge_box_ids)
    return {cb: (_boot(boots.get(cb)), queues[cb]) for cb in charge_box_ids}


class StartupReads:
    """``await read(charge_box_id)``: the station's cached boot and whole queue."""

    def __init__(self, store):
        self.store = store
        self._waiting: dict[str, list[asyncio.Future]] = {}
        self._reading = False

    async def read(self, charge_box_id: str) -> Start:
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(charge_box_id, []).append(future)
        if not self._reading:
            self._reading = True
            asyncio.create_task(self._read_all(), name="bridge-startup-reads")
        return await future

    async def _read_all(self) -> None:
        try:
            while self._waiting:
                ids = list(self._waiting)[:BATCH]
                futures = {cb: self._waiting.pop(cb) for cb in ids}
                try:
                    starts = await self.store.read(read_starts, ids)
                except Exception as error:  # noqa: BLE001  (each link's session ends with it)
                    starts = dict.fromkeys(ids, error)
                for cb, waiting in futures.items():
                    for future in (f for f in waiting if not f.done()):  # done: cancelled
                        if isinstance(starts[cb], Exception):
                            future.set_exception(starts[cb])
                        else:
                            future.set_result(starts[cb])
        finally:
            self._reading = False
