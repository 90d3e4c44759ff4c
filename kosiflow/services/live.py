"""The change feed of the live pages: what changed, for every open stream of this process.

One poller thread per feed (one feed per process and database) reads the events recorded after
the last one it saw — by any process: API workers, the command line, the dispatcher's sweep —
and hands them to every open stream (a :class:`Stream`, served in an event loop). However many
streams are open, the database sees one cheap query per tick (an index range on the events'
ids) plus one per pending hole (PostgreSQL only, see below).

Positions. A change's *position* is its event row's id (``kosiflow.store.change_feed``). On
PostgreSQL ids are drawn before commit, so a smaller one may appear after a larger one, or
never (a rollback). The poller remembers such *holes* and reads them again until they fill or
have been open for :data:`HOLE_GRACE_SECONDS`. The position a stream hands its client to
resume from is never above the lowest open hole: resuming may repeat a change (the client
knows it by initiative and version), never lose one.

A stream of one initiative counts in that initiative's versions instead: its events come in
order of their versions, and a client resumes after the version it saw last.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakSet

from kosiflow.errors import KosiflowError, NotFound, StoreError
from kosiflow.store import Database
from kosiflow.store.change_feed import Change

_log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
"""How often the poller looks for new events."""
BATCH = 500
"""Events read per query; more are read at once when there are more."""
HOLE_GRACE_SECONDS = 30.0
"""How long an id missing below seen ones is awaited (longer than any command's transaction)."""
MAX_HOLES = 64
"""Holes awaited at once; beyond, the oldest is given up early."""
PRIME_WINDOW = 1000
"""When the poller starts, the ids this far below the newest are checked for holes."""
REPLAY_LIMIT = 1000
"""Changes a resuming stream is sent at most; further behind, it is told to start afresh."""
MAX_PENDING = 1000
"""Changes waiting for a slow stream at most; beyond, it is told to start afresh."""
IDLE_STOP_SECONDS = 60.0
"""The poller stops after this long without streams (and starts again with the next one)."""
DEFAULT_MAX_STREAMS = 100
"""Streams one process serves at once unless configured otherwise."""


class LiveUnavailable(KosiflowError):
    """No stream can be opened now: too many are open, or the server is shutting down."""

    def __init__(self, reason: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a stream: its type, the id to resume after it, what it says."""

    event: str
    """``ready`` (first), ``change``, or ``reset`` (the client missed too much: reload)."""
    id: str
    data: dict[str, Any]


@dataclass(slots=True)
class _Hole:
    low: int
    high: int
    since: float


def change_data(change: Change) -> dict[str, Any]:
    """What a ``change`` message says (JSON)."""
    return {
        "initiative": change.initiative_id,
        "version": change.version,
        "type": change.type,
        "workflow": change.workflow_id,
        "phase": change.phase,
        "at": change.at.isoformat(),
        "position": change.position,
    }


class Stream:
    """One open stream: the changes it has yet to send, handed over by the poller thread.

    Made by :meth:`ChangeFeed.open`; its :meth:`next` runs in the event loop it was opened in.
    """

    def __init__(
        self, feed: ChangeFeed, loop: asyncio.AbstractEventLoop, initiative_id: str | None
    ) -> None:
        self.feed = feed
        self.initiative_id = initiative_id
        self._loop = loop
        self._mark = 0
        """One initiative's stream: the last version sent (it skips what it has sent)."""
        self._replayed: frozenset[int] = frozenset()
        """A stream of every initiative: the positions sent while catching up (it skips them
        when they come from the poller too)."""
        self._pending: list[tuple[Change, int]] = []
        self._wake = asyncio.Event()
        self._overflowed = False
        self.ended = False
        """The feed closed (shutdown): the stream should end; its client will come back."""
        self.opening: list[Message] = []
        """What to send first: ``ready``, then what happened since the client's position."""

    def _handed(self, changes: Sequence[Change], safe: int) -> None:
        """From the poller (in this stream's loop): changes and the feed's safe position."""
        self._pending.extend((c, min(c.position, safe)) for c in changes)
        if len(self._pending) > MAX_PENDING:  # the client reads too slowly to follow
            self._overflowed = True
            del self._pending[:-1]  # the newest tells where to resume
        self._wake.set()

    def _end(self) -> None:
        self.ended = True
        self._wake.set()

    def hand_over(self, changes: Sequence[Change], safe: int) -> None:
        """Called by the poller thread: pass ``changes`` on to the stream's loop."""
        try:
            self._loop.call_soon_threadsafe(self._handed, changes, safe)
        except RuntimeError:  # its loop has closed: the stream is gone
            self.feed.forget(self)

    def end(self) -> None:
        """Called on shutdown, from any thread: the stream ends after what it is sending."""
        try:
            self._loop.call_soon_threadsafe(self._end)
        except RuntimeError:
            self.feed.forget(self)

    def _fresh(self, changes: Iterable[tuple[Change, int]]) -> list[Message]:
        """The changes not sent yet, as messages; moves the mark on."""
        messages = []
        for change, resumable in changes:
            if self.initiative_id is not None:
                if change.version <= self._mark:
                    continue
                self._mark = change.version
            elif change.position in self._replayed:
                continue
            resume_after = change.version if self.initiative_id is not None else resumable
            messages.append(Message("change", str(resume_after), change_data(change)))
        return messages

    async def next(self, timeout: float) -> list[Message]:
        """The messages to send next; empty after ``timeout`` seconds without any (or once the
        stream has :attr:`ended`)."""
        if not self._pending and not self._overflowed and not self.ended:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                return []
        self._wake.clear()
        if self.ended:
            return []
        pending, self._pending = self._pending, []
        if self._overflowed:
            self._overflowed = False
            return [self._reset(*pending[-1])]
        return self._fresh(pending)

    def _reset(self, change: Change, resumable: int) -> Message:
        """Start afresh after ``change``: the client missed too much to be told each change."""
        if self.initiative_id is not None:
            self._mark = max(self._mark, change.version)
            data = {"initiative": self.initiative_id, "version": self._mark}
            return Message("reset", str(self._mark), data)
        return Message("reset", str(resumable), {"position": resumable})

    def close(self) -> None:
        """The stream is over (its client went away): stop handing it changes."""
        self.feed.forget(self)


class ChangeFeed:
    """The live pages' change feed over ``database`` (one per process; see the module)."""

    def __init__(
        self,
        database: Database,
        *,
        max_streams: int = DEFAULT_MAX_STREAMS,
        poll_seconds: float = POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_streams < 1:
            raise ValueError(f"max_streams must be at least 1, not {max_streams}")
        self.database = database
        self.max_streams = max_streams
        self._poll_seconds = poll_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._streams: set[Stream] = set()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._high = 0
        """The largest position seen."""
        self._holes: list[_Hole] = []
        self._last_used = clock()
        _FEEDS.add(self)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def open_streams(self) -> int:
        with self._lock:
            return len(self._streams)

    def _safe(self) -> int:
        """Every position up to this one has been seen or given up."""
        return min(h.low for h in self._holes) - 1 if self._holes else self._high

    def position(self) -> int:
        """The position a page read after this call resumes from (the poller starts if it is
        idle, so that no change after it goes unseen)."""
        with self._lock:
            self._ensure_polling()
            if self._thread is not None:
                return self._safe()
        with self.database.read() as unit:  # closed: no stream opens here any more
            return unit.changes.last_position()

    def open(
        self,
        loop: asyncio.AbstractEventLoop,
        initiative_id: str | None = None,
        *,
        after: int | None = None,
    ) -> Stream:
        """A new stream of every initiative's changes, or of one initiative's, served in
        ``loop``; its :attr:`Stream.opening` catches up from ``after`` (a position, or for one
        initiative a version; None: from now). Reads the database: call it where that may
        block.

        Raises:
            NotFound: there is no such initiative.
            LiveUnavailable: too many streams are open, or the feed is closed.
        """
        with self._lock:
            if self._closed:
                raise LiveUnavailable("the server is shutting down", retry_after=5)
            if len(self._streams) >= self.max_streams:
                raise LiveUnavailable(
                    f"{self.max_streams} live streams are open already", retry_after=30
                )
            self._ensure_polling()
            safe = self._safe()
            stream = Stream(self, loop, initiative_id)
            self._streams.add(stream)  # before catching up: nothing falls between the two
            if self._closed:  # closed since the check above (close takes no lock)
                stream.end()
        try:
            if initiative_id is None:
                stream.opening = self._catch_up_all(stream, safe, after)
            else:
                stream.opening = self._catch_up_one(stream, initiative_id, after)
        except BaseException:
            self.forget(stream)
            raise
        return stream

    def _catch_up_all(self, stream: Stream, safe: int, after: int | None) -> list[Message]:
        ready = Message("ready", str(safe), {"position": safe})
        if after is None or after == safe:
            return [ready]
        with self.database.read() as unit:
            changes = unit.changes.after(after, limit=REPLAY_LIMIT + 1)
        if after > self._high_now() or len(changes) > REPLAY_LIMIT:
            return [Message("reset", str(safe), {"position": safe})]
        stream._replayed = frozenset(c.position for c in changes)
        opening = [Message("ready", str(after), {"position": after})]
        for change in changes:
            resumable = min(change.position, safe)
            opening.append(Message("change", str(resumable), change_data(change)))
        return opening

    def _catch_up_one(self, stream: Stream, initiative_id: str, after: int | None) -> list[Message]:
        with self.database.read() as unit:
            projection = unit.load_projection(initiative_id)
            if projection is None:
                raise NotFound("initiative", initiative_id)
            version = projection.version
            start = version if after is None else min(after, version)
            changes = unit.changes.of_initiative(initiative_id, after=start, limit=REPLAY_LIMIT + 1)
        data = {"initiative": initiative_id, "version": version}
        if after is not None and (after > version or len(changes) > REPLAY_LIMIT):
            stream._mark = version
            return [Message("reset", str(version), data)]
        stream._mark = start
        opening = [Message("ready", str(start), {"initiative": initiative_id, "version": start})]
        return opening + stream._fresh((c, c.position) for c in changes)

    def _high_now(self) -> int:
        with self._lock:
            return self._high

    def forget(self, stream: Stream) -> None:
        with self._lock:
            self._streams.discard(stream)
            self._last_used = self._clock()

    def close(self) -> None:
        """End every stream and the poller (within a tick); no stream opens afterwards.

        Safe in a signal handler, which may have interrupted a holder of any lock: it takes
        none. Closing twice does nothing more.
        """
        self._closed = True
        while True:
            try:
                streams = list(self._streams)
                break
            except RuntimeError:  # another thread added or removed one meanwhile
                continue
        for stream in streams:
            stream.end()

    def join(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until the poller of a closed feed has stopped:
        then the database may be closed without a poll running into it."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # The poller ------------------------------------------------------------------------------

    def _ensure_polling(self) -> None:
        """Start the poller unless it runs (under ``_lock``)."""
        self._last_used = self._clock()
        if self._thread is not None or self._closed:
            return
        self._prime()
        self._thread = threading.Thread(target=self._run, name="kosiflow-live", daemon=True)
        self._thread.start()

    def _prime(self) -> None:
        """Begin after the newest event; the ids missing just below it are holes."""
        with self.database.read() as unit:
            newest = unit.changes.last_position()
            low = max(newest - PRIME_WINDOW, 0)
            seen = [c.position for c in unit.changes.between(low + 1, newest)]
        self._high, self._holes = low, []
        self._note_seen(seen, self._clock())
        self._high = max(self._high, newest)

    def _note_seen(self, positions: Iterable[int], now: float) -> None:
        """Seen ``positions`` (ascending): the ids skipped above the old high become holes."""
        for position in positions:
            if position > self._high + 1:
                self._holes.append(_Hole(self._high + 1, position - 1, now))
            self._high = max(self._high, position)

    def _run(self) -> None:
        while True:
            time.sleep(self._poll_seconds)
            if self._closed:
                break
            with self._lock:
                if not self._streams and self._clock() - self._last_used > IDLE_STOP_SECONDS:
                    self._thread = None
                    return
            try:
                self._poll()
            except StoreError as exc:  # the database is away: the streams wait, heartbeating
                _log.warning("live feed: cannot read changes: %s", exc)
            except Exception:  # a poller that died would leave every stream silent
                _log.exception("live feed: reading changes failed")
        with self._lock:
            self._thread = None

    def _poll(self) -> None:
        found: list[Change] = []
        with self.database.read() as unit:
            while True:
                batch = unit.changes.after(self._high, limit=BATCH)
                now = self._clock()
                with self._lock:
                    self._note_seen((c.position for c in batch), now)
                found.extend(batch)
                if len(batch) < BATCH:
                    break
            for hole in list(self._holes):
                filled = unit.changes.between(hole.low, hole.high)
                if filled:
                    found.extend(filled)
                    with self._lock:
                        self._fill(hole, [c.position for c in filled])
        now = self._clock()
        with self._lock:
            self._holes = [h for h in self._holes if now - h.since < HOLE_GRACE_SECONDS]
            del self._holes[: max(len(self._holes) - MAX_HOLES, 0)]
            safe = self._safe()
            streams = list(self._streams)
        if found:
            self._hand_out(sorted(found, key=lambda c: c.position), streams, safe)

    def _fill(self, hole: _Hole, positions: Sequence[int]) -> None:
        """Split ``hole`` around the ``positions`` that appeared in it."""
        index = self._holes.index(hole)
        rest: list[_Hole] = []
        low = hole.low
        for position in positions:
            if position > low:
                rest.append(_Hole(low, position - 1, hole.since))
            low = position + 1
        if low <= hole.high:
            rest.append(_Hole(low, hole.high, hole.since))
        self._holes[index : index + 1] = rest

    @staticmethod
    def _hand_out(changes: Sequence[Change], streams: Iterable[Stream], safe: int) -> None:
        by_initiative: dict[str, list[Change]] = {}
        for change in changes:
            by_initiative.setdefault(change.initiative_id, []).append(change)
        for stream in streams:
            if stream.initiative_id is None:
                stream.hand_over(changes, safe)
            elif stream.initiative_id in by_initiative:
                stream.hand_over(by_initiative[stream.initiative_id], safe)


_FEEDS: WeakSet[ChangeFeed] = WeakSet()
"""Every feed of this process, for :func:`close_all` (a shutdown signal ends them all)."""


def close_all() -> None:
    """Close every feed of this process (on a shutdown signal: their streams end at once)."""
    for feed in list(_FEEDS):
        feed.close()
