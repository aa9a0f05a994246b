"""The wake-up bell between the SOAP workers and the bridge.

A worker rings after committing a station message (one datagram on a Unix socket in the
instance folder, sent without waiting); the bridge copies the outbox at once instead of at
its next poll. The poll stays, slower, as the safety net: a lost or unsent datagram (no
bridge yet, a full socket buffer) only delays a message until then.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from pathlib import Path

from soapgw.bridge.advisor import socket_path

SOCKET_NAME = "bridge-wake.sock"


QUIET_AFTER_MISS = 1.0  # seconds without ringing once no bridge answered the bell


class WakeBell:
    """The worker's side: ``ring()`` after a commit; never blocks, never fails. Every SOAP
    message passes here: where no bridge runs, it tries once a second, not once a message."""

    def __init__(self, instance_path: Path):
        self.path = socket_path(instance_path, SOCKET_NAME)
        self._socket: socket.socket | None = None
        self._quiet_until = 0.0

    def ring(self) -> None:
        if self._quiet_until and time.monotonic() < self._quiet_until:
            return
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            self._socket.sendto(b"!", self.path)
            self._quiet_until = 0.0
        except BlockingIOError:  # its buffer is full: it has been woken already
            pass
        except OSError:  # no bridge listening: the poll finds the message, ring again later
            self._quiet_until = time.monotonic() + QUIET_AFTER_MISS


class WakeListener:
    """The bridge's side: ``rung`` is set when a datagram arrived."""

    def __init__(self, instance_path: Path):
        self.path = socket_path(instance_path, SOCKET_NAME)
        self.rung = asyncio.Event()
        self._socket: socket.socket | None = None

    def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # left by a bridge that was killed
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        old = os.umask(0o177)  # only this user's processes may ring
        try:
            sock.bind(self.path)
        finally:
            os.umask(old)
        sock.setblocking(False)
        self._socket = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._drain)

    def _drain(self) -> None:
        try:
            while True:
                self._socket.recv(64)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            return
        self.rung.set()

    def close(self) -> None:
        if self._socket is not None:
            asyncio.get_running_loop().remove_reader(self._socket.fileno())
            self._socket.close()
            self._socket = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
