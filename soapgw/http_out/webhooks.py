"""``soapgw dispatch``: delivers the webhook queues (``core.webhooks.deliveries``).

One loop: queue the new events of each active subscription, then POST its due messages in
order, signed as Standard Webhooks says (``webhook-id``, ``webhook-timestamp``,
``webhook-signature`` v1 HMAC-SHA256, by the ``standardwebhooks`` package). Subscriptions
are served side by side in a small thread pool; one subscription's messages one at a time.
It polls the event table every ``poll`` seconds when idle; state is all in SQL, so a
restarted dispatcher goes on where it stopped (a message posted but not yet recorded is
posted again: at least once).
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import urllib3
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook as Signer

from soapgw.config import Settings
from soapgw.core import events
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.core.webhooks import deliveries, keys
from soapgw.core.webhooks.deliveries import Attempt, RetryPolicy
from soapgw.core.webhooks.policy import judge_webhook
from soapgw.http_out.pinned import PinnedClient, Refused
from soapgw.rounds import run_rounds
from soapgw.store.database import READ_ONLY, writer_lock
from soapgw.timestamps import now

log = logging.getLogger(__name__)
PURGE_EVERY = 3600.0


class Dispatcher:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings,
                 client: PinnedClient | None = None, poll: float = 0.1, workers: int = 8):
        self.sessions, self.settings, self.poll = sessions, settings, poll
        engine = sessions.kw["bind"]
        self.read_engine = engine.execution_options(**{READ_ONLY: True})
        self.write_lock = writer_lock(engine)
        self.key = keys.load_key(settings.instance_path)
        self.policy = RetryPolicy(base=settings.webhook_retry_base,
                                  window=settings.webhook_retry_window)
        networks = settings.webhook_allowed_networks
        self.client = client or PinnedClient(lambda url, resolved: judge_webhook(
            url, resolved, networks))
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="soapgw-dispatch")
        self._seen_top: dict[int, int] = {}
        self._purged_at = 0.0

    def run(self, stop: threading.Event) -> None:
        run_rounds(stop, self._round, self.poll, log, "dispatch")
        self.pool.shutdown(wait=True)

    def _round(self) -> int:
        worked = self.run_once()
        self._purge_now_and_then()
        return worked

    def run_once(self) -> int:
        """One round over the active subscriptions; returns how many messages it handled."""
        with self.sessions(bind=self.read_engine) as db:
            hooks = deliveries.active_webhooks(db)
            top = events.last_id(db)
        if len(hooks) == 1:
            return self._serve(hooks[0], top)
        return sum(self.pool.map(lambda hook: self._serve(hook, top), hooks))

    def _serve(self, hook, top: int) -> int:
        if self._seen_top.get(hook.id) != top:
            with self.write_lock, self.sessions.begin() as db:
                queued = deliveries.enqueue(db, hook)
            if queued < 500:
                self._seen_top[hook.id] = top
        with self.sessions(bind=self.read_engine) as db:
            batch = deliveries.due(db, hook.id)
        if not batch:
            return 0
        signer = Signer(keys.secret(self.key, hook.secret_nonce))
        delivered: list[Attempt] = []
        for message in batch:
            attempt = self._post(hook.url, signer, message)
            if attempt.ok:
                delivered.append(attempt)
                continue
            with self.write_lock, self.sessions.begin() as db:
                deliveries.record_delivered(db, delivered)
                paused = deliveries.record_failure(db, hook.id, attempt, self.policy)
            log.warning("webhook %s: %s failed (%s)%s", hook.id, message.message_id,
                        attempt.error or f"HTTP {attempt.status}",
                        "; the subscription is paused" if paused else "")
            return len(delivered) + 1
        with self.write_lock, self.sessions.begin() as db:
            deliveries.record_delivered(db, delivered)
        return len(delivered)

    def _post(self, url: str, signer: Signer, message) -> Attempt:
        at = now()
        headers = {"content-type": "application/json", "user-agent": "soapgw-webhooks",
                   "webhook-id": message.message_id,
                   "webhook-timestamp": str(int(at.timestamp())),
                   "webhook-signature": signer.sign(message.message_id, at, message.body)}
        try:
            status, text = self.client.post(url, message.body.encode(), headers,
                                            self.settings.webhook_timeout)
        except Refused as refused:
            return Attempt(message.id, None, error=f"refused: {refused}", at=at)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return Attempt(message.id, None, error=f"{type(exc).__name__}: {exc}"[:500], at=at)
        return Attempt(message.id, status, response=text, at=at,
                       error=None if 200 <= status < 300 else f"HTTP {status}")

    def _purge_now_and_then(self) -> None:
        if time.monotonic() - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = time.monotonic()
        with self.write_lock, self.sessions.begin() as db:
            days = RuntimeSettings.load(db, self.settings).event_retention_days
            removed = deliveries.purge(db, days)
        if removed:
            log.info("removed %d delivered webhook messages past retention", removed)
