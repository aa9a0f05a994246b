"""Webhook signing secrets, derived instead of stored.

Each subscription's secret is HMAC-SHA256(webhook key, nonce), where the nonce is kept on the
subscription and the key comes from ``SOAPGW_WEBHOOK_KEY`` or is generated once into the
instance folder: the database alone gives no secret away, and rotating a secret is a new
nonce. Secrets are shown as Standard Webhooks writes them, ``whsec_`` + base64.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from soapgw.config import ConfigError
from soapgw.instance_files import generated_once

KEY_FILE = "webhook_key"
KEY_VARIABLE = "SOAPGW_WEBHOOK_KEY"


def load_key(instance_path: Path, env=None) -> bytes:
    env = os.environ if env is None else env
    configured = (env.get(KEY_VARIABLE) or "").strip()
    if configured:
        if len(configured) < 32:
            raise ConfigError(f"{KEY_VARIABLE} is too short: use at least 32 characters")
        return configured.encode()
    path = Path(instance_path) / KEY_FILE
    key = generated_once(path, lambda: secrets.token_hex(32).encode()).decode()
    if len(key) < 32:
        raise ConfigError(f"{path} holds no usable webhook key")
    return key.encode()


def new_nonce() -> str:
    return secrets.token_hex(16)


def secret(key: bytes, nonce: str) -> str:
    """The subscription's signing secret, ``whsec_...`` (24 bytes, base64)."""
    raw = hmac.new(key, b"soapgw-webhook-secret:" + nonce.encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(raw[:24]).decode()
