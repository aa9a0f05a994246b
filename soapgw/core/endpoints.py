"""Learning a station's callback address (its ChargePointService URL) from what it announces.

A SOAP central system can only command a station at the address the station gives in
``wsa:From``. Stations get it wrong in known ways (no host, ``localhost``, no scheme, the word
``anonymous``); the rules below recover what can be recovered and say what was wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

ANONYMOUS = {"http://www.w3.org/2005/08/addressing/anonymous",
             "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous", "anonymous"}
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@dataclass(frozen=True)
class Callback:
    address: str | None  # None: nothing usable was announced
    source: str | None  # "wsa:From" | "wsa:ReplyTo"
    quirk: str | None = None  # why the announced address had to be repaired or was refused


def _usable(raw: str | None, peer_host: str | None) -> tuple[str | None, str | None]:
    """(address, quirk) for one announced address."""
    if not raw or raw.strip() in ANONYMOUS:
        return None, "anonymous" if raw else None
    raw = raw.strip()
    quirk = None
    if "://" not in raw:
        raw, quirk = f"http://{raw}", "endpoint-without-scheme"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return None, "endpoint-unparseable"
    if parts.scheme not in ("http", "https"):
        return None, "endpoint-bad-scheme"
    host = parts.hostname or ""
    if not host:
        # The station does not know its own address: use the one it talks to us from
        # (whatever it is: a station on this machine talks from a loopback address).
        if not peer_host:
            return None, "endpoint-empty-host"
        host, quirk = peer_host, "endpoint-empty-host"
    elif host in _LOCAL_HOSTS and peer_host and peer_host not in _LOCAL_HOSTS:
        # "localhost" is only right when the station is on this machine
        host, quirk = peer_host, "endpoint-localhost"
    netloc_host = f"[{host}]" if ":" in host else host
    netloc = f"{netloc_host}:{port}" if port else netloc_host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), quirk


def derive_callback(from_address: str | None, reply_to: str | None,
                    peer_host: str | None) -> Callback:
    """The station's ChargePointService address: wsa:From first, then a non-anonymous ReplyTo."""
    address, quirk = _usable(from_address, peer_host)
    if address:
        return Callback(address, "wsa:From", quirk)
    fallback, fallback_quirk = _usable(reply_to, peer_host)
    if fallback:
        return Callback(fallback, "wsa:ReplyTo", quirk or "no-usable-from")
    return Callback(None, None, quirk or fallback_quirk or "no-callback-address")
