"""OCPP id tags as operators manage them: add (one or many), change, delete.

The rules hold for every edge: an id tag has at most 20 printable characters (OCPP IdToken),
its parent must exist and cannot be itself, ``max_active_transactions`` is 0 (no limit) to
1000. Functions run in the caller's transaction and raise ``Invalid`` (field -> reason) or
``NotFound`` before writing anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from soapgw.core.errors import Invalid, NotFound
from soapgw.core.identifiers import ID_TAG_LENGTH, check_identifiers, identifier_problem
from soapgw.store.models import IdTag, Transaction, UnknownIdTag
from soapgw.store.upsert import insert_for
from soapgw.timestamps import now

MAX_ACTIVE_LIMIT = 1000


@dataclass
class TagValues:
    """What an operator sets on a tag (the id tag itself aside)."""

    parent_id_tag: str | None = None
    expiry_date: datetime | None = None
    max_active_transactions: int = 1  # 0: no limit
    blocked: bool = False
    note: str | None = None

    def columns(self) -> dict:
        return {"parent_id_tag": (self.parent_id_tag or "").strip() or None,
                "expiry_date": self.expiry_date,
                "max_active_transactions": self.max_active_transactions,
                "blocked": bool(self.blocked), "note": (self.note or "").strip() or None}


def _check(db: Session, values: TagValues, own: list[str]) -> dict:
    columns = values.columns()
    problems = {}
    parent = columns["parent_id_tag"]
    if parent is not None:
        problem = identifier_problem(parent, "parent id tag", ID_TAG_LENGTH)
        if problem:
            problems["parent_id_tag"] = problem
        elif parent in own:
            problems["parent_id_tag"] = "a tag cannot be its own parent"
        elif db.scalar(select(IdTag.id).where(IdTag.id_tag == parent)) is None:
            problems["parent_id_tag"] = f"there is no id tag {parent!r}: add the parent first"
    limit = columns["max_active_transactions"]
    if limit is None or not 0 <= limit <= MAX_ACTIVE_LIMIT:
        problems["max_active_transactions"] = (f"use 0 (no limit) to {MAX_ACTIVE_LIMIT}")
    if columns["note"] is not None and len(columns["note"]) > 4000:
        problems["note"] = "at most 4000 characters"
    if problems:
        raise Invalid(problems)
    return columns


@dataclass(frozen=True)
class Added:
    added: list[str]
    existing: list[str]


def add_tags(db: Session, id_tags: list[str], values: TagValues) -> Added:
    """Add tags with the same values; those that exist already are left as they are."""
    ids = check_identifiers("id_tag", id_tags, "id tag", ID_TAG_LENGTH)
    columns = _check(db, values, ids)
    existing = set(db.scalars(select(IdTag.id_tag).where(IdTag.id_tag.in_(ids))))
    new = [i for i in ids if i not in existing]
    if new:
        db.execute(insert_for(db, IdTag).values(
            [{"id_tag": i, "created_at": now(), **columns} for i in new])
            .on_conflict_do_nothing())
        # registered now: no longer an unknown tag
        db.execute(delete(UnknownIdTag).where(UnknownIdTag.id_tag.in_(new)))
    return Added(new, sorted(existing))


def add_tag(db: Session, id_tag: str, values: TagValues) -> None:
    """Add one tag; an existing one is refused."""
    if not add_tags(db, [id_tag], values).added:
        raise Invalid({"id_tag": f"the id tag {id_tag!r} already exists"})


def tag(db: Session, pk: int) -> IdTag:
    found = db.get(IdTag, pk)
    if found is None:
        raise NotFound(f"no id tag {pk}")
    return found


def update_tag(db: Session, pk: int, values: TagValues) -> IdTag:
    found = tag(db, pk)
    for name, value in _check(db, values, [found.id_tag]).items():
        setattr(found, name, value)
    return found


def active_transactions(db: Session, id_tag: str) -> int:
    return db.scalar(select(func.count()).select_from(Transaction).where(
        Transaction.id_tag == id_tag, Transaction.stop_timestamp.is_(None)))


def delete_tag(db: Session, pk: int) -> str:
    """Delete a tag (its transactions keep the id tag as text). Returns the id tag."""
    found = tag(db, pk)
    db.delete(found)
    return found.id_tag
