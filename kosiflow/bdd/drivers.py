"""How steps reach kosiflow: a driver sends commands and reads what a coordinator would see.

Two drivers speak the same protocol: :class:`EngineDriver` calls the services directly (the
default), ``ApiDriver`` (in :mod:`kosiflow.bdd.api_driver`) goes through the HTTP API. Steps see
only the neutral answers defined here, so one feature file checks both ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from kosiflow.engine import (
    Actor,
    AddNote,
    ApproveGate,
    Blocker,
    Command,
    FireTrigger,
    Hold,
    ReopenItem,
    Resume,
    TickItem,
    WaiveItem,
)
from kosiflow.errors import BadInput
from kosiflow.services import CommandResult, Progress, Services, WriteOptions
from kosiflow.store.texts import readable_payload


@dataclass(frozen=True, slots=True)
class Person:
    """Somebody a scenario introduced: their name, who they are to the engine, their API token."""

    name: str
    actor: Actor
    token: str


@dataclass(frozen=True, slots=True)
class Done:
    """An accepted command: the initiative's version after it and the events it recorded."""

    initiative_id: str
    version: int
    events: tuple[str, ...] = ()
    """Event type names (the API does not answer them: empty there)."""


@dataclass(frozen=True, slots=True)
class StepView:
    """One step (trigger) out of the current phase: what keeps it shut, who signed it off."""

    trigger: str
    blockers: tuple[Blocker, ...]
    """What keeps the gate shut whoever asks (missing roles of the reader are left out)."""
    approvals: frozenset[str]
    """The roles that signed it off in this visit."""


@dataclass(frozen=True, slots=True)
class View:
    """An initiative as the progress view shows it."""

    phase: str
    visit: int
    version: int
    hold_reason: str | None
    """Why it is on hold; None when it is not."""
    checklist: Mapping[str, str]
    """Every item of the current phase → ``open``, ``done`` or ``waived``."""
    percent_done: int
    steps: Mapping[str, StepView]
    sectors: frozenset[str]
    """The sectors (workflow roles) participants bring."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One event of the history as an auditor reads it."""

    seq: int
    type: str
    actor: str
    """Pseudonymous person id, or ``system``."""
    payload: Mapping[str, object]


class Driver(Protocol):
    """Commands and reads on one database, the engine's way or the API's."""

    def create(self, workflow_id: str, title: str, person: Person) -> Done: ...

    def add_participant(
        self,
        initiative_id: str,
        name: str,
        role: str,
        person: Person,
        *,
        expected_version: int | None = None,
    ) -> Done: ...

    def execute(
        self,
        initiative_id: str,
        command: Command,
        person: Person,
        *,
        expected_version: int | None = None,
    ) -> Done:
        """Apply ``command`` as ``person``.

        Raises:
            CommandRefused: with every blocker.
            ConcurrencyConflict: when ``expected_version`` is no longer the initiative's.
        """
        ...

    def view(self, initiative_id: str) -> View: ...

    def history(self, initiative_id: str) -> list[HistoryEntry]: ...

    def is_chain_intact(self, initiative_id: str) -> bool: ...


def view_of(progress: Progress) -> View:
    """The neutral view of the services' progress (read by nobody in particular)."""
    state = progress.state
    phase = progress.definition.phase(state.phase)
    checklist = {
        item.id: state.checklist[item.id].status if item.id in state.checklist else "open"
        for item in phase.checklist
    }
    steps = {
        status.transition.trigger: StepView(
            status.transition.trigger,
            tuple(b for b in status.blockers if b.code != "role_missing"),
            frozenset(state.approvals.get(status.transition.trigger, {})),
        )
        for status in progress.triggers
    }
    return View(
        phase=state.phase,
        visit=state.visit,
        version=state.version,
        hold_reason=None if state.hold is None else state.hold.reason,
        checklist=checklist,
        percent_done=progress.percent_done,
        steps=steps,
        sectors=state.sectors,
    )


class EngineDriver:
    """Straight to the services: the engine and the store, no HTTP in between."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def create(self, workflow_id: str, title: str, person: Person) -> Done:
        return _done(self.services.create(workflow_id, title, person.actor))

    def add_participant(
        self,
        initiative_id: str,
        name: str,
        role: str,
        person: Person,
        *,
        expected_version: int | None = None,
    ) -> Done:
        result = self.services.add_participant(
            initiative_id, name, role, person.actor, expected_version=expected_version
        )
        return _done(result)

    def execute(
        self,
        initiative_id: str,
        command: Command,
        person: Person,
        *,
        expected_version: int | None = None,
    ) -> Done:
        s, actor = self.services, person.actor
        options: WriteOptions = {"expected_version": expected_version}
        match command:
            case TickItem():
                result = s.tick(
                    initiative_id,
                    command.item,
                    actor,
                    evidence=command.evidence,
                    note=command.note,
                    **options,
                )
            case ReopenItem():
                result = s.reopen(initiative_id, command.item, command.reason, actor, **options)
            case WaiveItem():
                result = s.waive(initiative_id, command.item, command.reason, actor, **options)
            case ApproveGate():
                result = s.approve(
                    initiative_id, command.trigger, actor, role=command.role, **options
                )
            case FireTrigger():
                result = s.fire(
                    initiative_id, command.trigger, actor, reason=command.reason, **options
                )
            case Hold():
                result = s.hold(initiative_id, command.reason, actor, **options)
            case Resume():
                result = s.resume(initiative_id, actor, reason=command.reason, **options)
            case AddNote():
                result = s.note(initiative_id, command.text, actor, **options)
            case _:
                raise BadInput("command", f"{type(command).__name__} has a step of its own")
        return _done(result)

    def view(self, initiative_id: str) -> View:
        return view_of(self.services.progress(initiative_id))

    def history(self, initiative_id: str) -> list[HistoryEntry]:
        return [
            HistoryEntry(r.seq, r.type, r.actor, readable_payload(r))
            for r in self.services.history(initiative_id)
        ]

    def is_chain_intact(self, initiative_id: str) -> bool:
        return self.services.verify(initiative_id).ok


def _done(result: CommandResult) -> Done:
    return Done(result.initiative_id, result.version, result.events)
