"""Steps that check where an initiative stands: phase, checklist, progress, what blocks a step."""

from __future__ import annotations

from collections.abc import Sequence

from kosiflow.bdd.command_steps import split_roles
from kosiflow.bdd.drivers import StepView
from kosiflow.bdd.failures import SpecFailure, blocker_lines
from kosiflow.bdd.reasons import differ, is_about, same_reasons, wanted
from kosiflow.bdd.registry import step
from kosiflow.bdd.tables import rows_of
from kosiflow.bdd.texts import say
from kosiflow.bdd.world import World

STATUSES = {
    "en": {"open": "open", "done": "done", "waived": "waived"},
    "de": {"offen": "open", "erledigt": "done", "erlassen": "waived"},
}
"""Item statuses as a feature writes them → as the engine names them."""


def _step_view(world: World, trigger: str) -> StepView:
    view = world.view()
    trigger_id = world.trigger_id(trigger)
    found = view.steps.get(trigger_id)
    if found is None:
        raise SpecFailure(
            say(
                world.lang,
                "not_a_step_here",
                trigger=world.label("trigger", trigger_id),
                phase=world.label("phase", view.phase),
                steps=", ".join(view.steps) or "-",
            )
        )
    return found


# -- phase, checklist, progress --------------------------------------------------------------------


@step(
    "phase",
    "phase",
    en=["the initiative is in the phase {phase}", "the initiative is in phase {phase}"],
    de=["die Initiative ist in der Phase {phase}", "ist die Initiative in der Phase {phase}"],
    example_en=['Then the initiative is in the phase "co_creation"'],
    example_de=['Dann ist die Initiative in der Phase "Ko-Kreation"'],
)
def in_phase(world: World, phase: str) -> None:
    """The current phase (by id or title)."""
    expected = world.phase_id(phase)
    actual = world.view().phase
    if actual != expected:
        raise SpecFailure(
            say(
                world.lang,
                "phase_is",
                actual=world.label("phase", actual),
                expected=world.label("phase", expected),
            )
        )


@step(
    "visit",
    "phase",
    en=["this is visit {visit:d} of the phase"],
    de=["das ist der {visit:d}. Besuch der Phase", "ist das der {visit:d}. Besuch der Phase"],
    example_en=["Then this is visit 2 of the phase"],
    example_de=["Dann ist das der 2. Besuch der Phase"],
)
def visit_of_phase(world: World, visit: str) -> None:
    """How often the initiative has come to its current phase (2 after one rework)."""
    view = world.view()
    if view.visit != int(visit):
        phase = world.label("phase", view.phase)
        raise SpecFailure(
            say(world.lang, "visit_is", actual=view.visit, phase=phase, expected=visit)
        )


@step(
    "on_hold",
    "phase",
    en=["the initiative is on hold"],
    de=["die Initiative ist pausiert", "ist die Initiative pausiert"],
    example_en=["Then the initiative is on hold"],
    example_de=["Dann ist die Initiative pausiert"],
)
def on_hold(world: World) -> None:
    """The initiative is on hold."""
    if world.view().hold_reason is None:
        raise SpecFailure(say(world.lang, "is_not_on_hold"))


@step(
    "not_on_hold",
    "phase",
    en=["the initiative is not on hold"],
    de=["die Initiative ist nicht pausiert", "ist die Initiative nicht pausiert"],
    example_en=["Then the initiative is not on hold"],
    example_de=["Dann ist die Initiative nicht pausiert"],
)
def not_on_hold(world: World) -> None:
    """The initiative is not on hold."""
    reason = world.view().hold_reason
    if reason is not None:
        raise SpecFailure(say(world.lang, "is_on_hold", reason=reason))


def _check_item(world: World, item: str, status: str) -> None:
    statuses = STATUSES[world.lang]
    if status not in statuses:
        known = ", ".join(statuses)
        raise SpecFailure(say(world.lang, "status_unknown", status=status, known=known))
    view = world.view()
    item_id = world.item_id(item)
    actual = view.checklist.get(item_id)
    if actual is None:
        phase = world.label("phase", view.phase)
        raise SpecFailure(say(world.lang, "item_not_here", phase=phase, item=f"'{item_id}'"))
    if actual != statuses[status]:
        shown = {v: k for k, v in statuses.items()}[actual]
        label = world.label("item", item_id)
        raise SpecFailure(say(world.lang, "item_is", item=label, actual=shown, expected=status))


@step(
    "item",
    "phase",
    en=["the item {item} is {status:w}"],
    de=["der Punkt {item} ist {status:w}", "ist der Punkt {item} {status:w}"],
    example_en=['Then the item "resources_clarified" is waived'],
    example_de=['Dann ist der Punkt "core_team_named" offen'],
)
def item_is(world: World, item: str, status: str) -> None:
    """A checklist item of the current phase is open, done or waived (de: offen, erledigt,
    erlassen)."""
    _check_item(world, item, status)


@step(
    "checklist",
    "phase",
    en=["the checklist shows:"],
    de=["die Checkliste zeigt:", "zeigt die Checkliste:"],
    example_en=[
        "Then the checklist shows:",
        "  | item            | status |",
        "  | mandate_secured | done   |",
    ],
    example_de=[
        "Dann zeigt die Checkliste:",
        "  | Punkt           | Status   |",
        "  | mandate_secured | erledigt |",
    ],
    table=True,
)
def checklist_shows(world: World, table: Sequence[Sequence[object]]) -> None:
    """Several items and their statuses (items not listed are not checked)."""
    for row in rows_of(table, world.lang, ["item", "status"]):
        _check_item(world, row["item"], row["status"])


@step(
    "nothing_done",
    "phase",
    en=["no item of the phase is done"],
    de=["kein Punkt der Phase ist erledigt", "ist kein Punkt der Phase erledigt"],
    example_en=["Then no item of the phase is done"],
    example_de=["Dann ist kein Punkt der Phase erledigt"],
)
def nothing_done(world: World) -> None:
    """The current visit's checklist is fresh: nothing done or waived yet."""
    done = [item for item, status in world.view().checklist.items() if status != "open"]
    if done:
        raise SpecFailure(say(world.lang, "items_done", items=", ".join(done)))


@step(
    "progress",
    "phase",
    en=["the progress is {percent:d} percent"],
    de=[
        "der Fortschritt beträgt {percent:d} Prozent",
        "beträgt der Fortschritt {percent:d} Prozent",
    ],
    example_en=["Then the progress is 50 percent"],
    example_de=["Dann beträgt der Fortschritt 50 Prozent"],
)
def progress_is(world: World, percent: str) -> None:
    """The share of the phase's required items done or waived."""
    actual = world.view().percent_done
    if actual != int(percent):
        raise SpecFailure(say(world.lang, "progress_is", actual=actual, expected=percent))


@step(
    "sectors",
    "phase",
    en=["participants bring {count:d} sectors"],
    de=["Beteiligte bringen {count:d} Sektoren ein", "bringen Beteiligte {count:d} Sektoren ein"],
    example_en=["Then participants bring 3 sectors"],
    example_de=["Dann bringen Beteiligte 3 Sektoren ein"],
)
def sectors(world: World, count: str) -> None:
    """How many different sectors the participants bring."""
    present = world.view().sectors
    if len(present) != int(count):
        listed = ", ".join(sorted(present)) or "-"
        raise SpecFailure(
            say(world.lang, "sectors_are", actual=len(present), sectors=listed, expected=count)
        )


# -- what blocks a step ----------------------------------------------------------------------------


@step(
    "step_open",
    "blockers",
    en=["the step {trigger} is possible"],
    de=["der Schritt {trigger} ist möglich", "ist der Schritt {trigger} möglich"],
    example_en=['Then the step "start_co_creation" is possible'],
    example_de=['Dann ist der Schritt "start_co_creation" möglich'],
)
def step_possible(world: World, trigger: str) -> None:
    """Nothing keeps the gate of a step from the current phase shut."""
    found = _step_view(world, trigger)
    if found.blockers:
        headline = say(world.lang, "step_blocked", trigger=world.label("trigger", found.trigger))
        raise SpecFailure(f"{headline}:\n{blocker_lines(found.blockers, world.lang)}")


@step(
    "step_blocked",
    "blockers",
    en=["the step {trigger} is blocked by {code}[ for {subject}]"],
    de=[
        "der Schritt {trigger} ist gesperrt durch {code}[ für {subject}]",
        "ist der Schritt {trigger} gesperrt durch {code}[ für {subject}]",
    ],
    example_en=[
        'Then the step "start_co_creation" is blocked by "approval_missing" for "administration"'
    ],
    example_de=[
        'Dann ist der Schritt "start_co_creation" gesperrt durch "item_open" für "mandate_secured"'
    ],
)
def step_blocked_by(world: World, trigger: str, code: str, subject: str | None) -> None:
    """One of the reasons that keep a gate shut (a blocker code and what it names)."""
    found = _step_view(world, trigger)
    if not any(is_about(world, b, code, subject) for b in found.blockers):
        label = world.label("trigger", found.trigger)
        if not found.blockers:
            raise SpecFailure(say(world.lang, "step_open", trigger=label))
        headline = say(
            world.lang, "step_not_blocked_by", trigger=label, wanted=wanted(code, subject)
        )
        raise SpecFailure(f"{headline}\n{blocker_lines(found.blockers, world.lang)}")


@step(
    "step_blockers",
    "blockers",
    en=["the step {trigger} is blocked by exactly:"],
    de=[
        "der Schritt {trigger} ist gesperrt durch genau:",
        "ist der Schritt {trigger} gesperrt durch genau:",
    ],
    example_en=[
        'Then the step "start_prototyping" is blocked by exactly:',
        "  | code             | subject       |",
        "  | approval_missing | civil_society |",
    ],
    example_de=[
        'Dann ist der Schritt "start_prototyping" gesperrt durch genau:',
        "  | Code             | Betrifft      |",
        "  | approval_missing | civil_society |",
    ],
    table=True,
)
def step_blocked_exactly(world: World, trigger: str, table: Sequence[Sequence[object]]) -> None:
    """Every reason that keeps a gate shut, and no other (columns code and subject)."""
    found = _step_view(world, trigger)
    rows = rows_of(table, world.lang, ["code"])
    if not same_reasons(world, found.blockers, rows):
        label = world.label("trigger", found.trigger)
        raise differ(world, "blockers_differ", rows, found.blockers, trigger=label)


@step(
    "signoffs",
    "blockers",
    en=["the step {trigger} has the sign-offs of {roles}"],
    de=[
        "der Schritt {trigger} hat die Freigaben von {roles}",
        "hat der Schritt {trigger} die Freigaben von {roles}",
    ],
    example_en=['Then the step "start_prototyping" has the sign-offs of "administration"'],
    example_de=['Dann hat der Schritt "start_prototyping" die Freigaben von "administration"'],
)
def signoffs(world: World, trigger: str, roles: str) -> None:
    """Exactly these roles have signed off the step in this visit."""
    _check_signoffs(world, trigger, {world.role_id(r) for r in split_roles(roles)})


@step(
    "no_signoffs",
    "blockers",
    en=["the step {trigger} has no sign-offs"],
    de=["der Schritt {trigger} hat keine Freigaben", "hat der Schritt {trigger} keine Freigaben"],
    example_en=['Then the step "start_co_creation" has no sign-offs'],
    example_de=['Dann hat der Schritt "start_co_creation" keine Freigaben'],
)
def no_signoffs(world: World, trigger: str) -> None:
    """Nobody has signed off the step in this visit (or their sign-offs became void)."""
    _check_signoffs(world, trigger, set())


def _check_signoffs(world: World, trigger: str, expected: set[str]) -> None:
    found = _step_view(world, trigger)
    if found.approvals != expected:
        nothing = say(world.lang, "nothing")
        raise SpecFailure(
            say(
                world.lang,
                "signoffs_are",
                trigger=world.label("trigger", found.trigger),
                actual=", ".join(sorted(found.approvals)) or nothing,
                expected=", ".join(sorted(expected)) or nothing,
            )
        )
