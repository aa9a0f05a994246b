"""INSERT ... ON CONFLICT for the dialect in use (SQLite and PostgreSQL share the syntax)."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.dialects import postgresql, sqlite

from soapgw.store.database import Db


def dialect_name(db: Db) -> str:
    """The SQL dialect behind a Connection (inbound path) or a Session (everything else)."""
    return (db.dialect if hasattr(db, "dialect") else db.get_bind().dialect).name


def insert_for(db: Db, table):
    """A dialect ``insert()`` that offers ``on_conflict_do_nothing/do_update``."""
    return (postgresql.insert if dialect_name(db) == "postgresql" else sqlite.insert)(table)


class PerDialect:
    """A statement built once per SQL dialect, with bind parameters for its values.

    Building an ON CONFLICT statement costs about a millisecond and leaves reference cycles
    (SQLAlchemy's expression objects) for the garbage collector: hot paths build it once.
    """

    def __init__(self, build: Callable):
        self._build = build  # build(db) -> the statement for that db's dialect
        self._statements: dict[str, object] = {}

    def __call__(self, db: Db):
        dialect = dialect_name(db)
        statement = self._statements.get(dialect)
        if statement is None:
            statement = self._statements[dialect] = self._build(db)
        return statement


def upsert(table, values: dict, keys: list[str], update: Callable) -> PerDialect:
    """INSERT ``values`` (bind parameters, mostly) into ``table``; on a conflict on ``keys``,
    SET ``update(excluded)``, where ``excluded`` is the row that was to be inserted."""
    def build(db: Db):
        insert = insert_for(db, table).values(**values)
        return insert.on_conflict_do_update(index_elements=keys, set_=update(insert.excluded))
    return PerDialect(build)
