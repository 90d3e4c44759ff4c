"""Deadlines: when a phase visit is overdue, and recording that once per visit.

A phase with ``max_days`` makes a visit overdue once its time *not on hold* passes that many
days (time on hold is counted by :mod:`kosiflow.engine.visits`). Only the history knows the time
on hold, so the sweep works out the moment from it (:func:`overdue_command`) and ``decide``
checks the rest against the state: still that visit, not recorded yet, asked by the system.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from kosiflow.engine import guards
from kosiflow.engine.blockers import Blocker, blocker
from kosiflow.engine.commands import SYSTEM_ACTOR, Actor, RecordOverdue
from kosiflow.engine.events import InitiativeHeld, InitiativeResumed, PhaseOverdue, Recorded
from kosiflow.engine.state import InitiativeState
from kosiflow.engine.visits import PhaseVisit, phase_visits


def _passed_at(records: Sequence[Recorded], visit: PhaseVisit, limit: timedelta) -> datetime | None:
    """The moment the visit's time not on hold reached ``limit``: its start pushed back by each
    hold that began before then. None if the history ends on hold short of it."""
    held = False
    running_since: datetime | None = None
    for record in records:
        event = record.event
        if isinstance(event, InitiativeHeld):
            held = True
            if running_since is not None:
                if record.at - running_since >= limit:
                    return running_since + limit
                limit -= record.at - running_since
                running_since = None
        elif isinstance(event, InitiativeResumed):
            held = False
            if record.seq > visit.entered.seq:
                running_since = record.at
        elif record.seq == visit.entered.seq and not held:
            running_since = record.at
    return None if running_since is None else running_since + limit


def overdue_command(
    state: InitiativeState, history: Iterable[Recorded], now: datetime
) -> RecordOverdue | None:
    """What the sweep records for ``state`` at ``now``: None unless its current visit has passed
    its phase's ``max_days`` (time on hold not counted) and that is not recorded yet.

    ``history`` is the history ``state`` folds from.
    """
    if not state.is_created or state.has_ended or state.overdue_since is not None:
        return None
    max_days = state.definition.phase(state.phase).max_days
    if max_days is None:
        return None
    records = list(history)
    current = phase_visits(records, now)[-1]
    limit = timedelta(days=max_days)
    if current.active(now) <= limit:
        return None
    since = _passed_at(records, current, limit)
    if since is None:
        return None
    return RecordOverdue(
        state.phase, state.visit, max_days, since.astimezone(UTC).isoformat(timespec="seconds")
    )


def overdue_blockers(state: InitiativeState, command: RecordOverdue, actor: Actor) -> list[Blocker]:
    """What keeps ``command`` from being recorded: it is for the system, once per visit."""
    definition = state.definition
    found = guards.status_blockers(state, on_hold_ok=True)
    if actor.id != SYSTEM_ACTOR:
        found.append(blocker(definition, "system_only"))
    if found:
        return found
    if (command.phase, command.visit) != (state.phase, state.visit):
        return [blocker(definition, "visit_over", phase=command.phase, visit=command.visit)]
    if definition.phase(state.phase).max_days != command.max_days:
        return [blocker(definition, "no_deadline", phase=state.phase, max_days=command.max_days)]
    if state.overdue_since is not None:
        return [blocker(definition, "overdue_recorded", phase=state.phase)]
    return []


def overdue_event(state: InitiativeState, command: RecordOverdue) -> PhaseOverdue:
    """The event of an overdue visit that :func:`overdue_blockers` lets through."""
    return PhaseOverdue(state.phase, state.visit, command.max_days, command.overdue_since)
