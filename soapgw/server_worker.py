"""The gunicorn workers of ``soapgw serve``. ``SyncWorker`` (``soapgw serve --sync``) is
gunicorn's sync worker. ``GatewayWorker`` (the default) is gunicorn's threaded worker, except
that

- a request is read whole in the worker's event loop, under deadlines and size limits,
  before a thread runs the application: a client that sends one byte a second holds a
  socket, not a thread (gunicorn's sync worker waited for it until its 60 s timeout);
- in the stations' pool, a request whose path is not under /services/ (the web UI, the API)
  is handed, socket and bytes read so far, to the UI pool's processes over a Unix socket: UI
  load cannot take the stations' capacity, nor the reverse, on one port;
- requests gunicorn cannot frame get a SOAP Fault, journaled (``framing_error``), not
  gunicorn's HTML page;
- a worker whose threads all have a request accepts no new connection until one is free:
  the next one waits in the kernel's queue, where any worker with a free thread takes it,
  instead of behind this worker's requests (connections being read take no thread, so
  slow clients still never stop the accepting). After BUSY_GATE_MAX it accepts again
  anyway: threads stuck on a database that hangs must not make the web UI unreachable.
"""
from __future__ import annotations

import selectors
import socket
import time
from functools import partial

from gunicorn import http
from gunicorn.http.errors import (InvalidResponseHeader, InvalidResponseHeaderName,
                                  ParseException)
from gunicorn.workers import sync
from gunicorn.workers.gthread import TConn, ThreadWorker

from soapgw.request_framing import RequestBuffer
from soapgw.station_http import StationRequest, close_promptly, respond, station_request

SERVICES = "/services/"
HEAD_LIMIT = 64 * 1024
BODY_LIMIT = 4 * 1024 * 1024  # larger bodies go to a thread as they come (never a station's)
HEAD_TIMEOUT = 10.0  # seconds for a request's head, from the connection (or its last answer)
BODY_TIMEOUT = 30.0  # seconds for the body once the head is in, plus a second per MIN_RATE
MIN_RATE = 10_000  # bytes per second a large body must at least come at
HANDOFF_BUFFER = 1024 * 1024
BUSY_GATE_MAX = 0.1  # seconds a worker with busy threads leaves new connections to others

TIMEOUT_ANSWER = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                  b"Content-Length: 0\r\n\r\n")
BUSY_ANSWER = (b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n"
               b"Content-Length: 0\r\n\r\n")


class Pools:
    """Roles of the workers of one arbiter: ``ui`` workers serve what ``stations`` workers
    hand them over ``channel`` (a datagram socket pair made before the fork); without UI
    workers every worker serves everything."""

    def __init__(self, ui_workers: int):
        self.ui_workers = ui_workers
        self.channel = (socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
                        if ui_workers else None)
        if self.channel:
            for end in self.channel:
                end.setblocking(False)
            try:
                self.channel[0].setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, HANDOFF_BUFFER)
            except OSError:
                pass

    def assign(self, arbiter, worker) -> None:
        """gunicorn's pre_fork hook: a new worker takes the role its pool is short of."""
        if not self.channel:
            worker.role = "all"
            return
        ui = sum(getattr(w, "role", None) == "ui" for w in arbiter.WORKERS.values())
        worker.role = "ui" if ui < self.ui_workers else "stations"
        worker.channel = self.channel


class Reading:
    """A connection whose request is being read in the event loop."""

    def __init__(self, data: bytes = b""):
        self.buffer = RequestBuffer(HEAD_LIMIT, BODY_LIMIT, data)
        self.deadline = time.monotonic() + HEAD_TIMEOUT
        self.body_timed = False
        self.continued = False


class FramingErrors:
    """Requests gunicorn cannot frame before they reach the application (a Content-Length
    that is not a number, conflicting lengths, a bad request line or header) are answered
    with a SOAP Fault and journaled by the application (``framing_error``), not with
    gunicorn's HTML page. A bad chunk inside the body reaches the application itself, which
    answers it the same way."""

    def handle_error(self, req, client, addr, exc):
        request = req or getattr(exc, "req", None)
        answer = getattr(self.wsgi, "framing_error", None)
        path = getattr(request, "path", None) or ""
        if (answer is None or not isinstance(exc, ParseException)
                or isinstance(exc, (InvalidResponseHeader, InvalidResponseHeaderName))
                or (path and not path.startswith(SERVICES))):
            return super().handle_error(req, client, addr, exc)
        peer = addr[0] if addr and isinstance(addr, tuple) else None
        self.log.warning("Invalid request from ip=%s: %s", peer, exc)
        try:
            status, content_type, body = answer(peer, request_head(request),
                                                str(exc) or type(exc).__name__)
            head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
            client.sendall(head.encode("latin-1") + body)
        except Exception:  # noqa: BLE001  (the client is gone: nothing left to answer)
            self.log.debug("Failed to send the framing error answer.", exc_info=True)


class SyncWorker(FramingErrors, sync.SyncWorker):
    """gunicorn's sync worker (the default of ``soapgw serve``): a request holds its worker
    while it is read, however slowly it comes."""


class GatewayWorker(FramingErrors, ThreadWorker):
    role = "all"
    channel: tuple[socket.socket, socket.socket] | None = None

    def init_process(self):
        self.reading: dict[TConn, Reading] = {}
        self.in_threads = 0  # requests given to the threads and not finished
        self.busy_since = 0.0  # when the threads' being busy stopped the accepting
        if self.channel and self.role == "ui":
            self.channel[0].close()  # the stations' end
        super().init_process()

    # ---- where connections come from
    def set_accept_enabled(self, enabled):
        if self.role != "ui":
            if enabled and self.threads_busy() and \
                    time.monotonic() - self.busy_since < BUSY_GATE_MAX:
                return  # asked again at every turn of the loop: when a thread is free
            return super().set_accept_enabled(enabled)
        if enabled != self._accepting:  # UI workers take handed-over connections only
            if enabled:
                self.poller.register(self.channel[1], selectors.EVENT_READ, self.take_handoff)
            else:
                self.poller.unregister(self.channel[1])
            self._accepting = enabled

    def take_handoff(self, channel) -> None:
        for _ in range(16):
            if self.nr_conns >= self.worker_connections:
                return
            try:
                data, fds, _flags, _ = socket.recv_fds(channel, HEAD_LIMIT * 4, 1)
            except (BlockingIOError, InterruptedError):
                return
            if not fds:
                continue
            sock = socket.socket(fileno=fds[0])
            try:
                client, server = sock.getpeername(), sock.getsockname()
            except OSError:  # gone meanwhile
                sock.close()
                continue
            self.nr_conns += 1
            self.read_request(TConn(self.cfg, sock, client, server), data)

    # ---- reading requests in the event loop
    def enqueue_req(self, conn):
        """Every way a connection comes to be served (accepted, kept alive, read ahead)
        passes here: its request is read first, then a thread gets it."""
        if getattr(conn, "request_read", False):
            conn.request_read = False
            self.in_threads += 1
            if self.role != "ui" and self._accepting and self.threads_busy():
                self.busy_since = time.monotonic()
                super().set_accept_enabled(False)
            return super().enqueue_req(conn)
        seed = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        self.read_request(conn, seed)

    def read_request(self, conn: TConn, data: bytes) -> None:
        conn.sock.setblocking(False)
        state = self.reading[conn] = Reading(data)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_bytes, conn))
        if data:
            self.progress(conn, state)
        else:  # the request often came with the connection: spare a turn of the loop
            self.on_bytes(conn, conn.sock)

    def on_bytes(self, conn: TConn, sock) -> None:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.drop(conn)
            return
        state = self.reading[conn]
        state.buffer.feed(data)
        self.progress(conn, state)

    def progress(self, conn: TConn, state: Reading) -> None:
        head = state.buffer.head
        if head is not None and self.role == "stations" and not head.path.startswith(SERVICES):
            self.hand_over(conn, state)
            return
        if state.buffer.ready:
            self.dispatch(conn, state)
            return
        if head is not None and not state.body_timed:
            state.body_timed = True
            state.deadline = time.monotonic() + BODY_TIMEOUT + (head.length or 0) / MIN_RATE
        if head is not None and head.expects_continue and not state.continued:
            state.continued = True
            try:
                conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            except OSError:
                pass

    def dispatch(self, conn: TConn, state: Reading) -> None:
        self.forget(conn)
        conn.sock.setblocking(True)
        head = state.buffer.head
        if (head is not None and head.method == "POST" and head.path.startswith(SERVICES)
                and head.length is not None and not head.expects_continue):
            request = station_request(bytes(state.buffer.data), head.end, head.length,
                                      conn.client, conn.server)
            if request is not None:  # a plain station message: no gunicorn objects
                conn.station_request = request
                conn.request_read = True
                self.enqueue_req(conn)
                return
        conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(state.buffer.without_expect_continue())
        conn.initialized = conn.data_ready = conn.request_read = True
        self.enqueue_req(conn)

    def hand_over(self, conn: TConn, state: Reading) -> None:
        """To the UI pool: the socket and the bytes read so far (the UI worker reads on)."""
        self.forget(conn)
        try:
            socket.send_fds(self.channel[0], [bytes(state.buffer.data)], [conn.sock.fileno()])
        except OSError:  # the UI pool's queue is full (or it is gone): it is busy
            self.answer_and_close(conn, BUSY_ANSWER)
            return
        self.nr_conns -= 1
        conn.close()  # this process's descriptor; the UI worker has its own

    # ---- serving, in the threads
    def handle(self, conn):
        request = getattr(conn, "station_request", None)
        if request is None:
            keep = super().handle(conn)
        else:
            conn.station_request = None
            keep = self.serve_station(conn, request)
        if keep is False:
            # gunicorn would close in the event loop, lingering until the client's FIN (up
            # to 2 s, with every other connection of the process waiting): closed here, now
            close_promptly(conn.sock)
            conn.closed_here = True
        return keep

    def serve_station(self, conn: TConn, request: StationRequest) -> bool:
        """A plain station message (soapgw.station_http); whether the connection stays."""
        self.nr += 1
        if self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
        keep = (request.keep_alive and self.alive and self.cfg.keepalive > 0
                and len(self.keepalived_conns) < self.max_keepalived)
        try:
            respond(self.wsgi, request, conn.sock, keep)
        except OSError:  # the station is gone
            return False
        except Exception:  # noqa: BLE001  (the app answers every message itself: a bug)
            self.log.exception("Error handling a station request")
            try:
                conn.sock.sendall(b"HTTP/1.1 500 Internal Server Error\r\nConnection: close"
                                  b"\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass
            return False
        if keep:
            conn.parser = None  # the next request is read in the event loop, from scratch
            conn.leftover = request.leftover
        return keep

    def threads_busy(self) -> bool:
        return self.in_threads >= self.cfg.threads

    def finish_request(self, conn, fs):
        self.in_threads -= 1
        if getattr(conn, "closed_here", False):
            self.nr_conns -= 1
            return
        leftover = getattr(conn, "leftover", None)
        if leftover is None or fs.cancelled():
            return super().finish_request(conn, fs)
        conn.leftover = None
        if leftover:  # the station sent its next request already
            self.read_request(conn, leftover)
            return
        conn.sock.setblocking(False)
        conn.set_timeout()
        self.keepalived_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self.on_client_socket_readable, conn))

    def forget(self, conn: TConn) -> None:
        del self.reading[conn]
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def drop(self, conn: TConn) -> None:
        self.forget(conn)
        self.nr_conns -= 1
        conn.close()

    def answer_and_close(self, conn: TConn, answer: bytes) -> None:
        try:
            conn.sock.send(answer)
        except OSError:
            pass
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        """Besides gunicorn's own: requests not read whole by their deadline are cut off."""
        super().murder_pending()
        now = time.monotonic()
        # a stopping worker waits for requests being read, not for idle connections
        late = [conn for conn, state in self.reading.items()
                if state.deadline <= now or not (self.alive or state.buffer.data)]
        for conn in late:
            started = bool(self.reading[conn].buffer.data)
            self.forget(conn)
            if started:
                self.answer_and_close(conn, TIMEOUT_ANSWER)
            else:  # an idle connection: closed without a word, as keep-alive ones are
                self.nr_conns -= 1
                conn.close()


def request_head(request) -> bytes:
    """What gunicorn read of an unframeable request (its body is never read)."""
    if request is None or getattr(request, "method", None) is None:
        return b""
    version = request.version or (1, 1)
    lines = [f"{request.method} {request.uri} HTTP/{version[0]}.{version[1]}"]
    lines += [f"{name}: {value}" for name, value in request.headers or ()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
