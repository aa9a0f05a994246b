"""Whether a station is online, derived from its last contact and the heartbeat interval."""
from __future__ import annotations

from datetime import datetime, timedelta

from soapgw.timestamps import now, utc

GRACE = timedelta(seconds=60)  # network delays and a station's clock drift


def online_cutoff(heartbeat_interval: int, at: datetime | None = None) -> datetime:
    """Stations heard from after this moment are online.

    Two intervals and a grace: one missed heartbeat is not yet an outage. Any message counts
    as contact (a station may skip a heartbeat when it sent something else meanwhile), so this
    compares against last_message_at, which is never older than last_heartbeat_at.
    """
    return (at or now()) - 2 * timedelta(seconds=heartbeat_interval) - GRACE


def is_online(last_contact: datetime | None, heartbeat_interval: int,
              at: datetime | None = None) -> bool:
    return last_contact is not None and utc(last_contact) >= online_cutoff(heartbeat_interval, at)
