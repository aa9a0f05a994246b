"""The upstream Basic-auth passwords, encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The key is ``SOAPGW_UPSTREAM_SECRET`` (a Fernet key) or one generated once into the instance
folder (``upstream.key``, mode 0600), so a copy of the database alone (a backup, a shared
PostgreSQL) reveals no password. The CLI that stores a password and the bridge that sends it
must see the same key: same instance folder, or the same variable.
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from soapgw.config import ConfigError
from soapgw.instance_files import generated_once

KEY_FILE = "upstream.key"
KEY_VARIABLE = "SOAPGW_UPSTREAM_SECRET"


class SecretUnreadable(Exception):
    """A stored password cannot be decrypted with this key (another instance's key?)."""


def _key(instance_path: Path, env=None) -> bytes:
    env = os.environ if env is None else env
    configured = (env.get(KEY_VARIABLE) or "").strip()
    if configured:
        try:
            Fernet(configured)
        except ValueError:
            raise ConfigError(f"{KEY_VARIABLE} is not a Fernet key (32 url-safe base64 bytes; "
                              "make one with: python -c 'from cryptography.fernet import "
                              "Fernet; print(Fernet.generate_key().decode())')") from None
        return configured.encode()
    return generated_once(Path(instance_path) / KEY_FILE, Fernet.generate_key)


class PasswordBox:
    def __init__(self, instance_path: Path, env=None):
        self._fernet = Fernet(_key(instance_path, env))

    def seal(self, password: bytes) -> bytes:
        return self._fernet.encrypt(password)

    def open(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise SecretUnreadable(
                "the stored upstream password cannot be decrypted with this instance's key "
                f"({KEY_VARIABLE} or {KEY_FILE}): set it again with soapgw upstream password"
            ) from None
