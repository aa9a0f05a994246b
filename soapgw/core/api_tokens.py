"""Bearer tokens of the REST API: create (the token is shown once), list, revoke, and the
check every API request makes.

A token is ``sgw_`` and 32 random bytes (base64url); only its SHA-256 is stored, which is
enough for a secret with that much entropy (no salt or slow hash needed: nobody can guess
it, and the hash cannot be reversed). Scopes are ordered: ``read`` sees, ``operate`` also
sends commands and manages tags, ``admin`` also manages stations, tokens, webhooks and
settings.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from soapgw.core.errors import Invalid, NotFound
from soapgw.core.identifiers import identifier_problem
from soapgw.store.database import Db
from soapgw.store.models import ApiToken
from soapgw.timestamps import now

SCOPES = ("read", "operate", "admin")  # each includes the ones before it
PREFIX = "sgw_"
# last_used_at is written at most this often per token: a GET must not write every time.
TOUCH_EVERY = timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def allows(scope: str, needed: str) -> bool:
    """Does a token of ``scope`` grant ``needed``?"""
    return SCOPES.index(scope) >= SCOPES.index(needed)


@dataclass(frozen=True)
class Created:
    token: str  # shown once, never stored
    row: ApiToken


def create_token(db: Session, name: str, scope: str) -> Created:
    name = (name or "").strip()
    problems = {}
    if problem := identifier_problem(name, "token name", 80):
        problems["name"] = problem
    elif db.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        problems["name"] = f"a token named {name!r} exists already"
    if scope not in SCOPES:
        problems["scope"] = f"{scope!r} is not one of {', '.join(SCOPES)}"
    if problems:
        raise Invalid(problems)
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, scope=scope, token_hash=hash_token(token),
                   prefix=token[:len(PREFIX) + 4], created_at=now())
    db.add(row)
    db.flush()
    return Created(token, row)


def tokens(db: Session) -> list[ApiToken]:
    return list(db.scalars(select(ApiToken).order_by(ApiToken.id)))


def find(db: Session, key: int | str) -> ApiToken:
    """A token by id or by name."""
    query = select(ApiToken)
    query = query.where(ApiToken.id == key) if isinstance(key, int) or str(key).isdigit() \
        else query.where(ApiToken.name == key)
    found = db.scalars(query).one_or_none()
    if found is None:
        raise NotFound(f"no API token {key}")
    return found


def revoke(db: Session, key: int | str) -> ApiToken:
    """Revoke a token (kept in the list, refused from now on). Revoking twice changes
    nothing."""
    found = find(db, key)
    if found.revoked_at is None:
        found.revoked_at = now()
    return found


@dataclass(frozen=True)
class Caller:
    id: int
    name: str
    scope: str


def authenticate(db: Db, token: str) -> tuple[Caller | None, datetime | None]:
    """The caller a token stands for (None: unknown or revoked), and its last use."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None, None
    row = db.execute(select(ApiToken.id, ApiToken.name, ApiToken.scope, ApiToken.revoked_at,
                            ApiToken.last_used_at)
                     .where(ApiToken.token_hash == hash_token(token))).one_or_none()
    if row is None or row.revoked_at is not None:
        return None, None
    return Caller(row.id, row.name, row.scope), row.last_used_at


def touch(db: Db, token_id: int, at: datetime | None = None) -> None:
    """Record a use of the token (the caller throttles with TOUCH_EVERY)."""
    db.execute(update(ApiToken).where(ApiToken.id == token_id)
               .values(last_used_at=at or now()))


def needs_touch(last_used_at: datetime | None, at: datetime | None = None) -> bool:
    return last_used_at is None or (at or now()) - last_used_at >= TOUCH_EVERY
