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

from kosiflow.errors import StoreError, StoreUnavailable
from kosiflow.store.batched_appends import AppendBatcher
from kosiflow.store.engines import BUSY_TIMEOUT_MS, create_store_engine, parse_url, reconnects_of
from kosiflow.store.executor import Executor
from kosiflow.store.group_commit import GroupCommit, SavepointScope
from kosiflow.store.migrate import upgrade
from kosiflow.store.records import Projection, User
from kosiflow.store.statements import statements_for
from kosiflow.store.turns import WriteTurns
from kosiflow.store.units import ReadUnit, WriteUnit

U = TypeVar("U", bound=ReadUnit)

RETRY_SQLSTATES = frozenset({"40001", "40P01"})
"""PostgreSQL's serialization_failure and deadlock_detected: the transaction was rolled back and
may simply run again."""
LOST_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
"""admin_shutdown (a server restart, ``pg_terminate_backend``), crash_shutdown and
cannot_connect_now (the server is starting); class ``08`` (connection exceptions) counts too."""


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
    An ``autocommit`` unit (PostgreSQL's reads) runs each statement on its own: no ``BEGIN``, no
    ``COMMIT`` round trip (see :meth:`Database.read`).
    """

    __slots__ = ("_autocommit", "_begin", "_database", "_lease", "_make", "_turns", "_unit")

    def __init__(
        self,
        database: Database,
        begin: str,
        make: Callable[[Executor], U],
        turns: WriteTurns | None = None,
        *,
        autocommit: bool = False,
    ) -> None:
        self._database = database
        self._begin = begin
        self._make = make
        self._turns = turns
        self._autocommit = autocommit

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
            elif self._autocommit:
                lease.executor.dbapi.autocommit = True  # given back with it off again
        except database._error as exc:
            database._give_back(lease, broken=False)
            self._end_turn()
            raise StoreError(f"database error: {exc}") from exc
        self._unit = unit = self._make(lease.executor)
        return unit

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
        unit = self._unit
        if kind is None and isinstance(unit, WriteUnit) and unit.deferred is not None:
            try:
                unit.write_deferred()
            except database._error as error:
                failure = database._failure(error, lease.executor, committing=True)
                database._give_back(lease, broken=not database._rollback(lease))
                raise failure from error
            except BaseException:  # StaleHead, StoreUnavailable of its batch, or worse
                database._give_back(lease, broken=not database._rollback(lease))
                raise
        try:
            if kind is None:
                lease.executor.dbapi.commit()
                database._give_back(lease, broken=False)
                if isinstance(unit, WriteUnit):
                    for callback in unit.committed_callbacks:
                        callback()
                return
        except database._error as error:
            failure = database._failure(error, lease.executor, committing=True)
            database._give_back(lease, broken=not database._rollback(lease))
            raise failure from error
        failed = (
            database._failure(exc, lease.executor) if isinstance(exc, database._error) else None
        )
        database._give_back(lease, broken=not database._rollback(lease))
        if failed is not None:
            raise failed from exc


class Database:
    """kosiflow's database: SQLite file or PostgreSQL, through units of work.

    ``with db.write() as unit:`` is one write transaction (committed on normal exit, rolled back
    on an exception); ``with db.read() as unit:`` a read transaction. DBAPI errors surface as
    :class:`StoreError`. On SQLite each thread keeps its pooled connection between units (the
    pool's checkout costs as much as a whole commit); close the database when done with it.

    On PostgreSQL a unit that failed for a passing reason — a serialization failure, a deadlock,
    a lost connection, no connection to be had — raises :class:`StoreUnavailable`: nothing was
    written, unless the connection was lost while committing (``outcome_unknown``). Running
    the unit again is up to the caller (the command services do, see ``services/retries.py``).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._statements = statements_for(engine.dialect)
        self._sqlite = engine.dialect.name == "sqlite"
        dbapi = engine.dialect.loaded_dbapi
        self._error: type[Exception] = dbapi.Error
        self._integrity_error: type[Exception] = dbapi.IntegrityError
        self._reconnects = reconnects_of(engine)
        self._idle: list[_Lease] = []
        """Idle kept connections, the most recently used last (a LIFO keeps few of them warm)."""
        self._idle_lock = threading.Lock()
        self._closed = False
        """Whether :meth:`close` has run: a connection given back afterwards is closed."""
        self._turns = (
            WriteTurns(str(engine.url.database), BUSY_TIMEOUT_MS / 1000) if self._sqlite else None
        )
        """SQLite's write units wait in line for their turn (see :mod:`kosiflow.store.turns`)."""
        self._group = GroupCommit(self) if self._sqlite else None
        """SQLite's batches of jobs committed together (:attr:`group_commit`)."""
        self._batcher = None if self._sqlite else AppendBatcher(self._error, self._batch_failure)
        """PostgreSQL's appends of units committing together (:mod:`.batched_appends`)."""

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def write(self) -> _UnitScope[WriteUnit] | SavepointScope[WriteUnit]:
        """A write unit of work: one transaction, committed unless the block raises.

        SQLite begins it IMMEDIATE (taking the write lock, waiting up to the busy timeout) once
        it is this unit's turn among kosiflow's writers of the file. In a job of
        :attr:`group_commit` it is a savepoint of the job's batch instead.
        """
        batch = None if self._group is None else self._group.current()
        if batch is not None:
            return SavepointScope(batch, self._write_unit, self._error)
        return _UnitScope(self, "BEGIN IMMEDIATE", self._write_unit, self._turns)

    def read(self) -> _UnitScope[ReadUnit] | SavepointScope[ReadUnit]:
        """A read unit of work: writes nothing. In a job of :attr:`group_commit` it reads in the
        job's batch (seeing what the batch wrote so far).

        On SQLite one transaction, a consistent view. On PostgreSQL each statement runs on its
        own (autocommit), which under READ COMMITTED sees what a transaction would (a snapshot
        per statement) and saves the ``COMMIT`` round trip, a quarter of those of a command over
        HTTP. A read that combines statements (a stream, events with their texts) first begins
        a ``REPEATABLE READ READ ONLY`` transaction, so they see one snapshot
        (``Executor.snapshot``); the unit's end commits it.
        """
        batch = None if self._group is None else self._group.current()
        if batch is not None:
            return SavepointScope(batch, ReadUnit, self._error)
        return _UnitScope(self, "BEGIN", ReadUnit, autocommit=not self._sqlite)

    @property
    def batches_appends(self) -> bool:
        """Whether appends left to the commit (``WriteUnit.append(deferrable=True)``) of units
        committing together are written by one statement: on PostgreSQL
        (:mod:`.batched_appends`)."""
        return self._batcher is not None

    @property
    def group_commit(self) -> GroupCommit | None:
        """SQLite's batches: ``await group_commit.run(job)`` runs ``job`` (which opens its
        units of work as usual) on the event loop in a batch of jobs committed together (see
        :mod:`kosiflow.store.group_commit`); None on PostgreSQL, whose transactions commit
        side by side anyway."""
        return self._group

    def _write_unit(self, executor: Executor) -> WriteUnit:
        return WriteUnit(executor, self._integrity_error, self._batcher)

    def _borrow(self) -> _Lease:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        try:
            raw = self.engine.raw_connection()
        except (DBAPIError, PoolTimeoutError, self._error) as exc:
            # a DBAPI error comes unwrapped when the pool reconnects after a failed ping
            raise StoreUnavailable(f"no database connection: {exc}") from exc
        executor = Executor(raw.driver_connection, self._statements, sqlite=self._sqlite)
        return _Lease(raw, executor, kept=self._sqlite)

    def _give_back(self, lease: _Lease, *, broken: bool) -> None:
        """SQLite connections wait, idle, for the next unit of any thread (taking one from the
        pool costs ~9 µs); PostgreSQL ones go back to the pool, whose limit they count against
        (see ``engines.py`` for what its checkout costs)."""
        if not broken and not self._sqlite and lease.executor.dbapi.autocommit:
            try:  # others of the pool (SQLAlchemy's own connections) expect transactions
                lease.executor.dbapi.autocommit = False
            except self._error:
                broken = True
        if broken:
            lease.raw.invalidate()
        elif lease.kept:
            with self._idle_lock:
                if not self._closed:
                    self._idle.append(lease)
                    return
        lease.executor.close()
        lease.raw.close()

    def _failure(
        self, error: Exception, executor: Executor, *, committing: bool = False
    ) -> StoreError:
        """What a DBAPI error of a unit raises; the passing ones as :class:`StoreUnavailable`."""
        message = f"database error: {error}"
        if self._reconnects is None:  # SQLite: its busy timeout has already waited
            return StoreError(message)
        sqlstate = getattr(error, "sqlstate", None) or ""
        if sqlstate in RETRY_SQLSTATES:
            return StoreUnavailable(message)
        dialect = self.engine.dialect
        lost = sqlstate in LOST_SQLSTATES or sqlstate.startswith("08")
        if lost or dialect.is_disconnect(error, executor.dbapi, None):  # type: ignore[arg-type]
            self._reconnects.connection_lost()
            return StoreUnavailable(message, outcome_unknown=committing)
        return StoreError(message)

    def _batch_failure(self, error: Exception, executor: Executor) -> StoreError:
        """What a DBAPI error of a batch of appends (``batched_appends``), whose statement is
        its own commit, raises in each of its units."""
        return self._failure(error, executor, committing=True)

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

    def user_and_projection(
        self, token: str, initiative_id: str
    ) -> tuple[User | None, Projection | None]:
        """The user of ``token`` and the initiative's projection, read in one round trip."""
        with self.read() as unit:
            return unit.user_and_projection(token, initiative_id)

    def user_by_name(self, name: str) -> User | None:
        with self.read() as unit:
            return unit.user_by_name(name)

    def list_users(self) -> list[User]:
        with self.read() as unit:
            return unit.list_users()

    def close(self) -> None:
        """Close every connection (kept ones included); the database is unusable afterwards.
        Jobs submitted before are committed first."""
        if self._group is not None:
            self._group.close()
        with self._idle_lock:
            self._closed = True
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
