"""Authorization of id tags: Accepted, Blocked, Expired or Invalid, and ConcurrentTx at start."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select

from soapgw.core import unknown_tags
from soapgw.core.messages import IdTagInfo
from soapgw.store.database import Db
from soapgw.store.driver_query import DriverQuery
from soapgw.store.models import IdTag, Transaction


_TAGS = IdTag.__table__
_FIND_TAG = DriverQuery(select(  # Authorize, StartTransaction and StopTransaction ask it
    _TAGS.c.id_tag, _TAGS.c.parent_id_tag, _TAGS.c.expiry_date, _TAGS.c.blocked,
    _TAGS.c.max_active_transactions).where(_TAGS.c.id_tag == bindparam("b_tag")))
_ACTIVE = (select(func.count()).select_from(Transaction.__table__)
           .where(Transaction.__table__.c.id_tag == bindparam("b_tag"),
                  Transaction.__table__.c.stop_timestamp.is_(None)))


def find_tag(db: Db, id_tag: str):
    """The tag's row (id_tag, parent_id_tag, expiry_date, blocked, max_active_transactions),
    None when it is not registered."""
    return _FIND_TAG.one_or_none(db, {"b_tag": id_tag})


def tag_info(tag, at: datetime) -> IdTagInfo:
    """The idTagInfo for ``tag`` at time ``at`` (Authorize never answers ConcurrentTx)."""
    if tag is None:
        return IdTagInfo(status="Invalid")
    if tag.blocked:
        status = "Blocked"
    elif tag.expiry_date is not None and tag.expiry_date < at:
        status = "Expired"
    else:
        status = "Accepted"
    return IdTagInfo(status=status, expiry_date=tag.expiry_date, parent_id_tag=tag.parent_id_tag)


def authorize_info(db: Db, id_tag: str, at: datetime, charge_box_id: str | None) -> IdTagInfo:
    """idTagInfo for Authorize; an unregistered tag is answered Invalid and recorded
    (core.unknown_tags) for an admin to add."""
    tag = find_tag(db, id_tag)
    if tag is None:
        unknown_tags.record(db, id_tag, charge_box_id, "Authorize", at)
    return tag_info(tag, at)


def start_info(db: Db, id_tag: str, at: datetime, charge_box_id: str | None = None
               ) -> IdTagInfo:
    """idTagInfo for StartTransaction: an unregistered tag is answered Invalid and recorded
    as an unknown tag (the transaction is stored all the same: it keeps the id tag as text),
    and a tag at its limit of active transactions gets ConcurrentTx."""
    tag = find_tag(db, id_tag)
    if tag is None:
        unknown_tags.record(db, id_tag, charge_box_id, "StartTransaction", at)
        return IdTagInfo(status="Invalid")
    info = tag_info(tag, at)
    if info.status == "Accepted" and tag.max_active_transactions > 0:
        active = db.scalar(_ACTIVE, {"b_tag": id_tag})
        if active >= tag.max_active_transactions:
            info.status = "ConcurrentTx"
    return info


def tag_concern(db: Db, id_tag: str, at: datetime) -> str | None:
    """Why a command naming ``id_tag`` (RemoteStartTransaction, ReserveNow) may be refused by
    the station that asks us to authorize it: unknown, blocked or expired; None when fine."""
    tag = find_tag(db, id_tag)
    if tag is None:
        return f"tag {id_tag} is not registered: the station's Authorize will be answered Invalid"
    status = tag_info(tag, at).status
    if status == "Blocked":
        return f"tag {id_tag} is blocked: the station's Authorize will be answered Blocked"
    if status == "Expired":
        return (f"tag {id_tag} expired on {tag.expiry_date:%Y-%m-%d %H:%M} UTC: the station's "
                "Authorize will be answered Expired")
    return None
