"""``Idempotency-Key``: a retried request with the same key gives the task the first one
created, and the command is sent once.

The key is claimed first (a row, unique per caller and key, committed before the task is
submitted), so two concurrent requests with one key cannot both submit: the second sees the
claim and gets ``InProgress`` until the first has its task. The request's fingerprint
(method, path, body) must match: the same key for another request is ``Invalid``. Keys are
kept ``KEEP``: older ones are removed whenever a key is claimed.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from soapgw.core.errors import Invalid
from soapgw.store.models import ApiIdempotencyKey
from soapgw.timestamps import now

KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class InProgress(Exception):
    """A request with this key is being handled right now."""


def fingerprint(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def submit_once(sessions: sessionmaker[Session], token_id: int, key: str, print_: str,
                submit: Callable[[], int]) -> tuple[int, bool]:
    """The task for this key: ``(task_id, created_now)``. ``submit`` creates it (once)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid({"Idempotency-Key": f"use 1 to {MAX_KEY_LENGTH} characters"})
    try:
        with sessions.begin() as db:
            db.execute(delete(ApiIdempotencyKey).where(
                ApiIdempotencyKey.created_at < now() - KEEP))
            claim = ApiIdempotencyKey(token_id=token_id, key=key, fingerprint=print_,
                                      created_at=now())
            db.add(claim)
            db.flush()
            claim_id = claim.id
    except IntegrityError:
        with sessions() as db:
            found = db.scalars(select(ApiIdempotencyKey).where(
                ApiIdempotencyKey.token_id == token_id,
                ApiIdempotencyKey.key == key)).one()
        if found.fingerprint != print_:
            raise Invalid({"Idempotency-Key": "this key was used for another request"}) \
                from None
        if found.task_id is None:
            raise InProgress(key) from None
        return found.task_id, False
    try:
        task_id = submit()
    except BaseException:
        with sessions.begin() as db:  # refused: the key may be used again
            db.execute(delete(ApiIdempotencyKey).where(ApiIdempotencyKey.id == claim_id))
        raise
    with sessions.begin() as db:
        db.execute(update(ApiIdempotencyKey).where(ApiIdempotencyKey.id == claim_id)
                   .values(task_id=task_id))
    return task_id, True
