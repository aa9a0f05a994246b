"""Signing in to the web UI: passwords, throttling of guesses, revocable sessions.

Throttling: failed attempts are counted per user name and per client address in SQL (every
gunicorn worker sees the same counts). Past ``free_failures`` within ``window`` seconds, each
further failure locks that key for twice as long as the one before (``base_delay``, doubling
up to ``max_delay``). While a key is locked, attempts are answered at once ("retry after N
seconds") without checking the password: a guesser costs a worker a SQL look-up, not ~70 ms
of scrypt, and is never kept waiting in a worker (a sleeping sync worker would starve the
stations). The right password is refused too while its user is locked, and works again after.

Sessions: the cookie carries the user's ``session_generation``; signing out and a new
password increase it, so every cookie issued before stops working.
"""
from __future__ import annotations

import logging
import math
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session

from soapgw.core.passwords import password_matches
from soapgw.store import journal
from soapgw.store.journal import JournalRecord
from soapgw.store.models import AdminUser, LoginThrottle
from soapgw.store.upsert import upsert

log = logging.getLogger(__name__)
_THROTTLE = LoginThrottle.__table__


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5  # per user name or address, before locks start
    base_delay: float = 2.0  # seconds of the first lock; each next one doubles
    max_delay: float = 900.0
    window: float = 3600.0  # failures older than this (since the first) are forgotten

    def delay(self, failures: int) -> float:
        past = failures - self.free_failures
        return 0.0 if past <= 0 else min(self.base_delay * 2 ** min(past - 1, 30), self.max_delay)


@dataclass(frozen=True)
class SignInResult:
    user_id: int | None = None
    session_generation: int = 0
    retry_after: int | None = None  # seconds: throttled, the password was not checked
    busy: bool = False  # another password check was running: try again in a second

    @property
    def ok(self) -> bool:
        return self.user_id is not None


def throttle_keys(username: str, address: str | None) -> list[str]:
    keys = [f"user:{username.lower()}"[:300]]
    if address:
        keys.append(f"address:{address}"[:300])
    return keys


def sign_in(db: Session, username: str, password: str, address: str | None, at: datetime,
            policy: ThrottlePolicy = ThrottlePolicy(), gate=None) -> SignInResult:
    """Check a sign-in attempt; the caller commits. Throttled attempts are not checked.

    The password is checked outside any transaction (this ends the session's transaction
    after reading): on SQLite a write transaction holds the database's write lock, and every
    station's message would wait for the ~70 ms of scrypt. ``gate()``, a context manager
    yielding whether a password may be checked now (the web UI's: one check at a time in
    the whole server), keeps guessers from holding every worker; an attempt turned away by
    it is neither checked nor counted.
    """
    keys = throttle_keys(username, address)
    wait = locked_for(db, keys, at)
    if wait is not None:
        db.rollback()
        return SignInResult(retry_after=wait)
    user = db.execute(select(AdminUser.id, AdminUser.password_hash,
                             AdminUser.session_generation)
                      .where(AdminUser.username == username,
                             AdminUser.disabled_at.is_(None))).one_or_none()
    db.rollback()  # no lock held while hashing (a disabled account is as a wrong password)
    with (gate or _always)() as may_check:
        if not may_check:
            return SignInResult(retry_after=1, busy=True)
        matches = password_matches(user.password_hash if user else None, password)
    if matches:
        db.execute(update(AdminUser).where(AdminUser.id == user.id).values(last_login_at=at))
        db.execute(_THROTTLE.delete().where(_THROTTLE.c.key == keys[0]))
        return SignInResult(user.id, user.session_generation)
    lock = _record_failure(db, keys, at, policy)
    log.warning("failed web sign-in for %r from %s%s", username, address or "?",
                f"; locked for {lock:g} s" if lock else "")
    if lock:
        journal.write(db, [JournalRecord(
            direction="in", action="WebSignIn:Throttled", peer=address, http_status=429,
            raw=(f"web sign-in for user {username!r} from {address or 'unknown'}: too many "
                 f"failed attempts, refused for {lock:g} s").encode(), created_at=at)])
    return SignInResult()


def _always():
    return nullcontext(True)


def locked_for(db: Session, keys: list[str], at: datetime) -> int | None:
    """Whole seconds until every key is unlocked, or None when none is locked."""
    until = db.scalar(select(_THROTTLE.c.locked_until).where(
        _THROTTLE.c.key.in_(keys), _THROTTLE.c.locked_until > at)
        .order_by(_THROTTLE.c.locked_until.desc()).limit(1))
    if until is None:
        return None
    return max(1, math.ceil((until - at).total_seconds()))


_COUNT_FAILURE = upsert(
    _THROTTLE, keys=["key"],
    values=dict(key=bindparam("b_key"), failures=1, first_failure_at=bindparam("b_at"),
                last_failure_at=bindparam("b_at"), locked_until=None),
    update=lambda new: {
        # a failure after the window starts a new count
        "failures": case((_THROTTLE.c.first_failure_at < bindparam("b_cutoff"), 1),
                         else_=_THROTTLE.c.failures + 1),
        "first_failure_at": case((_THROTTLE.c.first_failure_at < bindparam("b_cutoff"),
                                  new.first_failure_at), else_=_THROTTLE.c.first_failure_at),
        "last_failure_at": new.last_failure_at})


def _record_failure(db: Session, keys: list[str], at: datetime,
                    policy: ThrottlePolicy) -> float:
    """Count the failure on each key; returns the longest lock it started (0: none)."""
    cutoff = at - timedelta(seconds=policy.window)
    longest = 0.0
    for key in keys:
        db.execute(_COUNT_FAILURE(db), {"b_key": key, "b_at": at, "b_cutoff": cutoff})
        failures = db.scalar(select(_THROTTLE.c.failures).where(_THROTTLE.c.key == key))
        delay = policy.delay(failures)
        if delay:
            db.execute(update(_THROTTLE).where(_THROTTLE.c.key == key).values(
                locked_until=at + timedelta(seconds=delay)))
            longest = max(longest, delay)
    return longest


def end_sessions(db: Session, user_id: int) -> None:
    """Every session cookie of the user issued so far stops working (sign-out, new password)."""
    db.execute(update(AdminUser).where(AdminUser.id == user_id).values(
        session_generation=AdminUser.session_generation + 1))


def session_is_current(user: AdminUser | None, generation) -> bool:
    return user is not None and user.disabled_at is None and isinstance(generation, int) and \
        generation == user.session_generation
