"""Steps for gates.feature: they drive the real services on a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.errors import CommandRefused
from kosiflow.services import Services
from kosiflow.store import open_database

ROOT = Path(__file__).resolve().parents[2]
CATALOG = WorkflowCatalog.from_folder(ROOT / "workflows")

scenarios("gates.feature")


class Lab:
    """One scenario's world: services, people by role, the initiative and the last refusal."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.people: dict[str, Actor] = {}
        self.initiative = ""
        self.refusal: CommandRefused | None = None

    def person(self, role: str) -> Actor:
        if role not in self.people:
            user, _ = self.services.database.add_user(f"Demo {role}", [role])
            self.people[role] = Actor(user.person_id, frozenset(user.roles))
        return self.people[role]

    def fire(self, trigger: str, reason: str | None = None) -> None:
        try:
            self.services.fire(self.initiative, trigger, self.person("coordinator"), reason=reason)
            self.refusal = None
        except CommandRefused as refusal:
            self.refusal = refusal

    def tick_required_items(self) -> None:
        state = self.services.state(self.initiative)
        for item in state.definition.phase(state.phase).checklist:
            if not item.optional and item.id not in state.checklist:
                actor = self.person(item.roles[0])
                self.services.tick(self.initiative, item.id, actor, evidence="Protokoll")

    def complete_phase(self, trigger: str) -> None:
        self.tick_required_items()
        state = self.services.state(self.initiative)
        for role in sorted(set(state.definition.roles) - state.sectors):
            self.services.add_participant(
                self.initiative, f"Person {role}", role, self.person("coordinator")
            )
        transition = state.definition.transition(trigger, state.phase)
        assert transition is not None
        for role in transition.requires.approvals:
            self.services.approve(self.initiative, trigger, self.person(role))
        self.fire(trigger)
        assert self.refusal is None, self.refusal


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    services = Services(open_database(f"sqlite:///{tmp_path / 'lab.db'}"), CATALOG)
    CATALOG.register(services.database)
    yield Lab(services)
    services.database.close()


@given(parsers.parse('a "{workflow}" initiative "{title}"'))
def an_initiative(lab: Lab, workflow: str, title: str) -> None:
    lab.initiative = lab.services.create(workflow, title, lab.person("coordinator")).initiative_id


@given("every required item of the phase is ticked with evidence")
def every_item_ticked(lab: Lab) -> None:
    lab.tick_required_items()


@given(parsers.parse('participants from "{roles}" take part'))
def participants(lab: Lab, roles: str) -> None:
    for role in (r.strip() for r in roles.split(",")):
        lab.services.add_participant(
            lab.initiative, f"Person {role}", role, lab.person("coordinator")
        )


@given(parsers.parse('"{role}" has signed off "{trigger}"'))
def signed_off(lab: Lab, role: str, trigger: str) -> None:
    lab.services.approve(lab.initiative, trigger, lab.person(role))


@given(parsers.parse('the initiative has reached phase "{phase}"'))
def reached(lab: Lab, phase: str) -> None:
    path = {
        "co_creation": ["start_co_creation"],
        "prototyping": ["start_co_creation", "start_prototyping"],
    }
    for trigger in path[phase]:
        lab.complete_phase(trigger)


@when(parsers.parse('the coordinator fires "{trigger:w}" because "{reason}"'))
def fire_with_reason(lab: Lab, trigger: str, reason: str) -> None:
    lab.fire(trigger, reason)


@when(parsers.parse('the coordinator fires "{trigger:w}"'))
def fire(lab: Lab, trigger: str) -> None:
    lab.fire(trigger)


@then(parsers.parse('it is refused because "{code:w}" for "{subject}"'))
def refused_for(lab: Lab, code: str, subject: str) -> None:
    assert lab.refusal is not None, "the command was not refused"
    found = [b.params for b in lab.refusal.blockers if b.code == code]
    assert any(subject in params.values() for params in found), lab.refusal


@then(parsers.parse('it is refused because "{code:w}"'))
def refused(lab: Lab, code: str) -> None:
    assert lab.refusal is not None, "the command was not refused"
    assert code in [b.code for b in lab.refusal.blockers], lab.refusal


@then(parsers.parse('the initiative is in phase "{phase}"'))
def in_phase(lab: Lab, phase: str) -> None:
    assert lab.services.state(lab.initiative).phase == phase


@then("the checklist of the phase is empty")
def checklist_empty(lab: Lab) -> None:
    assert dict(lab.services.state(lab.initiative).checklist) == {}


@then(parsers.parse("this is visit {visit:d} of the phase"))
def visit_of_phase(lab: Lab, visit: int) -> None:
    assert lab.services.state(lab.initiative).visit == visit
