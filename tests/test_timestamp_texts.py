"""The timestamp texts written on the per-message paths (isoformat based) are those of the
plain field-by-field formatting they replaced, for every kind of datetime a station can send."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from soapgw.soap.reader import _exact
from soapgw.store.types import sqlite_datetime
from soapgw.timestamps import format_timestamp, utc


def _fields(v: datetime) -> str:
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:"
            f"{v.second:02d}")


def reference_xs(value: datetime) -> str:
    v = utc(value)
    return f"{_fields(v)}.{v.microsecond // 1000:03d}Z" if v.microsecond else f"{_fields(v)}Z"


def reference_exact(value: datetime) -> str:
    return f"{_fields(value)}.{value.microsecond:06d}Z" if value.microsecond else \
        f"{_fields(value)}Z"


def reference_sqlite(value: datetime) -> str:
    v = utc(value)
    return _fields(v).replace("T", " ") + f".{v.microsecond:06d}"


def moments() -> list[datetime]:
    chosen = random.Random(14)
    zones = [timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5,
                                                                             minutes=-30))]
    edges = [datetime(1, 1, 1, 0, 0, 0, micro) for micro in (0, 1, 999, 1000, 999_999)]
    edges += [datetime(9999, 12, 31, 23, 59, 59, 999_999), datetime(2026, 3, 1, 10, 0)]
    values = [*edges, *(edge.replace(tzinfo=timezone.utc) for edge in edges)]
    for _ in range(2_000):
        value = datetime(chosen.randint(2, 9998), chosen.randint(1, 12), chosen.randint(1, 28),
                         chosen.randint(0, 23), chosen.randint(0, 59), chosen.randint(0, 59),
                         chosen.choice([0, chosen.randint(0, 999_999), 1000 * chosen.randint(
                             0, 999)]))
        values.append(value)
        values.append(value.replace(tzinfo=chosen.choice(zones)))
    return values


def test_formats_equal_their_references():
    for value in moments():
        assert format_timestamp(value) == reference_xs(value), value
        assert sqlite_datetime(value) == reference_sqlite(value), value
        in_utc = utc(value)  # the reader formats what parse_timestamp gave: aware UTC
        assert _exact(in_utc) == reference_exact(in_utc), value
