"""One bridged station's WebSocket to the upstream central system.

A link keeps its socket up (backoff with jitter between tries, long after a refused
handshake), and while it is up runs: the reader (CALLRESULTs to the waiting CALL, CALLs from
the central system to the command handler, one at a time), the sender (the cached
BootNotification, then the latest queued status per connector, then the queue in order) and
the decision lane the SOAP workers use through the advisor. One CALL is outstanding at a
time (a lock every station -> CSMS CALL takes). Every frame in and out is journaled.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime

import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from soapgw.bridge.addressing import basic_auth, shown, station_url, tls_context
from soapgw.bridge.backoff import Backoff
from soapgw.bridge.startup import cached_boot
from soapgw.bridge.store import Store, Writer
from soapgw.core import upstream_queue
from soapgw.core.ocppj import (Call, CallError, CallResult, FrameError, decode_frame,
                               encode_frame, new_unique_id, to_json, validate)
from soapgw.core.upstream_queue import Queued
from soapgw.store.journal import JournalRecord
from soapgw.timestamps import now

log = logging.getLogger(__name__)
SUBPROTOCOL = "ocpp1.6"
CALL_TIMEOUT = 30.0  # how long a queued message waits for the CSMS's answer
REFUSED_STATUSES = (401, 403, 404)
PAGE = 200
HANDED_MAX = 1000  # rows kept in memory for a busy link; beyond, it reads them from SQL
# An idle link reads its queue from SQL this often (seconds, jittered), in case a row was
# queued without a hand-over. Every 5 s made 1,000 links read 200 times a second, in bursts
# (links that connected together woke together), and the stations' messages waited.
SAFETY_NET = 60.0


@dataclass(frozen=True)
class LinkConfig:
    """What a link needs from SQL; a change of url or password reconnects."""

    base_url: str
    password: bytes | None
    ping_interval: int


class CallFailed(Exception):
    """The central system did not answer a CALL with a CALLRESULT (error, timeout, link)."""


class Link:
    def __init__(self, charge_box_id: str, config: LinkConfig, bridge):
        self.charge_box_id = charge_box_id
        self.config = config
        self.bridge = bridge  # the process: settings, store, writer, commands, handshakes
        self.backoff = Backoff()
        self.ws = None
        self.connected_since: datetime | None = None
        self.boot_accepted = False
        self.wakeup = asyncio.Event()  # new queued messages
        # Rows the copy loop just queued, handed over in memory while the link is up: the
        # live path skips reading them back. A gap (link down, rows dropped, too many) makes
        # the sender read the queue from SQL instead.
        self._handed: list[Queued] = []
        self._gap = False
        self._boot_again = False
        self._csms_ids: dict[int, int] = {}  # soapgw's transaction id -> the CSMS's
        self._reconfigured = asyncio.Event()
        self._call_lock = asyncio.Lock()
        self._pending: dict[str, asyncio.Future] = {}
        self._pending_action: dict[str, str] = {}
        self._incoming: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._stopped = False
        self._after_reply = None  # set by a command that must act once its answer left

    # --- life cycle ---------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self.bridge.store

    @property
    def writer(self) -> Writer:
        return self.bridge.writer

    @property
    def url(self) -> str:
        return station_url(self.config.base_url, self.charge_box_id)

    @property
    def up(self) -> bool:
        return self.ws is not None and self.connected_since is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"link-{self.charge_box_id}")

    async def stop(self) -> None:
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self.writer.later(upstream_queue.set_link_state, self.charge_box_id, False, now(),
                          None, True)

    def offer(self, rows: list[Queued] | None, booted: bool = False) -> None:
        """New queue rows (None: queued, but not handed over), and whether the station
        booted while the link was not up (its boot was cached after this socket opened, or
        is sent when the next one does); wakes the sender."""
        if booted and self.up:
            self._boot_again = True
        if rows is None or not self.up or len(self._handed) + len(rows) > HANDED_MAX:
            self._gap = True
            self._handed.clear()
        else:
            self._handed.extend(rows)
        self.wakeup.set()

    def reconfigure(self, config: LinkConfig) -> None:
        """New URL or password: reconnect now (no backoff)."""
        changed = (config.base_url, config.password) != (self.config.base_url,
                                                         self.config.password)
        self.config = config
        if changed:
            self.reconnect()

    def reconnect(self) -> None:
        self.backoff = Backoff()
        self._reconfigured.set()
        if self.ws is not None:
            asyncio.create_task(self.ws.close(1000, "reconnecting"))

    # --- the connection loop ------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopped:
            self._reconfigured.clear()
            refused, error = False, None
            try:
                async with self.bridge.handshakes:
                    ws = await self._connect()
            except InvalidStatus as exc:
                status = exc.response.status_code
                refused = status in REFUSED_STATUSES
                error = f"handshake refused: HTTP {status}" + (
                    " (wrong password?)" if status in (401, 403) else
                    " (unknown charge point?)" if status == 404 else "")
            except (OSError, asyncio.TimeoutError, InvalidHandshake) as exc:
                error = f"cannot connect to {shown(self.url)}: {type(exc).__name__}: {exc}"
            except Exception as exc:  # noqa: BLE001
                log.exception("%s: connecting upstream failed", self.charge_box_id)
                error = f"cannot connect: {type(exc).__name__}: {exc}"
            else:
                if ws.subprotocol != SUBPROTOCOL:
                    error = (f"the central system did not select the subprotocol {SUBPROTOCOL} "
                             f"(it selected {ws.subprotocol or 'none'})")
                    await ws.close(1002, "ocpp1.6 required")
                else:
                    error = await self._session(ws)
            if self._stopped:
                return
            delay = 0.0 if self._reconfigured.is_set() else self.backoff.next_delay(refused)
            self.writer.later(upstream_queue.set_link_state, self.charge_box_id, False, now(),
                              error)
            if error:
                log.info("%s: %s; next try in %.1f s", self.charge_box_id, error, delay)
            try:
                await asyncio.wait_for(self._reconfigured.wait(), delay)
            except asyncio.TimeoutError:
                pass

    async def _connect(self):
        headers = {}
        if self.config.password is not None:
            headers["Authorization"] = basic_auth(self.charge_box_id, self.config.password)
        ping = self.config.ping_interval or None
        return await connect(
            self.url, subprotocols=[SUBPROTOCOL], additional_headers=headers,
            ssl=tls_context(self.url, self.bridge.settings.upstream_ca),
            open_timeout=15, ping_interval=ping, ping_timeout=ping and max(10, ping),
            close_timeout=5, compression=None, proxy=None, max_size=2 ** 20,
            user_agent_header=f"soapgw-bridge websockets/{websockets.__version__}")

    async def _session(self, ws) -> str | None:
        """Run the connected link until the socket closes; the reason, for last_error."""
        self.ws, self.connected_since = ws, now()
        self.boot_accepted = False
        self.backoff.connected()
        self.writer.later(upstream_queue.set_link_state, self.charge_box_id, True,
                          self.connected_since, None)
        log.info("%s: connected to %s", self.charge_box_id, shown(self.url))
        tasks = [asyncio.create_task(self._read(ws)), asyncio.create_task(self._send_queue()),
                 asyncio.create_task(self._serve_calls())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.error("%s: link task failed", self.charge_box_id,
                              exc_info=task.exception())
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.ws, self.connected_since = None, None
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(CallFailed("the connection closed"))
            self._pending.clear()
            self._pending_action.clear()
            await ws.close()
        if self._reconfigured.is_set():
            return None
        code, reason = ws.close_code, ws.close_reason
        return f"connection closed by the central system ({code}{': ' + reason if reason else ''})"

    # --- frames ---------------------------------------------------------------------------------
    def _journal(self, direction: str, text: str, action: str | None, unique_id: str | None,
                 relates: bool = False, fault: str | None = None) -> None:
        self.writer.journal([JournalRecord(
            direction=direction, raw=text.encode(), charge_box_id=self.charge_box_id,
            action=action, message_id=None if relates else unique_id,
            relates_to=unique_id if relates else None, ocpp_version="1.6",
            peer=shown(self.url), fault_code=fault)])

    async def _send_frame(self, frame, action: str | None, journal_text: str | None = None,
                          ) -> None:
        text = to_json(encode_frame(frame))
        if isinstance(frame, Call):
            self._journal("out", journal_text or text, frame.action, frame.unique_id)
        elif isinstance(frame, CallResult):
            self._journal("out", journal_text or text, f"{action}Response", frame.unique_id,
                          relates=True)
        else:
            self._journal("out", text, f"CallError:{frame.error_code.value}", frame.unique_id,
                          relates=True, fault=frame.error_code.value)
        await self.ws.send(text)

    async def _read(self, ws) -> None:
        async for text in ws:
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            try:
                frame = decode_frame(text)
            except FrameError as error:
                self._journal("in", text, None, error.unique_id, fault=error.code.value)
                if error.unique_id:
                    await self._send_frame(CallError(error.unique_id, error.code, error.reason),
                                           None)
                continue
            if isinstance(frame, Call):
                self._journal("in", self.bridge.commands.journal_text(frame, text),
                              frame.action, frame.unique_id)
                self._incoming.put_nowait(frame)
                continue
            action = self._pending_action.get(frame.unique_id)
            if isinstance(frame, CallResult):
                self._journal("in", text, f"{action}Response" if action else None,
                              frame.unique_id, relates=True)
            else:
                self._journal("in", text, f"CallError:{frame.error_code.value}",
                              frame.unique_id, relates=True, fault=frame.error_code.value)
            future = self._pending.pop(frame.unique_id, None)
            self._pending_action.pop(frame.unique_id, None)
            if future is not None and not future.done():
                future.set_result(frame)

    # --- station -> CSMS ------------------------------------------------------------------------
    async def call(self, action: str, payload: dict, timeout: float = CALL_TIMEOUT) -> dict:
        """Send a CALL (one outstanding at a time) and return the CALLRESULT's payload;
        CallFailed for a CALLERROR, a timeout, or a link that went down."""
        async with self._call_lock:
            ws = self.ws
            if ws is None:
                raise CallFailed("the link is down")
            unique_id = new_unique_id()
            future = asyncio.get_running_loop().create_future()
            self._pending[unique_id] = future
            self._pending_action[unique_id] = action
            try:
                await self._send_frame(Call(unique_id, action, payload), None)
                frame = await asyncio.wait_for(asyncio.shield(future), timeout)
            except asyncio.TimeoutError:
                raise CallFailed(f"no answer to {action} within {timeout:g} s") from None
            except ConnectionClosed:
                raise CallFailed("the connection closed") from None
            finally:
                self._pending.pop(unique_id, None)
                self._pending_action.pop(unique_id, None)
        if isinstance(frame, CallError):
            raise CallFailed(f"{action} answered {frame.error_code.value}: "
                             f"{frame.error_description}")
        problems = validate(action, frame.payload, response=True)
        if problems:
            raise CallFailed(f"{action} answer breaks the OCPP 1.6 schema: {problems[0]}")
        return frame.payload

    def _error(self, message: str) -> None:
        self.writer.later(upstream_queue.set_link_state, self.charge_box_id, True,
                          self.connected_since, message)

    async def _send_queue(self) -> None:
        """Boot, latest statuses, then the queue in order; forever while connected."""
        await self.writer.flushed()  # acknowledgements of the last connection are committed
        self._boot_again = False
        # the cached boot and the whole queue, read together with other links' (bridge.startup)
        self._handed.clear()  # the read below sees them (committed before handed)
        self._gap = False
        boot, rows = await self.bridge.startup.read(self.charge_box_id)
        await self._boot(boot)
        replayed = await self._latest_statuses(rows)
        after, from_sql = 0, False
        while True:
            for row in rows:
                after = row.id
                if row.id not in replayed:
                    await self._forward(row)
            self.wakeup.clear()
            if self._boot_again:
                self._boot_again = False
                await self._boot(await self.store.read(cached_boot, self.charge_box_id))
            if self._gap:
                self._gap, from_sql = False, True
            if from_sql:
                self._handed.clear()  # the read below sees them (committed before handed)
                rows = await self.store.read(upstream_queue.queued, self.charge_box_id, after,
                                             PAGE)
                from_sql = len(rows) == PAGE
            else:
                rows, self._handed = [r for r in self._handed if r.id > after], []
            if not rows:
                try:
                    await asyncio.wait_for(self.wakeup.wait(),
                                           SAFETY_NET * random.uniform(0.5, 1.5))
                except asyncio.TimeoutError:
                    from_sql = True  # the safety net: whatever was queued without a hand-over

    async def _boot(self, boot: dict | None) -> None:
        """The cached BootNotification (None: the station never booted) first; until it is
        Accepted, nothing else is sent (OCPP 1.6 4.2), retried after the interval the
        central system asked for."""
        while boot is not None:
            try:
                answer = await self.call("BootNotification", boot)
            except CallFailed as failure:
                self._error(str(failure))
                await asyncio.sleep(10)
                continue
            self.writer.later(upstream_queue.set_boot_status, self.charge_box_id,
                              answer["status"])
            if answer["status"] == "Accepted":
                break
            await asyncio.sleep(min(max(answer.get("interval") or 60, 5), 300))
        self.boot_accepted = True

    async def _latest_statuses(self, rows: list[Queued]) -> set[int]:
        """Send each connector's latest queued status now; the older ones of those connectors
        are superseded (acknowledged without sending). Returns the queue ids handled."""
        latest: dict[int, Queued] = {}
        for row in rows:
            if row.action == "StatusNotification":
                latest[row.payload.get("connectorId")] = row
        handled = set()
        for row in rows:
            if row.action == "StatusNotification":
                if latest[row.payload.get("connectorId")] is row:
                    await self._forward(row)
                else:
                    self.writer.acknowledged(row.id)
                handled.add(row.id)
        return handled

    async def _forward(self, row: Queued) -> None:
        """Send one queued message with the CSMS's transaction ids, and acknowledge it;
        a CALLERROR acknowledges it too (journaled, shown as last error: resending the same
        message would be refused again); a link that fails leaves it queued."""
        payload = dict(row.payload)
        if row.action == "Heartbeat" and row.created_at < self.connected_since:
            self.writer.acknowledged(row.id)  # stale: never replayed
            return
        if row.action == "StartTransaction":
            await self._forward_start(row, payload)
            return
        if row.action in ("MeterValues", "StopTransaction"):
            local = payload.get("transactionId")
            if local is not None and local > 0:
                csms = self._csms_ids.get(local)
                if csms is None:
                    csms = await self.store.read(upstream_queue.csms_id_of,
                                                 self.charge_box_id, local)
                    self._remember(local, csms)
                if csms is not None:
                    payload["transactionId"] = csms
                elif row.action == "MeterValues":
                    del payload["transactionId"]  # never a guessed id
                else:
                    self._drop(row, f"StopTransaction of transaction {local}, which the central "
                                    "system never started (no id of its own)")
                    return
        try:
            await self.call(row.action, payload)
        except CallFailed as failure:
            if self.ws is None or "no answer" in str(failure):
                raise  # link trouble: stays queued, the session ends
            self._error(str(failure))
        self.writer.acknowledged(row.id)

    async def _forward_start(self, row: Queued, payload: dict) -> None:
        key = upstream_queue.start_key(payload)
        local = (row.response or {}).get("transactionId")
        known = await self.store.read(upstream_queue.upstream_start, self.charge_box_id, key)
        if known is not None and known.csms_id is not None:  # answered live (advisor)
            # committed before the next message: a MeterValues right behind needs the id
            await self.store.write(upstream_queue.link_local, self.charge_box_id, key, local)
            self._remember(local, known.csms_id)
            self.writer.acknowledged(row.id)
            return
        try:
            answer = await self.call("StartTransaction", payload)
        except CallFailed as failure:
            if self.ws is None or "no answer" in str(failure):
                raise
            self._error(str(failure))
            self.writer.acknowledged(row.id)
            return
        status = answer["idTagInfo"]["status"]
        await self.store.write(upstream_queue.record_start, self.charge_box_id, key,
                               answer["transactionId"], status, local)
        self._remember(local, answer["transactionId"])
        self.writer.later(upstream_queue.cache_id_tag_info, payload["idTag"],
                          answer["idTagInfo"])
        self.writer.acknowledged(row.id)
        if status != "Accepted" and local is not None:
            self._error(f"the central system answered the replayed start of transaction "
                        f"{local} with {status}")
            await self.bridge.commands.stop_if_invalid(self.charge_box_id, local)

    def _remember(self, local: int | None, csms: int | None) -> None:
        if local is None or csms is None:
            return
        if len(self._csms_ids) >= 256:  # a station has a few open transactions at a time
            self._csms_ids.clear()
        self._csms_ids[local] = csms

    def _drop(self, row: Queued, reason: str) -> None:
        self.writer.journal([JournalRecord(
            direction="out", raw=json.dumps(row.payload).encode(),
            charge_box_id=self.charge_box_id, action=f"Dropped:{row.action}",
            ocpp_version="1.6", peer=shown(self.url), fault_code="NoUpstreamTransaction")])
        self._error(reason)
        self.writer.acknowledged(row.id)

    # --- CSMS -> station ------------------------------------------------------------------------
    async def _serve_calls(self) -> None:
        """The central system's CALLs, one at a time, in order."""
        while True:
            call = await self._incoming.get()
            reply = await self.bridge.commands.handle(self, call)
            after, self._after_reply = self._after_reply, None
            await self._send_frame(reply, call.action,
                                   self.bridge.commands.journal_reply(call, reply))
            if after is not None:
                after()

    def after_reply(self, action) -> None:
        """Run ``action`` once the current command's answer has been sent."""
        self._after_reply = action
