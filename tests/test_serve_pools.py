"""A real ``soapgw serve``: clients that send a byte now and then hold no worker (a Heartbeat
is answered while they trickle), and the web UI is served by other processes than the
stations, on the same port."""
from __future__ import annotations

import http.client
import os
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import command_env, soapgw_command
from soapgw.store.database import make_engine, writer_lock
from soap_messages import SERVICE_PATH, envelope

pytestmark = pytest.mark.slow

HEARTBEAT = envelope("CP-T", "<cs:heartbeatRequest/>", action="/Heartbeat")
CONTENT_TYPE = 'application/soap+xml; charset=utf-8; action="/Heartbeat"'
HEAD = (f"POST {SERVICE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {CONTENT_TYPE}\r\n"
        f"Content-Length: {len(HEARTBEAT)}\r\n\r\n").encode()


@pytest.fixture
def served(served_gateway, sqlite_url):
    assert soapgw_command("chargebox", "add", "CP-T",
                          env=command_env(sqlite_url)).returncode == 0
    url = served_gateway(sqlite_url, workers=1, serve_args=("--buffered",))
    return urlsplit(url).port


def heartbeat(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
                     + HEARTBEAT)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def still_open(sock: socket.socket) -> bool:
    """Neither closed nor answered by the server."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)


def test_a_heartbeat_is_answered_while_clients_trickle(served):
    """More trickling connections than the stations' pool has threads (1 worker x 8), half of
    them in the head, half in the body: gunicorn's sync worker served none of the Heartbeats
    until its 60 s timeout killed it."""
    request = HEAD + HEARTBEAT
    trickles, sent = [], 20
    for index in range(10):
        sock = socket.create_connection(("127.0.0.1", served), timeout=5)
        sock.sendall(request[:sent] if index % 2 else request[:len(HEAD) + sent])
        trickles.append(sock)
    try:
        for _ in range(3):
            for index, sock in enumerate(trickles):  # one byte more each
                at = sent if index % 2 else len(HEAD) + sent
                sock.sendall(request[at:at + 1])
            sent += 1
            started = time.monotonic()
            answer = heartbeat(served)
            assert answer.startswith(b"HTTP/1.1 200") and b"heartbeatResponse" in answer
            assert time.monotonic() - started < 5
        assert all(still_open(sock) for sock in trickles)
        # a trickled request is served once it is whole
        last = trickles[0]
        last.sendall(request[len(HEAD) + sent:])
        last.settimeout(10)
        assert last.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        for sock in trickles:
            sock.close()


def connection_holders(port: int, client_port: int) -> set[int]:
    """Processes holding the server's side of the TCP connection from ``client_port``."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1].endswith(f":{port:04X}") and fields[2].endswith(f":{client_port:04X}")
                and fields[9] != "0"):
            inodes.add(f"socket:[{fields[9]}]")
    holders = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    holders.add(int(pid))
        except OSError:
            continue
    return holders


def kept_alive_holder(port: int, method: str, path: str, body: bytes | None,
                      headers: dict) -> tuple[int, set[int]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body, headers)
        reply = connection.getresponse()
        reply.read()
        return reply.status, connection_holders(port, connection.sock.getsockname()[1])
    finally:
        connection.close()


def test_the_web_ui_and_the_stations_are_served_by_different_processes(served):
    ui = kept_alive_holder(served, "GET", "/login", None, {})
    station = kept_alive_holder(served, "POST", SERVICE_PATH, HEARTBEAT,
                                {"Content-Type": CONTENT_TYPE})
    api = kept_alive_holder(served, "GET", "/api/v1/chargepoints", None, {})
    assert ui[0] == 200 and station[0] == 200 and api[0] == 401
    assert len(ui[1]) == len(station[1]) == len(api[1]) == 1, (ui, station, api)
    assert ui[1] == api[1] and ui[1] != station[1]


def read_answer(stream) -> bytes:
    """One HTTP answer (head and Content-Length body) from a kept-alive connection's stream
    (``sock.makefile("rb")``: answers sent together may come in one segment)."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline()
        assert line, f"the server closed the connection after {head!r}"
        head += line
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    return head + stream.read(length)


def test_station_messages_kept_alive_and_pipelined(served):
    """The stations' short path (soapgw.station_http) keeps HTTP/1.1 connections, answers
    pipelined requests in order, and closes when the station asks for it."""
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock, \
            sock.makefile("rb") as stream:
        sock.sendall(HEAD + HEARTBEAT)
        first = read_answer(stream)
        assert first.startswith(b"HTTP/1.1 200") and b"Connection: keep-alive" in first
        sock.sendall((HEAD + HEARTBEAT) * 2)  # two at once
        answers = [read_answer(stream), read_answer(stream)]
        assert all(a.startswith(b"HTTP/1.1 200") and b"heartbeatResponse" in a
                   for a in answers)
        closing = HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1) + HEARTBEAT
        sock.sendall(closing)
        last = read_answer(stream)
        assert b"Connection: close" in last
        assert stream.read(1) == b""  # closed by the server


def test_a_client_that_never_closes_stalls_nobody(served):
    """A station that sends 'Connection: close' and then neither reads nor closes: gunicorn
    lingered for its FIN in the event loop, up to 2 s per such connection, while every
    other connection of the process waited."""
    closing = HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1) + HEARTBEAT
    silent = []
    try:
        for _ in range(10):
            sock = socket.create_connection(("127.0.0.1", served), timeout=5)
            sock.sendall(closing)
            silent.append(sock)
        started = time.monotonic()
        for _ in range(5):
            assert heartbeat(served).startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 2.0
    finally:
        for sock in silent:
            sock.close()


def test_odd_station_requests_still_go_gunicorns_way(served):
    """Not plain (a header name with an underscore, chunked framing): served by gunicorn's
    parser as before, which answers the chunked one and drops the odd header."""
    chunked = (f"POST {SERVICE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: {CONTENT_TYPE}\r\n"
               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    chunked += f"{len(HEARTBEAT):x}\r\n".encode() + HEARTBEAT + b"\r\n0\r\n\r\n"
    underscore = HEAD.replace(b"\r\n\r\n", b"\r\nX_Odd: 1\r\nConnection: close\r\n\r\n", 1)
    for request in (chunked, underscore + HEARTBEAT):
        with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and b"heartbeatResponse" in answer, answer


def _writer_lock(sqlite_url: str):
    """The SQLite writer lock every soapgw writer queues on (store.database): while this test
    holds it, a station message holds its thread."""
    return writer_lock(make_engine(sqlite_url))  # a file lock beside the database


def _waiting_for_the_lock(pids: set[int], timeout: float = 10.0) -> None:
    """Until one of ``pids`` waits for a file lock (a blocked request in /proc/locks): a
    thread of that worker runs the message."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = {int(line.split()[5]) for line in Path("/proc/locks").read_text().splitlines()
                   if " -> FLOCK " in line}
        if waiting & pids:
            return
        assert time.monotonic() < deadline, "no thread took the message"
        time.sleep(0.01)


def _held_by(port: int, sock: socket.socket, timeout: float = 5.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while not (holders := connection_holders(port, sock.getsockname()[1])):
        assert time.monotonic() < deadline, "no worker took the connection"
        time.sleep(0.02)
    return holders


def test_a_worker_whose_threads_are_busy_leaves_new_connections_to_the_others(
        served_gateway, sqlite_url):
    """1 thread per worker: while a message holds worker X's thread, the next connection is
    taken by worker Y, not queued behind it in X (both used to accept it, one at random)."""
    assert soapgw_command("chargebox", "add", "CP-T",
                          env=command_env(sqlite_url)).returncode == 0
    port = urlsplit(served_gateway(sqlite_url, workers=2,
                                   serve_args=("--threads", "1"))).port
    lock = _writer_lock(sqlite_url)
    for _ in range(5):
        first = second = None
        try:
            with lock:
                first = socket.create_connection(("127.0.0.1", port), timeout=10)
                first.sendall(HEAD + HEARTBEAT)
                held_first = _held_by(port, first)
                _waiting_for_the_lock(held_first)
                second = socket.create_connection(("127.0.0.1", port), timeout=10)
                second.sendall(HEAD + HEARTBEAT)
                held_second = _held_by(port, second)
                assert len(held_first) == len(held_second) == 1
                assert held_first != held_second
        finally:
            for sock in filter(None, (first, second)):
                with sock.makefile("rb") as stream:
                    assert read_answer(stream).startswith(b"HTTP/1.1 200")
                sock.close()


def test_the_web_ui_answers_while_the_stations_threads_are_stuck(served_gateway, sqlite_url):
    """A database that hangs holds every stations' thread; the worker still accepts after a
    moment, so the web UI (its own pool) answers."""
    assert soapgw_command("chargebox", "add", "CP-T",
                          env=command_env(sqlite_url)).returncode == 0
    port = urlsplit(served_gateway(sqlite_url, workers=1,
                                   serve_args=("--threads", "1"))).port
    stuck = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        with _writer_lock(sqlite_url):
            stuck.sendall(HEAD + HEARTBEAT)
            _waiting_for_the_lock(_held_by(port, stuck))
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/login")
            assert connection.getresponse().status == 200
            assert time.monotonic() - started < 3
            connection.close()
    finally:
        with stuck.makefile("rb") as stream:
            assert read_answer(stream).startswith(b"HTTP/1.1 200")
        stuck.close()
