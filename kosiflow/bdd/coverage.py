"""Coverage of a process by its specs: which steps, gate requirements and checklist items of a
workflow no scenario touches.

The feature files are read, not run: every scenario (each row of a Scenario Outline) that names
the workflow is read step by step with the step library. A scenario touches

- a transition when a step fires it (or checks that the system fired it, or finds it in the
  history);
- a gate requirement (its checklist, each sign-off, its sectors, its reason) when a step shows
  that requirement keeping the gate shut: a refusal of that step, or what blocks it;
- a checklist item when a step names it.

Shortcuts ("the initiative has reached the phase …") touch nothing: they set a scene.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_bdd.parser import FeatureParser, Scenario

from kosiflow.bdd.catalogue import all_steps
from kosiflow.bdd.naming import Names
from kosiflow.bdd.registry import StepSpec
from kosiflow.bdd.tables import rows_of
from kosiflow.bdd.texts import language_of
from kosiflow.definition import Definition, Transition, load_definition
from kosiflow.errors import DefinitionError


@dataclass(frozen=True, slots=True, order=True)
class Requirement:
    """One thing a gate requires: ``checklist``, ``approval`` (of ``detail``, a role),
    ``sectors`` (``detail`` of them) or ``reason``."""

    trigger: str
    kind: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the scenarios of some feature files touch of one workflow."""

    definition: Definition
    scenarios: int
    """Scenarios (rows of outlines counted) that run against the workflow."""
    transitions: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    items: tuple[tuple[str, str], ...]
    """(phase, item) of every checklist item."""
    touched_transitions: frozenset[str]
    touched_requirements: frozenset[Requirement]
    touched_items: frozenset[tuple[str, str]]

    @property
    def untouched_transitions(self) -> list[str]:
        return [t for t in self.transitions if t not in self.touched_transitions]

    @property
    def untouched_requirements(self) -> list[Requirement]:
        return [r for r in self.requirements if r not in self.touched_requirements]

    @property
    def untouched_items(self) -> list[tuple[str, str]]:
        return [i for i in self.items if i not in self.touched_items]

    @property
    def is_complete(self) -> bool:
        return not (
            self.untouched_transitions or self.untouched_requirements or self.untouched_items
        )


def _requirements(definition: Definition, transition: Transition) -> Iterator[Requirement]:
    trigger, requires = transition.trigger, transition.requires
    has_items = any(
        not item.optional
        for source in transition.sources
        for item in definition.phase(source).checklist
    )
    if requires.checklist == "complete" and has_items:
        yield Requirement(trigger, "checklist")
    for role in requires.approvals:
        yield Requirement(trigger, "approval", role)
    if requires.sectors:
        yield Requirement(trigger, "sectors", str(requires.sectors))
    if transition.reason == "required":
        yield Requirement(trigger, "reason")


def requirements_of(definition: Definition) -> list[Requirement]:
    """Every requirement of every gate, in the order of the file."""
    found = (r for t in definition.transitions for r in _requirements(definition, t))
    return list(dict.fromkeys(found))


_REQUIREMENT_OF_CODE = {
    "item_open": "checklist",
    "approval_missing": "approval",
    "sectors_missing": "sectors",
    "reason_required": "reason",
}
_GATE_STEPS = {"fire", "race", "approve", "step_open", "step_blocked", "step_blockers"}
"""Steps after which a refusal or blocker is about the step (trigger) they name."""


@dataclass
class _Reading:
    """What one scenario touches, read step by step."""

    definition: Definition
    names: Names
    transitions: set[str] = field(default_factory=set)
    requirements: set[Requirement] = field(default_factory=set)
    items: set[tuple[str, str]] = field(default_factory=set)
    trigger: str | None = None
    """The step (trigger) the last command or check was about, if any."""

    def item(self, text: str) -> None:
        item_id = self.names.id_of("item", text)
        for phase in self.definition.phases:
            if phase.item(item_id) is not None:
                self.items.add((phase.id, item_id))

    def blocker(self, code: str, subject: str | None) -> None:
        kind = _REQUIREMENT_OF_CODE.get(code)
        if kind is None or self.trigger is None:
            return
        for transition in self.definition.transitions:
            if transition.trigger != self.trigger:
                continue
            for requirement in _requirements(self.definition, transition):
                named = subject is None or kind != "approval"
                if requirement.kind == kind and (
                    named or requirement.detail in self.names.ids_of(subject or "")
                ):
                    self.requirements.add(requirement)
        if code == "item_open" and subject:
            self.item(subject)

    def step(self, spec: StepSpec, values: Mapping[str, str | None], table: Rows) -> None:
        trigger = values.get("trigger")
        if spec.key in _GATE_STEPS and trigger:
            self.trigger = self.names.id_of("trigger", trigger)
        elif spec.section == "commands":
            self.trigger = None
        if spec.key in ("fire", "race", "automatic") and trigger:
            self.transitions.add(self.names.id_of("trigger", trigger))
        if values.get("item"):
            self.item(str(values["item"]))
        if spec.key in ("step_blocked", "refused_because"):
            self.blocker(str(values["code"]), values.get("subject"))
        self.table(spec, table)

    def table(self, spec: StepSpec, table: Rows) -> None:
        if not table:
            return
        for row in rows_of(table, "en", []):
            if spec.key in ("step_blockers", "refused_exactly") and row.get("code"):
                self.blocker(row["code"], row.get("subject") or None)
            if row.get("item"):
                self.item(row["item"])
            if spec.key == "history" and row.get("trigger"):
                self.transitions.add(self.names.id_of("trigger", row["trigger"]))


Rows = Sequence[Sequence[object]]


def _scenarios(path: Path) -> Iterator[tuple[Scenario, str]]:
    """Every scenario of a feature file (one per row of an outline) and the file's language."""
    feature = FeatureParser(str(path.parent), path.name).parse()
    for template in feature.scenarios.values():
        contexts = [c for examples in template.examples for c in examples.as_contexts()]
        for context in contexts or [{}]:
            yield template.render(context), language_of(feature.language)


def _spec_of(
    text: str, lang: str, steps: Sequence[StepSpec]
) -> tuple[StepSpec, dict[str, str | None]] | None:
    for language in (lang, None):
        for spec in steps:
            values = spec.match(text, language)
            if values is not None:
                return spec, values
    return None


def _workflow_id(value: str, feature: Path) -> str | None:
    """The id of the workflow file a scenario names (looked up from its folder upwards)."""
    for folder in (feature.parent, *feature.parent.parents):
        candidate = folder / value
        if candidate.is_file():
            try:
                return load_definition(candidate).id
            except DefinitionError:
                return None
    return None


def spec_coverage(definition: Definition, features: Iterable[str | os.PathLike[str]]) -> Coverage:
    """What the scenarios of ``features`` that run against ``definition``'s workflow touch."""
    steps = all_steps()
    names = Names(definition)
    transitions: set[str] = set()
    requirements: set[Requirement] = set()
    items: set[tuple[str, str]] = set()
    count = 0
    workflow_ids: dict[tuple[str, Path], str | None] = {}
    for feature in (Path(f) for f in features):
        for scenario, lang in _scenarios(feature):
            reading = _Reading(definition, names)
            counts = False
            for step in scenario.steps:
                found = _spec_of(step.name, lang, steps)
                if found is None:
                    continue
                spec, values = found
                if spec.key == "workflow":
                    key = (str(values["file"]), feature.parent)
                    if key not in workflow_ids:
                        workflow_ids[key] = _workflow_id(key[0], feature)
                    counts = workflow_ids[key] == definition.id
                table = step.datatable.raw() if step.datatable else []
                reading.step(spec, values, table)
            if counts:
                count += 1
                transitions |= reading.transitions
                requirements |= reading.requirements
                items |= reading.items
    return Coverage(
        definition=definition,
        scenarios=count,
        transitions=definition.triggers,
        requirements=tuple(requirements_of(definition)),
        items=tuple((p.id, i.id) for p in definition.phases for i in p.checklist),
        touched_transitions=frozenset(transitions),
        touched_requirements=frozenset(requirements),
        touched_items=frozenset(items),
    )
