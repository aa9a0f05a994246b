"""Column types shared by the models and the migrations (keep it stable: migrations import it)."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator

from soapgw.store import driver_cursor
from soapgw.timestamps import utc


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else utc(value)


class BoundedString(TypeDecorator):
    """VARCHAR(n) for text that stations send: a longer value is cut to ``n`` characters
    instead of failing the statement (PostgreSQL refuses it; SQLite would keep it whole).

    Stations send strings longer than the schema allows (recorded as the quirk ``too-long``
    or ``invalid-value`` with the value as sent); the columns hold several times the schema's
    lengths, so this only cuts what no OCPP field can mean, and keeps the message. Same DDL
    as ``String(n)``: no migration.
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int):
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value, dialect):
        if isinstance(value, str) and len(value) > self.length:
            return value[:self.length]
        return value


def sqlite_datetime(value) -> str:
    """A UTC datetime as UtcDateTime stores it in SQLite, for rows written straight through
    the driver (isoformat, the same text: strftime is slow on a per-message path)."""
    return utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


# From this many rows on, SQLite gets them as one JSON array that it unpacks itself
# (json_each): the driver's executemany binds every value of every row from Python, which cost
# more than SQLite's insert (6,600 meter values: 34 ms through executemany, 24 ms this way).
BULK_ROWS = 100
# json_each and json_extract are built into SQLite from 3.38 (a compile option before).
SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 38)


class DriverInsert:
    """A plain INSERT into ``table`` straight through the driver, many rows in one
    executemany (or, on SQLite, from BULK_ROWS rows on, one INSERT ... SELECT over a JSON
    array): for rows on the path of every message (journal, events, meter values), where
    SQLAlchemy's statement handling cost more than the INSERT itself.

    Rows are tuples in ``columns`` order; ``shared`` columns have one value for all the rows
    of a call, given apart (bound once on the JSON path). What the column types would do is
    done here: datetimes stored as UtcDateTime stores them, text cut to its column's width as
    BoundedString would (the whole message is in the journal's ``raw``)."""

    def __init__(self, table, columns: tuple[str, ...], shared: tuple[str, ...] = ()):
        every = (*columns, *shared)
        names, types = ", ".join(every), [table.c[name].type for name in every]
        self.sqlite = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(every))})"
        self.postgres = (f"INSERT INTO {table.name} ({names}) "
                         f"VALUES ({', '.join(['%s'] * len(every))})")
        self.widths = tuple((index, kind.length) for index, kind in enumerate(types)
                            if getattr(kind, "length", None))
        self.times = tuple(index for index, kind in enumerate(types)
                           if isinstance(kind, UtcDateTime))
        self.row_columns, self.shared = len(columns), len(shared)
        # Width columns have TEXT affinity: SQLite stores whatever substr() gives as the text
        # the cut Python value would have become.
        width = dict(self.widths)
        picked = [f"json_extract(value, '$[{index}]')" for index in range(len(columns))]
        picked += ["?"] * len(shared)
        self.sqlite_bulk = (f"INSERT INTO {table.name} ({names}) SELECT "
                            + ", ".join(f"substr({pick}, 1, {width[index]})" if index in width
                                        else pick for index, pick in enumerate(picked))
                            + " FROM json_each(?)")

    def execute(self, connection, rows, shared: tuple = ()) -> None:
        if len(shared) != self.shared:
            raise ValueError(f"{self.shared} shared value(s) expected, {len(shared)} given")
        postgres = connection.dialect.name == "postgresql"
        if not postgres and SQLITE_JSON and len(rows) >= BULK_ROWS:
            payload = _json_rows(rows)
            if payload is not None:
                first = self._stored([*rows[0], *shared], sqlite_datetime, {})
                driver_cursor.on_driver(connection, self.sqlite_bulk,
                                        (*first[self.row_columns:], payload))
                return
        stamp = utc if postgres else sqlite_datetime
        stamped = {}  # the rows of one message share their few timestamps
        values = [self._stored([*row, *shared], stamp, stamped) for row in rows]
        if values:
            driver_cursor.on_driver(connection, self.postgres if postgres else self.sqlite,
                                    values, many=True)

    def _stored(self, row: list, stamp, stamped: dict) -> tuple:
        """``row`` as the column types would store it: text cut to width, datetimes stamped
        (``stamped``: the stamps made so far)."""
        for index, width in self.widths:
            if isinstance(value := row[index], str) and len(value) > width:
                row[index] = value[:width]
        for index in self.times:
            if (moment := row[index]) is not None:
                if moment not in stamped:
                    stamped[moment] = stamp(moment)
                row[index] = stamped[moment]
        return tuple(row)


def _json_rows(rows) -> str | None:
    """The rows as one JSON array of arrays, datetimes as UtcDateTime stores them in SQLite;
    None when a value has no JSON form the driver would store alike (then executemany)."""
    stamped: dict[datetime, str] = {}

    def stamp(value):
        if not isinstance(value, datetime):
            raise TypeError(type(value).__name__)
        if (text := stamped.get(value)) is None:
            text = stamped[value] = sqlite_datetime(value)
        return text

    try:
        return json.dumps(rows, default=stamp, ensure_ascii=False, allow_nan=False,
                          check_circular=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
