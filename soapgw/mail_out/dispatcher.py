"""The mail consumer of the event outbox, run as a thread of ``soapgw dispatch``.

One loop: queue the mails of new events (``core.mail.outbox.enqueue``), then send the due
ones, one SMTP connection per mail. A failure is recorded on that mail (retried with backoff,
marked failed after the retry window, shown on the Settings page); the others go on. Stations
never wait for it: it runs in the dispatcher process, beside the webhooks, never in a
request. State is all in SQL, so a restarted dispatcher goes on where it stopped (a mail sent
but not yet recorded is sent again: at least once).
"""
from __future__ import annotations

import logging
import smtplib
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from soapgw.config import ConfigError, Settings
from soapgw.core.mail import outbox, smtp_settings
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.core.upstream_secret import PasswordBox, SecretUnreadable
from soapgw.core.webhooks.deliveries import RetryPolicy
from soapgw.mail_out import smtp
from soapgw.rounds import run_rounds
from soapgw.store.database import READ_ONLY, writer_lock

log = logging.getLogger(__name__)
PURGE_EVERY = 3600.0


class MailDispatcher:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings,
                 policy: RetryPolicy | None = None, poll: float = 0.5,
                 timeout: float | None = None, tls_context=None):
        self.sessions, self.settings, self.poll = sessions, settings, poll
        engine = sessions.kw["bind"]
        self.read_engine = engine.execution_options(**{READ_ONLY: True})
        self.write_lock = writer_lock(engine)
        self._box: PasswordBox | None = None  # made when a password is first needed
        # the webhooks' retry settings (SOAPGW_WEBHOOK_RETRY_BASE / _WINDOW) serve mail too
        self.policy = policy or RetryPolicy(base=settings.webhook_retry_base,
                                            window=settings.webhook_retry_window)
        self.timeout = timeout or settings.webhook_timeout
        self.tls_context = tls_context
        self._purged_at = 0.0

    def run(self, stop: threading.Event) -> None:
        run_rounds(stop, self._round, self.poll, log, "mail")

    def _round(self) -> int:
        worked = self.run_once()
        self._purge_now_and_then()
        return worked

    def run_once(self) -> int:
        """Queue new events' mails and send the due ones; returns how many were handled."""
        queued = 0
        with self.sessions(bind=self.read_engine) as db:
            news = outbox.has_news(db)
        if news:
            with self.write_lock, self.sessions.begin() as db:
                queued = outbox.enqueue(db)
        with self.sessions(bind=self.read_engine) as db:
            batch = outbox.due(db)
            settings = smtp_settings.load(db)
        if not batch:
            return queued
        problem = None
        try:
            if settings.has_password and self._box is None:
                self._box = PasswordBox(self.settings.instance_path)
            password = settings.password(self._box)
        except (SecretUnreadable, ConfigError) as unreadable:
            password, problem = None, str(unreadable)
        sent: list[int] = []
        for mail in batch:
            error = problem if password is None else self._send(settings, password, mail)
            if error is None:
                sent.append(mail.id)
                continue
            with self.write_lock, self.sessions.begin() as db:
                gave_up = outbox.record_failure(db, mail.id, error, self.policy)
            log.warning("mail %s to %s failed (%s)%s", mail.id, mail.recipient, error,
                        "; given up, see the Settings page" if gave_up else "; will retry")
        with self.write_lock, self.sessions.begin() as db:
            outbox.record_sent(db, sent)
        return queued + len(batch)

    def _send(self, settings, password: str, mail) -> str | None:
        """None when the server accepted the mail, else why not."""
        message = smtp.message(settings, mail.recipient, mail.subject, mail.body,
                               message_id=None)
        try:
            smtp.send(settings, password, message, self.timeout, self.tls_context)
        except smtp.Refused as refused:
            return f"refused: {refused}"
        except (smtplib.SMTPException, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        return None

    def _purge_now_and_then(self) -> None:
        if time.monotonic() - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = time.monotonic()
        with self.write_lock, self.sessions.begin() as db:
            days = RuntimeSettings.load(db, self.settings).event_retention_days
            removed = outbox.purge(db, days)
        if removed:
            log.info("removed %d sent mails past retention", removed)
