"""Secret key, session cookies and passwords for the web UI."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

from soapgw.config import ConfigError
from soapgw.instance_files import generated_once
from soapgw.core.passwords import (  # noqa: F401  (the web UI's names for them)
    MIN_PASSWORD_LENGTH, hash_password, password_matches, password_problem)

SECRET_FILE = "secret_key"
COOKIE_SECURE_VARIABLE = "SOAPGW_COOKIE_SECURE"  # auto (default) | true | false


def load_secret_key(instance_path: Path, env=None) -> str:
    """SOAPGW_SECRET_KEY, else a key generated once and kept in the instance folder.

    Every gunicorn worker builds its own app: the key file is written to a private temporary
    name and linked into place, so concurrent workers all end up reading the same key.
    """
    env = os.environ if env is None else env
    configured = (env.get("SOAPGW_SECRET_KEY") or "").strip()
    if configured:
        if len(configured) < 16:
            raise ConfigError("SOAPGW_SECRET_KEY is too short: use at least 16 characters")
        return configured
    path = Path(instance_path) / SECRET_FILE
    key = generated_once(path, lambda: secrets.token_hex(32).encode()).decode()
    if len(key) < 16:
        raise ConfigError(f"{path} holds no usable secret key: delete it to have a new one made")
    return key


def cookie_secure_mode(env=None) -> str:
    env = os.environ if env is None else env
    raw = (env.get(COOKIE_SECURE_VARIABLE) or "auto").strip().lower()
    mapping = {"auto": "auto", "1": "true", "true": "true", "yes": "true", "on": "true",
               "0": "false", "false": "false", "no": "false", "off": "false"}
    if raw not in mapping:
        raise ConfigError(f"{COOKIE_SECURE_VARIABLE}={raw!r}: use auto, true or false")
    return mapping[raw]


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag decided per request in "auto"
    mode: set when the request came over https (behind a proxy, trust X-Forwarded-Proto with
    a ProxyFix), or always/never when configured."""

    def __init__(self, mode: str):
        self.mode = mode

    def get_cookie_secure(self, app: Flask) -> bool:
        if self.mode == "auto":
            return request.is_secure
        return self.mode == "true"


def configure_sessions(app: Flask, instance_path: Path, public_url: str | None) -> None:
    app.secret_key = load_secret_key(instance_path)
    mode = cookie_secure_mode()
    if mode == "auto" and public_url and public_url.startswith("https://"):
        mode = "true"  # served over https behind something that may not say so
    app.session_interface = SessionCookies(mode)
    app.config.update(
        SESSION_COOKIE_NAME="soapgw_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=12 * 3600,  # a working day
        # The CSRF token is bound to the session; a form left open over lunch still works.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=True,
    )
