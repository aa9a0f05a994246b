"""The SMTP server notifications go through, stored in the ``setting`` table (keys ``smtp_*``).

The password is stored encrypted (``PasswordBox``, the upstream passwords' key): a copy of the
database alone gives it away to nobody. It is never shown again: the form leaves it blank,
and a blank password on save keeps the stored one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from soapgw.core.enums import SmtpSecurity, values
from soapgw.core.errors import Invalid
from soapgw.core.upstream_secret import PasswordBox, SecretUnreadable
from soapgw.store.models import Setting

PREFIX = "smtp_"
_FIELDS = ("host", "port", "security", "username", "password", "from_address")
# a plain address: no display name, no spaces or line breaks (they would inject headers)
ADDRESS = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}$|"
                     r"^[^@\s<>,;\"]{1,64}@localhost$")
HOST = re.compile(r"^[A-Za-z0-9.:\[\]-]{1,253}$")


def address_problem(address: str) -> str | None:
    if not ADDRESS.match(address or ""):
        return "enter one e-mail address such as ops@example.com"
    return None


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    security: str = SmtpSecurity.STARTTLS.value
    username: str = ""
    password_sealed: str = ""  # the Fernet token; "" when none is stored
    from_address: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.host and self.from_address)

    @property
    def has_password(self) -> bool:
        return bool(self.password_sealed)

    def password(self, box: PasswordBox) -> str:
        """The clear password (for the SMTP login only); SecretUnreadable with a readable
        reason when the key changed."""
        if not self.password_sealed:
            return ""
        try:
            return box.open(self.password_sealed.encode()).decode()
        except SecretUnreadable:
            raise SecretUnreadable("the stored SMTP password cannot be decrypted with this "
                                   "instance's key: enter it again on the Settings page"
                                   ) from None


def load(db: Session) -> SmtpSettings:
    stored = dict(db.execute(select(Setting.key, Setting.value)
                             .where(Setting.key.like(f"{PREFIX}%"))).all())
    raw = {name: stored.get(PREFIX + name) for name in _FIELDS}
    return SmtpSettings(host=raw["host"] or "", port=int(raw["port"] or 587),
                        security=raw["security"] or SmtpSecurity.STARTTLS.value,
                        username=raw["username"] or "", password_sealed=raw["password"] or "",
                        from_address=raw["from_address"] or "")


def save(db: Session, box: PasswordBox, host: str, port: int | None, security: str,
         username: str, from_address: str, password: str | None = None,
         clear_password: bool = False) -> SmtpSettings:
    """Store the SMTP settings; ``password`` None or "" keeps the stored one unless
    ``clear_password``. An empty host turns mail off. ``Invalid`` names each bad field."""
    host, username, from_address = (host or "").strip(), (username or "").strip(), \
        (from_address or "").strip()
    problems = {}
    if host and not HOST.match(host):
        problems["host"] = "a host name or IP address, without scheme or port"
    if port is None or not 1 <= port <= 65535:
        problems["port"] = "use 1 to 65535"
    if security not in values(SmtpSecurity):
        problems["security"] = f"use {', '.join(values(SmtpSecurity))}"
    if len(username) > 254:
        problems["username"] = "at most 254 characters"
    if password and len(password) > 1024:
        problems["password"] = "at most 1024 characters"
    if host and (problem := address_problem(from_address)):
        problems["from_address"] = problem
    elif from_address and (problem := address_problem(from_address)):
        problems["from_address"] = problem
    if problems:
        raise Invalid(problems)
    current = load(db)
    sealed = current.password_sealed
    if clear_password:
        sealed = ""
    elif password:
        sealed = box.seal(password.encode()).decode()
    stored = {"host": host, "port": str(port), "security": security, "username": username,
              "password": sealed, "from_address": from_address}
    for name, value in stored.items():
        if value:
            db.merge(Setting(key=PREFIX + name, value=value))
        else:
            db.execute(delete(Setting).where(Setting.key == PREFIX + name))
    return load(db)
