"""Every SQL statement of the store: built once with SQLAlchemy Core, compiled once per dialect.

The units of work execute the compiled text directly on the pooled DBAPI connection. A Core
``Connection.execute`` costs about 20 µs of Python per statement even with SQLAlchemy's compiled
cache, which alone would exceed the hot path's budget (an append must stay within twice the
cost of raw ``sqlite3`` doing one insert and one update); a prepared DBAPI call costs about 1 µs.
Values are converted explicitly by the units (timestamps: ``columns.iso_utc``/``to_utc``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Dialect,
    Insert,
    Table,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement

from kosiflow.store.change_feed import ChangeStatements, compile_changes
from kosiflow.store.outbox_statements import OutboxStatements, compile_outbox
from kosiflow.store.tables import (
    definitions,
    events,
    idempotency_keys,
    initiatives,
    people,
    sessions,
    users,
)
from kosiflow.store.text_statements import TextStatements, compile_texts

PROJECTION_COLUMNS = (
    initiatives.c.id,
    initiatives.c.workflow_id,
    initiatives.c.workflow_version,
    initiatives.c.parent_id,
    initiatives.c.title,
    initiatives.c.phase,
    initiatives.c.on_hold,
    initiatives.c.ended,
    initiatives.c.version,
    initiatives.c.state,
    initiatives.c.head_hash,
    initiatives.c.created_at,
    initiatives.c.updated_at,
)
PROJECTION_KEYS = [c.key for c in PROJECTION_COLUMNS]
MOVING_KEYS = ["title", "on_hold", "ended", "version", "state", "head_hash", "updated_at"]
"""What an append changes in a projection row (ids, workflow pin, parent and creation stay).

``phase`` is set only when it changes: SQLite rewrites an index entry whenever its column is
in the SET list, and an unchanged phase would cost an index page per append for nothing.
"""
EVENT_KEYS = [
    "initiative_id",
    "seq",
    "type",
    "schema_version",
    "actor",
    "at",
    "payload",
    "prev_hash",
    "hash",
]

_BY_ID = initiatives.c.id == bindparam("id")
SELECT_PROJECTION = select(*PROJECTION_COLUMNS).where(_BY_ID)
LOCK_PROJECTION = SELECT_PROJECTION.with_for_update()
"""On PostgreSQL ``SELECT ... FOR UPDATE``; SQLite drops the clause (its writers serialise)."""
LOCK_HEAD = (
    select(initiatives.c.version, initiatives.c.head_hash, initiatives.c.phase)
    .where(_BY_ID)
    .with_for_update()
)
SELECT_VERSION = select(initiatives.c.version).where(_BY_ID)
SELECT_INITIATIVE_IDS = select(initiatives.c.id).order_by(
    initiatives.c.created_at, initiatives.c.id
)
UPDATE_PROJECTION = update(initiatives).where(
    initiatives.c.id == bindparam("b_id"),
    initiatives.c.version == bindparam("b_expected"),
    initiatives.c.head_hash == bindparam("b_head"),
)
"""Moves the projection on from ``b_expected`` at head ``b_head``; 0 rows updated means somebody
else did first (or the caller's assumed head was stale)."""
REPLACE_PROJECTION = UPDATE_PROJECTION
REPIN_WORKFLOW = update(initiatives).where(initiatives.c.id == bindparam("b_id"))
"""Pins an initiative to another version of its workflow (a migration, beside its event)."""

INSERT_EVENT = insert(events).inline()
SELECT_EVENTS = (
    select(*(events.c[key] for key in EVENT_KEYS))
    .where(events.c.initiative_id == bindparam("id"))
    .order_by(events.c.seq)
)
SELECT_EVENTS_PAGE = SELECT_EVENTS.limit(bindparam("limit")).offset(bindparam("offset"))
SELECT_EVENTS_UNTIL = SELECT_EVENTS.where(events.c.seq <= bindparam("until"))
"""The history up to and including seq ``until`` (the state a version had)."""
COUNT_EVENTS = (
    select(func.count()).select_from(events).where(events.c.initiative_id == bindparam("id"))
)
HEAD_COLUMNS = (initiatives.c.id, initiatives.c.version, initiatives.c.head_hash)
"""What a chain check needs of an initiative: its id, version and head hash."""


def _initiative_filters(*, workflow_id: bool, initiative_id: bool) -> list[Any]:
    named = (
        (workflow_id, initiatives.c.workflow_id == bindparam("workflow_id")),
        (initiative_id, initiatives.c.id == bindparam("id")),
    )
    return [condition for is_set, condition in named if is_set]


def heads_statement(*, workflow_id: bool, initiative_id: bool) -> Any:
    """Every initiative's head (:data:`HEAD_COLUMNS`) in order of creation, filtered by the
    named parameters that are set."""
    return (
        select(*HEAD_COLUMNS)
        .where(*_initiative_filters(workflow_id=workflow_id, initiative_id=initiative_id))
        .order_by(initiatives.c.created_at, initiatives.c.id)
    )


def histories_statement(*, workflow_id: bool, initiative_id: bool) -> Any:
    """Every event of every initiative in one statement: initiative by initiative in order of
    creation, each in seq order; each row the event's columns (``select_events``, the id taken
    from the initiative) and then the initiative's version and head hash. An initiative without
    any event row comes as one row whose event columns are NULL.

    The initiatives are ordered in a subquery kept apart by ``OFFSET 0``: PostgreSQL then walks
    them in that order, looks up each one's events by index and sorts only within an
    initiative, instead of sorting every event row of the join before the first row goes out.
    Only PostgreSQL runs it (see ``ReadUnit.histories``), so ``at`` comes as the ISO text it
    was hashed as (``columns.iso_utc``), formatted by the server: ~1.5 µs less per row than
    converting a timestamp to a datetime and back to text.
    """
    heads = (
        select(*HEAD_COLUMNS, initiatives.c.created_at)
        .where(*_initiative_filters(workflow_id=workflow_id, initiative_id=initiative_id))
        .order_by(initiatives.c.created_at, initiatives.c.id)
        .offset(literal_column("0"))
        .subquery("heads")
    )
    at_text = func.to_char(
        func.timezone(literal_column("'UTC'"), events.c.at),
        literal_column("""'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'"""),
    )
    event_columns = [at_text if key == "at" else events.c[key] for key in EVENT_KEYS[1:]]
    joined = heads.outerjoin(events, events.c.initiative_id == heads.c.id)
    return (
        select(heads.c.id, *event_columns, heads.c.version, heads.c.head_hash)
        .select_from(joined)
        .order_by(heads.c.created_at, heads.c.id, events.c.seq)
    )


DEFINITION_COLUMNS = (
    definitions.c.workflow_id,
    definitions.c.version,
    definitions.c.content_hash,
    definitions.c.text,
    definitions.c.source_name,
)
SELECT_DEFINITION = select(*DEFINITION_COLUMNS).where(
    definitions.c.workflow_id == bindparam("workflow_id"),
    definitions.c.version == bindparam("version"),
)
LIST_DEFINITIONS = select(*DEFINITION_COLUMNS).order_by(
    definitions.c.workflow_id, definitions.c.version
)

SELECT_IDEMPOTENT = select(idempotency_keys.c.fingerprint, idempotency_keys.c.response).where(
    idempotency_keys.c.actor == bindparam("actor"), idempotency_keys.c.key == bindparam("key")
)
INSERT_IDEMPOTENT = insert(idempotency_keys)
INSERT_PERSON = insert(people)


def _select_person_names(dialect: Dialect) -> ClauseElement:
    """Id and name of the people whose ids the JSON list ``ids`` holds (one round trip)."""
    listed = (
        select(func.json_array_elements_text(cast(bindparam("ids"), JSON)))
        if dialect.name == "postgresql"
        else select(literal_column("value")).select_from(func.json_each(bindparam("ids")))
    )
    return select(people.c.id, people.c.name).where(people.c.id.in_(listed.scalar_subquery()))


SELECT_PEOPLE = (
    select(people.c.id, people.c.name, people.c.erased_at)
    .where((people.c.id == bindparam("key")) | (people.c.name == bindparam("key")))
    .order_by(people.c.created_at, people.c.id)
)
"""People whose id or name is ``key`` (erased ones included, with their erasure time)."""
ERASE_PERSON = update(people).where(people.c.id == bindparam("b_id"), people.c.erased_at.is_(None))

_USERS = select(
    users.c.id, users.c.person_id, people.c.name, users.c.roles, users.c.created_at
).join_from(users, people, users.c.person_id == people.c.id)
SELECT_USER_BY_TOKEN = _USERS.where(
    users.c.token_hash == bindparam("token_hash"), people.c.erased_at.is_(None)
)
_WRITER = SELECT_USER_BY_TOKEN.subquery("writer")
_STORED = SELECT_PROJECTION.subquery("stored")
SELECT_USER_AND_PROJECTION = select(*_WRITER.c, *_STORED.c).select_from(
    select(literal_column("1").label("one"))
    .subquery("one")
    .outerjoin(_WRITER, true())
    .outerjoin(_STORED, true())
)
"""One row: the user of ``token_hash`` (the columns of SELECT_USER_BY_TOKEN) and the projection
of ``id`` (those of SELECT_PROJECTION), each all NULL when not found: both in one round trip."""
SELECT_USER_BY_NAME = _USERS.where(
    people.c.name == bindparam("name"), people.c.erased_at.is_(None)
).order_by(users.c.created_at, users.c.id)
LIST_USERS = _USERS.order_by(func.lower(people.c.name), users.c.id)
INSERT_USER = insert(users)
RENEW_TOKEN = (
    update(users).where(users.c.id == bindparam("b_id")).values(token_hash=bindparam("token_hash"))
)

INSERT_SESSION = insert(sessions)
SELECT_SESSION = (
    select(
        users.c.id,
        users.c.person_id,
        people.c.name,
        users.c.roles,
        users.c.created_at,
        sessions.c.csrf_secret,
        sessions.c.expires_at,
    )
    .join_from(sessions, users, sessions.c.user_id == users.c.id)
    .join(people, users.c.person_id == people.c.id)
    .where(
        sessions.c.id_hash == bindparam("id_hash"),
        sessions.c.expires_at > bindparam("now"),
        people.c.erased_at.is_(None),
    )
)
"""The user of an unexpired session (none once their person is erased), its CSRF secret and
expiry."""
DELETE_SESSION = delete(sessions).where(sessions.c.id_hash == bindparam("id_hash"))
DELETE_EXPIRED_SESSIONS = delete(sessions).where(sessions.c.expires_at <= bindparam("now"))


def _insert_unless_present(table: Table, dialect: Dialect) -> Insert:
    """Insert a row, doing nothing when its primary key exists (somebody won a race)."""
    key = list(table.primary_key.columns)
    if dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=key)
    return postgresql.insert(table).on_conflict_do_nothing(index_elements=key)


def _projection_filters(*, workflow_id: bool, phase: bool, parent_id: bool) -> list[Any]:
    """The conditions on the initiatives named by the flags that are set."""
    named = (
        (workflow_id, initiatives.c.workflow_id),
        (phase, initiatives.c.phase),
        (parent_id, initiatives.c.parent_id),
    )
    return [column == bindparam(column.key) for is_set, column in named if is_set]


def list_projections_statement(*, workflow_id: bool, phase: bool, parent_id: bool) -> Any:
    """Initiatives in order of creation, filtered by the named parameters that are set."""
    query = select(*PROJECTION_COLUMNS).where(
        *_projection_filters(workflow_id=workflow_id, phase=phase, parent_id=parent_id)
    )
    return (
        query.order_by(initiatives.c.created_at, initiatives.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def count_projections_statement(*, workflow_id: bool, phase: bool, parent_id: bool) -> Any:
    """How many initiatives :func:`list_projections_statement` pages through."""
    filters = _projection_filters(workflow_id=workflow_id, phase=phase, parent_id=parent_id)
    return select(func.count()).select_from(initiatives).where(*filters)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement's SQL text for one dialect and how to pass it named values."""

    sql: str
    positions: tuple[str, ...] | None
    """Parameter names in order for positional paramstyles (SQLite), None for named ones."""

    def params(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        if self.positions is None:
            return values
        return tuple([values[name] for name in self.positions])


def compile_for(
    statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str] | None = None
) -> Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(column_keys or []) or None)
    order: list[str] | None = getattr(compiled, "positiontup", None)
    positions = tuple(order or ()) if getattr(compiled, "positional", False) else None
    return Compiled(str(compiled), positions)


@dataclass(frozen=True, slots=True)
class Statements:
    """All statements compiled for one dialect (see :func:`statements_for`)."""

    select_projection: Compiled
    lock_projection: Compiled
    lock_head: Compiled
    select_version: Compiled
    select_initiative_ids: Compiled
    insert_projection: Compiled
    update_projection: Compiled
    update_projection_and_phase: Compiled
    replace_projection: Compiled
    insert_event: Compiled
    select_events: Compiled
    select_definition: Compiled
    list_definitions: Compiled
    insert_definition: Compiled
    select_idempotent: Compiled
    insert_idempotent: Compiled
    insert_person: Compiled
    select_person_names: Compiled
    select_people: Compiled
    erase_person: Compiled
    select_user_by_token: Compiled
    select_user_and_projection: Compiled
    select_user_by_name: Compiled
    list_users: Compiled
    insert_user: Compiled
    renew_token: Compiled
    insert_session: Compiled
    select_session: Compiled
    delete_session: Compiled
    delete_expired_sessions: Compiled
    list_projections: Mapping[tuple[bool, bool, bool], Compiled]
    """By which of (workflow_id, phase, parent_id) filter."""
    count_projections: Mapping[tuple[bool, bool, bool], Compiled]
    """Like ``list_projections``."""
    select_events_page: Compiled
    select_events_until: Compiled
    count_events: Compiled
    outbox: OutboxStatements
    """The outbox, webhook subscriptions and deliveries (``outbox_statements.py``)."""
    changes: ChangeStatements
    """Events after a position, for the live pages (``change_feed.py``)."""
    repin_workflow: Compiled
    texts: TextStatements
    """Texts kept outside the hashed payloads, retention settings (``text_statements.py``)."""
    select_heads: Mapping[tuple[bool, bool], Compiled]
    """By which of (workflow_id, initiative id) filter (:func:`heads_statement`)."""
    select_histories: Mapping[tuple[bool, bool], Compiled]
    """Like ``select_heads`` (:func:`histories_statement`); PostgreSQL only."""


def _columns(table: Table) -> list[str]:
    return [c.key for c in table.columns]


_COMPILED: dict[tuple[str, str], Statements] = {}
_PAIRS = [(w, i) for w in (False, True) for i in (False, True)]


def statements_for(dialect: Dialect) -> Statements:
    """Every statement compiled for ``dialect``'s kind and paramstyle (once per process)."""
    key = (dialect.name, dialect.paramstyle)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = _compile_all(dialect)
    return found


def _compile_all(dialect: Dialect) -> Statements:

    def c(statement: ClauseElement, keys: Sequence[str] | None = None) -> Compiled:
        return compile_for(statement, dialect, keys)

    flags = [(w, p, q) for w in (False, True) for p in (False, True) for q in (False, True)]
    return Statements(
        select_projection=c(SELECT_PROJECTION),
        lock_projection=c(LOCK_PROJECTION),
        lock_head=c(LOCK_HEAD),
        select_version=c(SELECT_VERSION),
        select_initiative_ids=c(SELECT_INITIATIVE_IDS),
        insert_projection=c(_insert_unless_present(initiatives, dialect), PROJECTION_KEYS),
        update_projection=c(UPDATE_PROJECTION, MOVING_KEYS),
        update_projection_and_phase=c(UPDATE_PROJECTION, [*MOVING_KEYS, "phase"]),
        replace_projection=c(REPLACE_PROJECTION, PROJECTION_KEYS[1:]),
        insert_event=c(INSERT_EVENT, EVENT_KEYS),
        select_events=c(SELECT_EVENTS),
        select_definition=c(SELECT_DEFINITION),
        list_definitions=c(LIST_DEFINITIONS),
        insert_definition=c(_insert_unless_present(definitions, dialect), _columns(definitions)),
        select_idempotent=c(SELECT_IDEMPOTENT),
        insert_idempotent=c(INSERT_IDEMPOTENT, _columns(idempotency_keys)),
        insert_person=c(INSERT_PERSON, _columns(people)),
        select_person_names=c(_select_person_names(dialect)),
        select_people=c(SELECT_PEOPLE),
        erase_person=c(ERASE_PERSON, ["name", "contact", "erased_at"]),
        select_user_by_token=c(SELECT_USER_BY_TOKEN),
        select_user_and_projection=c(SELECT_USER_AND_PROJECTION),
        select_user_by_name=c(SELECT_USER_BY_NAME),
        list_users=c(LIST_USERS),
        insert_user=c(INSERT_USER, _columns(users)),
        renew_token=c(RENEW_TOKEN),
        insert_session=c(INSERT_SESSION, _columns(sessions)),
        select_session=c(SELECT_SESSION),
        delete_session=c(DELETE_SESSION),
        delete_expired_sessions=c(DELETE_EXPIRED_SESSIONS),
        list_projections={
            (w, p, q): c(list_projections_statement(workflow_id=w, phase=p, parent_id=q))
            for w, p, q in flags
        },
        count_projections={
            (w, p, q): c(count_projections_statement(workflow_id=w, phase=p, parent_id=q))
            for w, p, q in flags
        },
        select_events_page=c(SELECT_EVENTS_PAGE),
        select_events_until=c(SELECT_EVENTS_UNTIL),
        count_events=c(COUNT_EVENTS),
        outbox=compile_outbox(c),
        changes=compile_changes(c),
        repin_workflow=c(REPIN_WORKFLOW, ["workflow_version"]),
        texts=compile_texts(c, dialect),
        select_heads={
            (w, i): c(heads_statement(workflow_id=w, initiative_id=i)) for w, i in _PAIRS
        },
        select_histories={
            (w, i): c(histories_statement(workflow_id=w, initiative_id=i)) for w, i in _PAIRS
        }
        if dialect.name == "postgresql"
        else {},
    )
