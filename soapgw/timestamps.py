"""Reading and writing OCPP timestamps: UTC everywhere, tolerant of what stations send."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# xs:dateTime, plus what stations send: no zone, any number of fraction digits, a space for T.
_DATETIME = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?\s*$")


class TimestampError(ValueError):
    """The text is not a date and time that exists."""


def parse_timestamp(text: str) -> tuple[datetime, bool]:
    """Parse an xs:dateTime leniently into an aware UTC datetime.

    Returns ``(value, had_zone)``; a timestamp without zone is read as UTC. Fractions beyond
    microseconds are truncated. Raises TimestampError for text that is no possible date.
    """
    match = _DATETIME.match(text or "")
    if not match:
        raise TimestampError(f"not a date and time: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        value = datetime(int(year), int(month), int(day), int(hour), int(minute),
                         int(second or 0), micro, tzinfo=timezone.utc)
    except ValueError as exc:
        raise TimestampError(f"impossible date and time {text.strip()!r}: {exc}") from None
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        try:
            value -= timedelta(minutes=offset)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is in the year 0 in UTC
            raise TimestampError(f"{text.strip()!r} is out of the range of dates in UTC"
                                 ) from None
    return value, zone is not None


def utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def now() -> datetime:
    return datetime.now(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """xs:dateTime in UTC with an explicit ``Z`` (milliseconds kept when present).

    isoformat, not strftime: strftime costs several µs (and writes the year 1 as ``1``), and
    every reply and event has a timestamp, a long meter value list thousands."""
    v = utc(value).replace(tzinfo=None)
    return v.isoformat("T", "milliseconds" if v.microsecond else "seconds") + "Z"
