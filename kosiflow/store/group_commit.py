"""Group commit on SQLite: the commands of many requests committed together, one fsync for many.

With ``synchronous=FULL`` each COMMIT waits for an fsync of the WAL (0.5 to 2.2 ms of waiting and
~300 µs of CPU on the benchmark's disk), and SQLite commits one transaction at a time. Handing
each command to a thread of its own costs more CPU than the command (thread wake-ups, and the
GIL handed back and forth at every statement while the event loop is busy). So the API's writes
run on the event loop, in batches (:meth:`GroupCommit.run`):

- a command queues a job; when no batch is under way, the next one starts: it takes the turn
  (``turns.py``: behind this process's other writers and behind other processes; waited for in
  a thread when not free at once), begins one transaction, and runs every job queued by then,
  each in a ``SAVEPOINT`` of its own, on the loop (a command takes a few hundred µs);
- the COMMIT runs in a thread of its own (with ``FULL``, it waits for the fsync there while the
  loop serves other requests, which queue their jobs for the next batch); with ``NORMAL`` the
  COMMIT is quick and runs on the loop;
- only then is each job answered: nothing is acknowledged before it is durable.

A job that raises has rolled back its own savepoint only and gets its own error (after the
COMMIT); the others go on. A failed COMMIT (or a transaction SQLite gave up by itself, e.g. on
a full disk) fails every job of the batch with :class:`StoreError`: none is acknowledged,
nothing of the batch is written and none of its ``after_commit`` callbacks runs. Jobs run in
the order they came; each sees what the jobs before it in the batch wrote.

Inside a job, ``Database.write()`` and ``Database.read()`` hand out units on the batch's
connection, each in a savepoint of its own (:class:`SavepointScope`).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kosiflow.errors import StoreError
from kosiflow.store.engines import BUSY_TIMEOUT_MS
from kosiflow.store.executor import Executor
from kosiflow.store.units import ReadUnit, WriteUnit

if TYPE_CHECKING:
    from kosiflow.store.database import Database, _Lease

T = TypeVar("T")
U = TypeVar("U", bound=ReadUnit)

MOST_PER_BATCH = 32
"""Jobs in one batch at most: they run one after the other on the event loop."""
_SYNCHRONOUS_FULL = 2
"""``PRAGMA synchronous`` of FULL (NORMAL is 1, EXTRA 3)."""


class _Job:
    __slots__ = ("call", "future")

    def __init__(self, call: Callable[[], Any], future: asyncio.Future[Any]) -> None:
        self.call = call
        self.future = future


class _Batch:
    """The open transaction of one batch, while its jobs run."""

    __slots__ = ("after_commit", "broken", "executor")

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.after_commit: list[Callable[[], None]] = []
        self.broken: BaseException | None = None
        """Why the transaction can no longer commit, once it cannot."""

    def in_transaction(self) -> bool:
        """Whether the batch's transaction is still open (SQLite ends it by itself on some
        errors, e.g. a full disk)."""
        return bool(self.executor.dbapi.in_transaction)


class SavepointScope(Generic[U]):
    """A unit of work inside a batch: a savepoint, released when the block ends normally and
    rolled back (only its own writes) when it raises. Its ``after_commit`` callbacks wait for
    the batch's COMMIT."""

    __slots__ = ("_batch", "_error", "_make", "_unit")

    def __init__(
        self, batch: _Batch, make: Callable[[Executor], U], error: type[Exception]
    ) -> None:
        self._batch = batch
        self._make = make
        self._error = error

    def __enter__(self) -> U:
        batch = self._batch
        if batch.broken is not None:
            raise StoreError(f"database error: {batch.broken}") from batch.broken
        try:
            batch.executor.run_text("SAVEPOINT unit")
        except self._error as exc:
            batch.broken = exc
            raise StoreError(f"database error: {exc}") from exc
        self._unit = self._make(batch.executor)
        return self._unit

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        batch = self._batch
        try:
            if kind is None:
                batch.executor.run_text("RELEASE unit")
                if isinstance(self._unit, WriteUnit):
                    batch.after_commit.extend(self._unit.committed_callbacks)
                return
            if batch.in_transaction():
                batch.executor.run_text("ROLLBACK TO unit")
                batch.executor.run_text("RELEASE unit")
            else:
                batch.broken = exc
        except self._error as error:
            batch.broken = error
            raise StoreError(f"database error: {error}") from error
        if isinstance(exc, self._error):
            raise StoreError(f"database error: {exc}") from exc


class GroupCommit:
    """The batches of one SQLite database (see the module's docstring), one line of them per
    event loop that runs jobs."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._commit_in_thread: bool | None = None
        """Whether a COMMIT waits for an fsync (``synchronous`` FULL or EXTRA; asked once)."""
        self._local = threading.local()
        self._lines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Line] = (
            weakref.WeakKeyDictionary()
        )
        self._lines_lock = threading.Lock()

    async def run(self, call: Callable[[], T]) -> T:
        """Run ``call`` in a batch on the running event loop and return its result (or raise
        its error) once the batch has committed.

        ``call`` opens its units of work as usual (``with database.write() as unit``); it runs
        on the loop, so it must not wait for anything but the database.
        """
        loop = asyncio.get_running_loop()
        line = self._lines.get(loop)
        if line is None:
            with self._lines_lock:
                line = self._lines.setdefault(loop, _Line(self, loop))
        result: T = await line.run(call)
        return result

    def current(self) -> _Batch | None:
        """The batch the calling thread is running a job of, if any."""
        batch: _Batch | None = getattr(self._local, "batch", None)
        return batch

    def close(self) -> None:
        """Wait for the COMMITs under way; the database closes next."""
        with self._lines_lock:
            lines = list(self._lines.values())
        for line in lines:
            line.thread.shutdown(wait=True)


class _Line:
    """The batches of one event loop, one at a time.

    A batch holds the turn to write from :meth:`_start` until its transaction has ended; it
    gives it back as soon as that has happened (in the thread, after a COMMIT there: the next
    writer, maybe another process, need not wait for this loop to come round).
    """

    def __init__(self, group: GroupCommit, loop: asyncio.AbstractEventLoop) -> None:
        self._group = group
        self._database = group._database
        self._loop_ref = weakref.ref(loop)
        """Weakly: the line is the value of its loop in ``GroupCommit._lines``."""
        self._queue: deque[_Job] = deque()
        self._busy = False
        """Whether a batch is under way (from taking the turn to answering its jobs)."""
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kosiflow-commit")
        """Where this line's COMMITs wait for their fsync, and its turns for other writers."""

    @property
    def _loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop_ref()
        if loop is None:  # only its own callbacks use the line, on the loop
            raise RuntimeError("the event loop of this line is gone")
        return loop

    async def run(self, call: Callable[[], Any]) -> Any:
        job = _Job(call, self._loop.create_future())
        self._queue.append(job)
        if not self._busy:
            self._busy = True
            self._loop.call_soon(self._start)  # jobs queued in this round of the loop join
        return await job.future

    def _start(self) -> None:
        """Take the turn (at once, or in the thread when another writer holds it), then open."""
        turns = self._database._turns
        if turns is None or turns.try_take():
            self._open()
            return
        waited = self._loop.run_in_executor(self.thread, turns.take)
        waited.add_done_callback(self._turn_taken)

    def _turn_taken(self, waited: asyncio.Future[None]) -> None:
        error = waited.exception()
        if error is None:
            self._open()
        else:
            self._settle(self._take(), [], error)

    def _give_turn(self) -> None:
        turns = self._database._turns
        if turns is not None:
            turns.give()

    def _take(self) -> list[_Job]:
        count = min(len(self._queue), MOST_PER_BATCH)
        return [self._queue.popleft() for _ in range(count)]

    def _open(self) -> None:
        """Begin the batch's transaction: on the loop when SQLite's write lock is free at once,
        else in the thread (another program than kosiflow may hold it, up to the busy timeout:
        the loop must not wait for it)."""
        database = self._database
        try:
            lease = database._borrow()
        except StoreError as exc:
            self._give_turn()
            self._settle(self._take(), [], exc)
            return
        try:
            begun = self._begin_now(lease.executor)
        except database._error as exc:
            database._give_back(lease, broken=True)
            self._give_turn()
            self._settle(self._take(), [], StoreError(f"database error: {exc}"))
            return
        if begun:
            self._run_batch(lease)
            return
        waited = self._loop.run_in_executor(self.thread, lease.executor.run_text, "BEGIN IMMEDIATE")
        waited.add_done_callback(lambda done: self._begun(lease, done.exception()))

    def _begin_now(self, executor: Executor) -> bool:
        """BEGIN IMMEDIATE unless SQLite's write lock is taken; whether it began."""
        group = self._group
        if group._commit_in_thread is None:
            (level,) = executor.dbapi.execute("PRAGMA synchronous").fetchone()
            group._commit_in_thread = level >= _SYNCHRONOUS_FULL
        executor.run_text("PRAGMA busy_timeout = 0")
        try:
            executor.run_text("BEGIN IMMEDIATE")
            begun = True
        except self._database._error:
            begun = False
        executor.run_text(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return begun

    def _begun(self, lease: _Lease, error: BaseException | None) -> None:
        if error is None:
            self._run_batch(lease)
            return
        self._database._give_back(lease, broken=False)
        self._give_turn()
        self._settle(self._take(), [], StoreError(f"database error: {error}"))

    def _run_batch(self, lease: _Lease) -> None:
        """Run the jobs queued by now in the open transaction, then end it."""
        jobs = self._take()
        batch = _Batch(lease.executor)
        outcomes = self._run_jobs(batch, jobs)
        if batch.broken is None and self._group._commit_in_thread:
            ended = self._loop.run_in_executor(self.thread, self._end, lease, None)
            ended.add_done_callback(lambda done: self._ended(done, lease, jobs, outcomes, batch))
        else:
            self._finish(lease, jobs, outcomes, batch, *self._end(lease, batch.broken))

    def _ended(
        self,
        done: asyncio.Future[tuple[BaseException | None, bool]],
        lease: _Lease,
        jobs: list[_Job],
        outcomes: list[tuple[_Job, Any, Any]],
        batch: _Batch,
    ) -> None:
        error = done.exception()
        if error is None:
            self._finish(lease, jobs, outcomes, batch, *done.result())
        else:  # not even the COMMIT's outcome is known: the connection goes
            self._finish(lease, jobs, outcomes, batch, error, False)

    def _end(
        self, lease: _Lease, broken: BaseException | None
    ) -> tuple[BaseException | None, bool]:
        """COMMIT, or ROLLBACK when ``broken`` or when the COMMIT failed; then give the turn
        back. Returns why the batch failed (None when committed) and whether the connection
        is still usable."""
        database = self._database
        failure = broken
        if failure is None:
            try:
                lease.executor.dbapi.commit()
            except Exception as exc:
                failure = exc
        usable = failure is None or database._rollback(lease)
        self._give_turn()
        return failure, usable

    def _run_jobs(self, batch: _Batch, jobs: list[_Job]) -> list[tuple[_Job, Any, Any]]:
        """Each job run and its outcome (job, its error or None, its result). A job whose
        request was cancelled meanwhile is left out; a broken transaction stops the batch."""
        local = self._group._local
        outcomes: list[tuple[_Job, Any, Any]] = []
        local.batch = batch
        try:
            for job in jobs:
                if job.future.cancelled():
                    continue
                try:
                    outcomes.append((job, None, job.call()))
                except Exception as exc:
                    outcomes.append((job, exc, None))
                if batch.broken is not None:
                    break
        finally:
            local.batch = None
        return outcomes

    def _finish(
        self,
        lease: _Lease,
        jobs: list[_Job],
        outcomes: list[tuple[_Job, Any, Any]],
        batch: _Batch,
        failure: BaseException | None,
        usable: bool,
    ) -> None:
        """After the transaction ended: give the connection back, answer every job."""
        self._database._give_back(lease, broken=not usable)
        if failure is not None:
            count = f"{len(jobs)} write{'s' if len(jobs) != 1 else ''}"
            failure = StoreError(f"database error: {failure} (a batch of {count}, none written)")
        else:
            for callback in batch.after_commit:
                callback()
        self._settle(jobs, outcomes, failure)

    def _settle(
        self,
        jobs: list[_Job],
        outcomes: list[tuple[_Job, Any, Any]],
        failure: BaseException | None,
    ) -> None:
        """Answer the jobs: with their outcomes, or all with ``failure``; then start the next
        batch if jobs are waiting."""
        if failure is None:
            for job, error, result in outcomes:
                if job.future.cancelled():
                    continue
                if error is None:
                    job.future.set_result(result)
                else:
                    job.future.set_exception(error)
        else:
            for job in jobs:
                if not job.future.done():
                    error = StoreError(str(failure))
                    error.__cause__ = failure
                    job.future.set_exception(error)
        if self._queue:
            self._loop.call_soon(self._start)
        else:
            self._busy = False
