"""Shortcuts for setting a scene: tick what a phase needs, open a gate, reach a phase.

They send the same commands a person would, each as somebody the scenario introduced who holds
a role that may do it; when nobody does, the step says which role is missing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from kosiflow.bdd.command_steps import gate, says
from kosiflow.bdd.failures import SpecFailure
from kosiflow.bdd.registry import step
from kosiflow.bdd.texts import say
from kosiflow.bdd.world import World
from kosiflow.definition import DEFAULT_ROLE, Definition, Transition
from kosiflow.engine import ApproveGate, FireTrigger, TickItem


def _someone(world: World, roles: Iterable[str], action: str) -> str:
    """The first person introduced who holds one of ``roles``."""
    wanted = tuple(roles)
    for person in world.people.values():
        if not person.actor.roles.isdisjoint(wanted):
            return person.name
    listed = ", ".join(world.label("role", r) for r in wanted)
    raise SpecFailure(say(world.lang, "nobody_may", action=action, roles=listed))


def tick_required_items(world: World) -> None:
    """Tick every open required item of the current phase (with evidence)."""
    view = world.view()
    for item in world.definition.phase(view.phase).checklist:
        if item.optional or view.checklist.get(item.id) != "open":
            continue
        action = say(world.lang, "action_tick", item=world.label("item", item.id))
        who = _someone(world, item.roles, action)
        evidence = say(world.lang, "shortcut_evidence")
        headline = says(world, "may_not_tick", item=item.id)
        world.act(who, TickItem(item.id, evidence), headline, strict=True)


def _involve_sectors(world: World, needed: int) -> None:
    present = world.view().sectors
    if len(present) >= needed:
        return
    roles = sorted(world.definition.roles, key=lambda r: r == DEFAULT_ROLE)  # coordinators last
    missing = [r for r in roles if r not in present][: needed - len(present)]
    coordinator = _someone(world, [DEFAULT_ROLE], say(world.lang, "action_involve"))
    for role in missing:
        title = world.definition.roles[role].in_(world.lang)
        name = say(world.lang, "participant_name", role=title)
        world.involve(coordinator, name, role, strict=True)


def open_gate(world: World, transition: Transition) -> None:
    """Everything ``transition`` needs: its checklist, its sectors, its sign-offs."""
    if transition.requires.checklist == "complete":
        tick_required_items(world)
    _involve_sectors(world, transition.requires.sectors)
    signed = world.view().steps[transition.trigger].approvals
    trigger = transition.trigger
    for role in transition.requires.approvals:
        if role in signed:
            continue
        action = say(
            world.lang,
            "action_approve",
            trigger=world.label("trigger", trigger),
            role=world.label("role", role),
        )
        who = _someone(world, [role], action)
        headline = says(world, "may_not_approve", trigger=trigger)
        world.act(who, ApproveGate(trigger, role), headline, strict=True)


def _path(definition: Definition, start: str, target: str) -> list[Transition] | None:
    """The shortest way from ``start`` to ``target`` (final phases only as the target)."""
    came: dict[str, list[Transition]] = {start: []}
    queue = deque([start])
    while queue:
        phase = queue.popleft()
        if phase == target:
            return came[phase]
        for transition in definition.transitions_from(phase):
            follows = transition.target
            if follows in came or (definition.phase(follows).final and follows != target):
                continue
            came[follows] = [*came[phase], transition]
            queue.append(follows)
    return None


def _transition_of(world: World, trigger: str) -> Transition:
    phase = world.view().phase
    found = world.definition.transition(trigger, phase)
    if found is None:
        steps = ", ".join(t.trigger for t in world.definition.transitions_from(phase)) or "-"
        raise SpecFailure(
            say(
                world.lang,
                "not_a_step_here",
                trigger=world.label("trigger", trigger),
                phase=world.label("phase", phase),
                steps=steps,
            )
        )
    return found


@step(
    "tick_required",
    "shortcuts",
    en=["every required item of the phase is ticked"],
    de=["alle Pflichtpunkte der Phase sind abgehakt"],
    example_en=["Given every required item of the phase is ticked"],
    example_de=["Angenommen alle Pflichtpunkte der Phase sind abgehakt"],
)
def tick_required(world: World) -> None:
    """Each open required item of the current phase, ticked with evidence by someone allowed."""
    tick_required_items(world)


@step(
    "open_gate",
    "shortcuts",
    en=["everything {trigger} needs is done"],
    de=["alles, was {trigger} braucht, ist erledigt"],
    example_en=['Given everything "start_co_creation" needs is done'],
    example_de=['Angenommen alles, was "start_co_creation" braucht, ist erledigt'],
)
def everything_done(world: World, trigger: str) -> None:
    """The gate of a step from the current phase opened: checklist, sectors, sign-offs."""
    open_gate(world, _transition_of(world, world.trigger_id(trigger)))


@step(
    "reach",
    "shortcuts",
    en=["the initiative has reached the phase {phase}"],
    de=["die Initiative hat die Phase {phase} erreicht"],
    example_en=['Given the initiative has reached the phase "prototyping"'],
    example_de=['Angenommen die Initiative hat die Phase "prototyping" erreicht'],
)
def reached(world: World, phase: str) -> None:
    """The shortest way to a phase, each gate opened and each step fired on the way."""
    target = world.phase_id(phase)
    start = world.view().phase
    path = _path(world.definition, start, target)
    if path is None:
        raise SpecFailure(
            say(
                world.lang,
                "unreachable",
                target=world.label("phase", target),
                phase=world.label("phase", start),
            )
        )
    for transition in path:
        open_gate(world, transition)
        if world.view().phase == transition.target:  # an automatic transition took it
            continue
        action = say(world.lang, "action_fire", trigger=world.label("trigger", transition.trigger))
        who = _someone(world, transition.roles, action)
        reason = say(world.lang, "shortcut_reason") if transition.reason == "required" else None
        command = FireTrigger(transition.trigger, reason)
        world.act(who, command, gate(world, transition.trigger), strict=True)
