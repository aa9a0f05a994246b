"""Bring a database to the latest schema with Alembic, from the CLI or at start-up."""
from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
# Alembic announces its dialect at INFO on every check: noise on stderr for every command.
logging.getLogger("alembic").setLevel(logging.WARNING)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def revisions(connection) -> tuple[str | None, tuple[str, ...]]:
    """The database's schema revision and the code's head revision(s) (the About page)."""
    heads = tuple(ScriptDirectory.from_config(alembic_config(connection.engine)).get_heads())
    return MigrationContext.configure(connection).get_current_revision(), heads


def upgrade(engine: Engine) -> bool:
    """Migrate to the head revision; returns True when anything was applied."""
    if is_current(engine):
        return False
    command.upgrade(alembic_config(engine), "head")
    return True
