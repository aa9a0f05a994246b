"""Decision messages (BootNotification, Authorize, StartTransaction, DataTransfer) answered by
the upstream central system, on the core's advisor port (core.advice).

The SOAP request runs in a gunicorn worker; the station's WebSocket lives in the bridge
process. ``BridgeAdvisor`` (in the worker, before its database transaction) asks the bridge
over a Unix socket in the instance folder (mode 0600) and waits at most
SOAPGW_UPSTREAM_ANSWER_TIMEOUT (+1 s); ``AdvisorServer`` (in the bridge) forwards the message
on the station's link when it is up and answers with the CSMS's answer, or with nothing when
the link is down or the CSMS is late: the local rules decide, and the message is queued like
any other (a late CSMS answer still counts: a StartTransaction answered late is mapped, not
sent twice). While the link is down, an Authorize is answered from the CSMS's earlier
answers (the authorization cache) when the tag is there.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import socket
import tempfile
from pathlib import Path

from soapgw.core import upstream_queue
from soapgw.core.advice import Advice
from soapgw.core.errors import OcppError
from soapgw.core.ocppj import decode, encode, to_json

log = logging.getLogger(__name__)
SOCKET_NAME = "bridge.sock"
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux
SOURCE, CACHE_SOURCE = "upstream", "upstream-cache"


def socket_path(instance_path: Path, name: str = SOCKET_NAME) -> str:
    path = str(Path(instance_path).resolve() / name)
    if len(path.encode()) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(path.encode()).hexdigest()[:16]  # a long instance path
    return os.path.join(tempfile.gettempdir(), f"soapgw-{name.split('.')[0]}-{digest}.sock")


class BridgeAdvisor:
    """The worker's side: one short Unix-socket exchange per decision message."""

    def __init__(self, instance_path: Path, answer_timeout: float):
        self.path = socket_path(instance_path)
        self.timeout = answer_timeout + 1.0

    def advise(self, call, request) -> Advice | None:
        question = to_json({"chargeBoxId": call.charge_box_id, "action": call.action,
                            "request": encode(request)}).encode() + b"\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as channel:
                channel.settimeout(self.timeout)
                channel.connect(self.path)
                channel.sendall(question)
                answer = b""
                while not answer.endswith(b"\n"):
                    chunk = channel.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
        except OSError:  # no bridge running, or it is too slow: the local rules decide
            return None
        try:
            reply = json.loads(answer)
            payload = reply.get("response")
            if not payload:
                return None
            return Advice(decode(call.action, payload, response=True), reply["source"])
        except (ValueError, KeyError, OcppError):
            log.warning("unusable answer from the bridge for %s of %s", call.action,
                        call.charge_box_id)
            return None


class AdvisorServer:
    """The bridge's side."""

    def __init__(self, bridge):
        self.bridge = bridge
        self.server = None
        self.path = socket_path(bridge.settings.instance_path)

    async def start(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if os.path.exists(self.path):
            os.unlink(self.path)  # a bridge that was killed leaves its socket behind
        old = os.umask(0o177)
        try:
            self.server = await asyncio.start_unix_server(self._client, self.path,
                                                          limit=2 ** 20)
        finally:
            os.umask(old)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    async def _client(self, reader, writer) -> None:
        try:
            question = json.loads(await reader.readline())
            answer = await self.advise(question["chargeBoxId"], question["action"],
                                       question["request"])
            writer.write(to_json(answer).encode() + b"\n")
            await writer.drain()
        except Exception:  # noqa: BLE001  (the worker falls back to its own rules)
            log.exception("bridge: advisor request failed")
        finally:
            writer.close()

    async def advise(self, charge_box_id: str, action: str, request: dict) -> dict:
        link = self.bridge.links.get(charge_box_id)
        if link is None:
            return {}
        if link.up and (link.boot_accepted or action == "BootNotification"):
            asked = asyncio.create_task(self._ask(link, action, request))
            try:
                # the worker waits answer_timeout + 1 s: answer before it gives up
                payload = await asyncio.wait_for(asyncio.shield(asked),
                                                 self.bridge.settings.upstream_answer_timeout)
                return {"response": payload, "source": SOURCE}
            except asyncio.TimeoutError:
                log.info("%s: %s: the central system is late, local rules decide",
                         charge_box_id, action)
            except Exception as failure:  # noqa: BLE001  (CallFailed: local rules)
                log.info("%s: %s not decided upstream: %s", charge_box_id, action, failure)
        if action == "Authorize":
            cached = await self.bridge.store.read(upstream_queue.cached_id_tag_info,
                                                  request["idTag"])
            if cached is not None:
                return {"response": {"idTagInfo": cached}, "source": CACHE_SOURCE}
        return {}

    async def _ask(self, link, action: str, request: dict) -> dict:
        payload = await link.call(action, request)
        store, cb = self.bridge.store, link.charge_box_id
        if action in ("Authorize", "StartTransaction"):
            self.bridge.writer.later(upstream_queue.cache_id_tag_info, request["idTag"],
                                     payload["idTagInfo"])
        if action == "StartTransaction":  # before the worker stores its own id: see link.py
            await store.write(upstream_queue.record_start, cb,
                              upstream_queue.start_key(request), payload["transactionId"],
                              payload["idTagInfo"]["status"])
        elif action == "BootNotification":
            self.bridge.writer.later(upstream_queue.set_boot_status, cb, payload["status"])
        return payload
