"""Settings from environment variables (documented in README.md), validated at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


def _int(env, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise ConfigError(f"{name}={raw!r} is out of range: it must be {bounds}")
    return value


def _bool(env, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use true or false")


def _url(env, name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}={raw!r} is not an http(s) URL with a host")
    return raw.rstrip("/")


def _ws_url(env, name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    reason = ws_url_problem(raw)
    if reason:
        raise ConfigError(f"{name}={raw!r} {reason}")
    return raw.rstrip("/")


def ws_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an OCPP-J central system's base URL, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        return "is not a ws:// or wss:// URL with a host"
    if parts.query or parts.fragment:
        return "must have no query or fragment (the station's id is appended to its path)"
    if parts.username or parts.password:
        return "must not hold credentials (use soapgw upstream password ID)"
    return None


MAX_TIMEOUT = 3600.0  # seconds; the settings page allows the same range


def _seconds(env, name: str, default: float, maximum: float = MAX_TIMEOUT) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None
    if not 0 < value <= maximum:
        raise ConfigError(f"{name}={raw!r} is out of range: it must be more than 0 and at most "
                          f"{maximum:g} seconds")
    return value


def _file(env, name: str) -> Path | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"{name}={raw!r} is not a readable file")
    return path


def _networks(env, name: str) -> tuple:
    """A comma-separated list of addresses or networks (CIDR), e.g. ``10.0.0.0/8, 192.0.2.7``."""
    import ipaddress
    raw = (env.get(name) or "").strip()
    networks = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not an IP address or network "
                              "(use CIDR, e.g. 10.0.0.0/8)") from None
    return tuple(networks)


STATION_AUTH_MODES = ("off", "optional", "required")


def _station_auth(env) -> str:
    raw = (env.get("SOAPGW_STATION_AUTH") or "optional").strip().lower()
    if raw not in STATION_AUTH_MODES:
        raise ConfigError(f"SOAPGW_STATION_AUTH={raw!r}: use off, optional or required")
    return raw


def _header_name(env, name: str) -> str | None:
    """An HTTP header name (letters, digits, hyphens), e.g. ``X-SSL-Client-S-DN``."""
    import re
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", raw):
        raise ConfigError(f"{name}={raw!r} is not an HTTP header name (e.g. X-SSL-Client-S-DN)")
    return raw


def _database_url(env, instance: Path) -> str:
    raw = (env.get("SOAPGW_DATABASE_URL") or "").strip()
    if not raw:
        return f"sqlite:///{instance / 'soapgw.db'}"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"SOAPGW_DATABASE_URL={raw!r} is not a database URL "
                          "(e.g. sqlite:////var/lib/soapgw/soapgw.db)") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"SOAPGW_DATABASE_URL={raw!r}: only sqlite and postgresql are supported")
    return raw


@dataclass(frozen=True)
class Settings:
    database_url: str
    instance_path: Path
    auto_register: bool = False
    heartbeat_interval: int = 300
    public_url: str | None = None
    max_message_bytes: int = 1024 * 1024
    max_message_elements: int = 20_000  # also the bound on attributes (soapgw.soap.shape)
    journal_retention_days: int = 30  # 0 keeps the journal forever
    event_retention_days: int = 7  # events every consumer has read; 0 keeps them forever
    # Commands to stations (soapgw.soap_out): timeouts, TLS, callback safety, concurrency.
    connect_timeout: float = 30.0
    operation_timeout: float = 30.0
    tls_client_cert: Path | None = None
    tls_client_key: Path | None = None
    tls_ca: Path | None = None
    allowed_callback_networks: tuple = ()
    trusted_proxies: tuple = ()
    outbound_concurrency: int = 50
    # Station authentication (soapgw.core.station_auth)
    station_auth: str = "optional"  # off | optional | required
    station_networks: tuple = ()  # default source networks of stations without their own
    client_cert_header: str | None = None  # set by a trusted TLS proxy: certificate subject
    # The OCPP-J upstream bridge (soapgw.bridge): the central system's base URL, its CA, the
    # durable queue's bound per station, how long a decision waits for the upstream answer,
    # WebSocket pings.
    upstream_url: str | None = None
    upstream_ca: Path | None = None
    upstream_queue_max: int = 10_000
    upstream_answer_timeout: float = 5.0
    upstream_ping_interval: int = 30
    # REST API and JSON side (soapgw.api, soapgw.http_out): webhooks, live stream, authorizer.
    webhook_allowed_networks: tuple = ()
    webhook_timeout: float = 10.0
    webhook_retry_base: float = 5.0  # seconds before the first retry, doubling
    webhook_retry_window: float = 86400.0  # retried this long, then the subscription pauses
    stream_port: int | None = None  # the event stream's own server (soapgw serve sets it)
    stream_url: str | None = None  # its public URL, when a proxy serves it elsewhere
    authorize_url: str | None = None
    authorize_timeout: float = 2.0

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        env = os.environ if env is None else env
        instance = Path(env.get("SOAPGW_INSTANCE_PATH") or "instance").resolve()
        return cls(
            database_url=_database_url(env, instance),
            instance_path=instance,
            auto_register=_bool(env, "SOAPGW_AUTO_REGISTER", False),
            heartbeat_interval=_int(env, "SOAPGW_HEARTBEAT_INTERVAL", 300, 1, 86400 * 7),
            public_url=_url(env, "SOAPGW_PUBLIC_URL"),
            max_message_bytes=_int(env, "SOAPGW_MAX_MESSAGE_BYTES", 1024 * 1024, 1024),
            max_message_elements=_int(env, "SOAPGW_MAX_MESSAGE_ELEMENTS", 20_000, 100),
            journal_retention_days=_int(env, "SOAPGW_JOURNAL_RETENTION_DAYS", 30, 0),
            event_retention_days=_int(env, "SOAPGW_EVENT_RETENTION_DAYS", 7, 0),
            connect_timeout=_seconds(env, "SOAPGW_CONNECT_TIMEOUT", 30.0),
            operation_timeout=_seconds(env, "SOAPGW_OPERATION_TIMEOUT", 30.0),
            tls_client_cert=_file(env, "SOAPGW_TLS_CLIENT_CERT"),
            tls_client_key=_client_key(env),
            tls_ca=_file(env, "SOAPGW_TLS_CA"),
            allowed_callback_networks=_networks(env, "SOAPGW_ALLOWED_CALLBACK_NETWORKS"),
            trusted_proxies=_networks(env, "SOAPGW_TRUSTED_PROXIES"),
            outbound_concurrency=_int(env, "SOAPGW_OUTBOUND_CONCURRENCY", 50, 1, 1000),
            station_auth=_station_auth(env),
            station_networks=_networks(env, "SOAPGW_STATION_NETWORKS"),
            client_cert_header=_header_name(env, "SOAPGW_CLIENT_CERT_HEADER"),
            upstream_url=_ws_url(env, "SOAPGW_UPSTREAM_URL"),
            upstream_ca=_file(env, "SOAPGW_UPSTREAM_CA"),
            upstream_queue_max=_int(env, "SOAPGW_UPSTREAM_QUEUE_MAX", 10_000, 10, 10_000_000),
            upstream_answer_timeout=_seconds(env, "SOAPGW_UPSTREAM_ANSWER_TIMEOUT", 5.0, 60.0),
            upstream_ping_interval=_int(env, "SOAPGW_UPSTREAM_PING_INTERVAL", 30, 0, 3600),
            webhook_allowed_networks=_networks(env, "SOAPGW_WEBHOOK_ALLOWED_NETWORKS"),
            webhook_timeout=_seconds(env, "SOAPGW_WEBHOOK_TIMEOUT", 10.0, 300),
            webhook_retry_base=_seconds(env, "SOAPGW_WEBHOOK_RETRY_BASE", 5.0),
            webhook_retry_window=_seconds(env, "SOAPGW_WEBHOOK_RETRY_WINDOW", 86400.0,
                                          30 * 86400),
            stream_port=_int(env, "SOAPGW_STREAM_PORT", 0, 0, 65535) or None,
            stream_url=_url(env, "SOAPGW_STREAM_URL"),
            authorize_url=_url(env, "SOAPGW_AUTHORIZE_URL"),
            authorize_timeout=_seconds(env, "SOAPGW_AUTHORIZE_TIMEOUT", 2.0, 60),
        )


def _client_key(env) -> Path | None:
    key = _file(env, "SOAPGW_TLS_CLIENT_KEY")
    if key is not None and not (env.get("SOAPGW_TLS_CLIENT_CERT") or "").strip():
        raise ConfigError("SOAPGW_TLS_CLIENT_KEY is set without SOAPGW_TLS_CLIENT_CERT")
    return key
