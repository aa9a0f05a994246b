"""Pure functions of the core: timestamps and callback addresses."""
from datetime import datetime, timezone

import pytest

from soapgw.core.endpoints import derive_callback
from soapgw.timestamps import TimestampError, format_timestamp, parse_timestamp

UTC = timezone.utc


@pytest.mark.smoke
@pytest.mark.parametrize("text, expected, zoned", [
    ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), True),
    ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), False),
    ("2026-01-02T03:04:05.123Z", datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC), True),
    ("2026-01-02T03:04:05.1234567Z", datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), True),
    ("2026-01-02T05:04:05+02:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), True),
    ("2026-01-02T00:04:05-0300", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), True),
    (" 2026-01-02 03:04 ", datetime(2026, 1, 2, 3, 4, tzinfo=UTC), False),
])
def test_timestamps_are_read_leniently_as_utc(text, expected, zoned):
    assert parse_timestamp(text) == (expected, zoned)


@pytest.mark.parametrize("text", ["2022-02-29T10:00:00Z", "2026-13-01T00:00:00Z", "yesterday",
                                  "", "2026-01-01T25:00:00Z"])
def test_impossible_timestamps_are_refused(text):
    with pytest.raises(TimestampError):
        parse_timestamp(text)


def test_timestamps_are_written_in_utc_with_zone():
    value = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert format_timestamp(value) == "2026-01-02T03:04:05.678Z"
    assert format_timestamp(value.replace(microsecond=0)) == "2026-01-02T03:04:05Z"


@pytest.mark.parametrize("from_address, reply_to, peer, address, source, quirk", [
    ("http://10.0.0.5:8080/cp", None, "10.0.0.5", "http://10.0.0.5:8080/cp", "wsa:From", None),
    ("http://:8082/", None, "10.0.0.7", "http://10.0.0.7:8082/", "wsa:From", "endpoint-empty-host"),
    ("http://localhost:8080/", None, "10.0.0.7", "http://10.0.0.7:8080/", "wsa:From",
     "endpoint-localhost"),
    ("localhost:8095", None, "10.0.0.7", "http://10.0.0.7:8095/", "wsa:From",
     "endpoint-localhost"),
    ("10.1.2.3:8095/ocpp", None, "10.0.0.7", "http://10.1.2.3:8095/ocpp", "wsa:From",
     "endpoint-without-scheme"),
    ("anonymous", "http://10.0.0.9/cp", "10.0.0.7", "http://10.0.0.9/cp", "wsa:ReplyTo",
     "anonymous"),
    (None, "http://www.w3.org/2005/08/addressing/anonymous", "10.0.0.7", None, None, "anonymous"),
    ("ftp://10.0.0.1/", None, "10.0.0.7", None, None, "endpoint-bad-scheme"),
    ("http://localhost:9/cp", None, "127.0.0.1", "http://localhost:9/cp", "wsa:From", None),
])
def test_callback_address_is_learnt_with_fallbacks(from_address, reply_to, peer, address,
                                                    source, quirk):
    callback = derive_callback(from_address, reply_to, peer)
    assert (callback.address, callback.source, callback.quirk) == (address, source, quirk)
