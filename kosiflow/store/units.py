"""Units of work: one transaction each, reading (``ReadUnit``) or writing (``WriteUnit``).

``Database.write()`` and ``Database.read()`` hand these out; callers never see SQL. Each method
runs statements compiled once per dialect (``statements.py``) on the unit's connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from kosiflow.errors import (
    ConcurrencyConflict,
    DefinitionChanged,
    DuplicateRequest,
    StaleHead,
    StoreError,
)
from kosiflow.store import people, sessions
from kosiflow.store.chain import canonical_json, digest
from kosiflow.store.columns import from_db_time, to_utc
from kosiflow.store.executor import Executor, Row
from kosiflow.store.outbox import OutboxReads, OutboxWrites
from kosiflow.store.records import (
    GENESIS_HASH,
    EventRecord,
    NewEvent,
    Person,
    Projection,
    StoredDefinition,
    User,
)
from kosiflow.store.sessions import WebSession


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


def _event_record(row: Row) -> EventRecord:
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
    )


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
            new.payload, prev_hash, hashed,
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
        """The initiative's events in seq order, streamed (never all loaded at once)."""
        for row in self._db.stream(self._db.sql.select_events, {"id": initiative_id}):
            yield _event_record(row)

    def events_until(self, initiative_id: str, seq: int) -> Iterator[EventRecord]:
        """The initiative's events up to and including ``seq``, in order, streamed."""
        params = {"id": initiative_id, "until": seq}
        for row in self._db.stream(self._db.sql.select_events_until, params):
            yield _event_record(row)

    def events_page(self, initiative_id: str, *, limit: int, offset: int) -> list[EventRecord]:
        """At most ``limit`` of the initiative's events in seq order, skipping ``offset``."""
        params = {"id": initiative_id, "limit": limit, "offset": offset}
        return [_event_record(row) for row in self._db.all(self._db.sql.select_events_page, params)]

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

    def __init__(self, db: Executor, integrity_error: type[Exception]) -> None:
        super().__init__(db)
        self._integrity_error = integrity_error
        self._heads: dict[str, tuple[int, str, str]] = {}
        """Initiative id → (version, head hash, phase) as this unit last saw them, locked."""

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

    def append(
        self, projection: Projection, expected_version: int, events: Sequence[NewEvent]
    ) -> list[EventRecord]:
        """Append ``events`` after ``expected_version`` and store ``projection`` as their fold.

        The events get seq ``expected_version + 1 …`` and are hash-chained onto the current
        head; the projection row is inserted (``expected_version == 0``) or moved on from
        ``expected_version``, with the new head hash (``projection.head_hash`` is ignored).

        Raises:
            ConcurrencyConflict: the initiative is no longer at ``expected_version``.
        """
        initiative_id = projection.initiative_id
        if not events or projection.version != expected_version + len(events):
            raise ValueError(
                f"projection version {projection.version} must be expected version "
                f"{expected_version} + {len(events)} events (at least one)"
            )
        head = self._head(initiative_id, expected_version)
        chained = _chain(initiative_id, expected_version, head[1], events)
        head_hash = chained[-1][0].hash
        if expected_version == 0:
            self._create(initiative_id, self._projection_params(projection, head_hash))
        else:
            changed = head[2] != projection.phase
            self._move(projection, head, head_hash, phase_changed=changed)
        self._insert_events(chained, expected_version)
        self._publish(projection, chained)
        self._heads[initiative_id] = (projection.version, head_hash, projection.phase)
        return [record for record, _, _ in chained]

    def _move(
        self,
        projection: Projection,
        head: tuple[int, str, str],
        head_hash: str,
        *,
        phase_changed: bool,
    ) -> None:
        """Update the projection row from ``head`` (SET only what may change)."""
        expected_version = head[0]
        sql = self._db.sql
        params = {
            "title": projection.title,
            "phase": projection.phase,
            "on_hold": projection.on_hold,
            "ended": projection.ended,
            "version": projection.version,
            "state": _dump_state(projection.state),
            "head_hash": head_hash,
            "updated_at": self._db.db_time(projection.updated_at),
            "b_id": projection.initiative_id,
            "b_expected": expected_version,
            "b_head": head[1],
        }
        update = sql.update_projection_and_phase if phase_changed else sql.update_projection
        if self._db.count(update, params) != 1:
            conflict = self._conflict(projection.initiative_id, expected_version)
            raise StaleHead(conflict.initiative_id, conflict.expected, conflict.actual)

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

    def _publish(
        self, projection: Projection, chained: Sequence[tuple[EventRecord, str, str]]
    ) -> None:
        """One outbox row per appended event, for ``kosiflow dispatch`` (see ``outbox.py``).

        Its phase is the one the initiative is in once all of ``chained`` is recorded. One row
        is a plain execute: psycopg's ``executemany`` costs ~50 µs more for a single row.
        """
        rows = [
            {
                "initiative_id": r.initiative_id,
                "seq": r.seq,
                "workflow_id": projection.workflow_id,
                "type": r.type,
                "phase": projection.phase,
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
