"""The garbage collector's settings for a process that serves messages for long."""
from __future__ import annotations

import gc


def settle_heap() -> None:
    """Call once the application is loaded. Its modules and definitions (spyne, zeep,
    SQLAlchemy, Flask: some 175,000 long-lived objects) are frozen out of the collector's
    reach, and young objects are collected less often: otherwise every full collection walks
    them all again, about 30 ms of a MeterValues of 6,600 sampled values (103 against 74 ms,
    benchmarks/hostile_shapes.py) and 10-30% of the CPU per message over HTTP."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
