"""Phase visits: when an initiative entered and left each phase, who moved it, and how long it was
held meanwhile — folded from the history, so they are as true as the history is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kosiflow.engine.events import (
    InitiativeCreated,
    InitiativeHeld,
    InitiativeResumed,
    PhaseChanged,
    Recorded,
    WorkflowMigrated,
)


@dataclass(frozen=True, slots=True)
class Move:
    """The transition that began or ended a visit."""

    seq: int
    trigger: str | None
    """``None`` for the creation of the initiative."""
    actor: str
    at: datetime
    reason: str | None
    automatic: bool


@dataclass(frozen=True, slots=True)
class PhaseVisit:
    """One stay of an initiative in one phase (``visit`` counts the stays in that phase)."""

    phase: str
    visit: int
    entered: Move
    left: Move | None
    """``None`` while the initiative is still in this phase."""
    held: timedelta
    """Time on hold during this stay (up to ``until`` while it is still on hold)."""

    def duration(self, until: datetime) -> timedelta:
        """Time in the phase: to leaving, or to ``until`` when it has not left yet."""
        end = self.left.at if self.left is not None else until
        return end - self.entered.at

    def active(self, until: datetime) -> timedelta:
        """Time in the phase not on hold."""
        return self.duration(until) - self.held


def phase_visits(history: Iterable[Recorded], until: datetime) -> list[PhaseVisit]:
    """Every visit in order; time on hold is counted up to ``until`` when still on hold."""
    visits: list[PhaseVisit] = []
    held_since: datetime | None = None
    for record in history:
        event = record.event
        if isinstance(event, InitiativeCreated):
            move = Move(record.seq, None, record.actor, record.at, None, automatic=False)
            visits.append(PhaseVisit(event.phase, 1, move, None, timedelta(0)))
        elif isinstance(event, PhaseChanged):
            move = Move(
                record.seq, event.trigger, record.actor, record.at, event.reason, event.automatic
            )
            if held_since is not None:  # a hold outlasts a phase change: split it at the change
                visits[-1] = replace(visits[-1], held=visits[-1].held + (record.at - held_since))
                held_since = record.at
            visits[-1] = replace(visits[-1], left=move)
            visits.append(PhaseVisit(event.target, event.visit, move, None, timedelta(0)))
        elif isinstance(event, InitiativeHeld):
            held_since = record.at
        elif isinstance(event, InitiativeResumed) and held_since is not None:
            visits[-1] = replace(visits[-1], held=visits[-1].held + (record.at - held_since))
            held_since = None
        elif isinstance(event, WorkflowMigrated) and visits:  # the stay goes on, maybe renamed
            visits[-1] = replace(visits[-1], phase=event.phase, visit=event.visit)
    if held_since is not None and visits:
        visits[-1] = replace(visits[-1], held=visits[-1].held + (until - held_since))
    return visits
