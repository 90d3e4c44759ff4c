"""What operators ask of the store: does it answer, is its schema current, how long is the
outbox backlog — in one statement, for ``/api/v1/health`` and ``/metrics``.

It runs on a connection of its own (SQLAlchemy Core), outside the units of work: it is asked
every few seconds at most, not on the request path of the API.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, Select, and_, column, func, select, table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from kosiflow.errors import StoreError
from kosiflow.store.database import Database
from kosiflow.store.migrate import head_revision
from kosiflow.store.outbox_statements import DEAD, PENDING
from kosiflow.store.tables import deliveries, events, outbox

_alembic_version = table("alembic_version", column("version_num"))


def _time_of_event(first: Select[Any]) -> ScalarSelect[Any]:
    """The time of the event named by the ``(initiative_id, seq)`` of a one-row query."""
    oldest = first.subquery()
    named = and_(events.c.initiative_id == oldest.c.initiative_id, events.c.seq == oldest.c.seq)
    return select(events.c.at).join(oldest, named).scalar_subquery()


def _deliveries(status: str) -> ScalarSelect[Any]:
    return select(func.count()).where(deliveries.c.status == status).scalar_subquery()


# Rows are inserted in the order of their events, so the smallest id has the oldest event.
_STATEMENT = select(
    select(_alembic_version.c.version_num).limit(1).scalar_subquery(),
    select(func.count()).select_from(outbox).scalar_subquery(),
    _deliveries(PENDING),
    _deliveries(DEAD),
    _time_of_event(select(outbox.c.initiative_id, outbox.c.seq).order_by(outbox.c.id).limit(1)),
    _time_of_event(
        select(deliveries.c.initiative_id, deliveries.c.seq)
        .where(deliveries.c.status == PENDING)
        .order_by(deliveries.c.id)
        .limit(1)
    ),
)


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """Events recorded but not yet delivered to the webhook subscriptions."""

    waiting: int
    """Events in the outbox a dispatcher has not yet matched to the subscriptions."""
    pending: int
    """Deliveries to be sent (first attempt or a retry)."""
    dead: int
    """Deliveries that ran out of attempts; they hold back their initiative's later events."""
    oldest_pending_at: datetime | None
    """When the oldest event still waiting or pending was recorded; None when there is none."""

    def oldest_pending_age(self, now: datetime) -> float | None:
        """Seconds the oldest undelivered event has waited at ``now``; None when none waits."""
        if self.oldest_pending_at is None:
            return None
        return max(0.0, (now - self.oldest_pending_at).total_seconds())


@dataclass(frozen=True, slots=True)
class StoreHealth:
    """The store as an operator sees it (no URL, no credentials)."""

    backend: str
    """``sqlite`` or ``postgresql``."""
    revision: str | None
    """The schema revision the database is at."""
    expected_revision: str
    """The revision this version of kosiflow migrates to (``kosiflow db upgrade``)."""
    backlog: OutboxBacklog

    @property
    def schema_current(self) -> bool:
        return self.revision == self.expected_revision


@functools.cache
def _expected_revision() -> str:
    return head_revision()  # reads the migration scripts: once per process


def check_store(database: Database) -> StoreHealth:
    """Ask the database one statement; :class:`StoreError` when it cannot be reached or answer.

    The error's message names the backend only (never the URL, never SQL).
    """
    backend = database.backend
    try:
        with database.engine.connect() as connection:
            row = connection.execute(_STATEMENT).one()
    except (DBAPIError, PoolTimeoutError) as exc:
        raise StoreError(f"the {backend} database does not answer") from exc
    revision, waiting, pending, dead, oldest_waiting, oldest_pending = row
    times = [t for t in (oldest_waiting, oldest_pending) if t is not None]
    return StoreHealth(
        backend=backend,
        revision=revision,
        expected_revision=_expected_revision(),
        backlog=OutboxBacklog(
            waiting=waiting,
            pending=pending,
            dead=dead,
            oldest_pending_at=min(times) if times else None,
        ),
    )
