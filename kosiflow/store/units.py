"""Units of work: one transaction each, reading (``ReadUnit``) or writing (``WriteUnit``).

``Database.write()`` and ``Database.read()`` hand these out; callers never see SQL. Each method
runs statements compiled once per dialect (``statements.py``) on the unit's connection.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson

from kosiflow.errors import (
    ConcurrencyConflict,
    DefinitionChanged,
    DuplicateRequest,
    StaleHead,
    StoreError,
)
from kosiflow.store import people, sessions, texts
from kosiflow.store.batched_appends import AppendBatcher, DeferredAppend
from kosiflow.store.chain import canonical_json, digest
from kosiflow.store.change_feed import ChangeReads
from kosiflow.store.columns import from_db_time, to_utc
from kosiflow.store.executor import Executor, Row
from kosiflow.store.outbox import OutboxReads, OutboxWrites
from kosiflow.store.records import (
    GENESIS_HASH,
    NO_TEXTS,
    EventRecord,
    EventText,
    NewEvent,
    Person,
    Projection,
    StoredDefinition,
    StoredEvent,
    StoredHead,
    User,
)
from kosiflow.store.sessions import WebSession

HISTORIES_BATCH = 5000
"""Rows per round trip when a server-side cursor streams every history from PostgreSQL."""


def _dump_state(state: Mapping[str, Any]) -> str:
    """The projection's JSON (orjson: the state is encoded on every command, so it is hot)."""
    return orjson.dumps(state).decode()


def _projection(row: Row) -> Projection:
    return Projection(
        initiative_id=row[0],
        workflow_id=row[1],
        workflow_version=row[2],
        parent_id=row[3],
        title=row[4],
        phase=row[5],
        on_hold=bool(row[6]),
        ended=bool(row[7]),
        version=row[8],
        state=orjson.loads(row[9]),
        head_hash=row[10],
        created_at=from_db_time(row[11]),
        updated_at=from_db_time(row[12]),
    )


def event_record(stored: StoredEvent) -> EventRecord:
    """A stored event decoded (payload parsed, ``at`` as a datetime)."""
    return _event_record(stored.row, stored.texts)


def _event_record(row: Row, found: Mapping[str, EventText] = NO_TEXTS) -> EventRecord:
    return EventRecord(
        initiative_id=row[0],
        seq=row[1],
        type=row[2],
        schema_version=row[3],
        actor=row[4],
        at=from_db_time(row[5]),
        payload=orjson.loads(row[6]),
        prev_hash=row[7],
        hash=row[8],
        texts=found,
    )


def _history_filters(
    workflow_id: str | None, initiative_id: str | None
) -> tuple[tuple[bool, bool], dict[str, str]]:
    """Which of the statements of ``select_heads``/``select_histories`` and its values."""
    params = {"workflow_id": workflow_id, "id": initiative_id}
    return (workflow_id is not None, initiative_id is not None), {
        k: v for k, v in params.items() if v is not None
    }


def _chain(
    initiative_id: str, after: int, prev_hash: str, new_events: Sequence[NewEvent]
) -> list[tuple[EventRecord, str, str]]:
    """What ``new_events`` become appended after seq ``after`` chained onto ``prev_hash``.

    Each with its ``at`` as ISO text and its payload as canonical JSON, to store as computed.
    """
    chained: list[tuple[EventRecord, str, str]] = []
    for seq, new in enumerate(new_events, start=after + 1):
        at = to_utc(new.at)
        at_iso = at.isoformat(timespec="microseconds")
        payload_json = canonical_json(new.payload)
        head = [initiative_id, seq, new.type, new.schema_version, new.actor, at_iso]
        hashed = digest(head, payload_json, prev_hash)
        record = EventRecord(
            initiative_id, seq, new.type, new.schema_version, new.actor, at,
            new.payload, prev_hash, hashed, new.texts,
        )  # fmt: skip
        chained.append((record, at_iso, payload_json))
        prev_hash = hashed
    return chained


class ReadUnit:
    """A read transaction: a consistent view of the store."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    @property
    def outbox(self) -> OutboxReads:
        """The webhook subscriptions and their deliveries."""
        return OutboxReads(self._db)

    @property
    def changes(self) -> ChangeReads:
        """Events after a position, for the live pages' change feed."""
        return ChangeReads(self._db)

    def load_projection(self, initiative_id: str) -> Projection | None:
        row = self._db.one(self._db.sql.select_projection, {"id": initiative_id})
        return None if row is None else _projection(row)

    def list_projections(
        self,
        *,
        workflow_id: str | None = None,
        phase: str | None = None,
        parent_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Projection]:
        """Initiatives in order of creation, optionally only of one workflow, phase or parent."""
        filters = (workflow_id is not None, phase is not None, parent_id is not None)
        params = {
            "workflow_id": workflow_id,
            "phase": phase,
            "parent_id": parent_id,
            "limit": limit,
            "offset": offset,
        }
        rows = self._db.all(self._db.sql.list_projections[filters], params)
        return [_projection(row) for row in rows]

    def events(self, initiative_id: str) -> Iterator[EventRecord]:
        """The initiative's events in seq order with their texts, streamed (the events never
        all loaded at once; the texts kept outside their payloads are read first)."""
        found = self.event_texts(initiative_id)
        for row in self._db.stream(self._db.sql.select_events, {"id": initiative_id}):
            yield _event_record(row, found.get(row[1], NO_TEXTS))

    def events_until(self, initiative_id: str, seq: int) -> Iterator[EventRecord]:
        """The initiative's events up to and including ``seq``, in order, streamed."""
        found = self.event_texts(initiative_id)
        params = {"id": initiative_id, "until": seq}
        for row in self._db.stream(self._db.sql.select_events_until, params):
            yield _event_record(row, found.get(row[1], NO_TEXTS))

    def events_page(self, initiative_id: str, *, limit: int, offset: int) -> list[EventRecord]:
        """At most ``limit`` of the initiative's events in seq order, skipping ``offset``."""
        params = {"id": initiative_id, "limit": limit, "offset": offset}
        rows = self._db.all(self._db.sql.select_events_page, params)
        found = self.event_texts(initiative_id) if rows else {}
        return [_event_record(row, found.get(row[1], NO_TEXTS)) for row in rows]

    def snapshot(self) -> None:
        """Read one snapshot of the store from here to the end of the unit (on PostgreSQL a
        ``REPEATABLE READ READ ONLY`` transaction, see ``Executor.snapshot``): for reads that
        check what one statement found against another's, like a projection's head against
        the events. Reading texts and streaming begin it anyway."""
        self._db.snapshot()

    def event_texts(self, initiative_id: str) -> dict[int, dict[str, EventText]]:
        """The texts of the initiative's events kept outside their payloads: seq → field.

        Begins the unit's snapshot (``Executor.snapshot``): the events read after them in this
        unit are those of the same moment, each with its texts (no event committed in between
        lacks them, no removal shows without the event recording it)."""
        self._db.snapshot()
        return texts.texts_of(self._db, initiative_id)

    def due_texts(
        self, limits: Mapping[str, datetime | None], *, initiative_id: str | None = None
    ) -> list[tuple[str, int, str, str]]:
        """(initiative id, seq, field, category) of every kept text recorded at or before its
        category's limit (``limits``: category → moment, None: kept forever), by initiative."""
        params = texts.due_params(self._db, limits)
        if initiative_id is None:
            rows = self._db.all(self._db.sql.texts.select_due, params)
        else:
            params["id"] = initiative_id
            rows = self._db.all(self._db.sql.texts.select_due_of_initiative, params)
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    def retention_settings(self) -> dict[str, tuple[int | None, datetime, str]]:
        """Category → (days, when set, by whom) of the retention settings made so far."""
        rows = self._db.all(self._db.sql.texts.select_settings)
        return {row[0]: (row[1], from_db_time(row[2]), row[3]) for row in rows}

    def count_events(self, initiative_id: str) -> int:
        row = self._db.one(self._db.sql.count_events, {"id": initiative_id})
        return 0 if row is None else int(row[0])

    def count_projections(
        self,
        *,
        workflow_id: str | None = None,
        phase: str | None = None,
        parent_id: str | None = None,
    ) -> int:
        """How many initiatives :meth:`list_projections` pages through with these filters."""
        filters = (workflow_id is not None, phase is not None, parent_id is not None)
        params = {"workflow_id": workflow_id, "phase": phase, "parent_id": parent_id}
        row = self._db.one(self._db.sql.count_projections[filters], params)
        return 0 if row is None else int(row[0])

    def stored_events(self, initiative_id: str) -> Iterator[Row]:
        """The initiative's event rows as stored (payload as text), streamed, for
        :func:`verify_stored`."""
        yield from self._db.stream(self._db.sql.select_events, {"id": initiative_id})

    def heads(
        self, *, workflow_id: str | None = None, initiative_id: str | None = None
    ) -> Iterator[StoredHead]:
        """Every initiative's head (version and hash of its last event, as its projection
        records them) in order of creation, optionally only of one workflow or initiative."""
        flags, params = _history_filters(workflow_id, initiative_id)
        for row in self._db.stream(self._db.sql.select_heads[flags], params):
            yield StoredHead(row[0], row[1], row[2])

    def histories(
        self, *, workflow_id: str | None = None, initiative_id: str | None = None
    ) -> Iterator[tuple[StoredHead, Iterator[Row]]]:
        """Every initiative's head and its event rows as stored (:meth:`stored_events`), in
        order of creation, streamed with flat memory; filtered like :meth:`heads`.

        On PostgreSQL one statement streams everything from a server-side cursor (no round
        trip per initiative; other statements may run between its batches). SQLite has no round
        trips to save, and without an index on the creation time it would sort every event row
        of the join, so there each initiative's rows come from its own statement (an index
        lookup) in the same transaction.
        """
        if self._db.sqlite:
            select_events = self._db.sql.select_events
            for head in self.heads(workflow_id=workflow_id, initiative_id=initiative_id):
                yield head, self._db.stream(select_events, {"id": head.initiative_id})
            return
        flags, params = _history_filters(workflow_id, initiative_id)
        statement = self._db.sql.select_histories[flags]
        rows = self._db.stream(statement, params, batch=HISTORIES_BATCH)
        for initiative_id_, group in itertools.groupby(rows, key=itemgetter(0)):
            first = next(group)
            head = StoredHead(initiative_id_, first[9], first[10])
            if first[1] is None:  # no event row joined: the history is empty
                yield head, iter(())
            else:  # the caller reads the group before asking for the next one
                yield head, itertools.chain((first,), group)  # noqa: B031

    def all_events(
        self, *, workflow_id: str | None = None, initiative_id: str | None = None
    ) -> Iterator[EventRecord]:
        """The events of every initiative (filtered like :meth:`heads`), initiative by
        initiative in order of creation, each in seq order; streamed with flat memory."""
        for stored in self.all_stored_events(workflow_id=workflow_id, initiative_id=initiative_id):
            yield event_record(stored)

    def all_stored_events(
        self, *, workflow_id: str | None = None, initiative_id: str | None = None
    ) -> Iterator[StoredEvent]:
        """:meth:`all_events` as stored, not decoded (for exports: about twice as fast)."""
        texts_of = self.texts_lookup(workflow_id=workflow_id, initiative_id=initiative_id)
        for head, rows in self.histories(workflow_id=workflow_id, initiative_id=initiative_id):
            found = texts_of(head.initiative_id)
            for row in rows:
                yield StoredEvent(row, found.get(row[1], NO_TEXTS))

    def texts_lookup(
        self, *, workflow_id: str | None = None, initiative_id: str | None = None
    ) -> Callable[[str], dict[int, dict[str, EventText]]]:
        """For :meth:`histories` (same filters): initiative id → its texts (:meth:`event_texts`),
        to be asked in the order :meth:`histories` yields the initiatives. On PostgreSQL the texts
        of all of them stream from one more statement beside the events."""
        if self._db.sqlite:
            return self.event_texts
        flags, params = _history_filters(workflow_id, initiative_id)
        rows = self._db.stream(self._db.sql.texts.select_all[flags], params, batch=HISTORIES_BATCH)
        return texts.TextsInOrder(rows)

    def initiative_ids(self) -> Iterator[str]:
        """Every initiative's id, in order of creation."""
        for row in self._db.stream(self._db.sql.select_initiative_ids, {}):
            yield row[0]

    def find_people(self, key: str) -> list[Person]:
        """The people whose id or name is ``key`` (erased ones included)."""
        return people.find_people(self._db, key)

    def person_names(self, ids: Iterable[str]) -> dict[str, str]:
        """Person id → name for those of ``ids`` that exist (erased people have the name "")."""
        return people.person_names(self._db, ids)

    def load_definition(self, workflow_id: str, version: int) -> StoredDefinition | None:
        params = {"workflow_id": workflow_id, "version": version}
        row = self._db.one(self._db.sql.select_definition, params)
        return None if row is None else StoredDefinition(*row)

    def list_definitions(self) -> list[StoredDefinition]:
        return [StoredDefinition(*row) for row in self._db.all(self._db.sql.list_definitions)]

    def user_by_token(self, token: str) -> User | None:
        return people.user_by_token(self._db, token)

    def user_and_projection(
        self, token: str, initiative_id: str
    ) -> tuple[User | None, Projection | None]:
        """:meth:`user_by_token` and :meth:`load_projection`, read by one statement."""
        params = {"token_hash": people.token_hash(token), "id": initiative_id}
        row = self._db.one(self._db.sql.select_user_and_projection, params)
        if row is None:  # the statement always has its row; a guard for the type checker
            return None, None
        columns = people.USER_COLUMNS
        user = None if row[0] is None else people.user_of(row)
        projection = None if row[columns] is None else _projection(row[columns:])
        return user, projection

    def user_by_name(self, name: str) -> User | None:
        return people.user_by_name(self._db, name)

    def list_users(self) -> list[User]:
        return people.list_users(self._db)

    def find_session(self, session_id: str, *, now: datetime) -> WebSession | None:
        """The browser session ``session_id`` names, unless unknown or expired by ``now``."""
        return sessions.find_session(self._db, session_id, now=now)


class WriteUnit(ReadUnit):
    """A write transaction; everything in it commits together or not at all.

    On SQLite the transaction began IMMEDIATE, so it already holds the write lock; on PostgreSQL
    :meth:`load_projection` locks the initiative's row until the end of the unit.
    """

    def __init__(
        self, db: Executor, integrity_error: type[Exception], batcher: AppendBatcher | None = None
    ) -> None:
        super().__init__(db)
        self._integrity_error = integrity_error
        self._batcher = batcher
        self._heads: dict[str, tuple[int, str, str]] = {}
        """Initiative id → (version, head hash, phase) as this unit last saw them, locked."""
        self._assumed: set[str] = set()
        """Initiatives whose head this unit took as known (:meth:`assume_head`), not read."""
        self.deferred: DeferredAppend | None = None
        """An append left to the commit (:meth:`append` with ``deferrable``)."""
        self.names: dict[str, str] | None = None
        """The names of the people a batched append was given to name (:meth:`append`'s
        ``named``), read with it at commit; None when they were not read."""
        self.committed_callbacks: list[Callable[[], None]] = []
        """Run once this unit's writes are committed (see :meth:`after_commit`)."""

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once what this unit wrote is committed; never if it is not (a
        unit in a batch of the group commit waits for the batch's COMMIT)."""
        self.committed_callbacks.append(callback)

    @property
    def outbox(self) -> OutboxWrites:
        """The webhook subscriptions and their deliveries, to change."""
        return OutboxWrites(self._db)

    def load_projection(self, initiative_id: str) -> Projection | None:
        """The projection, locked for the rest of the unit (``FOR UPDATE`` on PostgreSQL)."""
        row = self._db.one(self._db.sql.lock_projection, {"id": initiative_id})
        if row is None:
            return None
        projection = _projection(row)
        self._heads[initiative_id] = (projection.version, projection.head_hash, projection.phase)
        return projection

    def assume_head(self, initiative_id: str, version: int, head_hash: str, phase: str) -> None:
        """Take the initiative's head as known (from a cache) without reading it.

        :meth:`append` then checks it where it moves the projection on: if the database has
        another version or head hash, nothing is written and it raises ConcurrencyConflict.
        """
        self._heads[initiative_id] = (version, head_hash, phase)
        self._assumed.add(initiative_id)

    def append(
        self,
        projection: Projection,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        deferrable: bool = False,
        named: Sequence[str] = (),
    ) -> list[EventRecord]:
        """Append ``events`` after ``expected_version`` and store ``projection`` as their fold.

        The events get seq ``expected_version + 1 …`` and are hash-chained onto the current
        head; the projection row is inserted (``expected_version == 0``) or moved on from
        ``expected_version``, with the new head hash (``projection.head_hash`` is ignored).

        ``deferrable`` promises that the unit runs no further statement: on PostgreSQL an append
        onto an assumed head (:meth:`assume_head`) is then written at commit, in one statement
        with the appends of other units committing meanwhile (:mod:`.batched_appends`); a head
        that moved on raises :class:`StaleHead` from the commit then. The names of the people
        ``named`` are then read by that statement too (:attr:`names`, once committed), as
        :meth:`person_names` reads them.

        Raises:
            ConcurrencyConflict: the initiative is no longer at ``expected_version``.
        """
        initiative_id = projection.initiative_id
        if not events or projection.version != expected_version + len(events):
            raise ValueError(
                f"projection version {projection.version} must be expected version "
                f"{expected_version} + {len(events)} events (at least one)"
            )
        if self.deferred is not None:  # chained onto the one before, in this transaction
            deferred, self.deferred = self.deferred, None
            self._write_inline(deferred)
        head = self._head(initiative_id, expected_version)
        chained = _chain(initiative_id, expected_version, head[1], events)
        head_hash = chained[-1][0].hash
        if expected_version == 0:
            self._create(initiative_id, self._projection_params(projection, head_hash))
            self._write_events(projection, chained, expected_version)
        else:
            move = self._move_params(projection, head, head_hash)
            if deferrable and self._batcher is not None and initiative_id in self._assumed:
                self.deferred = DeferredAppend(
                    initiative_id, projection.workflow_id, projection.phase, move, chained, named
                )
            else:
                self._move(move, phase_changed=head[2] != projection.phase)
                self._write_events(projection, chained, expected_version)
        self._heads[initiative_id] = (projection.version, head_hash, projection.phase)
        return [record for record, _, _ in chained]

    def write_deferred(self) -> None:
        """Write the append left to the commit, if any: batched with other units' when this
        unit has run nothing else (no transaction is open), else here in its transaction.

        Raises:
            StaleHead: the head it assumed moved on (or its batch failed as a whole); nothing
                of it was written.
        """
        deferred, self.deferred = self.deferred, None
        if deferred is None:
            return
        if self._batcher is not None and not self._db.in_transaction():
            self.names = self._batcher.submit(deferred, self._db)
        else:
            self._write_inline(deferred)

    def _write_inline(self, deferred: DeferredAppend) -> None:
        """Write a deferred append with this unit's connection, in its transaction."""
        initiative_id = deferred.initiative_id
        self._move(deferred.move, phase_changed=True)
        expected_version = deferred.move["expected"]
        try:
            self._insert_events(deferred.events, expected_version)
        except ConcurrencyConflict as exc:
            raise StaleHead(initiative_id, expected_version, None) from exc
        texts.insert_texts(self._db, [record for record, _, _ in deferred.events if record.texts])
        self._publish_rows(deferred.workflow_id, deferred.phase, deferred.events)

    def _write_events(
        self,
        projection: Projection,
        chained: Sequence[tuple[EventRecord, str, str]],
        expected_version: int,
    ) -> None:
        self._insert_events(chained, expected_version)
        texts.insert_texts(self._db, [record for record, _, _ in chained if record.texts])
        self._publish_rows(projection.workflow_id, projection.phase, chained)

    def _move_params(
        self, projection: Projection, head: tuple[int, str, str], head_hash: str
    ) -> dict[str, Any]:
        """The values that move the projection row on from ``head`` (``batched_appends``'s
        ``moves`` keys)."""
        return {
            "id": projection.initiative_id,
            "expected": head[0],
            "head": head[1],
            "title": projection.title,
            "phase": projection.phase,
            "on_hold": projection.on_hold,
            "ended": projection.ended,
            "version": projection.version,
            "state": _dump_state(projection.state),
            "head_hash": head_hash,
            "updated_at": self._db.db_time(projection.updated_at),
        }

    def _move(self, move: Mapping[str, Any], *, phase_changed: bool) -> None:
        """Update the projection row from its expected head (SET only what may change)."""
        sql = self._db.sql
        params = {
            "title": move["title"],
            "phase": move["phase"],
            "on_hold": move["on_hold"],
            "ended": move["ended"],
            "version": move["version"],
            "state": move["state"],
            "head_hash": move["head_hash"],
            "updated_at": move["updated_at"],
            "b_id": move["id"],
            "b_expected": move["expected"],
            "b_head": move["head"],
        }
        update = sql.update_projection_and_phase if phase_changed else sql.update_projection
        if self._db.count(update, params) != 1:
            # Not read again: whoever catches this (a command on a cached state) loads the
            # locked row next; a round trip less for each command another process overtook.
            raise StaleHead(move["id"], move["expected"], None)

    def _head(self, initiative_id: str, expected_version: int) -> tuple[int, str, str]:
        """(version, hash, phase) the next event chains onto; conflicts when it moved on."""
        if expected_version == 0:
            return (0, GENESIS_HASH, "")
        head = self._heads.get(initiative_id)
        if head is None:
            row = self._db.one(self._db.sql.lock_head, {"id": initiative_id})
            if row is None:
                raise ConcurrencyConflict(initiative_id, expected_version, None)
            head = (row[0], row[1], row[2])
        if head[0] != expected_version:
            raise ConcurrencyConflict(initiative_id, expected_version, head[0])
        return head

    def _projection_params(self, projection: Projection, head_hash: str) -> dict[str, Any]:
        return {
            "id": projection.initiative_id,
            "workflow_id": projection.workflow_id,
            "workflow_version": projection.workflow_version,
            "parent_id": projection.parent_id,
            "title": projection.title,
            "phase": projection.phase,
            "on_hold": projection.on_hold,
            "ended": projection.ended,
            "version": projection.version,
            "state": _dump_state(projection.state),
            "head_hash": head_hash,
            "created_at": self._db.db_time(projection.created_at),
            "updated_at": self._db.db_time(projection.updated_at),
        }

    def _create(self, initiative_id: str, params: dict[str, Any]) -> None:
        try:
            inserted = self._db.count(self._db.sql.insert_projection, params)
        except self._integrity_error as exc:
            raise StoreError(
                f"cannot create initiative {initiative_id}: its workflow definition or its "
                "parent is not stored"
            ) from exc
        if inserted != 1:
            raise self._conflict(initiative_id, 0)

    def _insert_events(
        self, chained: Sequence[tuple[EventRecord, str, str]], expected_version: int
    ) -> None:
        insert = self._db.sql.insert_event
        sqlite = self._db.sqlite
        try:
            for r, at_iso, payload_json in chained:
                params = {
                    "initiative_id": r.initiative_id,
                    "seq": r.seq,
                    "type": r.type,
                    "schema_version": r.schema_version,
                    "actor": r.actor,
                    "at": at_iso if sqlite else r.at,
                    "payload": payload_json,
                    "prev_hash": r.prev_hash,
                    "hash": r.hash,
                }
                self._db.run(insert, params)
        except self._integrity_error as exc:
            initiative_id = chained[0][0].initiative_id
            raise ConcurrencyConflict(initiative_id, expected_version, None) from exc

    def _publish_rows(
        self, workflow_id: str, phase: str, chained: Sequence[tuple[EventRecord, str, str]]
    ) -> None:
        """One outbox row per appended event, for ``kosiflow dispatch`` (see ``outbox.py``).

        Its phase is the one the initiative is in once all of ``chained`` is recorded. One row
        is a plain execute: psycopg's ``executemany`` costs ~50 µs more for a single row.
        """
        rows = [
            {
                "initiative_id": r.initiative_id,
                "seq": r.seq,
                "workflow_id": workflow_id,
                "type": r.type,
                "phase": phase,
            }
            for r, _, _ in chained
        ]
        if len(rows) == 1:
            self._db.run(self._db.sql.outbox.insert, rows[0])
        else:
            self._db.run_many(self._db.sql.outbox.insert, rows)

    def _conflict(self, initiative_id: str, expected_version: int) -> ConcurrencyConflict:
        row = self._db.one(self._db.sql.select_version, {"id": initiative_id})
        return ConcurrencyConflict(initiative_id, expected_version, None if row is None else row[0])

    def import_history(self, projection: Projection, records: Sequence[EventRecord]) -> None:
        """Store an exported history as it is (hashes kept) with its fold as the projection.

        The caller verifies the chain first; an initiative that exists already conflicts.
        """
        chained = [
            (r, to_utc(r.at).isoformat(timespec="microseconds"), canonical_json(r.payload))
            for r in records
        ]
        self._create(
            projection.initiative_id, self._projection_params(projection, chained[-1][0].hash)
        )
        self._insert_events(chained, 0)
        texts.insert_texts(self._db, [record for record in records if record.texts])

    def replace_projection(self, projection: Projection) -> None:
        """Overwrite a projection with a rebuilt one of the same version and head hash.

        Raises:
            ConcurrencyConflict: the stored row is at another version or head.
        """
        params = self._projection_params(projection, projection.head_hash)
        params.update(
            b_id=projection.initiative_id,
            b_expected=projection.version,
            b_head=projection.head_hash,
        )
        if self._db.count(self._db.sql.replace_projection, params) != 1:
            raise self._conflict(projection.initiative_id, projection.version)

    def repin_workflow(self, initiative_id: str, workflow_version: int) -> None:
        """Pin the initiative to another version of its workflow: ``append`` keeps the pin, so
        the migration that appends its ``WorkflowMigrated`` moves it in the same unit."""
        params = {"workflow_version": workflow_version, "b_id": initiative_id}
        if self._db.count(self._db.sql.repin_workflow, params) != 1:
            raise StoreError(f"initiative {initiative_id} is not stored: cannot pin its workflow")

    def save_definition(self, definition: StoredDefinition) -> None:
        """Store a definition's text the first time; refuse a changed text under one version.

        Raises:
            DefinitionChanged: the same id and version is stored with another content hash.
        """
        stored = self.load_definition(definition.workflow_id, definition.version)
        if stored is None:
            params = {
                "workflow_id": definition.workflow_id,
                "version": definition.version,
                "content_hash": definition.content_hash,
                "text": definition.text,
                "source_name": definition.source_name,
                "stored_at": self._db.db_time(datetime.now(UTC)),
            }
            if self._db.count(self._db.sql.insert_definition, params) == 1:
                return
            stored = self.load_definition(definition.workflow_id, definition.version)
        if stored is None or stored.content_hash != definition.content_hash:
            raise DefinitionChanged(definition.workflow_id, definition.version)

    def find_idempotent(self, actor: str, key: str) -> tuple[str, str] | None:
        """The (fingerprint, response JSON) remembered for ``actor``'s ``key``, if any."""
        row = self._db.one(self._db.sql.select_idempotent, {"actor": actor, "key": key})
        return None if row is None else (row[0], row[1])

    def remember_idempotent(
        self, actor: str, key: str, fingerprint: str, initiative_id: str | None, response: str
    ) -> None:
        """Remember a command's response under ``actor``'s idempotency ``key``.

        Raises:
            DuplicateRequest: a concurrent request with the same key committed first (a
                retry then replays its response).
        """
        params = {
            "actor": actor,
            "key": key,
            "fingerprint": fingerprint,
            "initiative_id": initiative_id,
            "response": response,
            "created_at": self._db.db_time(datetime.now(UTC)),
        }
        try:
            self._db.run(self._db.sql.insert_idempotent, params)
        except self._integrity_error as exc:
            raise DuplicateRequest(initiative_id or "", key) from exc

    def remove_text(self, initiative_id: str, seq: int, field: str, at: datetime) -> bool:
        """Blank one text kept outside its event's payload (and its salt), as removed ``at``;
        False when it was removed already."""
        return texts.remove_text(self._db, initiative_id, seq, field, at)

    def set_retention(self, category: str, days: int | None, *, at: datetime, by: str) -> None:
        """Keep texts of ``category`` for ``days`` (None: forever) from now on."""
        params = {"category": category, "days": days, "changed_at": self._db.db_time(at)}
        self._db.run(self._db.sql.texts.upsert_setting, {**params, "changed_by": by})

    def add_person(self, name: str, contact: str | None = None) -> str:
        """Record a person; returns the pseudonymous id events refer to them by."""
        return people.add_person(self._db, name, contact)

    def erase_person(self, person_id: str) -> bool:
        """Erase a person's name and contact (the history keeps only their id)."""
        return people.erase_person(self._db, person_id)

    def add_user(self, name: str, roles: Sequence[str]) -> tuple[User, str]:
        """Add a user (and their person); returns the user and their token, shown once."""
        return people.add_user(self._db, name, roles)

    def renew_token(self, user: User) -> str:
        """A new token for ``user`` (shown once); the old one stops working."""
        return people.renew_token(self._db, user)

    def add_session(
        self, user: User, *, now: datetime, expires_at: datetime
    ) -> tuple[str, WebSession]:
        """Start a browser session for ``user``; returns its id (only its hash is stored)."""
        return sessions.add_session(self._db, user, now=now, expires_at=expires_at)

    def delete_session(self, session_id: str) -> bool:
        """End a browser session; False when there was none."""
        return sessions.delete_session(self._db, session_id)

    def delete_expired_sessions(self, *, now: datetime) -> int:
        """Delete the browser sessions that have expired by ``now``; returns how many."""
        return sessions.delete_expired_sessions(self._db, now=now)
