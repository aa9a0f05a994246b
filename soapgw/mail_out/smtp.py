"""Send one message over SMTP to an address judged first (``core.mail.policy``).

The host is resolved once and the connection goes to exactly the judged IP, while TLS (SNI
and the certificate check) still uses the host name: a DNS answer that changes between the
check and the connection cannot steer the mail elsewhere (as ``http_out.pinned`` does for
webhooks).
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from soapgw.core.commands.callback_policy import parse_ip
from soapgw.core.enums import SmtpSecurity
from soapgw.core.mail.policy import judge_smtp_host
from soapgw.core.mail.smtp_settings import SmtpSettings


class Refused(Exception):
    """The SMTP host may not be connected to, or is not configured."""


def resolve_host(host: str) -> list[str]:
    if parse_ip(host) is not None:
        return [str(parse_ip(host))]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos})


class _PinnedSMTP(smtplib.SMTP):
    """smtplib.SMTP connecting to ``pinned_ip`` whatever host it was given; the host name
    stays ``_host``, which STARTTLS checks the certificate against."""

    pinned_ip = ""

    def _get_socket(self, host, port, timeout):
        return super()._get_socket(self.pinned_ip, port, timeout)


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    pinned_ip = ""

    def _get_socket(self, host, port, timeout):
        # SMTP_SSL wraps the socket with server_hostname=self._host (the name, not the IP)
        return super()._get_socket(self.pinned_ip, port, timeout)


def message(settings: SmtpSettings, to: str, subject: str, body: str,
            message_id: str | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.from_address
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id or make_msgid(domain=settings.from_address.split("@")[-1])
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to it
    mail.set_content(body)
    return mail


def send(settings: SmtpSettings, password: str, mail: EmailMessage, timeout: float,
         tls_context: ssl.SSLContext | None = None, resolver=resolve_host) -> None:
    """Deliver ``mail`` to the server; raises Refused, smtplib.SMTPException or OSError."""
    if not settings.configured:
        raise Refused("no SMTP server is configured (Settings page)")
    addresses = resolver(settings.host)
    verdict = judge_smtp_host(settings.host, addresses)
    if not verdict.allowed:
        raise Refused(verdict.reason)
    context = tls_context or ssl.create_default_context()
    cls = _PinnedSMTPSSL if settings.security == SmtpSecurity.TLS else _PinnedSMTP
    kwargs = {"context": context} if cls is _PinnedSMTPSSL else {}
    client = cls(timeout=timeout, **kwargs)
    client.pinned_ip = addresses[0]
    client._host = settings.host  # noqa: SLF001  (the name TLS checks; see _PinnedSMTP)
    try:
        client.connect(settings.host, settings.port)
        if settings.security == SmtpSecurity.STARTTLS:
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, password)
        client.send_message(mail)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
