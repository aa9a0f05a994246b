"""External authorization (SOAPGW_AUTHORIZE_URL) over real HTTP: Authorize and
StartTransaction decided by the endpoint, the local tables when it is slow, down or
unreadable, and every exchange journaled."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from soapgw.store.models import JournalEntry, Transaction

from conftest import make_settings
from soap_messages import body_of, envelope, post, text_of


class Endpoint:
    def __init__(self):
        self.asked: list[dict] = []
        self.mode = "answer"
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.asked.append(request)
                if endpoint.mode == "slow":
                    time.sleep(1.5)
                if endpoint.mode == "garbage":
                    return self._send(200, b"{\"idTagInfo\": {\"status\": \"Maybe\"}}")
                if endpoint.mode == "error":
                    return self._send(500, b"oops")
                tag = request["request"]["idTag"]
                status = "Accepted" if tag.startswith("REMOTE") else "Blocked"
                self._send(200, json.dumps({"idTagInfo": {
                    "status": status, "expiryDate": "2031-01-01T00:00:00Z"}}).encode())

            def _send(self, code, body):
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/authorize"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def endpoint():
    endpoint = Endpoint()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


@pytest.fixture
def settings(database_url, tmp_path, endpoint):
    return make_settings(database_url, tmp_path, authorize_url=endpoint.url,
                         authorize_timeout=0.5)


def authorize(url: str, tag: str) -> str:
    reply = post(url, envelope("CP-X", f"<cs:authorizeRequest><cs:idTag>{tag}</cs:idTag>"
                                       "</cs:authorizeRequest>", action="/Authorize"),
                 action="/Authorize")
    assert reply.status_code == 200, reply.text
    return text_of(body_of(reply.content), "status")


def test_decisions_from_the_endpoint_with_local_fallback(gateway, seed, live_url, endpoint):
    seed.station("CP-X")
    seed.tag("LOCAL-1")
    assert authorize(live_url, "REMOTE-1") == "Accepted"  # unknown locally, accepted there
    assert authorize(live_url, "LOCAL-1") == "Blocked"  # the endpoint decides first
    assert endpoint.asked[0] == {"action": "Authorize", "chargeBoxId": "CP-X",
                                 "ocppVersion": "1.6", "request": {"idTag": "REMOTE-1"}}
    start = post(live_url, envelope("CP-X", (
        "<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>REMOTE-2"
        "</cs:idTag><cs:timestamp>2030-01-01T10:00:00Z</cs:timestamp><cs:meterStart>0"
        "</cs:meterStart></cs:startTransactionRequest>"), action="/StartTransaction"),
        action="/StartTransaction")
    assert text_of(body_of(start.content), "status") == "Accepted"
    assert endpoint.asked[-1]["action"] == "StartTransaction"
    with gateway.sessions() as db:
        assert db.scalars(select(Transaction.start_status)).one() == "Accepted"

    for mode in ("slow", "error", "garbage"):  # the local tables decide
        endpoint.mode = mode
        assert authorize(live_url, "LOCAL-1") == "Accepted"
        assert authorize(live_url, "REMOTE-3") == "Invalid"
    with gateway.sessions() as db:
        entries = db.scalars(select(JournalEntry).where(
            JournalEntry.action.like("% (authorization endpoint)"))
            .order_by(JournalEntry.id)).all()
    assert len(entries) == 2 * 9  # a request and an answer per decision asked
    assert [e.direction for e in entries[:2]] == ["out", "in"]
    assert json.loads(entries[0].raw)["request"] == {"idTag": "REMOTE-1"}
    assert entries[1].http_status == 200 and entries[1].fault_code is None
    fallbacks = [e for e in entries if e.fault_code == "fallback"]
    assert len(fallbacks) == 6 and {e.http_status for e in fallbacks} == {None, 500, 200}
