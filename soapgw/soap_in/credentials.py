"""What an inbound HTTP request presents to prove which station it is (read here, judged in
soapgw.core.station_auth), and two safety nets around it: credentials never reach the journal,
and a reverse proxy on this host that soapgw does not trust is refused loudly."""
from __future__ import annotations

import base64
import binascii
import logging
import time
from urllib.parse import quote, unquote

from soapgw.config import Settings
from soapgw.core.commands.callback_policy import parse_ip
from soapgw.core.errors import ErrorCode, OcppError
from soapgw.core.station_auth import Presented, from_trusted_proxy

log = logging.getLogger(__name__)


def presented_credentials(environ, peer: str | None, settings: Settings) -> Presented:
    """HTTP Basic credentials, and the client-certificate header when (and only when) the
    request comes from a trusted proxy (anyone else could write that header)."""
    username = password = malformed = None
    authorization = environ.get("HTTP_AUTHORIZATION")
    if authorization:
        username, password, malformed = _basic(authorization)
    certificate, untrusted = None, False
    if settings.client_cert_header:
        value = environ.get(_environ_key(settings.client_cert_header))
        if value and value.strip():
            if from_trusted_proxy(environ.get("REMOTE_ADDR"), settings.trusted_proxies):
                certificate = unquote(value).strip()  # nginx may %-escape the subject
            else:
                untrusted = True
    if username is None and password is None and malformed is None and certificate is None \
            and not untrusted:
        return Presented(peer=peer)
    return Presented(peer=peer, username=username, password=password,
                     malformed_authorization=malformed, certificate=certificate,
                     certificate_untrusted=untrusted)


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _basic(authorization: str) -> tuple[str | None, str | None, str | None]:
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None, None, f"the Authorization header uses {scheme[:20]!r}, not HTTP Basic"
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None, None, "the HTTP Basic credentials are not base64"
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        text = decoded.decode("latin-1")  # what older clients send
    username, colon, password = text.partition(":")
    if not colon:
        return None, None, "the HTTP Basic credentials have no user:password"
    return username, password, None


def redact(raw: bytes, credentials: Presented | None) -> bytes:
    """The message as journaled: a station that takes its credentials in the central system
    URL may echo that URL (wsa:To), password included."""
    password = credentials.password if credentials is not None else None
    if not password or len(password) < 3:
        return raw
    for form in {password, quote(password, safe=""), quote(password)}:
        encoded = form.encode("utf-8", "surrogatepass")
        if encoded in raw:
            raw = raw.replace(encoded, b"[redacted]")
    return raw


_FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


class ForwardingCheck:
    """A request from this host carrying forwarded-for headers, with no SOAPGW_TRUSTED_PROXIES:
    a reverse proxy on this host forwards stations to soapgw, and every station looks like
    127.0.0.1 (source networks mean nothing, callbacks may go to any local port). Such
    requests are refused (InternalError, HTTP 500, journaled) and logged loudly until the
    setting is made."""

    def __init__(self, trusted_proxies: tuple, log_every: float = 60.0):
        self.active = not trusted_proxies
        self.log_every, self._logged_at = log_every, None

    def check(self, environ) -> None:
        if not self.active:
            return
        peer = parse_ip(environ.get("REMOTE_ADDR"))
        if peer is None or not peer.is_loopback:
            return
        header = next((h for h in _FORWARDED_HEADERS if environ.get(h)), None)
        if header is None:
            return
        if self._logged_at is None or time.monotonic() - self._logged_at > self.log_every:
            self._logged_at = time.monotonic()
            log.critical(
                "REFUSING STATION MESSAGES: a reverse proxy on this host (%s) forwards requests "
                "with %s, but SOAPGW_TRUSTED_PROXIES is not set, so every station would look "
                "like %s. Set SOAPGW_TRUSTED_PROXIES=127.0.0.1/32,::1/128 (the proxy's "
                "address) and restart.", environ.get("REMOTE_ADDR"),
                header[5:].replace("_", "-").title(), environ.get("REMOTE_ADDR"))
        raise OcppError(ErrorCode.INTERNAL_ERROR,
                        "the central system is misconfigured (a local reverse proxy that is "
                        "not trusted); the operator was told, please retry later")
