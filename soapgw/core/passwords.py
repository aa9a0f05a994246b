"""Password hashes (werkzeug's scrypt): web UI accounts and stations' HTTP Basic passwords."""
from __future__ import annotations

import functools
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


@functools.cache
def _dummy_hash() -> str:
    """Compared against when there is no hash, so that an unknown name takes as long as a
    wrong password (no enumeration by timing). Made on first use, not at import: an scrypt
    hash costs ~0.2 s of CPU, paid by every worker and helper process at its start."""
    return generate_password_hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be used, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must have at most {MAX_PASSWORD_LENGTH} characters"
    return None
