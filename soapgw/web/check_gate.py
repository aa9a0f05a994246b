"""One password check at a time in the whole server (every worker process).

A scrypt check holds a sync worker ~70 ms; two guessers hashing at once would hold both
workers and every station waits. The gate is a non-blocking lock on a file in the instance
folder (``flock``; the lock goes with the process if it dies): a sign-in that finds another
check running is answered "retry in a second" at once, never queued inside a worker.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Unix (gunicorn needs Unix anyway): no gate
    fcntl = None

LOCK_FILE = "sign-in.lock"


class CheckGate:
    def __init__(self, instance_path: Path):
        self.path = Path(instance_path) / LOCK_FILE

    @contextmanager
    def enter(self):
        """Yields True when this process may check a password now, else False at once."""
        if fcntl is None:
            yield True
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)
