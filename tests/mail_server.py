"""A real SMTP server for the notification tests (aiosmtpd on 127.0.0.1, a free port): it
keeps what it receives and can refuse mails for a while (451: try again later)."""
from __future__ import annotations

import email
import email.policy
import threading

from aiosmtpd.controller import Controller

from conftest import free_port


class MailServer:
    def __init__(self, refuse_first: int = 0, auth: tuple[str, str] | None = None):
        self.received: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refused = 0
        self.refuse_first = refuse_first
        self._lock = threading.Lock()
        self.port = free_port()
        kwargs = {}
        if auth is not None:
            kwargs = dict(authenticator=self._authenticator(auth), auth_require_tls=False)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    @staticmethod
    def _authenticator(expected: tuple[str, str]):
        from aiosmtpd.smtp import AuthResult

        def check(server, session, envelope, mechanism, data):
            ok = (data.login.decode(), data.password.decode()) == expected
            return AuthResult(success=ok)
        return check

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            if self.refused < self.refuse_first:
                self.refused += 1
                return "451 4.3.0 try again later"
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.received.append(email.message_from_bytes(envelope.content,
                                                          policy=email.policy.default))
        return "250 OK"

    def close(self) -> None:
        self.controller.stop()
