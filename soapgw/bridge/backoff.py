"""Reconnect delays: exponential with jitter, 1 s up to 5 min; short once the station had
been connected (the central system came back: reconnect within a minute); long after a
handshake the central system refused (401/403/404: no reconnect storm)."""
from __future__ import annotations

import random

FIRST, LONGEST = 1.0, 300.0
AFTER_CONNECTED = 30.0  # cap while the central system was reachable before
REFUSED = 300.0


class Backoff:
    def __init__(self, rng: random.Random | None = None):
        self.failures = 0
        self.was_connected = False
        self.rng = rng or random.Random()

    def connected(self) -> None:
        self.failures = 0
        self.was_connected = True

    def next_delay(self, refused: bool = False) -> float:
        """The delay before the next try, after a failed one."""
        self.failures += 1
        if refused:
            return REFUSED * self.rng.uniform(0.8, 1.0)
        cap = AFTER_CONNECTED if self.was_connected else LONGEST
        delay = min(cap, FIRST * 2 ** (self.failures - 1))
        return max(FIRST * 0.5, delay * self.rng.uniform(0.5, 1.0))
