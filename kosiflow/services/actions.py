"""Which actions an actor may take now: each candidate command evaluated by the engine's ``decide``.

A page offers a form exactly when the engine would accept its command. The person's own words
(evidence, reasons, note texts) are not known before the form is filled in, so the candidates
carry a stand-in text wherever the workflow asks for one: what remains to refuse them is the
state of the initiative and the actor's roles, never the missing input.
"""

from __future__ import annotations

from dataclasses import dataclass

from kosiflow.definition import Definition
from kosiflow.engine import (
    Actor,
    AddNote,
    AddParticipant,
    ApproveGate,
    Command,
    CreateInitiative,
    FireTrigger,
    Hold,
    InitiativeState,
    Refused,
    ReopenItem,
    Resume,
    TickItem,
    WaiveItem,
    decide,
)

_STAND_IN = "…"
"""The text a candidate command carries where the form will ask the person for theirs."""


@dataclass(frozen=True, slots=True)
class AllowedActions:
    """What an actor may do to an initiative now (every field empty or False: nothing)."""

    tick: frozenset[str] = frozenset()
    """Checklist items of the current phase they may tick."""
    reopen: frozenset[str] = frozenset()
    waive: frozenset[str] = frozenset()
    approve: tuple[tuple[str, str], ...] = ()
    """(trigger, role) sign-offs they may give."""
    fire: frozenset[str] = frozenset()
    """Triggers they may fire now (given a reason where one is required)."""
    hold: bool = False
    resume: bool = False
    note: bool = False
    add_participant: bool = False

    @property
    def any(self) -> bool:
        """Whether there is anything at all they may do."""
        return bool(self.tick or self.reopen or self.waive or self.approve or self.fire) or any(
            (self.hold, self.resume, self.note, self.add_participant)
        )


def _accepts(state: InitiativeState, command: Command, actor: Actor) -> bool:
    return not isinstance(decide(state, command, actor), Refused)


def allowed_actions(state: InitiativeState, actor: Actor) -> AllowedActions:
    """Every action ``actor`` may take on ``state`` now, as the engine decides it."""
    if not state.is_created or state.has_ended:
        return AllowedActions()
    definition = state.definition
    items = [item.id for item in definition.phase(state.phase).checklist]
    transitions = definition.transitions_from(state.phase)

    def accepts(command: Command) -> bool:
        return _accepts(state, command, actor)

    any_role = next(iter(definition.roles))
    return AllowedActions(
        tick=frozenset(i for i in items if accepts(TickItem(i, _STAND_IN))),
        reopen=frozenset(i for i in items if accepts(ReopenItem(i, _STAND_IN))),
        waive=frozenset(i for i in items if accepts(WaiveItem(i, _STAND_IN))),
        approve=tuple(
            (t.trigger, role)
            for t in transitions
            for role in t.requires.approvals
            if role in actor.roles and accepts(ApproveGate(t.trigger, role))
        ),
        fire=frozenset(
            t.trigger
            for t in transitions
            if accepts(FireTrigger(t.trigger, None if t.reason == "none" else _STAND_IN))
        ),
        hold=accepts(Hold(_STAND_IN)),
        resume=accepts(Resume()),
        note=accepts(AddNote(_STAND_IN)),
        add_participant=accepts(AddParticipant(_STAND_IN, any_role)),
    )


def may_create(definition: Definition, actor: Actor) -> bool:
    """Whether ``actor`` may start an initiative under ``definition``."""
    return _accepts(InitiativeState("", definition), CreateInitiative(_STAND_IN), actor)
