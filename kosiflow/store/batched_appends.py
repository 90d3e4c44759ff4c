"""PostgreSQL: the appends of several commands written by one statement (a group commit).

A command on a cached state (``CommandServices``) knows everything it will write before it
writes: the projection row moved on from the head it assumes, its events, their texts and their
outbox rows. Its unit hands that over as a :class:`DeferredAppend` at commit
(``WriteUnit.append(deferrable=True)``), and the units that commit meanwhile share one
statement, :data:`BATCH_APPEND`, run in autocommit: one round trip and one transaction for all
of them instead of BEGIN, three or four statements and COMMIT for each (in-process with 16
threads: 0.17 statements per command instead of 3.3, and PostgreSQL's CPU per command down by
about a third; ``bench/README.md``). PostgreSQL keeps one plan for it (see :data:`BATCH_APPEND`).
A stale append wastes its share of the statement: while other processes make the cached states
stale, the command services read the stored state before deciding
(``services/state_cache.py``, ``StaleShare``).

The first unit to arrive leads: it writes whatever is waiting with its own connection, while
units arriving meanwhile wait for the next statement (no timer: a batch is what came during the
last one). Each append is conditional on its initiative's head, as the single-unit append is: a
projection that moved on (another process, a refusal) writes none of its rows, and its unit
raises :class:`StaleHead`; the command then runs again on the locked row. A batch holds at most
one append per initiative. Errors:

- a passing one (lost connection, deadlock, serialization failure) reaches every unit of the
  batch, which raises it as a failed commit (``StoreUnavailable``; of unknown outcome when the
  connection was lost: the command services look the events up before running again);
- any other fails the whole statement, so nothing was written: every unit raises
  :class:`StaleHead` and runs again on its own, where its error (if it was its own) is raised
  as it would have been without batching.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from kosiflow.errors import StaleHead, StoreError, StoreUnavailable
from kosiflow.store.executor import Executor
from kosiflow.store.records import EventRecord

MAX_BATCH = 64
"""Appends per statement at most (the rest wait for the next one)."""

BATCH_APPEND = """
WITH given AS MATERIALIZED (
    SELECT
        %(id)s::varchar[] AS id, %(expected)s::int[] AS expected, %(head)s::varchar[] AS head,
        %(title)s::text[] AS title, %(phase)s::varchar[] AS phase,
        %(on_hold)s::bool[] AS on_hold, %(ended)s::bool[] AS ended,
        %(version)s::int[] AS version, %(state)s::text[] AS state,
        %(head_hash)s::varchar[] AS head_hash, %(updated_at)s::timestamptz[] AS updated_at,
        %(e_initiative_id)s::varchar[] AS e_initiative_id, %(e_seq)s::int[] AS e_seq,
        %(e_type)s::varchar[] AS e_type, %(e_schema_version)s::int[] AS e_schema_version,
        %(e_actor)s::varchar[] AS e_actor, %(e_at)s::timestamptz[] AS e_at,
        %(e_payload)s::text[] AS e_payload, %(e_prev_hash)s::varchar[] AS e_prev_hash,
        %(e_hash)s::varchar[] AS e_hash, %(o_workflow_id)s::varchar[] AS o_workflow_id,
        %(o_phase)s::varchar[] AS o_phase,
        %(t_initiative_id)s::varchar[] AS t_initiative_id, %(t_seq)s::int[] AS t_seq,
        %(t_field)s::varchar[] AS t_field, %(t_category)s::varchar[] AS t_category,
        %(t_at)s::timestamptz[] AS t_at, %(t_text)s::text[] AS t_text,
        %(t_salt)s::varchar[] AS t_salt, %(t_removed_at)s::timestamptz[] AS t_removed_at,
        %(named)s::varchar[] AS named
), moves AS (
    SELECT m.* FROM given AS g, unnest(
        g.id, g.expected, g.head, g.title, g.phase, g.on_hold, g.ended, g.version, g.state,
        g.head_hash, g.updated_at
    ) AS m (id, expected, head, title, phase, on_hold, ended, version, state, head_hash,
            updated_at)
), locked AS MATERIALIZED (
    SELECT id FROM initiatives WHERE id = ANY(ARRAY(SELECT id FROM moves))
    ORDER BY id FOR NO KEY UPDATE SKIP LOCKED
), moved AS (
    UPDATE initiatives AS i SET
        title = m.title, phase = m.phase, on_hold = m.on_hold, ended = m.ended,
        version = m.version, state = m.state, head_hash = m.head_hash, updated_at = m.updated_at
    FROM moves AS m
    WHERE i.id = ANY(ARRAY(SELECT id FROM locked))
      AND i.id = m.id AND i.version = m.expected AND i.head_hash = m.head
    RETURNING i.id
), recorded AS (
    INSERT INTO events
        (initiative_id, seq, type, schema_version, actor, at, payload, prev_hash, hash)
    SELECT e.initiative_id, e.seq, e.type, e.schema_version, e.actor, e.at, e.payload,
           e.prev_hash, e.hash
    FROM given AS g, unnest(
        g.e_initiative_id, g.e_seq, g.e_type, g.e_schema_version, g.e_actor, g.e_at,
        g.e_payload, g.e_prev_hash, g.e_hash
    ) WITH ORDINALITY AS e (initiative_id, seq, type, schema_version, actor, at, payload,
                            prev_hash, hash, n)
    WHERE e.initiative_id IN (SELECT id FROM moved)
    ORDER BY e.n
), published AS (
    INSERT INTO outbox (initiative_id, seq, workflow_id, type, phase)
    SELECT o.initiative_id, o.seq, o.workflow_id, o.type, o.phase
    FROM given AS g, unnest(
        g.e_initiative_id, g.e_seq, g.o_workflow_id, g.e_type, g.o_phase
    ) WITH ORDINALITY AS o (initiative_id, seq, workflow_id, type, phase, n)
    WHERE o.initiative_id IN (SELECT id FROM moved)
    ORDER BY o.n
), kept AS (
    INSERT INTO event_texts (initiative_id, seq, field, category, at, text, salt, removed_at)
    SELECT t.initiative_id, t.seq, t.field, t.category, t.at, t.text, t.salt, t.removed_at
    FROM given AS g, unnest(
        g.t_initiative_id, g.t_seq, g.t_field, g.t_category, g.t_at, g.t_text, g.t_salt,
        g.t_removed_at
    ) AS t (initiative_id, seq, field, category, at, text, salt, removed_at)
    WHERE t.initiative_id IN (SELECT id FROM moved)
)
SELECT true, id, NULL FROM moved
UNION ALL
SELECT false, p.id, p.name FROM people AS p
WHERE p.id = ANY(ARRAY(SELECT unnest(g.named) FROM given AS g))
"""
"""Every append of a batch: the projections moved on from their assumed heads (``moves``), and
the events, outbox rows and texts of those that moved. The parameters are arrays, one per
column, read through ``given`` (materialized): so the planner cannot count a batch's elements,
every batch gets the same plan, and PostgreSQL keeps one (a generic plan; one per set of
parameter types psycopg sends, as an empty array has none). Seeing the arrays,
it would plan each small batch anew (its custom plans look cheaper): 0.3-0.6 ms of its CPU per
batch, as much as running it (bench/README.md). The initiatives are found by their key (``=
ANY`` of an array), never by a scan. Each outbox row is numbered in the order of its event
(``ORDER BY`` the arrays' order), so the dispatcher sees each initiative's events in seq order.
The texts' foreign key to their events is checked at the end of the statement, after every part
of it has run. The rows are locked first, in the order of their ids, skipping any that another
transaction holds (``locked``): the statement never waits for a row lock, so one initiative
held elsewhere (a rebuild, a command on its locked row) never holds up the commands of the
others, and two processes' batches never deadlock; a skipped append did not move. Returns the
ids of the initiatives that moved (``true, id, NULL``) and, read in the same snapshot, the names
of the people the appends' answers name (``false, person id, name``: ``named``, by key; erased
people have the name "", unknown ids no row): the answers need no statement of their own."""


@dataclass(frozen=True, slots=True)
class DeferredAppend:
    """One unit's append, computed but not written: the projection's new columns (``moves``
    of :data:`BATCH_APPEND`, keyed like its parameters) and the chained events."""

    initiative_id: str
    workflow_id: str
    phase: str
    """The initiative's phase once the events are recorded (the outbox rows' ``phase``)."""
    move: dict[str, Any]
    events: Sequence[tuple[EventRecord, str, str]]
    """``(record, at as ISO text, payload as canonical JSON)``, as ``units._chain`` made them."""
    named: Sequence[str] = ()
    """The people whose names to read with the append (those the command's answer shows)."""


def batch_params(appends: Sequence[DeferredAppend]) -> dict[str, list[Any]]:
    """The array parameters of :data:`BATCH_APPEND` for ``appends``."""
    params: dict[str, list[Any]] = {key: [] for key in _MOVE_KEYS + _EVENT_KEYS + _TEXT_KEYS}
    params["named"] = list(dict.fromkeys(p for append in appends for p in append.named))
    for append in appends:
        for key in _MOVE_KEYS:
            params[key].append(append.move[key])
        for record, _at, payload_json in append.events:
            params["e_initiative_id"].append(record.initiative_id)
            params["e_seq"].append(record.seq)
            params["e_type"].append(record.type)
            params["e_schema_version"].append(record.schema_version)
            params["e_actor"].append(record.actor)
            params["e_at"].append(record.at)
            params["e_payload"].append(payload_json)
            params["e_prev_hash"].append(record.prev_hash)
            params["e_hash"].append(record.hash)
            params["o_workflow_id"].append(append.workflow_id)
            params["o_phase"].append(append.phase)
            for field, text in record.texts.items():
                params["t_initiative_id"].append(record.initiative_id)
                params["t_seq"].append(record.seq)
                params["t_field"].append(field)
                params["t_category"].append(text.category)
                params["t_at"].append(record.at)
                params["t_text"].append(text.text)
                params["t_salt"].append(text.salt)
                params["t_removed_at"].append(text.removed_at)
    return params


_MOVE_KEYS = [
    "id", "expected", "head", "title", "phase", "on_hold", "ended", "version", "state",
    "head_hash", "updated_at",
]  # fmt: skip
_EVENT_KEYS = [
    "e_initiative_id", "e_seq", "e_type", "e_schema_version", "e_actor", "e_at", "e_payload",
    "e_prev_hash", "e_hash", "o_workflow_id", "o_phase",
]  # fmt: skip
_TEXT_KEYS = [
    "t_initiative_id", "t_seq", "t_field", "t_category", "t_at", "t_text", "t_salt",
    "t_removed_at",
]  # fmt: skip


class _Job:
    __slots__ = ("append", "cause", "done", "failure", "names", "stale")

    def __init__(self, append: DeferredAppend) -> None:
        self.append = append
        self.done = False
        self.stale = False
        """Nothing of it was written (:class:`StaleHead`)."""
        self.names: dict[str, str] = {}
        """Person id → name of those of ``append.named`` that exist, once it is written."""
        self.failure: tuple[str, bool] | None = None
        """(message, outcome unknown) of the :class:`StoreUnavailable` it raises."""
        self.cause: BaseException | None = None


class AppendBatcher:
    """Writes the deferred appends of units committing at the same time together.

    ``failure(error, executor)`` classifies a DBAPI error of the statement (on ``executor``'s
    connection) as a failed commit: a :class:`StoreUnavailable` (a passing failure) reaches
    every unit of the batch; any other :class:`StoreError` makes each run again on its own (see
    the module docstring).
    """

    def __init__(
        self,
        dbapi_error: type[Exception],
        failure: Callable[[Exception, Executor], StoreError],
    ) -> None:
        self._dbapi_error = dbapi_error
        self._failure = failure
        self._changed = threading.Condition()
        self._waiting: list[_Job] = []
        self._writing = False

    def submit(self, append: DeferredAppend, executor: Executor) -> dict[str, str]:
        """Write ``append`` in a batch, with ``executor``'s connection if this unit leads one
        (the connection must have no transaction open); returns once it is committed, with
        the names of the people of ``append.named`` (person id → name, in their order; as
        ``people.person_names`` reads them).

        Raises:
            StaleHead: the initiative is no longer at the head the append assumed, or the
                batch's statement failed as a whole; nothing of ``append`` was written.
            StoreUnavailable: the statement failed for a passing reason (see the module
                docstring); of unknown outcome when its connection was lost.
        """
        job = _Job(append)
        with self._changed:
            self._waiting.append(job)
            while not job.done:
                if self._writing:
                    self._changed.wait()
                    continue
                self._writing = True
                batch = self._take()
                try:
                    self._changed.release()  # others queue up for the next batch meanwhile
                    try:
                        self._write(batch, executor)
                    finally:
                        self._changed.acquire()
                finally:
                    for other in batch:  # left undone only by a BaseException mid-statement
                        if not other.done:
                            _fail(other, "the batch was interrupted", unknown=True)
                    self._writing = False
                    self._changed.notify_all()
        if job.failure is not None:  # one exception per unit: each thread raises its own
            message, unknown = job.failure
            raise StoreUnavailable(message, outcome_unknown=unknown) from job.cause
        if job.stale:
            raise StaleHead(append.initiative_id, append.move["expected"], None)
        return job.names

    def _take(self) -> list[_Job]:
        """The waiting jobs of the next batch: in order of arrival, one per initiative."""
        batch: list[_Job] = []
        left: list[_Job] = []
        initiatives: set[str] = set()
        for job in self._waiting:
            initiative_id = job.append.initiative_id
            if initiative_id in initiatives or len(batch) == MAX_BATCH:
                left.append(job)
            else:
                initiatives.add(initiative_id)
                batch.append(job)
        self._waiting = left
        return batch

    def _write(self, batch: list[_Job], executor: Executor) -> None:
        """Run the batch's statement and note each job's outcome.

        A DBAPI error of the statement is classified (see the class docstring); once the
        statement may have committed, any other error leaves the outcome unknown, to be looked
        up by the command (never "nothing written": that would apply it twice).
        """
        dbapi = executor.dbapi
        params = batch_params([job.append for job in batch])
        try:
            dbapi.autocommit = True  # one statement, one transaction: no BEGIN, no COMMIT
            rows = executor.run_sql(BATCH_APPEND, params)
        except self._dbapi_error as error:
            failure = self._failure(error, executor)
            for job in batch:
                if isinstance(failure, StoreUnavailable):
                    _fail(job, str(failure), unknown=failure.outcome_unknown, cause=error)
                else:  # the statement failed whole: nothing written; each runs alone
                    job.stale = job.done = True
            return
        except BaseException as error:  # the statement may have committed
            for job in batch:
                _fail(job, f"database error: {error!r}", unknown=True, cause=error)
            if not isinstance(error, Exception):
                raise
            return
        finally:
            with suppress(self._dbapi_error):  # a broken connection is dropped at give-back
                dbapi.autocommit = False
        moved = {row[1] for row in rows if row[0]}
        names: dict[str, str] = {row[1]: row[2] for row in rows if not row[0]}
        for job in batch:
            job.stale = job.append.initiative_id not in moved
            job.names = {p: names[p] for p in job.append.named if p in names}
            job.done = True


def _fail(job: _Job, message: str, *, unknown: bool, cause: BaseException | None = None) -> None:
    job.failure = (message, unknown)
    job.cause = cause
    job.done = True
