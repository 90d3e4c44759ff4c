"""Creating SQLAlchemy engines for the two supported backends, configured for kosiflow.

SQLite (a file): WAL, ``busy_timeout``, ``foreign_keys=ON``, ``synchronous`` FULL or NORMAL.
pysqlite's own transaction handling is switched off (the documented SQLAlchemy recipe) so that
we emit ``BEGIN`` ourselves: ``BEGIN IMMEDIATE`` for write units, which take the write lock at
BEGIN and wait up to ``busy_timeout`` for it instead of failing with "database is locked" when a
read transaction tries to upgrade; plain deferred ``BEGIN`` for read units.

PostgreSQL (psycopg 3): READ COMMITTED; write units lock the initiative row with
``SELECT ... FOR UPDATE``; read units run in autocommit (``Database.read``). The pool pings a
connection on checkout only when it has been idle for :data:`PING_AFTER_IDLE_SECONDS` (a server
restart or an idle timeout may have closed it), or when it went idle before the last lost
connection this process saw (:class:`Reconnects`: after a server restart every pooled connection
is dead, and each is replaced at its next checkout instead of failing a unit of work), and does
not roll back on checkin (units always end their transaction): each would cost a round trip per
unit of work, of which a read of the API makes two (bench/README.md).
"""

from __future__ import annotations

import sqlite3
import time
import weakref
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from kosiflow.errors import BadInput

BUSY_TIMEOUT_MS = 30_000
PING_AFTER_IDLE_SECONDS = 5.0
POOL_SIZE = 15
"""PostgreSQL connections per process, each kept open once made (no overflow). SQLAlchemy's
default of 5 plus 10 overflow closed every overflow connection given back to a full pool: under
load a new connection every 5 commands, each a server process started and its prepared
statements lost (bench/README.md)."""
SYNCHRONOUS_MODES = ("FULL", "NORMAL")
WRITE_OPTION = "kosiflow_write"
"""Execution option marking a write unit's connection (SQLite then begins IMMEDIATE)."""

_SUPPORTED = "use sqlite:///path/to/file.db or postgresql+psycopg://user@host/dbname"


class Reconnects:
    """When a PostgreSQL engine's process last saw a connection lost (``time.monotonic()``)."""

    __slots__ = ("lost_at",)

    def __init__(self) -> None:
        self.lost_at = float("-inf")

    def connection_lost(self) -> None:
        """Doubt every pooled connection idle since before now: ping each at its checkout."""
        self.lost_at = time.monotonic()


_RECONNECTS: weakref.WeakKeyDictionary[Engine, Reconnects] = weakref.WeakKeyDictionary()


def reconnects_of(engine: Engine) -> Reconnects | None:
    """The :class:`Reconnects` of a PostgreSQL engine made here; None for SQLite."""
    return _RECONNECTS.get(engine)


def parse_url(url: str) -> URL:
    """The parsed URL, or :class:`BadInput` unless it names a SQLite file or psycopg server."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BadInput("database", f"cannot parse database URL {url!r}: {_SUPPORTED}") from exc
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite" and driver == "pysqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise BadInput("database", f"SQLite needs a file path in {url!r}: {_SUPPORTED}")
        return parsed
    if backend == "postgresql" and driver == "psycopg":
        return parsed
    raise BadInput(
        "database", f"unsupported database URL {parsed.render_as_string()!r}: {_SUPPORTED}"
    )


def create_store_engine(url: str | URL, *, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for ``url`` with kosiflow's connection settings (see the module docstring)."""
    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, sqlite_synchronous)
    return _postgres_engine(parsed)


def _postgres_engine(url: URL) -> Engine:
    engine = create_engine(
        url,
        isolation_level="READ COMMITTED",
        pool_reset_on_return=None,
        pool_size=POOL_SIZE,
        max_overflow=0,
    )
    reconnects = _RECONNECTS[engine] = Reconnects()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if (
            idle_since is not None
            and idle_since > reconnects.lost_at
            and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS
        ):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError from exc  # the pool then connects anew

    return engine


def _sqlite_engine(url: URL, synchronous: str) -> Engine:
    mode = synchronous.upper()
    if mode not in SYNCHRONOUS_MODES:
        raise BadInput("sqlite_synchronous", f"{synchronous!r} is not one of FULL, NORMAL")
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        # Units of work always end their transaction (commit, rollback or invalidate) before
        # returning the connection, so the pool's extra rollback on return is skipped.
        pool_reset_on_return=None,
        # The database keeps idle SQLite connections itself (Database._idle) rather than in the
        # pool, so the pool must never make a unit wait for a connection that only ever goes
        # back to that idle list: no limit here (at most one connection per concurrent unit).
        max_overflow=-1,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _begin)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {mode}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        options: dict[str, Any] = dict(connection.get_execution_options())
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (and pool) whose connections begin write transactions."""
    return engine.execution_options(**{WRITE_OPTION: True})
