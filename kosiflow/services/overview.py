"""Where initiatives stand: the dashboard's list and one initiative with what its viewer may do.

"Overdue" is computed here, not by a page: a phase with ``max_days`` is overdue once that many
days have passed since the phase was entered (an ended initiative is never overdue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from kosiflow.definition import Definition, Phase
from kosiflow.engine import Actor, InitiativeState
from kosiflow.services.actions import AllowedActions, allowed_actions, may_create
from kosiflow.services.queries import QueryServices
from kosiflow.services.results import Progress

StateFilter = Literal["active", "on_hold", "ended", "overdue"]
STATE_FILTERS: tuple[StateFilter, ...] = get_args(StateFilter)

StepStatus = Literal["passed", "current", "ahead", "skipped"]
"""A phase on the way: left behind, the current one, still to come, or never reached (for an
initiative that ended without passing it)."""

_SCAN_BATCH = 200
"""Initiatives read per round trip while filtering by a state the database does not hold."""


@dataclass(frozen=True, slots=True)
class TrackStep:
    phase: Phase
    status: StepStatus


@dataclass(frozen=True, slots=True)
class Standing:
    """Where an initiative stands on its way through the phases."""

    state: InitiativeState
    track: tuple[TrackStep, ...]
    """The workflow's non-final phases in order, and the final phase it ended in, if it did."""
    percent_done: int
    """Share of the current phase's required checklist items done or waived."""
    overdue_by: timedelta | None
    """How far past the phase's ``max_days`` it is, None when it is not overdue."""
    in_phase_for: timedelta | None
    """How long since it entered the current phase; None once it has ended."""

    @property
    def definition(self) -> Definition:
        return self.state.definition

    @property
    def phase(self) -> Phase:
        return self.definition.phase(self.state.phase)

    def is_in(self, state: StateFilter) -> bool:
        """Whether the initiative is in ``state`` (active: neither on hold nor ended)."""
        match state:
            case "active":
                return self.state.hold is None and not self.state.has_ended
            case "on_hold":
                return self.state.hold is not None and not self.state.has_ended
            case "ended":
                return self.state.has_ended
            case "overdue":
                return self.overdue_by is not None


@dataclass(frozen=True, slots=True)
class StandingPage:
    """One page of the dashboard: ``has_more`` when another page follows."""

    items: tuple[Standing, ...]
    limit: int
    offset: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class Workbench:
    """One initiative as its viewer works on it: progress, standing and allowed actions."""

    progress: Progress
    standing: Standing
    actions: AllowedActions


def phase_track(state: InitiativeState) -> tuple[TrackStep, ...]:
    """The phases on the initiative's way, each marked passed, current, ahead or skipped."""
    definition = state.definition
    way = [phase for phase in definition.phases if not phase.final]
    current = definition.phase(state.phase)
    if current.final:
        steps = [TrackStep(p, "passed" if p.id in state.visits else "skipped") for p in way]
        return (*steps, TrackStep(current, "current"))
    position = way.index(current)
    return tuple(
        TrackStep(p, "passed" if i < position else "current" if i == position else "ahead")
        for i, p in enumerate(way)
    )


def overdue_by(state: InitiativeState, now: datetime) -> timedelta | None:
    """How far past its phase's ``max_days`` the initiative is at ``now``, if it is."""
    max_days = state.definition.phase(state.phase).max_days
    entered = state.phase_entered_at
    if state.has_ended or max_days is None or entered is None:
        return None
    late = now - entered - timedelta(days=max_days)
    return late if late > timedelta(0) else None


def standing(state: InitiativeState, now: datetime) -> Standing:
    """Where ``state`` stands at ``now``."""
    percent = Progress(state, triggers=(), names={}).percent_done
    entered = state.phase_entered_at
    in_phase = None if state.has_ended or entered is None else now - entered
    return Standing(state, phase_track(state), percent, overdue_by(state, now), in_phase)


class OverviewQueries(QueryServices):
    """The dashboard and the initiative page's questions."""

    def standings(
        self,
        *,
        workflow_id: str | None = None,
        phase: str | None = None,
        state: StateFilter | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> StandingPage:
        """Initiatives in order of creation, filtered by workflow, phase and state."""
        now = self._clock()
        if state is None:
            found = self.list_initiatives(
                workflow_id=workflow_id, phase=phase, limit=limit + 1, offset=offset
            )
            standings = [standing(self._state_of(p), now) for p in found]
        else:
            standings = self._scan(workflow_id, phase, state, now, offset + limit + 1)
            standings = standings[offset:]
        return StandingPage(
            tuple(standings[:limit]), limit, offset, has_more=len(standings) > limit
        )

    def _scan(
        self,
        workflow_id: str | None,
        phase: str | None,
        state: StateFilter,
        now: datetime,
        wanted: int,
    ) -> list[Standing]:
        """The first ``wanted`` initiatives in ``state`` (which the database cannot filter by)."""
        matched: list[Standing] = []
        read = 0
        while len(matched) < wanted:
            batch = self.list_initiatives(
                workflow_id=workflow_id, phase=phase, limit=_SCAN_BATCH, offset=read
            )
            read += len(batch)
            for projection in batch:
                found = standing(self._state_of(projection), now)
                if found.is_in(state):
                    matched.append(found)
            if len(batch) < _SCAN_BATCH:
                break
        return matched[:wanted]

    def workbench(self, initiative_id: str, actor: Actor) -> Workbench:
        """An initiative's progress as ``actor`` sees it, with what ``actor`` may do now."""
        progress = self.progress(initiative_id, actor)
        return Workbench(
            progress,
            standing(progress.state, self._clock()),
            allowed_actions(progress.state, actor),
        )

    def startable_workflows(self, actor: Actor) -> list[Definition]:
        """The workflows (newest versions) under which ``actor`` may start an initiative."""
        return [d for d in self.catalog.current if may_create(d, actor)]
