"""Where initiatives stand: the dashboard's list and one initiative with what its viewer may do.

"Overdue" is computed here, not by a page: a visit of a phase with ``max_days`` is overdue once
its time *not on hold* passes that many days, as the deadline sweep and the statistics count it
(:mod:`kosiflow.engine.overdue`); an ended initiative is never overdue. Only the history knows the
time on hold, so it is read only for an initiative past the deadline even counting its holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from kosiflow.definition import Definition, Phase
from kosiflow.engine import Actor, InitiativeState
from kosiflow.engine.visits import phase_visits
from kosiflow.errors import BadInput
from kosiflow.services.actions import AllowedActions, allowed_actions, may_create
from kosiflow.services.base import recorded
from kosiflow.services.queries import QueryServices
from kosiflow.services.results import Page, Progress
from kosiflow.store import Projection

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
    """How far its time in the phase, not counting time on hold, is past the phase's
    ``max_days``; None when it is not overdue."""
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


def _past_deadline(state: InitiativeState, now: datetime, held: timedelta) -> timedelta | None:
    """How far the current visit, ``held`` of it on hold, is past its phase's ``max_days``."""
    max_days = state.definition.phase(state.phase).max_days
    entered = state.phase_entered_at
    if state.has_ended or max_days is None or entered is None:
        return None
    late = now - entered - held - timedelta(days=max_days)
    return late if late > timedelta(0) else None


def standing(state: InitiativeState, now: datetime, held: timedelta = timedelta(0)) -> Standing:
    """Where ``state`` stands at ``now``; ``held`` is the time its current visit spent on hold."""
    percent = Progress(state, triggers=(), names={}).percent_done
    entered = state.phase_entered_at
    in_phase = None if state.has_ended or entered is None else now - entered
    return Standing(state, phase_track(state), percent, _past_deadline(state, now, held), in_phase)


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
            standings = [self._standing(self._state_of(p), now) for p in found]
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
        for projection in self._every(workflow_id, phase):
            found = self._standing(self._state_of(projection), now)
            if found.is_in(state):
                matched.append(found)
                if len(matched) == wanted:
                    break
        return matched

    def _every(self, workflow_id: str | None, phase: str | None) -> Iterator[Projection]:
        """Every initiative of the workflow and phase (None: any), in order of creation."""
        read = 0
        while True:
            batch = self.list_initiatives(
                workflow_id=workflow_id, phase=phase, limit=_SCAN_BATCH, offset=read
            )
            read += len(batch)
            yield from batch
            if len(batch) < _SCAN_BATCH:
                return

    def deadline_page(
        self,
        *,
        overdue: bool,
        workflow_id: str | None = None,
        phase: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[Projection]:
        """One page of the initiatives that are overdue now (or, with ``overdue`` false, that
        are not), filtered by workflow and phase, and how many match in all."""
        now = self._clock()
        matching = [
            projection
            for projection in self._every(workflow_id, phase)
            if self._standing(self._state_of(projection), now).is_in("overdue") == overdue
        ]
        return Page(tuple(matching[offset : offset + limit]), len(matching))

    def workbench(self, initiative_id: str, actor: Actor) -> Workbench:
        """An initiative's progress as ``actor`` sees it, with what ``actor`` may do now."""
        progress = self.progress(initiative_id, actor)
        return Workbench(
            progress,
            self._standing(progress.state, self._clock()),
            allowed_actions(progress.state, actor),
        )

    def _standing(self, state: InitiativeState, now: datetime) -> Standing:
        """Where ``state`` stands, the time on hold of its current visit not counted towards
        its deadline (the history is read only when that time could decide it)."""
        if _past_deadline(state, now, timedelta(0)) is None:
            return standing(state, now)
        history = self.history(state.initiative_id)
        # up to the state's own version: a later write must not lend its visit to this state
        upto = (recorded(r) for r in history if r.seq <= state.version)
        return standing(state, now, phase_visits(upto, now)[-1].held)

    def workflow_shown(
        self, workflow_id: str, *, version: int | None = None, initiative: str | None = None
    ) -> tuple[Definition, InitiativeState | None]:
        """The version of a workflow to describe or draw (the newest unless ``version``), and
        the initiative to mark on it: that one then runs under exactly this workflow (and
        ``version``, when given), and its own version is the one shown.

        Raises:
            NotFound: no such workflow, version or initiative.
            BadInput: the initiative runs under another workflow or version.
        """
        if version is None:
            definition = self.catalog.newest(workflow_id)
        else:
            definition = self.catalog.pinned(self.database, workflow_id, version)
        if initiative is None:
            return definition, None
        state = self.state(initiative)
        pinned = state.definition
        if pinned.id != workflow_id or version not in (None, pinned.version):
            asked = workflow_id if version is None else f"{workflow_id} version {version}"
            raise BadInput(
                "initiative",
                f"initiative {initiative!r} runs under workflow {pinned.id} version "
                f"{pinned.version}, not {asked}",
            )
        return pinned, state

    def startable_workflows(self, actor: Actor) -> list[Definition]:
        """The workflows (newest versions) under which ``actor`` may start an initiative."""
        return [d for d in self.catalog.current if may_create(d, actor)]
