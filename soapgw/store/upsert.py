"""INSERT ... ON CONFLICT for the dialect in use (SQLite and PostgreSQL share the syntax)."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from soapgw.store.database import Db


def dialect_name(db: Db) -> str:
    """The SQL dialect behind a Connection (inbound path) or a Session (everything else)."""
    return (db.dialect if hasattr(db, "dialect") else db.get_bind().dialect).name


def insert_for(db: Db, table):
    """A dialect ``insert()`` that offers ``on_conflict_do_nothing/do_update``."""
    return (postgresql.insert if dialect_name(db) == "postgresql" else sqlite.insert)(table)
