"""A real SMTP server for the notification tests (aiosmtpd on 127.0.0.1, a free port): it
keeps what it receives and can refuse mails for a while (451: try again later)."""
from __future__ import annotations

import email
import email.policy
import threading

from aiosmtpd.controller import Controller

from conftest import free_port


class MailServer:
    def __init__(self, refuse_first: int = 0, auth: tuple[str, str] | None = None,
                 starttls=None, implicit_tls=None):
        """``starttls`` / ``implicit_tls``: an ssl.SSLContext for STARTTLS (required) or for
        TLS from the first byte."""
        self.received: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refused = 0
        self.refuse_first = refuse_first
        self._lock = threading.Lock()
        self.port = free_port()
        kwargs = {}
        if auth is not None:
            kwargs = dict(authenticator=self._authenticator(auth), auth_require_tls=False)
        if starttls is not None:
            kwargs.update(tls_context=starttls, require_starttls=True)
        if implicit_tls is not None:
            kwargs.update(ssl_context=implicit_tls)
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


def self_signed(directory, name: str = "localhost"):
    """A certificate for ``name`` and its key, as files; returns (cert path, server context)."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return cert_path, server
