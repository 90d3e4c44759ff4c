"""Reading what changed: events after a position, for the live pages' change feed.

A *position* is an event row's ``id``: it grows with every insert. On SQLite writers take turns,
so rows become visible in the order of their ids. On PostgreSQL an id is drawn when the row is
inserted, not when it commits: a row with a smaller id may become visible after a larger one
(two initiatives written at the same time), and a rolled-back insert leaves an id unused for
good. The feed (``kosiflow.services.live``) therefore reads ranges of ids again until such a
hole fills or has been open long enough to be a rollback.

Compiled once per dialect with the store's other statements (``statements.Statements.changes``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, bindparam, func, literal_column, select
from sqlalchemy.sql import ClauseElement

from kosiflow.store.columns import from_db_time
from kosiflow.store.tables import events, initiatives

if TYPE_CHECKING:  # the statements (and so the executor) import this module
    from kosiflow.store.executor import Executor, Row
    from kosiflow.store.statements import Compiled


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded event as the live pages learn of it."""

    position: int
    """The event row's id (see the module's docstring)."""
    initiative_id: str
    version: int
    """The event's seq: the initiative's version once it was recorded."""
    type: str
    at: datetime
    workflow_id: str
    phase: str
    """The initiative's phase when the change was read (its projection's, not the event's)."""


_COLUMNS = (
    events.c.id,
    events.c.initiative_id,
    events.c.seq,
    events.c.type,
    events.c.at,
    initiatives.c.workflow_id,
    initiatives.c.phase,
)
_NO_OFFSET: ColumnElement[int] = literal_column("0")
"""SQLite's compiler would add ``OFFSET ?`` to a bound ``LIMIT``; a literal keeps it out."""
_JOINED = select(*_COLUMNS).join_from(
    events, initiatives, events.c.initiative_id == initiatives.c.id
)
CHANGES_AFTER = (
    _JOINED.where(events.c.id > bindparam("after"))
    .order_by(events.c.id)
    .limit(bindparam("limit"))
    .offset(_NO_OFFSET)
)
CHANGES_BETWEEN = _JOINED.where(
    events.c.id >= bindparam("low"), events.c.id <= bindparam("high")
).order_by(events.c.id)
INITIATIVE_CHANGES_AFTER = (
    _JOINED.where(events.c.initiative_id == bindparam("id"), events.c.seq > bindparam("after"))
    .order_by(events.c.seq)
    .limit(bindparam("limit"))
    .offset(_NO_OFFSET)
)
LAST_POSITION = select(func.max(events.c.id))


@dataclass(frozen=True, slots=True)
class ChangeStatements:
    changes_after: Compiled
    changes_between: Compiled
    initiative_changes_after: Compiled
    last_position: Compiled


def compile_changes(c: Callable[[ClauseElement], Compiled]) -> ChangeStatements:
    return ChangeStatements(
        changes_after=c(CHANGES_AFTER),
        changes_between=c(CHANGES_BETWEEN),
        initiative_changes_after=c(INITIATIVE_CHANGES_AFTER),
        last_position=c(LAST_POSITION),
    )


def _change(row: Row) -> Change:
    return Change(
        position=int(row[0]),
        initiative_id=row[1],
        version=int(row[2]),
        type=row[3],
        at=from_db_time(row[4]),
        workflow_id=row[5],
        phase=row[6],
    )


class ChangeReads:
    """Events after a position (within a read unit)."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    def last_position(self) -> int:
        """The largest position recorded (0 without events)."""
        row = self._db.one(self._db.sql.changes.last_position)
        return 0 if row is None or row[0] is None else int(row[0])

    def after(self, position: int, *, limit: int) -> list[Change]:
        """Up to ``limit`` changes with a position above ``position``, in order."""
        params = {"after": position, "limit": limit}
        return [_change(r) for r in self._db.all(self._db.sql.changes.changes_after, params)]

    def between(self, low: int, high: int) -> list[Change]:
        """The changes with positions from ``low`` to ``high`` (both included), in order."""
        params = {"low": low, "high": high}
        return [_change(r) for r in self._db.all(self._db.sql.changes.changes_between, params)]

    def of_initiative(self, initiative_id: str, *, after: int, limit: int) -> list[Change]:
        """Up to ``limit`` of the initiative's changes with a version above ``after``, in order."""
        params = {"id": initiative_id, "after": after, "limit": limit}
        rows = self._db.all(self._db.sql.changes.initiative_changes_after, params)
        return [_change(r) for r in rows]
