"""A real ``soapgw serve`` (gunicorn): requests whose HTTP framing is broken are answered in
SOAP and journaled, and two instances on one machine do not share gunicorn's control socket."""
from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import create_engine, select

from soap_messages import SERVICE_PATH, envelope, fault_subcode
from soapgw.store.models import JournalEntry

pytestmark = pytest.mark.slow

BODY = envelope("CB1", "<cs:heartbeatRequest/>")


def raw_request(url: str, data: bytes) -> tuple[int, dict, bytes]:
    """Send ``data`` as is; returns (status, headers, body) of the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def head(extra: str) -> bytes:
    return (f"POST {SERVICE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/soap+xml; charset=utf-8\r\n{extra}\r\n").encode()


BROKEN = {
    "content-length not a number": head("Content-Length: abc\r\n") + BODY,
    "content-length negative": head("Content-Length: -5\r\n") + BODY,
    "two content-lengths": head(f"Content-Length: {len(BODY)}\r\nContent-Length: 3\r\n") + BODY,
    "chunk size not hex": (head("Transfer-Encoding: chunked\r\n") + b"ZZ\r\n" + BODY
                           + b"\r\n0\r\n\r\n"),
    "chunk without terminator": (head("Transfer-Encoding: chunked\r\n")
                                 + f"{len(BODY):x}\r\n".encode() + BODY + b"XX0\r\n\r\n"),
    "unknown transfer coding": head("Transfer-Encoding: bogus\r\n") + BODY,
}


def test_broken_framing_is_answered_in_soap_and_journaled(served_gateway, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    url = served_gateway(database_url)
    answers = {name: raw_request(url, data) for name, data in BROKEN.items()}
    wrong = {name: (status, headers.get("content-type"), body[:80])
             for name, (status, headers, body) in answers.items()
             if status != 400 or not headers.get("content-type", "").startswith(
                 "application/soap+xml") or fault_subcode(body) != "FormationViolation"}
    assert sorted(wrong) == [], wrong
    # the server keeps serving, and every one of them is in the journal (in and out)
    assert requests.get(url + SERVICE_PATH + "?wsdl", timeout=10).status_code == 200
    engine = create_engine(database_url)
    with engine.connect() as db:
        entries = db.execute(select(JournalEntry.direction, JournalEntry.fault_code,
                                    JournalEntry.http_status, JournalEntry.raw,
                                    JournalEntry.peer).order_by(JournalEntry.id)).all()
    engine.dispose()
    assert [(e.direction, e.fault_code, e.http_status) for e in entries] == [
        ("in", None, None), ("out", "FormationViolation", 400)] * len(BROKEN)
    incoming = [e for e in entries if e.direction == "in"]
    assert all(e.peer == "127.0.0.1" for e in incoming)
    # what could be read of the request is kept: its head (gunicorn refused it before the
    # body), or the head and body as read
    assert incoming[0].raw.startswith(f"POST {SERVICE_PATH} HTTP/1.1\r\n".encode())
    assert b"CONTENT-LENGTH: abc" in incoming[0].raw


def test_two_instances_do_not_share_a_control_socket(served_gateway, tmp_path):
    """gunicorn >= 25.1 puts its control socket at one path per user; soapgw opens none."""
    home, runtime = tmp_path / "home", tmp_path / "run"
    home.mkdir()
    runtime.mkdir()
    urls = [served_gateway(f"sqlite:///{tmp_path / f'db{i}.db'}", HOME=str(home),
                           XDG_RUNTIME_DIR=str(runtime)) for i in range(2)]
    for url in urls:
        assert requests.get(url + SERVICE_PATH + "?wsdl", timeout=10).status_code == 200
    sockets = list(runtime.rglob("*.ctl")) + list(home.rglob("*.ctl"))
    assert sockets == []


def test_a_helper_restarts_while_workers_are_being_forked(monkeypatch):
    """gunicorn forks workers (no exec) while the helpers' threads start processes: a worker
    forked during a Popen inherited the pipe Popen waits on for its child's exec, that Popen
    hung as long as the worker lived, and the helper was never restarted (seen: the bridge
    after a kill -9)."""
    import os
    import time

    from soapgw.server import Helpers

    helpers = Helpers([["--help"]])  # exits at once: restarted again and again
    monkeypatch.setattr(Helpers, "RESTART_DELAY", 0.05)
    helpers.start()
    forked, deadline = [], time.monotonic() + 4
    try:
        while time.monotonic() < deadline:  # a "worker" that lives 120 s, forked every 20 ms
            pid = os.fork()
            if pid == 0:
                time.sleep(120)
                os._exit(0)
            forked.append(pid)
            time.sleep(0.02)
        started = {id(p) for p in helpers.processes.values()}
        seen = set(started)
        until = time.monotonic() + 60  # each restart is a Python start: slow on a busy machine
        while time.monotonic() < until and len(seen) < len(started) + 3:
            seen |= {id(p) for p in helpers.processes.values()}
            time.sleep(0.05)
        assert len(seen) >= len(started) + 3, "the helper stopped being restarted"
    finally:
        helpers.stop()
        for pid in forked:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
