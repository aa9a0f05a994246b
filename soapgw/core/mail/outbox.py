"""The mail queue, in SQL (it survives restarts), fed from the event outbox.

``enqueue`` turns the events past the ``mail`` cursor into one pending mail per recipient who
chose that notification, and moves the cursor, in one transaction: each event is queued
exactly once. A mail the SMTP server does not accept is retried with backoff (the webhooks'
``RetryPolicy``); after the retry window it is marked failed and kept with its last error,
shown on the Settings page: nothing is dropped silently. Mails are independent: one that
fails does not hold back the others.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from soapgw.core import events
from soapgw.core.errors import Invalid, NotFound
from soapgw.core.mail import compose, recipients
from soapgw.core.mail.smtp_settings import address_problem
from soapgw.core.webhooks.deliveries import RetryPolicy
from soapgw.store.models import Event, EventConsumer, MailMessage
from soapgw.timestamps import now

PENDING, SENT, FAILED = "pending", "sent", "failed"
TEST = "test"
_EVENTS = Event.__table__
_MAILS = MailMessage.__table__
ERROR_KEPT = 1000


def cursor(db: Session) -> int | None:
    """How far the queue has read the events; None while nobody receives mail."""
    return db.scalar(select(EventConsumer.last_event_id).where(
        EventConsumer.name == recipients.CONSUMER))


def has_news(db: Session) -> bool:
    """Whether events wait past the cursor (read-only: the caller opens a write transaction
    only then; on SQLite every write transaction queues behind the stations' messages)."""
    after = cursor(db)
    return after is not None and events.last_id(db) > after


def enqueue(db: Session, limit: int = 500) -> int:
    """Queue the mails of the events after the cursor; returns how many were queued."""
    after = cursor(db)
    if after is None:
        return 0
    top = events.last_id(db)
    if top <= after:
        return 0
    rows = db.execute(select(_EVENTS).where(_EVENTS.c.id > after, _EVENTS.c.id <= top,
                                            _EVENTS.c.type.in_(compose.EVENT_TYPES))
                      .order_by(_EVENTS.c.id).limit(limit)).all()
    wanted = recipients.by_kind(db) if rows else {}
    at, mails = now(), []
    for row in rows:
        payload = json.loads(row.payload)
        kind = compose.mail_kind(row.type, payload)
        if kind is None or kind not in wanted:
            continue
        mail = compose.compose(kind, row.id, row.created_at, row.charge_box_id, row.type,
                               payload)
        mails += [{"event_id": row.id, "kind": kind.value, "recipient": address,
                   "subject": mail.subject, "body": mail.body, "state": PENDING,
                   "attempts": 0, "next_attempt_at": at, "created_at": at}
                  for address in wanted[kind]]
    if mails:
        db.execute(insert(_MAILS), mails)
    # ids commit in order (core.events), so nothing below ``top`` can still appear
    events.advance(db, recipients.CONSUMER, rows[-1].id if len(rows) == limit else top)
    return len(mails)


def queue_test_mail(db: Session, to: str, sender: str) -> MailMessage:
    """A test mail to ``to``, sent by the dispatcher like any other (its state shows whether
    the SMTP settings work)."""
    to = (to or "").strip()
    if problem := address_problem(to):
        raise Invalid({"test_recipient": problem})
    if not sender:
        raise Invalid({"test_recipient": "save the SMTP settings (host and from address) "
                                         "first"})
    mail = compose.trial_mail(sender)
    message = MailMessage(event_id=None, kind=TEST, recipient=to, subject=mail.subject,
                          body=mail.body, state=PENDING, attempts=0, next_attempt_at=now(),
                          created_at=now())
    db.add(message)
    db.flush()
    return message


def due(db: Session, at: datetime | None = None, limit: int = 50) -> list:
    return db.execute(select(MailMessage.id, MailMessage.recipient, MailMessage.subject,
                             MailMessage.body, MailMessage.event_id, MailMessage.attempts)
                      .where(MailMessage.state == PENDING,
                             MailMessage.next_attempt_at <= (at or now()))
                      .order_by(MailMessage.id).limit(limit)).all()


def record_sent(db: Session, mail_ids: list[int], at: datetime | None = None) -> None:
    if mail_ids:
        at = at or now()
        db.execute(update(_MAILS).where(_MAILS.c.id.in_(mail_ids)).values(
            state=SENT, attempts=_MAILS.c.attempts + 1, last_attempt_at=at, sent_at=at,
            last_error=None))


def record_failure(db: Session, mail_id: int, error: str, policy: RetryPolicy,
                   at: datetime | None = None) -> bool:
    """Schedule the retry, or mark the mail failed once the window is over; True when it
    gave up."""
    at = at or now()
    mail = db.get(MailMessage, mail_id)
    mail.attempts += 1
    mail.first_attempt_at = mail.first_attempt_at or at
    mail.last_attempt_at = at
    mail.last_error = error[:ERROR_KEPT]
    mail.next_attempt_at = at + policy.delay(mail.attempts)
    if (at - mail.first_attempt_at).total_seconds() >= policy.window:
        mail.state = FAILED
        return True
    return False


def retry(db: Session, mail_id: int) -> None:
    """Send a failed (or waiting) mail again now, with a new retry window."""
    changed = db.execute(update(_MAILS).where(_MAILS.c.id == mail_id, _MAILS.c.state != SENT)
                         .values(state=PENDING, next_attempt_at=now(), first_attempt_at=None))
    if not changed.rowcount:
        raise NotFound(f"no unsent mail {mail_id}")


def recent(db: Session, limit: int = 20) -> list[MailMessage]:
    return list(db.scalars(select(MailMessage).order_by(MailMessage.id.desc()).limit(limit)))


def purge(db: Session, retention_days: int, at: datetime | None = None) -> int:
    """Delete sent mails older than the retention (pending and failed ones stay)."""
    if retention_days <= 0:
        return 0
    cutoff = (at or now()) - timedelta(days=retention_days)
    return db.execute(delete(MailMessage).where(MailMessage.state == SENT,
                                                MailMessage.sent_at < cutoff)).rowcount
