"""Declarative guards: each returns every blocker it finds (an empty list means "go")."""

from __future__ import annotations

from collections.abc import Iterable

from kosiflow.definition.model import DEFAULT_ROLE, ChecklistItem, Definition, Transition
from kosiflow.definition.suggest import closest
from kosiflow.engine.blockers import Blocker, blocker
from kosiflow.engine.commands import Actor
from kosiflow.engine.machines import machine_for
from kosiflow.engine.state import InitiativeState

COORDINATION_ROLES = (DEFAULT_ROLE,)
"""Who creates initiatives, adds participants and puts them on hold or resumes them."""


def is_blank(text: str | None) -> bool:
    return text is None or not text.strip()


def may_act(actor: Actor, roles: Iterable[str]) -> bool:
    return not actor.roles.isdisjoint(roles)


def status_blockers(state: InitiativeState, *, on_hold_ok: bool = False) -> list[Blocker]:
    """The initiative must exist, not have ended and (unless ``on_hold_ok``) not be on hold."""
    definition = state.definition
    if not state.is_created:
        return [blocker(definition, "not_created")]
    if state.has_ended:
        return [blocker(definition, "ended", phase=state.phase)]
    if state.hold is not None and not on_hold_ok:
        return [blocker(definition, "on_hold", reason=state.hold.reason)]
    return []


def role_blockers(
    definition: Definition,
    actor: Actor,
    roles: Iterable[str],
    action: str,
    **labels: str,
) -> list[Blocker]:
    """The actor must hold one of ``roles``."""
    roles = tuple(roles)
    if may_act(actor, roles):
        return []
    return [blocker(definition, "role_missing", roles=",".join(roles), action=action, **labels)]


def reason_blockers(
    definition: Definition, rule: str, reason: str | None, trigger: str
) -> list[Blocker]:
    if rule == "required" and is_blank(reason):
        return [blocker(definition, "reason_required")]
    if rule == "none" and not is_blank(reason):
        return [blocker(definition, "reason_not_allowed", trigger=trigger)]
    return []


def is_open(state: InitiativeState, item: ChecklistItem) -> bool:
    return item.id not in state.checklist


def gate_blockers(state: InitiativeState, transition: Transition) -> list[Blocker]:
    """What keeps a gate shut apart from who asks: checklist, sign-offs, sectors."""
    definition = state.definition
    requires = transition.requires
    found: list[Blocker] = []
    if requires.checklist == "complete":
        found.extend(
            blocker(definition, "item_open", item=item.id, phase=state.phase)
            for item in definition.phase(state.phase).checklist
            if not item.optional and is_open(state, item)
        )
    signed = state.approvals.get(transition.trigger, {})
    found.extend(
        blocker(definition, "approval_missing", role=role)
        for role in requires.approvals
        if role not in signed
    )
    present = len(state.sectors)
    if present < requires.sectors:
        found.append(
            blocker(definition, "sectors_missing", required=requires.sectors, present=present)
        )
    return found


def hold_allows(transition: Transition, definition: Definition) -> bool:
    """While on hold only endings that need no checklist (such as archiving) may fire."""
    return definition.phase(transition.target).final and transition.requires.checklist == "none"


def trigger_blockers(
    state: InitiativeState, trigger: str, actor: Actor | None
) -> tuple[Transition | None, list[Blocker]]:
    """Everything that keeps ``trigger`` from firing now, except the reason (an input).

    The transition is None when the trigger cannot leave the current phase at all.
    """
    definition = state.definition
    found = status_blockers(state, on_hold_ok=True)
    if found:
        return None, found
    if trigger not in definition.triggers:
        suggestion = closest(trigger, definition.triggers) or ""
        return None, [
            blocker(definition, "trigger_unknown", trigger=trigger, suggestion=suggestion)
        ]
    machine = machine_for(definition)
    if not machine.can_fire(state.phase, trigger):
        available = ",".join(machine.available(state.phase))
        return None, [
            blocker(
                definition,
                "trigger_not_available",
                trigger=trigger,
                phase=state.phase,
                available=available,
            )
        ]
    transition = definition.transition(trigger, state.phase)
    if transition is None:  # the machine is built from the definition: they cannot disagree
        raise AssertionError(f"machine and definition disagree on {trigger!r}")
    if state.hold is not None and not hold_allows(transition, definition):
        found.append(blocker(definition, "on_hold", reason=state.hold.reason))
    if actor is not None:
        found.extend(role_blockers(definition, actor, transition.roles, "fire", trigger=trigger))
    found.extend(gate_blockers(state, transition))
    return transition, found
