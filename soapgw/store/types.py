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


def driver_insert(table, columns: tuple[str, ...]):
    """(SQL for SQLite, SQL for PostgreSQL, column widths) of a plain INSERT into ``table``:
    for the per-message rows (journal, events) written with ``exec_driver_sql``, where
    SQLAlchemy's statement handling cost more than the INSERT itself."""
    names = ", ".join(columns)
    widths = {c.name: c.type.length for c in table.c
              if c.name in columns and getattr(c.type, "length", None)}
    return (f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})",
            f"INSERT INTO {table.name} ({names}) VALUES ({', '.join(['%s'] * len(columns))})",
            widths)
