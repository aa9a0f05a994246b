"""The loop of a background worker that works in rounds (webhook and mail dispatchers)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable


def run_rounds(stop: threading.Event, one_round: Callable[[], int], poll: float,
               log: logging.Logger, what: str) -> None:
    """Call ``one_round`` (it returns how much it handled) until ``stop`` is set, waiting
    ``poll`` seconds after a round with nothing to do; a failing round (the database is away)
    is logged and tried again after the wait."""
    while not stop.is_set():
        try:
            worked = one_round()
        except Exception:  # noqa: BLE001  (the database may be away: try again)
            log.exception("%s round failed", what)
            worked = 0
        if not worked:
            stop.wait(poll)
