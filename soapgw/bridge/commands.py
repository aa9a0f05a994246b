"""The upstream central system's CALLs to a bridged station.

Each CALL becomes a task of the task runner (origin ``upstream``, visible in the UI and the
CLI) and its result goes back as CALLRESULT, or as CALLERROR: the schema's code for a payload
that breaks the OCPP 1.6 schema, NotSupported for an operation the station's OCPP version
lacks (decided from the version it last spoke; nothing is sent), GenericError with the reason
for a station that cannot be reached or failed. Transaction ids are the CSMS's on the socket
and soapgw's towards the station; an id the bridge does not know is answered Rejected, never
guessed. Two configuration keys belong to the link itself and never reach the station:
AuthorizationKey (the Basic-auth password, hex-encoded) and WebSocketPingInterval.
"""
from __future__ import annotations

import asyncio
import copy
import json
import logging
import time

from sqlalchemy import select

from soapgw.bridge.store import Store
from soapgw.core import upstream_queue
from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.core.commands.operations import ALL, unsupported_reason
from soapgw.core.errors import ErrorCode
from soapgw.core.ocppj import (Call, CallError, CallResult, PayloadError, encode_frame,
                               require_valid, to_json)
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.core.upstream import MAX_PASSWORD_BYTES
from soapgw.store.models import ChargeBox, ConfigurationKey, TaskResult

log = logging.getLogger(__name__)
MARGIN = 3.0  # seconds beyond the operation timeout before the CSMS gets GenericError
POLL = 0.05
LINK_KEYS = ("AuthorizationKey", "WebSocketPingInterval")
ORIGIN = "upstream"


def _station(db, charge_box_id: str):
    return db.execute(select(ChargeBox.id, ChargeBox.ocpp_version).where(
        ChargeBox.charge_box_id == charge_box_id)).one_or_none()


def _result(db, task_id: int):
    return db.execute(select(TaskResult.state, TaskResult.response, TaskResult.error_kind,
                             TaskResult.error, TaskResult.finished_at)
                      .where(TaskResult.task_id == task_id)).one_or_none()


def _stops_on_invalid_id(db, charge_box_id: str) -> bool:
    value = db.scalar(select(ConfigurationKey.value).join(
        ChargeBox, ChargeBox.id == ConfigurationKey.charge_box_pk).where(
        ChargeBox.charge_box_id == charge_box_id,
        ConfigurationKey.key == "StopTransactionOnInvalidId"))
    return (value or "").strip().lower() == "true"


class Commands:
    def __init__(self, store: Store, task_runner, settings, box):
        self.store = store
        self.runner = task_runner
        self.settings = settings
        self.box = box  # PasswordBox

    # --- journal: the AuthorizationKey is never written anywhere ------------------------------
    @staticmethod
    def _secret(call: Call) -> bool:
        return (call.action == "ChangeConfiguration" and isinstance(call.payload, dict)
                and call.payload.get("key") == "AuthorizationKey")

    def journal_text(self, call: Call, text: str) -> str:
        if not self._secret(call):
            return text
        payload = dict(call.payload, value="(hidden)")
        return to_json(encode_frame(Call(call.unique_id, call.action, payload)))

    def journal_reply(self, call: Call, reply) -> str | None:
        return None

    # --- one CALL -----------------------------------------------------------------------------
    async def handle(self, link, call: Call):
        try:
            return CallResult(call.unique_id, await self._answer(link, call))
        except _Refusal as refusal:
            return CallError(call.unique_id, refusal.code, refusal.description[:255])
        except Exception as exc:  # noqa: BLE001  (answer the CSMS whatever happened)
            log.exception("%s: %s from upstream failed", link.charge_box_id, call.action)
            return CallError(call.unique_id, ErrorCode.INTERNAL_ERROR,
                             f"the gateway failed: {type(exc).__name__}")

    async def _answer(self, link, call: Call) -> dict:
        action = call.action
        if action not in ALL:
            raise _Refusal(ErrorCode.NOT_IMPLEMENTED,
                           f"{action} is not an OCPP 1.6 ChargePointService action")
        try:
            payload = require_valid(action, call.payload)
        except PayloadError as error:
            raise _Refusal(error.code, error.reason) from None
        if action == "ChangeConfiguration" and payload["key"] in LINK_KEYS:
            return await self._link_key(link, payload["key"], payload["value"])
        station = await self.store.read(_station, link.charge_box_id)
        if station is None:
            raise _Refusal(ErrorCode.GENERIC_ERROR, f"{link.charge_box_id} is not registered")
        reason = unsupported_reason(action, station.ocpp_version)
        if reason:
            code = (ErrorCode.NOT_SUPPORTED if station.ocpp_version in ("1.5", "1.6")
                    else ErrorCode.GENERIC_ERROR)
            raise _Refusal(code, f"not sent to the station: {reason}")
        payload, unknown = await self._local_ids(link.charge_box_id, action, payload)
        if unknown is not None:
            log.info("%s: %s names transaction %s, unknown here: Rejected",
                     link.charge_box_id, action, unknown)
            return {"status": "Rejected"}
        return await self._run_task(link, action, payload)

    async def _local_ids(self, charge_box_id: str, action: str, payload: dict):
        """The payload with soapgw's transaction id, or the CSMS id nobody knows here."""
        payload = copy.deepcopy(payload)
        container = {"RemoteStopTransaction": payload,
                     "SetChargingProfile": payload.get("csChargingProfiles"),
                     "RemoteStartTransaction": payload.get("chargingProfile")}.get(action)
        if not container or "transactionId" not in container:
            return payload, None
        csms_id = container["transactionId"]
        local = await self.store.read(upstream_queue.local_id_of, charge_box_id, csms_id)
        if local is None:
            return payload, csms_id
        container["transactionId"] = local
        return payload, None

    async def _run_task(self, link, action: str, payload: dict) -> dict:
        try:
            task_id = await self.store.blocking(
                lambda: self.runner.submit(action, payload, [link.charge_box_id], ORIGIN,
                                           caller=f"upstream {link.config.base_url}"[:255]))
        except TaskError as error:
            code = (ErrorCode.NOT_SUPPORTED if error.kind in (ErrorKind.UNSUPPORTED,
                                                                ErrorKind.INVALID_PAYLOAD)
                    else ErrorCode.GENERIC_ERROR)
            raise _Refusal(code, str(error)) from None
        # the timeout the task itself uses (the operator may change it at run time)
        timeout = (await self.store.read(RuntimeSettings.load, self.settings)).operation_timeout
        deadline = time.monotonic() + timeout + MARGIN
        while True:
            result = await self.store.read(_result, task_id)
            # A RemoteStartTransaction's result stays open while the station's start is
            # awaited: its answer goes back at once (the start goes upstream by itself).
            if result is not None and (result.response is not None or result.finished_at):
                break
            if time.monotonic() >= deadline:
                raise _Refusal(ErrorCode.GENERIC_ERROR,
                               f"the station did not answer within {timeout:g} s "
                               f"(task {task_id} goes on)")
            await asyncio.sleep(POLL)
        if result.response is not None:
            return json.loads(result.response)
        kind = result.error_kind or "failed"
        code = (ErrorCode.NOT_SUPPORTED if kind in (ErrorKind.UNSUPPORTED.value,
                                                    ErrorKind.INVALID_PAYLOAD.value)
                else ErrorCode.GENERIC_ERROR)
        raise _Refusal(code, f"task {task_id}: {kind}: {result.error or 'no answer'}")

    # --- the link's own configuration keys ----------------------------------------------------
    async def _link_key(self, link, key: str, value: str) -> dict:
        if key == "AuthorizationKey":
            try:
                password = bytes.fromhex(value.strip())
            except ValueError:
                return {"status": "Rejected"}
            if not password or len(password) > MAX_PASSWORD_BYTES:
                return {"status": "Rejected"}
            token = self.box.seal(password)
            await self.store.write(upstream_queue.set_password_token, link.charge_box_id, token)
            config = link.config
            new = type(config)(config.base_url, password, config.ping_interval)
            link.after_reply(lambda: link.reconfigure(new))  # Accepted leaves first
            return {"status": "Accepted"}
        try:
            seconds = int(value.strip())
        except ValueError:
            return {"status": "Rejected"}
        if not 0 <= seconds <= 86400:
            return {"status": "Rejected"}
        await self.store.write(upstream_queue.set_ping_interval, link.charge_box_id, seconds)
        config = link.config
        link.config = type(config)(config.base_url, config.password, seconds)  # next socket
        return {"status": "Accepted"}

    # --- a replayed start the CSMS refused ----------------------------------------------------
    async def stop_if_invalid(self, charge_box_id: str, local_id: int) -> None:
        """StopTransactionOnInvalidId: the station stops a transaction whose tag the central
        system refused; for a start replayed after the fact, the gateway asks it to."""
        if not await self.store.read(_stops_on_invalid_id, charge_box_id):
            return
        try:
            await self.store.blocking(lambda: self.runner.submit(
                "RemoteStopTransaction", {"transactionId": local_id}, [charge_box_id], ORIGIN,
                caller="upstream: StopTransactionOnInvalidId"))
        except TaskError as error:
            log.warning("%s: could not stop transaction %s: %s", charge_box_id, local_id, error)


class _Refusal(Exception):
    def __init__(self, code: ErrorCode, description: str):
        super().__init__(description)
        self.code, self.description = code, description
