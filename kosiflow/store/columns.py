"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator, TypeEngine


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; refuses a naive datetime instead of guessing its zone."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"timestamp {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    """ISO-8601 in UTC with microseconds, e.g. ``2024-05-01T09:30:00.000000+00:00``."""
    return to_utc(value).isoformat(timespec="microseconds")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp, microseconds included, in and out.

    PostgreSQL stores ``timestamp with time zone``. SQLite has no date type, so the value is
    stored as fixed-width ISO-8601 text in UTC (which also sorts chronologically).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return iso_utc(value)
        return to_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_db_time(value)


def from_db_time(value: Any) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite: ISO text; PostgreSQL: datetime)."""
    if isinstance(value, str):
        return to_utc(datetime.fromisoformat(value))
    if isinstance(value, datetime):
        return to_utc(value)
    raise TypeError(f"unexpected timestamp value {value!r}")
