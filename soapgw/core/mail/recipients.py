"""Mail recipients and the notifications each one chose.

While any recipient exists, the mail queue reads the event outbox as the consumer ``mail``
(its cursor holds events back from the purge); the first recipient starts it at the newest
event, and removing the last one forgets the cursor.
"""
from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from soapgw.core import events
from soapgw.core.enums import MailEvent, values
from soapgw.core.errors import Invalid, NotFound
from soapgw.core.mail.smtp_settings import address_problem
from soapgw.store.models import MailRecipient
from soapgw.timestamps import now

CONSUMER = "mail"
MAIL_EVENTS = values(MailEvent)


def _checked(address: str, chosen: list[str]) -> tuple[str, str]:
    address = (address or "").strip()
    problems = {}
    if problem := address_problem(address):
        problems["address"] = problem
    unknown = [c for c in chosen if c not in MAIL_EVENTS]
    if unknown:
        problems["events"] = f"unknown notification(s) {', '.join(map(repr, unknown[:5]))}"
    elif not chosen:
        problems["events"] = "choose at least one notification"
    if problems:
        raise Invalid(problems)
    return address, json.dumps([e for e in MAIL_EVENTS if e in chosen])


def add(db: Session, address: str, chosen: list[str]) -> MailRecipient:
    address, chosen_json = _checked(address, chosen)
    if db.scalar(select(MailRecipient.id).where(
            func.lower(MailRecipient.address) == address.lower())) is not None:
        raise Invalid({"address": f"{address} is a recipient already: change its "
                                  "notifications below"})
    first = db.scalar(select(func.count(MailRecipient.id))) == 0
    recipient = MailRecipient(address=address, events=chosen_json, created_at=now())
    db.add(recipient)
    db.flush()
    if first:
        events.advance(db, CONSUMER, events.last_id(db))
    return recipient


def change(db: Session, recipient_id: int, chosen: list[str]) -> MailRecipient:
    recipient = db.get(MailRecipient, recipient_id)
    if recipient is None:
        raise NotFound(f"no mail recipient {recipient_id}")
    _, recipient.events = _checked(recipient.address, chosen)
    return recipient


def remove(db: Session, recipient_id: int) -> None:
    recipient = db.get(MailRecipient, recipient_id)
    if recipient is None:
        raise NotFound(f"no mail recipient {recipient_id}")
    db.delete(recipient)
    db.flush()
    if db.scalar(select(func.count(MailRecipient.id))) == 0:
        events.forget_consumer(db, CONSUMER)


def listed(db: Session) -> list[tuple[MailRecipient, list[str]]]:
    return [(r, json.loads(r.events)) for r in
            db.scalars(select(MailRecipient).order_by(MailRecipient.address))]


def by_kind(db: Session) -> dict[str, list[str]]:
    """Notification -> the addresses that chose it."""
    wanted: dict[str, list[str]] = {}
    for address, chosen in db.execute(select(MailRecipient.address, MailRecipient.events)):
        for kind in json.loads(chosen):
            wanted.setdefault(kind, []).append(address)
    return wanted
