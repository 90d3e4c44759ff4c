"""Commands: what a person asks the engine to do to an initiative (imperative names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kosiflow.definition.model import Definition

SYSTEM_ACTOR = "system"
"""The actor recorded for what the engine does by itself (automatic transitions, deadlines)."""

MIGRATION_ROLES = ("admin", "coordinator")
"""Who may move initiatives to another workflow version: the admin, who manages workflows, and
the lab coordination, who answers for the initiatives."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a pseudonymous id (never a name) and the workflow roles they hold."""

    id: str
    roles: frozenset[str]


SYSTEM = Actor(SYSTEM_ACTOR, frozenset())
"""kosiflow itself, acting on a clock (the deadline sweep); it holds no role."""


@dataclass(frozen=True, slots=True)
class CreateInitiative:
    title: str
    parent_id: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class AddParticipant:
    participant_id: str
    """Pseudonymous id; the person's name is stored outside the history."""
    role: str
    """The sector the participant brings: one of the workflow's roles."""


@dataclass(frozen=True, slots=True)
class TickItem:
    item: str
    evidence: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ReopenItem:
    item: str
    reason: str


@dataclass(frozen=True, slots=True)
class WaiveItem:
    item: str
    reason: str


@dataclass(frozen=True, slots=True)
class ApproveGate:
    trigger: str
    role: str | None = None
    """The role signed for; may be left out when the actor holds exactly one role the gate needs."""
    note: str | None = None


@dataclass(frozen=True, slots=True)
class FireTrigger:
    trigger: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    reason: str


@dataclass(frozen=True, slots=True)
class Resume:
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AddNote:
    text: str


@dataclass(frozen=True, slots=True)
class RecordOverdue:
    """Record that the current visit passed its phase's ``max_days`` (only the system may)."""

    phase: str
    visit: int
    max_days: int
    overdue_since: str
    """ISO 8601 moment at which the time not on hold passed ``max_days``."""


@dataclass(frozen=True, slots=True)
class MigrateWorkflow:
    """Move the initiative to ``definition``, another version of its workflow."""

    definition: Definition = field(repr=False)
    phase_map: Mapping[str, str] = field(default_factory=dict)
    """Old phase id → new phase id; a phase not named keeps its id."""


Command = (
    CreateInitiative
    | AddParticipant
    | TickItem
    | ReopenItem
    | WaiveItem
    | ApproveGate
    | FireTrigger
    | Hold
    | Resume
    | AddNote
    | RecordOverdue
    | MigrateWorkflow
)
