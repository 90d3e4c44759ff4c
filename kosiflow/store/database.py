"""Opening the store: ``open_database(url)`` gives a :class:`Database` handing out units of work."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import PoolProxiedConnection

from kosiflow.errors import StoreError
from kosiflow.store.engines import BUSY_TIMEOUT_MS, create_store_engine, parse_url
from kosiflow.store.executor import Executor
from kosiflow.store.migrate import upgrade
from kosiflow.store.records import User
from kosiflow.store.statements import statements_for
from kosiflow.store.turns import WriteTurns
from kosiflow.store.units import ReadUnit, WriteUnit

U = TypeVar("U", bound=ReadUnit)


class _Lease:
    """A DBAPI connection lent to one unit of work at a time."""

    __slots__ = ("executor", "kept", "raw")

    def __init__(self, raw: PoolProxiedConnection, executor: Executor, *, kept: bool) -> None:
        self.raw = raw
        self.executor = executor
        self.kept = kept


class _UnitScope(Generic[U]):
    """The context manager of one unit: begin; commit on success, roll back on exception.

    A unit given ``turns`` takes its turn before it begins and gives it back once it has ended.
    """

    __slots__ = ("_begin", "_database", "_lease", "_make", "_turns")

    def __init__(
        self,
        database: Database,
        begin: str,
        make: Callable[[Executor], U],
        turns: WriteTurns | None = None,
    ) -> None:
        self._database = database
        self._begin = begin
        self._make = make
        self._turns = turns

    def __enter__(self) -> U:
        database = self._database
        if self._turns is not None:
            self._turns.take()
        try:
            self._lease = lease = database._borrow()
        except BaseException:
            self._end_turn()
            raise
        try:
            if database._sqlite:
                lease.executor.run_text(self._begin)
        except database._error as exc:
            database._give_back(lease, broken=False)
            self._end_turn()
            raise StoreError(f"database error: {exc}") from exc
        return self._make(lease.executor)

    def _end_turn(self) -> None:
        if self._turns is not None:
            self._turns.give()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        try:
            self._end(kind, exc)
        finally:
            self._end_turn()

    def _end(self, kind: type[BaseException] | None, exc: BaseException | None) -> None:
        database, lease = self._database, self._lease
        try:
            if kind is None:
                lease.executor.dbapi.commit()
                database._give_back(lease, broken=False)
                return
        except database._error as error:
            database._give_back(lease, broken=not database._rollback(lease))
            raise StoreError(f"database error: {error}") from error
        database._give_back(lease, broken=not database._rollback(lease))
        if isinstance(exc, database._error):
            raise StoreError(f"database error: {exc}") from exc


class Database:
    """kosiflow's database: SQLite file or PostgreSQL, through units of work.

    ``with db.write() as unit:`` is one write transaction (committed on normal exit, rolled back
    on an exception); ``with db.read() as unit:`` a read transaction. DBAPI errors surface as
    :class:`StoreError`. On SQLite each thread keeps its pooled connection between units (the
    pool's checkout costs as much as a whole commit); close the database when done with it.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._statements = statements_for(engine.dialect)
        self._sqlite = engine.dialect.name == "sqlite"
        dbapi = engine.dialect.loaded_dbapi
        self._error: type[Exception] = dbapi.Error
        self._integrity_error: type[Exception] = dbapi.IntegrityError
        self._idle: list[_Lease] = []
        """Idle kept connections, the most recently used last (a LIFO keeps few of them warm)."""
        self._idle_lock = threading.Lock()
        self._turns = (
            WriteTurns(str(engine.url.database), BUSY_TIMEOUT_MS / 1000) if self._sqlite else None
        )
        """SQLite's write units wait in line for their turn (see :mod:`kosiflow.store.turns`)."""

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def write(self) -> _UnitScope[WriteUnit]:
        """A write unit of work: one transaction, committed unless the block raises.

        SQLite begins it IMMEDIATE (taking the write lock, waiting up to the busy timeout) once
        it is this unit's turn among kosiflow's writers of the file.
        """
        return _UnitScope(self, "BEGIN IMMEDIATE", self._write_unit, self._turns)

    def read(self) -> _UnitScope[ReadUnit]:
        """A read unit of work: a consistent view; writes nothing."""
        return _UnitScope(self, "BEGIN", ReadUnit)

    def _write_unit(self, executor: Executor) -> WriteUnit:
        return WriteUnit(executor, self._integrity_error)

    def _borrow(self) -> _Lease:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        try:
            raw = self.engine.raw_connection()
        except (DBAPIError, PoolTimeoutError) as exc:
            raise StoreError(f"no database connection: {exc}") from exc
        executor = Executor(raw.driver_connection, self._statements, sqlite=self._sqlite)
        return _Lease(raw, executor, kept=self._sqlite)

    def _give_back(self, lease: _Lease, *, broken: bool) -> None:
        """SQLite connections wait, idle, for the next unit of any thread (taking one from the
        pool costs ~9 µs); PostgreSQL ones go back to the pool, whose limit they count against
        (see ``engines.py`` for what its checkout costs)."""
        if broken:
            lease.raw.invalidate()
        elif lease.kept:
            with self._idle_lock:
                self._idle.append(lease)
            return
        lease.executor.close()
        lease.raw.close()

    def _rollback(self, lease: _Lease) -> bool:
        """Roll back; False when the connection is broken (it must not be reused)."""
        try:
            lease.executor.dbapi.rollback()
        except self._error:
            return False
        return True

    def add_user(self, name: str, roles: Sequence[str]) -> tuple[User, str]:
        """Add a user; returns it with its API token (stored only hashed: show it once)."""
        with self.write() as unit:
            return unit.add_user(name, roles)

    def renew_token(self, user: User) -> str:
        """A new API token for ``user`` (stored only hashed: show it once); the old one stops
        working."""
        with self.write() as unit:
            return unit.renew_token(user)

    def user_by_token(self, token: str) -> User | None:
        with self.read() as unit:
            return unit.user_by_token(token)

    def user_by_name(self, name: str) -> User | None:
        with self.read() as unit:
            return unit.user_by_name(name)

    def list_users(self) -> list[User]:
        with self.read() as unit:
            return unit.list_users()

    def close(self) -> None:
        """Close every connection (kept ones included); the database is unusable afterwards."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for lease in idle:
            lease.executor.close()
            lease.raw.close()
        self.engine.dispose()
        if self._turns is not None:
            self._turns.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_database(
    url: str, *, sqlite_synchronous: str = "FULL", auto_upgrade: bool = True
) -> Database:
    """Open the database at ``url``, migrating its schema to the newest revision first.

    Args:
        url: ``sqlite:///path/to/file.db`` or ``postgresql+psycopg://user@host/dbname``.
        sqlite_synchronous: SQLite's ``synchronous`` pragma, ``FULL`` (durable on power loss)
            or ``NORMAL`` (faster under WAL; a power loss may lose the last commits).
        auto_upgrade: apply pending migrations when opening.

    Raises:
        BadInput: the URL names another kind of database, or the pragma value is unknown.
        StoreError: the database cannot be reached or migrated.
    """
    engine = create_store_engine(parse_url(url), sqlite_synchronous=sqlite_synchronous)
    database = Database(engine)
    if auto_upgrade:
        try:
            upgrade(engine)
        except DBAPIError as exc:
            database.close()
            raise StoreError(f"cannot open the database: {exc.orig}") from exc
        except BaseException:
            database.close()
            raise
    return database
