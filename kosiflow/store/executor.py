"""Running compiled statements on one pooled DBAPI connection, inside a unit's transaction."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from kosiflow.store.columns import iso_utc, to_utc
from kosiflow.store.statements import Compiled, Statements

Row = Sequence[Any]
_NO_VALUES: Mapping[str, Any] = {}
_cursor_names = itertools.count(1)
STREAM_BATCH = 500
"""Rows fetched per round trip when streaming events from PostgreSQL."""
BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
"""How a PostgreSQL read unit begins the transaction whose one snapshot its later statements see."""


class Executor:
    """A DBAPI connection with the statements compiled for its dialect.

    ``db_time`` turns an aware datetime into what the timestamp columns hold (ISO-8601 text on
    SQLite, a UTC datetime on PostgreSQL); ``columns.from_db_time`` reads it back.
    """

    def __init__(self, dbapi: Any, statements: Statements, *, sqlite: bool) -> None:
        self.dbapi = dbapi
        self.sql = statements
        self.sqlite = sqlite
        self.db_time: Callable[[datetime], Any] = iso_utc if sqlite else to_utc
        self._cursor = dbapi.cursor()
        self._snapshot = False
        """Whether this (PostgreSQL read unit's) connection began :data:`BEGIN_SNAPSHOT`; an
        executor serves a single unit there (``Database._borrow`` makes one per unit)."""

    def run_text(self, sql: str) -> None:
        """Execute a statement without parameters (``BEGIN``)."""
        self._cursor.execute(sql)

    def snapshot(self) -> None:
        """Let every statement from here to the end of the unit see one snapshot of the store.

        A PostgreSQL read unit runs each statement on its own (autocommit, READ COMMITTED: a
        snapshot per statement); this begins a ``REPEATABLE READ READ ONLY`` transaction, which
        the unit's end commits. Without it, texts read in one statement and events in the next
        may straddle a commit (an event without its text). SQLite's units and PostgreSQL's write
        units (which hold their initiative) need none: a no-op there, and when begun already.
        """
        if self.sqlite or self._snapshot or not self.dbapi.autocommit:
            return
        self._cursor.execute(BEGIN_SNAPSHOT)
        self._snapshot = True

    def close(self) -> None:
        self._cursor.close()

    def run(self, compiled: Compiled, values: Mapping[str, Any] = _NO_VALUES) -> Any:
        """Execute; returns the (shared) cursor, to read before the next statement."""
        self._cursor.execute(compiled.sql, compiled.params(values))
        return self._cursor

    def run_sql(self, sql: str, values: Mapping[str, Any]) -> list[Row]:
        """Execute a statement written for this dialect (not compiled); returns its rows."""
        rows: list[Row] = self._cursor.execute(sql, values).fetchall()
        return rows

    def in_transaction(self) -> bool:
        """Whether a transaction is open on the (PostgreSQL) connection: a statement has run
        since the last commit or rollback."""
        return bool(self.dbapi.info.transaction_status)  # psycopg: IDLE is 0

    def run_many(self, compiled: Compiled, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per row of values (``executemany``: one batch, pipelined by psycopg)."""
        self._cursor.executemany(compiled.sql, [compiled.params(values) for values in rows])

    def one(self, compiled: Compiled, values: Mapping[str, Any] = _NO_VALUES) -> Row | None:
        row: Row | None = self.run(compiled, values).fetchone()
        return row

    def all(self, compiled: Compiled, values: Mapping[str, Any] = _NO_VALUES) -> list[Row]:
        rows: list[Row] = self.run(compiled, values).fetchall()
        return rows

    def count(self, compiled: Compiled, values: Mapping[str, Any]) -> int:
        """Execute a DML statement; returns the number of rows it changed."""
        changed: int = self.run(compiled, values).rowcount
        return changed

    def stream(
        self, compiled: Compiled, values: Mapping[str, Any], *, batch: int = STREAM_BATCH
    ) -> Iterator[Row]:
        """Rows one by one from a cursor of their own (server-side on PostgreSQL, fetching
        ``batch`` rows per round trip; in a read unit it begins the unit's :meth:`snapshot`,
        the transaction a server-side cursor needs, so streams read side by side agree)."""
        if self.sqlite:
            cursor = self.dbapi.cursor()  # sqlite3 steps lazily through the result
        else:
            self.snapshot()
            cursor = self.dbapi.cursor(name=f"kosiflow_stream_{next(_cursor_names)}")
            cursor.itersize = batch
        try:
            cursor.execute(compiled.sql, compiled.params(values))
            if self.sqlite:
                yield from cursor
            else:  # a list per batch: iterating a named cursor costs ~1 µs of Python per row
                while rows := cursor.fetchmany(batch):
                    yield from rows
        finally:
            cursor.close()
