"""``decide``: the pure heart of kosiflow. State + command + actor → events, or every blocker.

No I/O happens here; the store appends what ``decide`` returns in one transaction. ``triggers``
answers "what blocks each step from this phase?" with the same guards, without firing anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kosiflow.definition.model import ChecklistItem, Definition, Transition
from kosiflow.definition.suggest import closest
from kosiflow.engine import guards
from kosiflow.engine.blockers import Blocker, blocker
from kosiflow.engine.commands import (
    SYSTEM_ACTOR,
    Actor,
    AddNote,
    AddParticipant,
    ApproveGate,
    Command,
    CreateInitiative,
    FireTrigger,
    Hold,
    MigrateWorkflow,
    RecordOverdue,
    ReopenItem,
    Resume,
    TickItem,
    WaiveItem,
)
from kosiflow.engine.events import (
    Event,
    GateApproved,
    InitiativeCreated,
    InitiativeHeld,
    InitiativeResumed,
    ItemReopened,
    ItemTicked,
    ItemWaived,
    NoteAdded,
    ParticipantAdded,
    PhaseChanged,
    Recorded,
    WorkflowMigrated,
)
from kosiflow.engine.machines import machine_for
from kosiflow.engine.migration import migration_blockers, migration_event
from kosiflow.engine.overdue import overdue_blockers, overdue_event
from kosiflow.engine.state import DefinitionLookup, InitiativeState, apply


@dataclass(frozen=True, slots=True)
class Refused:
    """The command may not be applied now, for every one of these reasons."""

    blockers: tuple[Blocker, ...]


@dataclass(frozen=True, slots=True)
class TriggerStatus:
    """Whether a step may be taken now from the current phase, and if not, why not."""

    transition: Transition
    blockers: tuple[Blocker, ...]

    @property
    def may_fire(self) -> bool:
        return not self.blockers


Outcome = list[Event] | Refused


def _find_item(state: InitiativeState, item_id: str) -> ChecklistItem | Blocker:
    phase = state.definition.phase(state.phase)
    item = phase.item(item_id)
    if item is not None:
        return item
    return blocker(
        state.definition,
        "item_unknown",
        phase=state.phase,
        item=item_id,
        suggestion=closest(item_id, [i.id for i in phase.checklist]) or "",
    )


def _text(value: str | None) -> str | None:
    """A person's optional text as recorded: stripped, and None when blank."""
    return None if guards.is_blank(value) else str(value).strip()


def _item_of_open_initiative(state: InitiativeState, item_id: str) -> ChecklistItem | Refused:
    """The item of the current phase that a tick, reopen or waiver names, if it may be acted on."""
    found = guards.status_blockers(state)
    if found:
        return Refused(tuple(found))
    item = _find_item(state, item_id)
    return Refused((item,)) if isinstance(item, Blocker) else item


def _refused_or(found: list[Blocker], events: Callable[[], list[Event]]) -> Outcome:
    return Refused(tuple(found)) if found else events()


def _create(state: InitiativeState, cmd: CreateInitiative, actor: Actor) -> Outcome:
    definition = state.definition
    found = [blocker(definition, "already_created")] if state.is_created else []
    found += guards.role_blockers(definition, actor, guards.COORDINATION_ROLES, "create")
    if guards.is_blank(cmd.title):
        found.append(blocker(definition, "title_required"))
    return _refused_or(
        found,
        lambda: [
            InitiativeCreated(
                workflow_id=definition.id,
                workflow_version=definition.version,
                content_hash=definition.content_hash,
                title=cmd.title.strip(),
                phase=definition.initial,
                parent_id=cmd.parent_id,
                description=_text(cmd.description),
            )
        ],
    )


def _add_participant(state: InitiativeState, cmd: AddParticipant, actor: Actor) -> Outcome:
    definition = state.definition
    found = guards.status_blockers(state)
    found += guards.role_blockers(definition, actor, guards.COORDINATION_ROLES, "add_participant")
    if cmd.role not in definition.roles:
        suggestion = closest(cmd.role, definition.roles) or ""
        found.append(blocker(definition, "role_unknown", role=cmd.role, suggestion=suggestion))
    return _refused_or(found, lambda: [ParticipantAdded(cmd.participant_id, cmd.role)])


def _tick(state: InitiativeState, cmd: TickItem, actor: Actor) -> Outcome:
    item = _item_of_open_initiative(state, cmd.item)
    if isinstance(item, Refused):
        return item
    definition = state.definition
    found: list[Blocker] = []
    if item.id in state.checklist:
        found.append(blocker(definition, "item_already_done", item=item.id, phase=state.phase))
    found += guards.role_blockers(
        definition, actor, item.roles, "tick", item=item.id, phase=state.phase
    )
    if item.evidence == "required" and guards.is_blank(cmd.evidence):
        found.append(blocker(definition, "evidence_required", item=item.id, phase=state.phase))
    return _refused_or(
        found,
        lambda: [
            ItemTicked(state.phase, state.visit, item.id, _text(cmd.evidence), _text(cmd.note))
        ],
    )


def _gates_voided_by_reopening(state: InitiativeState) -> tuple[str, ...]:
    return tuple(
        t.trigger
        for t in state.definition.transitions_from(state.phase)
        if t.requires.checklist == "complete" and state.approvals.get(t.trigger)
    )


def _reopen(state: InitiativeState, cmd: ReopenItem, actor: Actor) -> Outcome:
    item = _item_of_open_initiative(state, cmd.item)
    if isinstance(item, Refused):
        return item
    definition = state.definition
    found: list[Blocker] = []
    if item.id not in state.checklist:
        found.append(blocker(definition, "item_not_done", item=item.id, phase=state.phase))
    roles = dict.fromkeys((*item.roles, *item.waivable_by))
    found += guards.role_blockers(
        definition, actor, roles, "reopen", item=item.id, phase=state.phase
    )
    if guards.is_blank(cmd.reason):
        found.append(blocker(definition, "reason_required"))
    return _refused_or(
        found,
        lambda: [
            ItemReopened(
                state.phase,
                state.visit,
                item.id,
                cmd.reason.strip(),
                _gates_voided_by_reopening(state),
            )
        ],
    )


def _waive(state: InitiativeState, cmd: WaiveItem, actor: Actor) -> Outcome:
    item = _item_of_open_initiative(state, cmd.item)
    if isinstance(item, Refused):
        return item
    definition = state.definition
    found: list[Blocker] = []
    if item.id in state.checklist:
        found.append(blocker(definition, "item_already_done", item=item.id, phase=state.phase))
    if not item.waivable_by:
        found.append(blocker(definition, "item_not_waivable", item=item.id, phase=state.phase))
    else:
        found += guards.role_blockers(
            definition, actor, item.waivable_by, "waive", item=item.id, phase=state.phase
        )
    if guards.is_blank(cmd.reason):
        found.append(blocker(definition, "reason_required"))
    return _refused_or(
        found, lambda: [ItemWaived(state.phase, state.visit, item.id, cmd.reason.strip())]
    )


def _approval_role(
    state: InitiativeState, transition: Transition, cmd: ApproveGate, actor: Actor
) -> str | Blocker:
    definition = state.definition
    wanted = transition.requires.approvals
    signed = state.approvals.get(transition.trigger, {})
    trigger = transition.trigger
    if cmd.role is not None:
        if cmd.role not in wanted:
            return blocker(definition, "approval_not_needed", trigger=trigger, role=cmd.role)
        candidates = [cmd.role] if cmd.role in actor.roles else []
    else:
        candidates = [r for r in wanted if r in actor.roles]
    if not candidates:
        roles = ",".join([cmd.role] if cmd.role else wanted)
        if not roles:
            return blocker(definition, "approval_not_needed", trigger=trigger, role="-")
        return blocker(definition, "role_missing", roles=roles, action="approve", trigger=trigger)
    unsigned = [r for r in candidates if r not in signed]
    if not unsigned:
        return blocker(definition, "already_approved", trigger=trigger, role=candidates[0])
    if len(unsigned) > 1:
        return blocker(
            definition, "approval_role_ambiguous", trigger=trigger, roles=",".join(unsigned)
        )
    return unsigned[0]


def _approve(state: InitiativeState, cmd: ApproveGate, actor: Actor) -> Outcome:
    transition, found = guards.trigger_blockers(state, cmd.trigger, None)
    if transition is None:
        return Refused(tuple(found))
    found = [b for b in found if b.code == "on_hold"]
    role = _approval_role(state, transition, cmd, actor)
    if isinstance(role, Blocker):
        found.append(role)
    return _refused_or(
        found,
        lambda: [GateApproved(state.phase, state.visit, cmd.trigger, str(role), _text(cmd.note))],
    )


def _change_phase(
    state: InitiativeState,
    transition: Transition,
    reason: str | None,
    *,
    cause_seq: int | None = None,
) -> PhaseChanged:
    target = machine_for(state.definition).fire(state.phase, transition.trigger)
    return PhaseChanged(
        trigger=transition.trigger,
        source=state.phase,
        target=target,
        visit=state.visits.get(target, 0) + 1,
        reason=reason,
        automatic=cause_seq is not None,
        cause_seq=cause_seq,
    )


def _fire(state: InitiativeState, cmd: FireTrigger, actor: Actor) -> Outcome:
    transition, found = guards.trigger_blockers(state, cmd.trigger, actor)
    if transition is None:
        return Refused(tuple(found))
    found += guards.reason_blockers(state.definition, transition.reason, cmd.reason, cmd.trigger)
    reason = _text(cmd.reason)
    return _refused_or(found, lambda: [_change_phase(state, transition, reason)])


def _hold(state: InitiativeState, cmd: Hold, actor: Actor) -> Outcome:
    definition = state.definition
    found = guards.status_blockers(state)
    found += guards.role_blockers(definition, actor, guards.COORDINATION_ROLES, "hold")
    if guards.is_blank(cmd.reason):
        found.append(blocker(definition, "reason_required"))
    return _refused_or(found, lambda: [InitiativeHeld(cmd.reason.strip())])


def _resume(state: InitiativeState, cmd: Resume, actor: Actor) -> Outcome:
    definition = state.definition
    found = guards.status_blockers(state, on_hold_ok=True)
    if not found and state.hold is None:
        found.append(blocker(definition, "not_on_hold"))
    found += guards.role_blockers(definition, actor, guards.COORDINATION_ROLES, "resume")
    reason = _text(cmd.reason)
    return _refused_or(found, lambda: [InitiativeResumed(reason)])


def _note(state: InitiativeState, cmd: AddNote, actor: Actor) -> Outcome:
    definition = state.definition
    found = guards.status_blockers(state, on_hold_ok=True)
    found += guards.role_blockers(definition, actor, definition.roles, "note")
    if guards.is_blank(cmd.text):
        found.append(blocker(definition, "text_required"))
    return _refused_or(found, lambda: [NoteAdded(cmd.text.strip())])


def _outcome(state: InitiativeState, command: Command, actor: Actor) -> Outcome:  # noqa: C901
    match command:  # one case per command
        case CreateInitiative():
            return _create(state, command, actor)
        case AddParticipant():
            return _add_participant(state, command, actor)
        case TickItem():
            return _tick(state, command, actor)
        case ReopenItem():
            return _reopen(state, command, actor)
        case WaiveItem():
            return _waive(state, command, actor)
        case ApproveGate():
            return _approve(state, command, actor)
        case FireTrigger():
            return _fire(state, command, actor)
        case Hold():
            return _hold(state, command, actor)
        case Resume():
            return _resume(state, command, actor)
        case AddNote():
            return _note(state, command, actor)
        case RecordOverdue():
            found = overdue_blockers(state, command, actor)
            return _refused_or(found, lambda: [overdue_event(state, command)])
        case MigrateWorkflow():
            found = migration_blockers(state, command, actor)
            return _refused_or(found, lambda: [migration_event(state, command)])


_PROVISIONAL_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def _auto_transition(state: InitiativeState) -> Transition | None:
    for transition in state.definition.transitions_from(state.phase):
        if transition.auto:
            return transition
    return None


def _landing_phase(state: InitiativeState, events: list[Event]) -> str:
    phase = state.phase
    for event in events:
        if isinstance(event, PhaseChanged):
            phase = event.target
        elif isinstance(event, InitiativeCreated | WorkflowMigrated):
            phase = event.phase
    return phase


def _with_automatic_steps(
    state: InitiativeState, events: list[Event], target: Definition | None
) -> list[Event]:
    """Append the automatic transitions that ``events`` open (possibly a chain of them).

    ``target`` is the definition the events migrate to, if they do.
    """
    definition = state.definition if target is None else target
    if not any(t.auto for t in definition.transitions_from(_landing_phase(state, events))):
        return events
    lookup: DefinitionLookup | None = None if target is None else (lambda _id, _v: target)
    for event in events:
        state = apply(state, Recorded(state.version + 1, "", _PROVISIONAL_TIME, event), lookup)
    cause = state.version  # the command's last event caused every step of the chain
    for _ in definition.phases:  # validation refuses loops of automatic transitions
        transition = _auto_transition(state)
        if transition is None or state.hold is not None or state.has_ended:
            break
        if guards.gate_blockers(state, transition):
            break
        step = _change_phase(state, transition, None, cause_seq=cause)
        events = [*events, step]
        state = apply(state, Recorded(state.version + 1, SYSTEM_ACTOR, _PROVISIONAL_TIME, step))
    return events


def decide(state: InitiativeState, command: Command, actor: Actor) -> Outcome:
    """The events ``command`` by ``actor`` leads to in ``state``, or every reason it may not.

    Automatic transitions that the command opens are appended to the events (recorded as done by
    the system and caused by the command's last event).
    """
    outcome = _outcome(state, command, actor)
    if isinstance(outcome, Refused):
        return outcome
    target = command.definition if isinstance(command, MigrateWorkflow) else None
    return _with_automatic_steps(state, outcome, target)


def triggers(state: InitiativeState, actor: Actor | None = None) -> list[TriggerStatus]:
    """Every step that leaves the current phase, with what blocks it now (nothing is fired).

    With an ``actor``, missing roles of that actor are blockers too.
    """
    if not state.is_created or state.has_ended:
        return []
    statuses = []
    for transition in state.definition.transitions_from(state.phase):
        _, found = guards.trigger_blockers(state, transition.trigger, actor)
        statuses.append(TriggerStatus(transition, tuple(found)))
    return statuses
