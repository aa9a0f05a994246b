"""A webhook receiver for the tests: a real HTTP server on 127.0.0.1 that verifies each
delivery with the ``standardwebhooks`` package (not soapgw's code) and can be "down"."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


class Receiver:
    def __init__(self, secret: str | None = None):
        self.secret = secret
        self.down = False  # answer 503 while True
        self.accepted: list[tuple[str, dict]] = []  # (webhook-id, body) answered 200
        self.refused = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    if receiver.down:
                        receiver.refused += 1
                        self._answer(503, b"maintenance")
                        return
                    try:
                        payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                    except Exception:  # noqa: BLE001
                        receiver.bad_signatures += 1
                        self._answer(401, b"bad signature")
                        return
                    receiver.accepted.append((self.headers["webhook-id"], payload))
                self._answer(200, b"ok")

            def _answer(self, status: int, text: bytes):
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/soapgw?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def event_ids(self) -> list[int]:
        with self.lock:
            return [body["data"]["id"] for _, body in self.accepted]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def as_json(text: str) -> dict:
    return json.loads(text)
