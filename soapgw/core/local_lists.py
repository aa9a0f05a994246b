"""Local authorization lists built from the tag table (SendLocalList, OCPP 1.5 and 1.6).

Each entry carries the tag's idTagInfo as Authorize would answer it now: ``Blocked`` when
blocked, ``Expired`` past its expiry, else ``Accepted``, with ``expiryDate`` and
``parentIdTag``. A Full update replaces the station's list (an empty one clears it); a
Differential one adds or changes the entries given (OCPP 1.6, 5.15).

The version a station holds is recorded from its answers (``core/commands/effects.py``: an
accepted SendLocalList, a GetLocalListVersion); ``next_version`` offers one past the highest.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from soapgw.core.enums import AuthorizationStatus, UpdateType
from soapgw.core.errors import Invalid
from soapgw.store.models import ChargeBox, IdTag
from soapgw.timestamps import format_timestamp, now

MAX_VERSION = 2 ** 31 - 1
# Stations keep a few hundred to a few thousand entries (SendLocalListMaxLength); a list
# longer than this is surely a mistake, and one SOAP message of it is megabytes.
MAX_ENTRIES = 10_000


def id_tag_info(tag: IdTag, at: datetime) -> dict:
    """What the station answers for this tag while offline."""
    if tag.blocked:
        status = AuthorizationStatus.blocked
    elif tag.expiry_date is not None and tag.expiry_date < at:
        status = AuthorizationStatus.expired
    else:
        status = AuthorizationStatus.accepted
    info = {"status": status.value}
    if tag.expiry_date is not None:
        info["expiryDate"] = format_timestamp(tag.expiry_date)
    if tag.parent_id_tag:
        info["parentIdTag"] = tag.parent_id_tag
    return info


def next_version(db: Session, charge_box_ids: list[str] | None = None) -> int:
    """One past the highest list version the stations (all of them: None) hold."""
    query = select(func.max(ChargeBox.local_list_version))
    if charge_box_ids:
        query = query.where(ChargeBox.charge_box_id.in_(charge_box_ids))
    return max(db.scalar(query) or 0, 0) + 1


def send_local_list_request(db: Session, list_version: int | None, update_type: str,
                            id_tags: list[str] | None, empty: bool = False) -> dict:
    """The SendLocalList payload: the tags named (``id_tags``), every tag (None), or none
    (``empty``, a Full update that clears the station's list)."""
    problems = {}
    if list_version is None or not 1 <= list_version <= MAX_VERSION:
        problems["list_version"] = f"use 1 to {MAX_VERSION}"
    if update_type not in (UpdateType.full, UpdateType.differential):
        problems["update_type"] = "use Full or Differential"
    elif empty and update_type != UpdateType.full:
        problems["update_type"] = ("an empty Differential update changes nothing: send an "
                                   "empty Full list to clear the station's list")
    entries: list[dict] = []
    if not empty:
        query = select(IdTag).order_by(IdTag.id_tag)
        if id_tags is not None:
            if not id_tags:
                problems["id_tags"] = "name at least one tag, or choose all tags"
            query = query.where(IdTag.id_tag.in_(id_tags))
        tags = db.scalars(query.limit(MAX_ENTRIES + 1)).all()
        if id_tags:
            missing = sorted(set(id_tags) - {t.id_tag for t in tags})
            if missing:
                problems["id_tags"] = ("not in the tag table: " + ", ".join(missing[:10])
                                       + ("…" if len(missing) > 10 else ""))
        if len(tags) > MAX_ENTRIES:
            problems["id_tags"] = f"at most {MAX_ENTRIES:,} tags in one list"
        elif not tags and id_tags is None:
            problems["id_tags"] = "the tag table is empty: add tags, or send an empty list"
        at = now()
        entries = [{"idTag": t.id_tag, "idTagInfo": id_tag_info(t, at)} for t in tags]
    if problems:
        raise Invalid(problems)
    return {"listVersion": list_version, "updateType": update_type,
            "localAuthorizationList": entries}
