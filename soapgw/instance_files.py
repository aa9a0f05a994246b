"""Secrets generated once into the instance folder (session signing key, webhook key, the
upstream passwords' key), shared by every process of the gateway."""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def generated_once(path: Path, make: Callable[[], bytes]) -> bytes:
    """The content of ``path``, made with ``make`` the first time. Several processes may
    start at once: each writes under a private name (mode 0600) and links it into place
    atomically, so all of them end up with the same content."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(make())
        try:
            os.link(temporary, path)  # fails when another process won the race: theirs counts
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_bytes().strip()
