"""Id tags stations presented (Authorize, StartTransaction) that are not registered: recorded
where the answer is decided, in the same transaction, one counted row per id tag; an admin adds
one to the tag table or forgets it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.orm import Session

from soapgw.core import tags
from soapgw.core.errors import NotFound
from soapgw.store.database import Db
from soapgw.store.models import UnknownIdTag
from soapgw.store.upsert import upsert

# Built once: a station may present an unknown card over and over (a hot path too).
_SEEN = upsert(
    UnknownIdTag.__table__, keys=["id_tag"],
    values=dict(id_tag=bindparam("b_tag"), first_seen=bindparam("b_at"),
                last_seen=bindparam("b_at"), count=1, last_action=bindparam("b_action"),
                last_charge_box_id=bindparam("b_station")),
    update=lambda new: {"last_seen": new.last_seen, "count": UnknownIdTag.count + 1,
                        "last_action": new.last_action,
                        "last_charge_box_id": new.last_charge_box_id})


def record(db: Db, id_tag: str, charge_box_id: str | None, action: str, at: datetime) -> None:
    """Count one presentation of an unregistered ``id_tag``."""
    db.execute(_SEEN(db), {"b_tag": id_tag[:255], "b_at": at, "b_action": action,
                           "b_station": charge_box_id})


def _unknown(db: Session, unknown_id: int) -> UnknownIdTag:
    found = db.get(UnknownIdTag, unknown_id)
    if found is None:
        raise NotFound(f"no unknown id tag {unknown_id}")
    return found


def add_unknown(db: Session, unknown_id: int, values: tags.TagValues | None = None) -> str:
    """Register an unknown tag (with the default values: not blocked, one active transaction);
    raises Invalid when the station sent no usable id tag (longer than 20 characters ...)."""
    found = _unknown(db, unknown_id)
    tags.add_tags(db, [found.id_tag], values or tags.TagValues())
    return found.id_tag


def forget_unknown(db: Session, unknown_id: int) -> str:
    """Forget an unknown tag; it shows up again when a station presents it again."""
    found = _unknown(db, unknown_id)
    db.delete(found)
    return found.id_tag
