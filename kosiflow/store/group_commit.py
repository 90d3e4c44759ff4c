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
import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kosiflow.errors import StoreError
from kosiflow.store.engines import BUSY_TIMEOUT_MS
from kosiflow.store.executor import Executor
from kosiflow.store.units import ReadUnit, WriteUnit

if TYPE_CHECKING:
    from kosiflow.store.database import Database, _Lease

_log = logging.getLogger(__name__)

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
        self._closed = False

    async def run(self, call: Callable[[], T]) -> T:
        """Run ``call`` in a batch on the running event loop and return its result (or raise
        its error) once the batch has committed.

        ``call`` opens its units of work as usual (``with database.write() as unit``); it runs
        on the loop, so it must not wait for anything but the database. Once the database is
        closed, raises :class:`StoreError`.
        """
        if self._closed:
            raise StoreError("database error: the database is closed")
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

    def after_commit(self, callback: Callable[[], None]) -> bool:
        """Run ``callback`` once the batch the calling thread runs a job of has committed (never
        if it does not); False, and nothing done, when the thread runs no job of a batch."""
        batch = self.current()
        if batch is None:
            return False
        batch.after_commit.append(callback)
        return True

    def close(self) -> None:
        """Take no more jobs and finish the batches under way (the database closes next): wait
        for their COMMITs; the jobs still queued fail with :class:`StoreError`. Called on an
        event loop (an app's shutdown), its own batch is answered, and its connection given
        back, before this returns."""
        self._closed = True
        with self._lines_lock:
            lines = list(self._lines.values())
        for line in lines:
            line.close()


class _Line:
    """The batches of one event loop, one at a time.

    A batch holds the turn to write from :meth:`_start` until its transaction has ended; it
    gives it back as soon as that has happened (in the thread, after a COMMIT there: the next
    writer, maybe another process, need not wait for this loop to come round).

    Each step of a batch runs as a callback of the loop (:meth:`_step`): an error nobody
    expected there (the turn's file gone, a callback that raises, …) abandons the batch
    (:meth:`_stop`) instead of leaving the line busy, and every later write waiting, for ever.
    """

    def __init__(self, group: GroupCommit, loop: asyncio.AbstractEventLoop) -> None:
        self._group = group
        self._database = group._database
        self._loop_ref = weakref.ref(loop)
        """Weakly: the line is the value of its loop in ``GroupCommit._lines``."""
        self._queue: deque[_Job] = deque()
        self._busy = False
        """Whether a batch is under way (from taking the turn to answering its jobs)."""
        self._jobs: list[_Job] = []
        """The jobs of the batch under way, once taken from the queue."""
        self._lease: _Lease | None = None
        """The connection of the batch under way."""
        self._turn = False
        """Whether the batch under way holds the turn (and not its COMMIT in the thread)."""
        self._committed: list[tuple[_Job, Any, Any]] | None = None
        """The outcomes of the batch under way once its COMMIT succeeded: answered as they are,
        whatever happens next."""
        self._back: tuple[Callable[[Future[Any]], None], Future[Any]] | None = None
        """The step to go on with, and the thread's finished work it needs (:meth:`_resume`)."""
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
            self._loop.call_soon(self._step, self._start)  # jobs queued meanwhile join
        return await job.future

    def close(self) -> None:
        """Wait for the thread's work under way. Called on this line's loop, go on with the
        batch at once (its loop cannot while it waits for the close): the connection comes
        back before the database closes, and the jobs are answered."""
        self.thread.shutdown(wait=True)
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is self._loop_ref():
            self._resume()

    def _step(self, step: Callable[..., None], *args: Any) -> None:
        """Run ``step`` of the batch under way; an unexpected error abandons the batch."""
        try:
            step(*args)
        except (Exception, asyncio.CancelledError) as exc:
            _log.error("group commit: a batch failed unexpectedly", exc_info=exc)
            failure = exc if isinstance(exc, StoreError) else None
            self._stop(failure or StoreError(f"database error: {type(exc).__name__}: {exc}"))

    def _in_thread(self, work: Callable[[], Any], then: Callable[[Future[Any]], None]) -> None:
        """Run ``work`` in the line's thread, then the step ``then`` with its future on the loop
        (a cancelled future's work never ran)."""
        loop = self._loop

        def back(done: Future[Any]) -> None:
            self._back = (then, done)
            with suppress(RuntimeError):  # the loop is closed: nobody waits for the batch
                loop.call_soon_threadsafe(self._resume)

        self.thread.submit(work).add_done_callback(back)

    def _resume(self) -> None:
        """Go on with the step the thread's finished work waits for (unless done already)."""
        back, self._back = self._back, None
        if back is not None:
            self._step(*back)

    def _start(self) -> None:
        """Take the turn (at once, or in the thread when another writer holds it), then open."""
        if self._group._closed:
            self._stop(StoreError("database error: the database is closed"))
            return
        turns = self._database._turns
        if turns is None or turns.try_take():
            self._turn = turns is not None
            self._open()
            return
        self._in_thread(turns.take, self._turn_taken)

    def _turn_taken(self, waited: Future[None]) -> None:
        error = _error_of(waited)
        if error is None:
            self._turn = True
            self._open()
        else:
            self._settle(self._take(), [], error)

    def _give_turn(self) -> None:
        turns = self._database._turns
        if turns is not None:
            turns.give()

    def _give_turn_back(self) -> None:
        """Give back the turn the batch holds on the loop."""
        if self._turn:
            self._turn = False
            self._give_turn()

    def _take(self) -> list[_Job]:
        count = min(len(self._queue), MOST_PER_BATCH)
        self._jobs = [self._queue.popleft() for _ in range(count)]
        return self._jobs

    def _open(self) -> None:
        """Begin the batch's transaction: on the loop when SQLite's write lock is free at once,
        else in the thread (another program than kosiflow may hold it, up to the busy timeout:
        the loop must not wait for it)."""
        database = self._database
        try:
            lease = database._borrow()
        except StoreError as exc:
            self._give_turn_back()
            self._settle(self._take(), [], exc)
            return
        self._lease = lease
        try:
            begun = self._begin_now(lease.executor)
        except database._error as exc:
            self._lease = None
            database._give_back(lease, broken=True)
            self._give_turn_back()
            self._settle(self._take(), [], StoreError(f"database error: {exc}"))
            return
        if begun:
            self._run_batch(lease)
            return
        self._in_thread(
            partial(lease.executor.run_text, "BEGIN IMMEDIATE"), partial(self._begun, lease)
        )

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

    def _begun(self, lease: _Lease, done: Future[None]) -> None:
        error = _error_of(done)
        if error is None:
            self._run_batch(lease)
            return
        self._lease = None
        self._database._give_back(lease, broken=False)
        self._give_turn_back()
        self._settle(self._take(), [], StoreError(f"database error: {error}"))

    def _run_batch(self, lease: _Lease) -> None:
        """Run the jobs queued by now in the open transaction, then end it."""
        if self._group._closed:  # closed while BEGIN waited: the batch goes with the database
            self._stop(StoreError("database error: the database is closed"))
            return
        jobs = self._take()
        batch = _Batch(lease.executor)
        outcomes = self._run_jobs(batch, jobs)
        if batch.broken is None and self._group._commit_in_thread:
            ended = partial(self._ended, lease, jobs, outcomes, batch)
            self._in_thread(partial(self._end, lease, None), ended)
            self._turn = False  # _end gives it back, in the thread
        else:
            self._turn = False
            self._finish(lease, jobs, outcomes, batch, *self._end(lease, batch.broken))

    def _ended(
        self,
        lease: _Lease,
        jobs: list[_Job],
        outcomes: list[tuple[_Job, Any, Any]],
        batch: _Batch,
        done: Future[tuple[BaseException | None, bool]],
    ) -> None:
        if done.cancelled():  # _end never ran: the transaction is open, the turn held
            self._turn = True
            raise StoreError("database error: the COMMIT was cancelled before it ran")
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
        try:
            if failure is None:
                try:
                    lease.executor.dbapi.commit()
                except Exception as exc:
                    failure = exc
            usable = failure is None or database._rollback(lease)
        finally:
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
        """After the transaction ended: give the connection back, answer every job. An
        ``after_commit`` callback that fails is logged: its command is committed all the same."""
        if failure is None:
            self._committed = outcomes
        self._lease = None
        self._database._give_back(lease, broken=not usable)
        if failure is not None:
            count = f"{len(jobs)} write{'s' if len(jobs) != 1 else ''}"
            failure = StoreError(f"database error: {failure} (a batch of {count}, none written)")
        else:
            for callback in batch.after_commit:
                try:
                    callback()
                except Exception:
                    _log.exception("group commit: an after-commit callback failed")
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
            _answer(outcomes)
        else:
            _fail(jobs, failure)
        self._jobs, self._committed = [], None
        if self._queue:
            self._loop.call_soon(self._step, self._start)
        else:
            self._busy = False

    def _stop(self, failure: StoreError) -> None:
        """End the batch under way without committing: close its connection (an open
        transaction rolls back), give back its turn, answer its jobs and the queued ones with
        ``failure`` (those of a batch committed already with their outcomes). The line is free
        again; each step is tried even when one before it failed."""
        lease, self._lease = self._lease, None
        if lease is not None:
            try:
                self._database._give_back(lease, broken=True)
            except Exception:
                _log.exception("group commit: cannot close the connection of a failed batch")
        try:
            self._give_turn_back()
        except Exception:
            _log.exception("group commit: cannot give back the turn of a failed batch")
        if self._committed is not None:
            _answer(self._committed)
        _fail([*self._jobs, *self._queue], failure)
        self._queue.clear()
        self._jobs, self._committed = [], None
        self._busy = False


def _error_of(done: Future[Any]) -> BaseException | None:
    """What the thread's work of ``done`` raised (a cancelled one never ran)."""
    if done.cancelled():
        return StoreError("database error: cancelled before it ran")
    return done.exception()


def _answer(outcomes: list[tuple[_Job, Any, Any]]) -> None:
    """Answer each job with its own outcome (unless its request is gone)."""
    for job, error, result in outcomes:
        if job.future.done():
            continue
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)


def _fail(jobs: list[_Job], failure: BaseException) -> None:
    """Answer the jobs not answered yet with a :class:`StoreError` caused by ``failure``."""
    for job in jobs:
        if not job.future.done():
            error = StoreError(str(failure))
            error.__cause__ = failure
            job.future.set_exception(error)
