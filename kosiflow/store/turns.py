"""Turns to write on one SQLite file, taken in line instead of in SQLite's busy handler.

SQLite lets one writer in at a time. The others wait in its busy handler, which sleeps 1, 2, 5,
10, … up to 100 ms between tries, so under load writes get a tail of hundreds of milliseconds
(bench/README.md). A write unit here first takes its turn: behind the other threads of its
process on a lock, then behind other processes on an exclusive ``flock`` of a file beside the
database (``<file>-writers``). Both hand over the moment the previous writer is done. Writers
that take no turns (other tools on the same file) still meet the busy handler, as before.
"""

from __future__ import annotations

import fcntl
import os
import threading

from kosiflow.errors import StoreError


class WriteTurns:
    """The turns of the writers of one database file (Linux and other POSIX systems).

    Waiting behind this process's writers ends after ``timeout`` seconds with
    :class:`StoreError`, as SQLite's busy timeout would. Waiting for another process has no
    limit of its own: its writer holds the turn only within one transaction, and the kernel
    frees the turn when that process ends.
    """

    def __init__(self, database_path: str, timeout: float) -> None:
        self._path = f"{database_path}-writers"
        self._timeout = timeout
        self._threads = threading.Lock()
        self._file: int | None = None

    def take(self) -> None:
        """Wait for this thread's turn; the caller then holds it until :meth:`give`."""
        if not self._threads.acquire(timeout=self._timeout):
            raise StoreError("database error: database is locked (no turn to write in time)")
        try:
            if self._file is None:
                self._file = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._file, fcntl.LOCK_EX)
        except OSError as exc:
            self._threads.release()
            raise StoreError(f"database error: cannot take a turn to write: {exc}") from exc

    def try_take(self) -> bool:
        """Take the turn if no other writer holds it now (never waits); True when taken."""
        if not self._threads.acquire(blocking=False):
            return False
        try:
            if self._file is None:
                self._file = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._threads.release()
            return False
        except OSError as exc:
            self._threads.release()
            raise StoreError(f"database error: cannot take a turn to write: {exc}") from exc
        return True

    def give(self) -> None:
        """End the turn taken by :meth:`take`."""
        try:
            if self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
        except OSError:
            pass  # closed meanwhile (close() while writing): closing the file ended the turn
        finally:
            self._threads.release()

    def close(self) -> None:
        """Close the lock file; a turn still held ends with it."""
        file, self._file = self._file, None
        if file is not None:
            os.close(file)
