"""An OCPP-J 1.6 central system we did not write, for the bridge's tests: the ``ocpp``
package's ChargePoint (mobilityhouse) on a ``websockets`` server, on 127.0.0.1, in a thread
of its own. It records every CALL the stations send (validated by the ``ocpp`` package
against its OCPP 1.6 schemas), answers with configurable decisions, can require Basic auth,
and sends CALLs to the stations."""
from __future__ import annotations

import asyncio
import base64
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from urllib.parse import unquote

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Received:
    charge_box_id: str
    action: str
    payload: dict
    at: float = field(default_factory=time.monotonic)


class StationAtCsms(ChargePoint):
    """One station as the CSMS sees it."""

    def __init__(self, charge_box_id, connection, csms: "Csms"):
        super().__init__(charge_box_id, connection, response_timeout=60)
        self.csms = csms

    def _note(self, action, payload):
        self.csms.received.append(Received(self.id, action, payload))

    @on(Action.boot_notification)
    def boot(self, **payload):
        self._note("BootNotification", payload)
        return call_result.BootNotification(current_time=_now(), interval=self.csms.interval,
                                            status=self.csms.boot_status)

    @on(Action.heartbeat)
    def heartbeat(self, **payload):
        self._note("Heartbeat", payload)
        return call_result.Heartbeat(current_time=_now())

    @on(Action.authorize)
    async def authorize(self, **payload):
        self._note("Authorize", payload)
        await asyncio.sleep(self.csms.answer_delay)
        return call_result.Authorize(id_tag_info={"status": self.csms.tag_status(
            payload["id_tag"])})

    @on(Action.start_transaction)
    def start_transaction(self, **payload):
        self._note("StartTransaction", payload)
        return call_result.StartTransaction(
            transaction_id=next(self.csms.transaction_ids),
            id_tag_info={"status": self.csms.tag_status(payload["id_tag"])})

    @on(Action.stop_transaction)
    def stop_transaction(self, **payload):
        self._note("StopTransaction", payload)
        return call_result.StopTransaction()

    @on(Action.meter_values)
    def meter_values(self, **payload):
        self._note("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.status_notification)
    def status(self, **payload):
        self._note("StatusNotification", payload)
        return call_result.StatusNotification()

    @on(Action.data_transfer)
    def data_transfer(self, **payload):
        self._note("DataTransfer", payload)
        return call_result.DataTransfer(status="Accepted", data="from the CSMS")

    @on(Action.firmware_status_notification)
    def firmware(self, **payload):
        self._note("FirmwareStatusNotification", payload)
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def diagnostics(self, **payload):
        self._note("DiagnosticsStatusNotification", payload)
        return call_result.DiagnosticsStatusNotification()


class Csms:
    def __init__(self, passwords: dict[str, str] | None = None, port: int = 0,
                 subprotocols: tuple[str, ...] = ("ocpp1.6",), ssl=None):
        self.passwords = passwords  # chargeBoxId -> password; None: no auth
        self.port = port
        self.subprotocols = list(subprotocols)  # the server selects from these
        self.ssl = ssl  # an ssl.SSLContext: wss://
        self.answer_delay = 0.0  # seconds before an Authorize is answered
        self.received: list[Received] = []
        self.connections: list[tuple[str, str | None]] = []  # (id, Authorization) per socket
        self.refused: list[tuple[str, int]] = []
        self.stations: dict[str, StationAtCsms] = {}
        self.sockets: dict[str, object] = {}
        self.interval = 77
        self.boot_status = "Accepted"
        self.refused_tags: set[str] = set()
        self.transaction_ids = itertools.count(5001)
        self.loop = asyncio.new_event_loop()
        self._server = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def tag_status(self, id_tag: str) -> str:
        return "Blocked" if id_tag in self.refused_tags else "Accepted"

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> "Csms":
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self):
        self._server = await serve(self._handler, "127.0.0.1", self.port,
                                   subprotocols=self.subprotocols or None, ssl=self.ssl,
                                   process_request=self._check)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"{'wss' if self.ssl else 'ws'}://127.0.0.1:{self.port}/ocpp"

    def stop(self) -> None:
        """The CSMS goes down: every socket closed, no new ones accepted."""
        async def _stop():
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
                self._server = None
        asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(15)

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    def drop(self, charge_box_id: str) -> None:
        """Close one station's socket from the CSMS's side."""
        ws = self.sockets[charge_box_id]
        asyncio.run_coroutine_threadsafe(ws.close(1001, "going away"), self.loop).result(10)

    # --- handshake and sockets ----------------------------------------------------------------
    def _check(self, connection, request):
        charge_box_id = unquote(request.path.rsplit("/", 1)[-1])
        authorization = request.headers.get("Authorization")
        if not request.path.startswith("/ocpp/"):
            self.refused.append((charge_box_id, 404))
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown path\n")
        if self.passwords is not None:
            expected = "Basic " + base64.b64encode(
                f"{charge_box_id}:{self.passwords.get(charge_box_id)}".encode()).decode()
            if authorization != expected:
                self.refused.append((charge_box_id, 401))
                return connection.respond(HTTPStatus.UNAUTHORIZED, "wrong credentials\n")
        self.connections.append((charge_box_id, authorization))
        return None

    async def _handler(self, ws):
        charge_box_id = unquote(ws.request.path.rsplit("/", 1)[-1])
        station = StationAtCsms(charge_box_id, ws, self)
        self.stations[charge_box_id] = station
        self.sockets[charge_box_id] = ws
        try:
            await station.start()
        except ConnectionClosed:
            pass

    # --- observation and commands -------------------------------------------------------------
    def messages(self, charge_box_id: str | None = None, action: str | None = None):
        return [r for r in list(self.received)
                if (charge_box_id is None or r.charge_box_id == charge_box_id)
                and (action is None or r.action == action)]

    def wait_for(self, predicate, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def call(self, charge_box_id: str, payload, timeout: float = 60, suppress: bool = False):
        """Send a CALL (an ``ocpp.v16.call`` object) and return the ``call_result`` (or raise
        the ``ocpp`` package's exception for a CALLERROR)."""
        station = self.stations[charge_box_id]
        return asyncio.run_coroutine_threadsafe(station.call(payload, suppress=suppress),
                                                self.loop).result(timeout)
