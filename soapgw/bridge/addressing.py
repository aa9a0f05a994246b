"""Where and how a station connects upstream: its URL, its Basic-auth header, TLS."""
from __future__ import annotations

import base64
import ssl
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit


def station_url(base: str, charge_box_id: str) -> str:
    """``<base>/<id>``, the id percent-encoded as one path segment (spaces, ``#``, ``%``, ``/``
    included: it decodes to exactly the chargeBoxId); the base's own path is kept."""
    parts = urlsplit(base)
    path = parts.path.rstrip("/") + "/" + quote(charge_box_id, safe="")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def basic_auth(charge_box_id: str, password: bytes) -> str:
    """The Authorization header of OCPP 1.6 security profiles 1 and 2 (user = chargeBoxId)."""
    token = base64.b64encode(charge_box_id.encode() + b":" + password).decode("ascii")
    return f"Basic {token}"


def tls_context(url: str, ca: Path | None) -> ssl.SSLContext | None:
    """For wss://: the server verified against SOAPGW_UPSTREAM_CA, else the system CAs."""
    if not url.startswith("wss://"):
        return None
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def shown(url: str) -> str:
    """The URL as journaled and shown: scheme, host and path (no credentials ever)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
