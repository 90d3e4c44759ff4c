"""The deadline sweep: one ``PhaseOverdue`` for each phase visit past its ``max_days``.

A visit is overdue once its time not on hold passes the phase's ``max_days``
(:mod:`kosiflow.engine.overdue`). The sweep is idempotent and safe to run from cron on several
machines at once: each initiative is looked at again and recorded in a write unit of its own that
holds the initiative (``FOR UPDATE`` on PostgreSQL, the write lock on SQLite), and ``decide``
refuses a second record for the same visit. Should a writer still lose the race for the next
event's seq (the unique key), it looks again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from kosiflow.definition import Definition
from kosiflow.engine import SYSTEM, overdue_command
from kosiflow.errors import ConcurrencyConflict
from kosiflow.services.base import recorded
from kosiflow.services.commands import CommandServices
from kosiflow.store import Projection

_BATCH = 200
"""Initiatives read per round trip while looking for candidates."""

_ATTEMPTS = 3
"""How often one initiative is looked at again after losing a race to another writer."""


@dataclass(frozen=True, slots=True)
class OverdueRecorded:
    """One visit the sweep recorded as overdue."""

    initiative_id: str
    title: str
    definition: Definition
    phase: str
    visit: int
    max_days: int
    overdue_since: datetime


@dataclass(frozen=True, slots=True)
class SweepReport:
    now: datetime
    """The moment the sweep judged by."""
    initiatives: int
    """How many initiatives it looked at."""
    recorded: tuple[OverdueRecorded, ...]
    """The visits it recorded as overdue (none that an earlier or parallel sweep recorded)."""


class DeadlineServices(CommandServices):
    """Recording deadlines that have passed."""

    def sweep(self, *, now: datetime | None = None) -> SweepReport:
        """Record a ``PhaseOverdue`` (actor: the system) for every current visit that is past
        its phase's ``max_days`` at ``now`` (default: the clock), unless that visit has one."""
        when = self._when(now) or self._clock()
        looked_at = 0
        found: list[OverdueRecorded] = []
        for projection in self._running():
            looked_at += 1
            if self._may_be_overdue(projection, when):
                done = self._sweep_one(projection.initiative_id, when)
                if done is not None:
                    found.append(done)
        return SweepReport(when, looked_at, tuple(found))

    def _running(self) -> Iterator[Projection]:
        """Every initiative that has not ended, read in batches."""
        offset = 0
        while True:
            with self.database.read() as unit:
                batch = unit.list_projections(limit=_BATCH, offset=offset)
            offset += len(batch)
            yield from (p for p in batch if not p.ended)
            if len(batch) < _BATCH:
                return

    def _may_be_overdue(self, projection: Projection, now: datetime) -> bool:
        """A cheap look at the projection: not recorded yet, and past the deadline counting
        every hold but the current one (only then is the history worth reading)."""
        state = self._state_of(projection)
        max_days = state.definition.phase(state.phase).max_days
        entered = state.phase_entered_at
        if state.overdue_since is not None or max_days is None or entered is None:
            return False
        running_until = now if state.hold is None else state.hold.since
        return running_until - entered > timedelta(days=max_days)

    def _sweep_one(self, initiative_id: str, now: datetime) -> OverdueRecorded | None:
        attempts = _ATTEMPTS
        while True:
            try:
                return self._record_overdue(initiative_id, now)
            except ConcurrencyConflict:
                attempts -= 1
                if not attempts:
                    raise

    def _record_overdue(self, initiative_id: str, now: datetime) -> OverdueRecorded | None:
        with self.database.write() as unit:
            state = self._load_for_update(unit, initiative_id)
            command = overdue_command(state, (recorded(r) for r in unit.events(initiative_id)), now)
            if command is None:  # not overdue, or another sweep recorded it meanwhile
                return None
            events = self._decided(state, command, SYSTEM)
            last = state.updated_at
            at = now if last is None or now >= last else last  # histories run forward in time
            written = self._append(unit, state, events, SYSTEM, at)
        self._states.put(written.state, written.head_hash)  # only once committed
        return OverdueRecorded(
            initiative_id=initiative_id,
            title=state.title,
            definition=state.definition,
            phase=command.phase,
            visit=command.visit,
            max_days=command.max_days,
            overdue_since=datetime.fromisoformat(command.overdue_since),
        )
