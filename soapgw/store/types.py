"""Column types shared by the models and the migrations (keep it stable: migrations import it)."""
from __future__ import annotations

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator

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
    the driver (formatted by hand: strftime is slow on a per-message path)."""
    v = utc(value)
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:"
            f"{v.second:02d}.{v.microsecond:06d}")


class DriverInsert:
    """A plain INSERT into ``table`` straight through the driver, many rows in one
    executemany: for rows on the path of every message (journal, events, meter values), where
    SQLAlchemy's statement handling cost more than the INSERT itself.

    Rows are tuples in ``columns`` order. What the column types would do is done here:
    datetimes stored as UtcDateTime stores them, text cut to its column's width as
    BoundedString would (the whole message is in the journal's ``raw``)."""

    def __init__(self, table, columns: tuple[str, ...]):
        names, types = ", ".join(columns), [table.c[name].type for name in columns]
        self.sqlite = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"
        self.postgres = (f"INSERT INTO {table.name} ({names}) "
                         f"VALUES ({', '.join(['%s'] * len(columns))})")
        self.widths = tuple((index, kind.length) for index, kind in enumerate(types)
                            if getattr(kind, "length", None))
        self.times = tuple(index for index, kind in enumerate(types)
                           if isinstance(kind, UtcDateTime))

    def execute(self, connection, rows) -> None:
        postgres = connection.dialect.name == "postgresql"
        stamp = utc if postgres else sqlite_datetime
        stamped = {}  # the rows of one message share their few timestamps
        values = []
        for row in rows:
            row = list(row)
            for index, width in self.widths:
                if isinstance(row[index], str) and len(row[index]) > width:
                    row[index] = row[index][:width]
            for index in self.times:
                if (moment := row[index]) is not None:
                    if moment not in stamped:
                        stamped[moment] = stamp(moment)
                    row[index] = stamped[moment]
            values.append(tuple(row))
        if values:
            connection.exec_driver_sql(self.postgres if postgres else self.sqlite, values)
