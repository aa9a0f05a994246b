"""What every ``soapgw`` sub-command module shares: one-line errors with an exit code, and a
migrated database. (``soapgw.cli`` assembles the modules; they import this, never it.)"""
from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from soapgw.config import Settings
from soapgw.store.database import make_engine, make_session_factory
from soapgw.store.migrate import upgrade

EXIT_USAGE = 2


class CliError(Exception):
    """A problem to report in one line, with an exit code."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def open_sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database, migrated to the latest schema first."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return make_session_factory(engine)
