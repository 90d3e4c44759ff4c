"""Moving an initiative to another version of its workflow: who may, where it lands, what drops.

The current stay goes on under the new version: the phase (mapped, or kept by id), the clock and
the items still in the landing phase carry over. Items the landing phase no longer has and
sign-offs of gates that no longer leave it drop out of the state; the history keeps them.
"""

from __future__ import annotations

from kosiflow.engine import guards
from kosiflow.engine.blockers import Blocker, blocker
from kosiflow.engine.commands import MIGRATION_ROLES, Actor, MigrateWorkflow
from kosiflow.engine.events import WorkflowMigrated
from kosiflow.engine.state import InitiativeState


def landing_phase(state: InitiativeState, command: MigrateWorkflow) -> str:
    """Where the initiative lands: its phase as the phase map names it (unmapped: same id)."""
    return command.phase_map.get(state.phase, state.phase)


def migration_blockers(
    state: InitiativeState, command: MigrateWorkflow, actor: Actor
) -> list[Blocker]:
    """Everything that keeps the initiative from moving to ``command.definition``."""
    definition, target = state.definition, command.definition
    found = guards.status_blockers(state, on_hold_ok=True)
    found += guards.role_blockers(definition, actor, MIGRATION_ROLES, "migrate")
    if found:
        return found
    landing = landing_phase(state, command)
    if target.id != definition.id:
        return [blocker(definition, "workflow_other", workflow=definition.id, other=target.id)]
    if target.version == definition.version:
        return [blocker(definition, "version_current", version=target.version)]
    if not target.has_phase(landing):
        phases = ", ".join(p.id for p in target.phases if not p.final)
        return [
            blocker(
                definition,
                "phase_missing",
                version=target.version,
                landing=landing,
                phase=state.phase,
                phases=phases,
            )
        ]
    if target.phase(landing).final:
        return [blocker(definition, "phase_final", version=target.version, landing=landing)]
    return []


def _landing_visit(state: InitiativeState, landing: str) -> int:
    """The number the current stay goes on under: its own, unless it merges into a phase that
    keeps its id and has stays of its own (then it is that phase's next visit)."""
    if landing == state.phase or landing not in state.visits:
        return state.visit
    return state.visits[landing] + 1


def migration_event(state: InitiativeState, command: MigrateWorkflow) -> WorkflowMigrated:
    """The event of a migration that :func:`migration_blockers` lets through."""
    target = command.definition
    landing = landing_phase(state, command)
    phase = target.phase(landing)
    gates = {t.trigger for t in target.transitions_from(landing)}
    return WorkflowMigrated(
        from_version=state.definition.version,
        to_version=target.version,
        content_hash=target.content_hash,
        phase_map=dict(command.phase_map),
        phase=landing,
        visit=_landing_visit(state, landing),
        dropped_items=tuple(i for i in state.checklist if phase.item(i) is None),
        dropped_approvals=tuple(t for t in state.approvals if t not in gates),
    )
