"""Column types shared by the models and the migrations (keep it stable: migrations import it)."""
from __future__ import annotations

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from soapgw.core.timestamps import utc


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
