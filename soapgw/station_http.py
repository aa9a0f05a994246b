"""A station's SOAP POST, already read whole, served without gunicorn's per-request objects.

The buffered worker (soapgw.server_worker) reads every request whole in its event loop, so by
the time a thread runs a station's message its bytes are in memory and their framing was
checked (request_framing). gunicorn's threaded path would parse them again, build its Request
and Response objects and close the connection by lingering in the event loop until the
station's FIN (up to 2 s per connection: every other connection of the process waits
meanwhile). For plain requests (POST under /services/, Content-Length, HTTP/1.x, header
names that are tokens without underscores) this module builds the WSGI environ and writes
the reply itself; anything else goes gunicorn's way as before.
"""
from __future__ import annotations

import io
import re
import socket
import sys
import time
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import unquote

SERVICES = "/services/"
_TOKEN = re.compile(r"^[!#$%&'*+.^`|~0-9A-Za-z-]+$")  # RFC 9110 token, no underscore
_DRAIN = 64 * 1024


@dataclass
class StationRequest:
    environ: dict
    keep_alive: bool  # what the client asked for (HTTP/1.1 without Connection: close)
    leftover: bytes  # bytes after this request (a pipelined next one)


def station_request(data: bytes, end: int, length: int, client, server,
                    url_scheme: str = "http") -> StationRequest | None:
    """The environ of a plain station POST (head up to ``end``, body of ``length`` bytes);
    None when anything is not plain (gunicorn's parser then judges it)."""
    lines = data[:end].decode("latin-1").split("\r\n")
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        return None
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[0] != "POST" or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        return None
    target, _, query = parts[1].partition("?")
    if not target.startswith(SERVICES):
        return None
    environ = {"REQUEST_METHOD": "POST", "SCRIPT_NAME": "",
               "PATH_INFO": unquote(target, encoding="latin-1"), "QUERY_STRING": query,
               "SERVER_PROTOCOL": parts[2], "RAW_URI": parts[1]}
    connection = ""
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.match(name):  # folded lines, odd names: not plain
            return None
        name, value = name.upper(), value.strip(" \t")
        if name == "CONTENT-LENGTH":
            key = "CONTENT_LENGTH"
        elif name == "CONTENT-TYPE":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + name.replace("-", "_")
            if name == "CONNECTION":
                connection = value.lower()
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    body = data[end:end + length]
    host, port = (server[0], server[1]) if isinstance(server, tuple) else (str(server), "")
    environ.update({
        "CONTENT_LENGTH": str(length), "SERVER_NAME": str(host), "SERVER_PORT": str(port),
        "REMOTE_ADDR": client[0] if isinstance(client, tuple) else str(client),
        "REMOTE_PORT": str(client[1]) if isinstance(client, tuple) else "",
        "wsgi.version": (1, 0), "wsgi.url_scheme": url_scheme, "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False, "wsgi.input_terminated": True})
    tokens = {token.strip() for token in connection.split(",")}
    keep_alive = ("keep-alive" in tokens if parts[2] == "HTTP/1.0" else "close" not in tokens)
    return StationRequest(environ, keep_alive, bytes(data[end + length:]))


def respond(app, request: StationRequest, sock: socket.socket, keep_alive: bool) -> None:
    """Run the WSGI app and send its answer (the app gives a Content-Length)."""
    started: list = []

    def start_response(status, headers, exc_info=None):
        started[:] = [status, headers]
        return lambda chunk: None  # the write() callable: our app never uses it

    body_parts = app(request.environ, start_response)
    try:
        body = b"".join(body_parts)
    finally:
        if hasattr(body_parts, "close"):
            body_parts.close()
    status, headers = started
    head = [f"HTTP/1.1 {status}", f"Date: {_http_date()}",
            f"Connection: {'keep-alive' if keep_alive else 'close'}"]
    head += [f"{name}: {value}" for name, value in headers]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


_DATE = [0, ""]  # the Date header of the current second (formatting it cost 5% of a message)


def _http_date() -> str:
    second = int(time.time())
    if _DATE[0] != second:
        _DATE[:] = [second, formatdate(second, usegmt=True)]
    return _DATE[1]


def close_promptly(sock: socket.socket) -> None:
    """Close after an answer without waiting for the client: the request was read whole, so
    nothing is left unread for the kernel to answer with a reset, but for what a client may
    have sent after it, which is drained first (without waiting for more)."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.setblocking(False)
        drained = 0
        while drained < _DRAIN:
            chunk = sock.recv(4096)
            if not chunk:
                break
            drained += len(chunk)
    except OSError:  # nothing waiting (BlockingIOError), or the client is gone
        pass
    finally:
        sock.close()
