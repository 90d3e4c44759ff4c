"""Moving running initiatives to another version of their workflow, with a dry run first.

Each initiative is planned by ``decide`` on its state (where it lands, which checklist items are
new there and which vanish) and recorded as a ``WorkflowMigrated`` event; its projection is pinned
to the new version in the same transaction. All selected initiatives move in one transaction or
none does: when any of them would be refused, nothing changes and the plan says why.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from kosiflow.definition import Definition
from kosiflow.engine import (
    Actor,
    Blocker,
    Event,
    InitiativeState,
    MigrateWorkflow,
    Outcome,
    Refused,
    decide,
    landing_phase,
)
from kosiflow.errors import BadInput, NotFound
from kosiflow.services.commands import CommandServices
from kosiflow.store import Projection, ReadUnit

_BATCH = 200
"""Initiatives listed per round trip while selecting them."""


@dataclass(frozen=True, slots=True)
class MigrationStep:
    """What a migration does to one initiative, or every reason it cannot."""

    initiative_id: str
    title: str
    source: Definition
    """The version the initiative runs under before the migration."""
    phase: str
    """Its phase now (an id of ``source``)."""
    landing: str
    """The phase it lands in (an id of the target version, if that has it)."""
    new_items: tuple[str, ...]
    """Checklist items of the landing phase that its phase now does not have: open after it."""
    vanished_items: tuple[str, ...]
    """Checklist items of its phase now that the landing phase does not have."""
    blockers: tuple[Blocker, ...]

    @property
    def is_refused(self) -> bool:
        return bool(self.blockers)


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """A migration's report, per initiative; ``applied`` once the initiatives have moved."""

    target: Definition
    phase_map: Mapping[str, str]
    steps: tuple[MigrationStep, ...]
    applied: bool

    @property
    def refused(self) -> tuple[MigrationStep, ...]:
        return tuple(step for step in self.steps if step.is_refused)


def _step(state: InitiativeState, command: MigrateWorkflow, outcome: Outcome) -> MigrationStep:
    target = command.definition
    landing = landing_phase(state, command)
    before: list[str] = []
    after: list[str] = []
    if target.has_phase(landing):  # else it is refused: nothing to compare with
        before = [item.id for item in state.definition.phase(state.phase).checklist]
        after = [item.id for item in target.phase(landing).checklist]
    return MigrationStep(
        initiative_id=state.initiative_id,
        title=state.title,
        source=state.definition,
        phase=state.phase,
        landing=landing,
        new_items=tuple(i for i in after if i not in before),
        vanished_items=tuple(i for i in before if i not in after),
        blockers=outcome.blockers if isinstance(outcome, Refused) else (),
    )


def _check_phase_map(
    phase_map: Mapping[str, str], target: Definition, states: Sequence[InitiativeState]
) -> None:
    """Every target is a phase of the new version; every source one of the versions the
    initiatives run under (a typo would otherwise map nothing, silently)."""
    for old, new in phase_map.items():
        if not target.has_phase(new):
            raise BadInput("--map", f"{new!r} is not a phase of {target.id} v{target.version}")
        if states and not any(s.definition.has_phase(old) for s in states):
            versions = sorted({s.definition.version for s in states})
            known = ", ".join(f"v{v}" for v in versions)
            raise BadInput("--map", f"{old!r} is not a phase of {target.id} {known}")


class MigrationServices(CommandServices):
    """Moving initiatives between versions of their workflow."""

    def migrate(
        self,
        workflow_id: str,
        to_version: int,
        actor: Actor,
        *,
        initiative_ids: Sequence[str] | None = None,
        phase_map: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> MigrationPlan:
        """Move initiatives of ``workflow_id`` to version ``to_version``.

        Args:
            initiative_ids: These initiatives; None for every one of the workflow that has not
                ended and runs under another version.
            phase_map: Old phase id → new phase id; a phase not named keeps its id.
            dry_run: Only plan: report what would happen and change nothing.

        Raises:
            NotFound: the workflow version, or one of the initiatives, is unknown.
            BadInput: the phase map names a phase that does not exist.
        """
        target = self._definition(workflow_id, to_version)
        command = MigrateWorkflow(target, dict(phase_map or {}))
        if dry_run:
            with self.database.read() as unit:
                planned = self._planned(unit, command, actor, initiative_ids)
            return MigrationPlan(target, command.phase_map, planned[0], applied=False)
        written = []
        with self.database.write() as unit:
            steps, decided = self._planned(unit, command, actor, initiative_ids)
            refused = any(step.is_refused for step in steps)
            if not refused:
                for state, events in decided:
                    written.append(self._append(unit, state, events, actor, None))
                    unit.repin_workflow(state.initiative_id, target.version)
        for moved in written:  # only once committed
            self._states.put(moved.state, moved.head_hash)
        return MigrationPlan(target, command.phase_map, steps, applied=not refused)

    def _planned(
        self,
        unit: ReadUnit,
        command: MigrateWorkflow,
        actor: Actor,
        initiative_ids: Sequence[str] | None,
    ) -> tuple[tuple[MigrationStep, ...], list[tuple[InitiativeState, list[Event]]]]:
        """Each selected initiative's step, and the events of those that may move (read through
        ``unit``: in a write unit each initiative stays locked until it commits)."""
        target = command.definition
        ids = list(initiative_ids) if initiative_ids is not None else _movable(unit, target)
        states = []
        for initiative_id in ids:
            projection = unit.load_projection(initiative_id)
            if projection is None:
                raise NotFound("initiative", initiative_id)
            states.append(self._state_of(projection))
        _check_phase_map(command.phase_map, target, states)
        steps = []
        decided = []
        for state in states:
            outcome = decide(state, command, actor)
            steps.append(_step(state, command, outcome))
            if not isinstance(outcome, Refused):
                decided.append((state, outcome))
        return tuple(steps), decided


def _projections(unit: ReadUnit, workflow_id: str) -> Iterator[Projection]:
    offset = 0
    while True:
        batch = unit.list_projections(workflow_id=workflow_id, limit=_BATCH, offset=offset)
        offset += len(batch)
        yield from batch
        if len(batch) < _BATCH:
            return


def _movable(unit: ReadUnit, target: Definition) -> list[str]:
    """The initiatives of the workflow that have not ended and run under another version."""
    return [
        p.initiative_id
        for p in _projections(unit, target.id)
        if not p.ended and p.workflow_version != target.version
    ]
