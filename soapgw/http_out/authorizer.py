"""External authorization (``SOAPGW_AUTHORIZE_URL``): an advisor (``core.advice``) that asks
an integrator's endpoint about Authorize and StartTransaction.

It POSTs ``{"action", "chargeBoxId", "ocppVersion", "request"}`` (the request in OCPP-J 1.6
shape) and expects ``200 {"idTagInfo": {...}}`` in OCPP-J shape. A slow, failing or
unreadable answer, or a 204, leaves the decision to the local tables. Every exchange is
journaled (direction out and in, the action, the endpoint as peer, the status and time; a
fallback with its reason as ``fault_code`` ``fallback``).
"""
from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlsplit

import requests
from sqlalchemy.orm import Session, sessionmaker

from soapgw.core import messages as m
from soapgw.core.advice import Advice
from soapgw.core.errors import OcppError
from soapgw.core.ocppj import decode, encode, require_valid, to_json
from soapgw.store import journal
from soapgw.store.database import writer_lock
from soapgw.store.journal import JournalRecord

log = logging.getLogger(__name__)
ASKED = frozenset({"Authorize", "StartTransaction"})
SOURCE = "authorize_url"


class HttpAuthorizer:
    def __init__(self, url: str, timeout: float, sessions: sessionmaker[Session]):
        self.url, self.timeout, self.sessions = url, timeout, sessions
        self.peer = urlsplit(url).netloc
        self.write_lock = writer_lock(sessions.kw["bind"])
        self.http = requests.Session()

    def advise(self, call, request) -> Advice | None:
        if call.action not in ASKED:
            return None
        body = to_json({"action": call.action, "chargeBoxId": call.charge_box_id,
                        "ocppVersion": call.ocpp_version, "request": encode(request)})
        records = [self._record(call, "out", body.encode())]
        started = time.monotonic()
        advice, status, raw, problem = None, None, b"", None
        try:
            reply = self.http.post(self.url, data=body, timeout=self.timeout,
                                   headers={"content-type": "application/json"},
                                   allow_redirects=False)
            status, raw = reply.status_code, reply.content[:65536]
            advice, problem = self._advice(call.action, status, raw)
        except requests.RequestException as exc:
            problem = f"{type(exc).__name__}: {exc}"
        records.append(self._record(call, "in", raw or (problem or "").encode(), status,
                                    (time.monotonic() - started) * 1000,
                                    "fallback" if advice is None else None))
        if problem:
            log.warning("authorization endpoint: %s; the local tables decide", problem)
        with self.write_lock, self.sessions.begin() as db:
            journal.write(db, records)
        return advice

    @staticmethod
    def _advice(action: str, status: int, raw: bytes) -> tuple[Advice | None, str | None]:
        if status == 204:
            return None, None  # no opinion
        if status != 200:
            return None, f"HTTP {status}"
        try:
            answer = json.loads(raw)
            info = require_valid("Authorize", {"idTagInfo": answer["idTagInfo"]},
                                 response=True)["idTagInfo"]
            id_tag_info = decode("Authorize", {"idTagInfo": info}, response=True).id_tag_info
        except (ValueError, KeyError, TypeError, OcppError) as exc:
            return None, f"unusable answer ({exc})"
        if action == "Authorize":
            return Advice(m.AuthorizeResponse(id_tag_info=id_tag_info), SOURCE), None
        return Advice(m.StartTransactionResponse(transaction_id=0, id_tag_info=id_tag_info),
                      SOURCE), None

    def _record(self, call, direction: str, raw: bytes, status: int | None = None,
                duration_ms: float | None = None, fault: str | None = None) -> JournalRecord:
        return JournalRecord(direction=direction, raw=raw, charge_box_id=call.charge_box_id,
                             action=f"{call.action} (authorization endpoint)",
                             ocpp_version=call.ocpp_version, http_status=status,
                             duration_ms=duration_ms, peer=self.peer, fault_code=fault)


def authorization_advisors(settings, sessions: sessionmaker[Session]) -> list[HttpAuthorizer]:
    """The advisors the settings ask for: the authorization endpoint, when configured."""
    if not settings.authorize_url:
        return []
    return [HttpAuthorizer(settings.authorize_url, settings.authorize_timeout, sessions)]
