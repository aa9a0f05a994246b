"""A handled message leaves no reference cycles behind.

Objects in cycles are only freed by Python's cyclic garbage collector, whose passes in a busy
gunicorn worker took 30-60 ms each (the HTTP benchmark's p99). spyne's per-request contexts
and its event manager made about 60 such objects per message until soapgw cut them; this
keeps it that way, for every OCPP 1.6 operation, for refusals and faults, and for OCPP 1.5.
The count runs in a fresh interpreter (garbage_probe.py): threads other tests leave behind
could otherwise add cycles of their own.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from garbage_probe import operations_16

PROBE = Path(__file__).with_name("garbage_probe.py")


@pytest.fixture
def station(seed):
    seed.station("CB-GC")
    seed.tag("TAG-GC", max_active_transactions=0)
    return "CB-GC"


@pytest.mark.smoke
def test_no_message_leaves_reference_cycles(settings, gateway, station):
    done = subprocess.run([sys.executable, str(PROBE), settings.database_url, station,
                           "TAG-GC"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert set(results) == {*operations_16("T"), "refused and OCPP 1.5"}
    for label, result in results.items():
        assert result["garbage"] == 0, f"{label}: {result['garbage']} objects in reference " \
                                       f"cycles: {result['kinds']}"
        if label != "refused and OCPP 1.5":
            assert result["statuses"] == ["200 OK"] * 3, (label, result["statuses"])
    refused = results["refused and OCPP 1.5"]["statuses"]
    assert refused[0] == "200 OK" and refused[2] == "200 OK"  # 1.5, unknown element dropped
    assert [s[:3] for s in refused[1:2] + refused[3:]] == ["400"] * 4, refused
