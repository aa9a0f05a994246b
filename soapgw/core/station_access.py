"""Applying station authentication to each message (soapgw.core.station_auth decides):
the policy of a station, password checks that do not cost scrypt per message, the record of
refusals and of a station speaking from a new address."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, func, update

from soapgw.core import events
from soapgw.core.call import StationCall
from soapgw.core.enums import EventType
from soapgw.core.errors import ErrorCode, OcppError
from soapgw.core.passwords import password_matches
from soapgw.core.station_auth import (Presented, StationPolicy, StationVerdict, in_networks,
                                      judge_station, parse_networks)
from soapgw.core.station_columns import update_station
from soapgw.store.database import Db
from soapgw.store.models import ChargeBox

log = logging.getLogger(__name__)
_TABLE = ChargeBox.__table__


class StationRefused(OcppError):
    """A message that may not speak as its station: a SecurityError answered with the
    verdict's HTTP status. Whoever runs the message rolls its transaction back (a refused
    message changes nothing: not even the station's last contact) and then calls
    :func:`record_auth_refusal`."""

    def __init__(self, charge_box_id: str, station_pk: int | None, verdict: StationVerdict):
        super().__init__(ErrorCode.SECURITY_ERROR, verdict.reason)
        self.charge_box_id, self.station_pk, self.verdict = charge_box_id, station_pk, verdict


class PasswordVerifier:
    """``verify(password_hash, password)`` with the results kept in a small LRU.

    Checking a scrypt hash takes ~70 ms of CPU: once per message it would cut a worker's
    Heartbeat rate to ~14/s. A station sends the same password every time, so the result is
    kept per (hash, keyed digest of the presented password): a new password hash (password
    changed) or another password is checked afresh. The digest is an HMAC under a key made
    per process, so no plain hash of a password stays in memory.

    Guessing: past ``max_failures`` wrong passwords within ``window`` seconds for one hash,
    further unseen passwords are answered "wrong" without paying for scrypt (the station's
    own, already known, password still passes).
    """

    def __init__(self, check: Callable[[str, str], bool] = password_matches, size: int = 4096,
                 max_failures: int = 10, window: float = 60.0):
        self._check, self._size = check, size
        self._max_failures, self._window = max_failures, window
        self._key = secrets.token_bytes(32)
        self._results: OrderedDict[tuple[str, bytes], bool] = OrderedDict()
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def __call__(self, password_hash: str, password: str) -> bool:
        key = (password_hash, hmac.digest(self._key, password.encode("utf-8", "surrogatepass"),
                                          hashlib.sha256))
        with self._lock:
            known = self._results.get(key)
            if known is not None:
                self._results.move_to_end(key)
                return known
            if self._guessing(password_hash):
                return False
        result = self._check(password_hash, password)
        with self._lock:
            self._results[key] = result
            if len(self._results) > self._size:
                self._results.popitem(last=False)
            if not result:
                self._failures.setdefault(password_hash, deque()).append(time.monotonic())
                if len(self._failures) > self._size:
                    self._failures.pop(next(iter(self._failures)))
        return result

    def _guessing(self, password_hash: str) -> bool:
        failures = self._failures.get(password_hash)
        if not failures:
            return False
        horizon = time.monotonic() - self._window
        while failures and failures[0] < horizon:
            failures.popleft()
        return len(failures) >= self._max_failures


@dataclass
class StationAccess:
    """The gateway's station-authentication settings, applied to each admitted message."""

    mode: str = "optional"
    default_networks: tuple = ()
    verify: Callable[[str, str], bool] = field(default_factory=PasswordVerifier)

    @classmethod
    def of(cls, settings) -> "StationAccess":
        return cls(settings.station_auth, settings.station_networks)

    def policy(self, station) -> StationPolicy:
        own = parse_networks(station.auth_networks) if station.auth_networks else ()
        return StationPolicy(mode=self.mode, networks=own or self.default_networks,
                             networks_source="station" if own else "default",
                             password_hash=station.auth_password_hash,
                             certificate=station.auth_certificate)

    def check(self, db: Db, station, call: StationCall) -> None:
        """Raise StationRefused when the message may not speak as ``station``; note a station
        that speaks from a new address."""
        presented = call.credentials or Presented(peer=call.peer_host)
        verdict = judge_station(station.charge_box_id, self.policy(station), presented,
                                self.verify)
        if not verdict.allowed:
            raise StationRefused(station.charge_box_id, station.id, verdict)
        if call.peer_host is not None and station.last_peer_host != call.peer_host:
            record_source_change(db, station, call)

    def allows(self, station, call: StationCall) -> bool:
        """Whether the message may speak as ``station``: ``check`` without its records."""
        presented = call.credentials or Presented(peer=call.peer_host)
        return judge_station(station.charge_box_id, self.policy(station), presented,
                             self.verify).allowed

    def may_auto_register(self, call: StationCall) -> bool:
        """SOAPGW_AUTO_REGISTER takes unknown stations from the default networks only (when
        there are default networks)."""
        return self.mode == "off" or not self.default_networks or \
            in_networks(call.peer_host, self.default_networks)


def record_source_change(db: Db, station, call: StationCall) -> None:
    """The station's messages come from a new address: kept on the station, and for an
    Accepted station that was heard from before, the quirk ``address-changed`` (where an
    event goes when the gateway has them). Whether its callback address may follow is the
    station's callback policy (core.registration)."""
    before = station.last_peer_host
    if before is not None and station.registration_status == "Accepted":
        call.quirk("address-changed", f"messages now come from {call.peer_host} "
                                      f"(before: {before})")
        call.events.append(events.NewEvent(EventType.STATION_ADDRESS_CHANGED,
                                           station.charge_box_id,
                                           {"address": call.peer_host, "previousAddress": before},
                                           call.received_at))
        log.warning("charge box %s now speaks from %s (before: %s)", station.charge_box_id,
                    call.peer_host, before)
    update_station(db, station.id, {"last_peer_host": call.peer_host})
    station.last_peer_host = call.peer_host


_RECORD_REFUSAL = (update(_TABLE).where(_TABLE.c.id == bindparam("b_station_pk")).values(
    auth_refusals=func.coalesce(_TABLE.c.auth_refusals, 0) + 1,
    auth_refused_at=bindparam("b_at"), auth_refusal=bindparam("b_reason")))


def record_auth_refusal(db: Db, refusal: StationRefused, action: str | None, peer: str | None,
                        at: datetime) -> None:
    """Count a refused message on its station, keep the latest reason (shown on the station's
    page and list; the message itself is in the journal, without credentials) and publish
    ``station.auth_refused``."""
    verdict, station_pk = refusal.verdict, refusal.station_pk
    reason = f"{verdict.kind}: {verdict.reason}"
    if peer and peer not in reason:
        reason += f" (from {peer})"
    if station_pk is not None:
        db.execute(_RECORD_REFUSAL, {"b_station_pk": station_pk, "b_at": at,
                                     "b_reason": reason[:2000]})
    events.publish(db, [events.NewEvent(EventType.STATION_AUTH_REFUSED, refusal.charge_box_id, {
        "action": action, "kind": verdict.kind, "reason": verdict.reason, "address": peer}, at)])
