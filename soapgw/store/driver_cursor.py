"""SQL run on the driver's own cursor, under a SQLAlchemy Connection's transaction.

For the statements on the path of every station message (BEGIN, the journal's and the
events' INSERTs, the gate's UPDATE ... RETURNING): SQLAlchemy's execution costs ~35 µs of
Python per statement here (execution context, cursor events, result set-up), even through
``exec_driver_sql``, against a few µs for the driver's own call. The driver's errors are
raised as SQLAlchemy's (DBAPIError and its kinds), as from ``execute``. SQLAlchemy's cursor
events do not see these statements.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def on_driver(connection: Connection, sql: str, parameters: Any = (), many: bool = False,
              *, autobegin: bool = True) -> list[tuple]:
    """``sql`` on the driver's cursor of ``connection`` (``executemany`` over ``parameters``
    when ``many``): the rows it returns, as the driver gives them. A connection with no
    transaction begins one first, as ``execute`` would (the caller ends it); the BEGIN itself,
    run from SQLAlchemy's begin event, passes ``autobegin=False``."""
    if autobegin and not connection.in_transaction():
        connection.begin()
    dbapi = connection.dialect.loaded_dbapi
    cursor = connection.connection.driver_connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        return cursor.fetchall() if cursor.description is not None else []
    except dbapi.Error as error:
        raise DBAPIError.instance(sql, parameters, error, dbapi.Error) from error
    finally:
        cursor.close()
