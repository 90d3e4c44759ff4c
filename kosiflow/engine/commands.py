"""Commands: what a person asks the engine to do to an initiative (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass

SYSTEM_ACTOR = "system"
"""The actor recorded for what the engine does by itself (automatic transitions)."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a pseudonymous id (never a name) and the workflow roles they hold."""

    id: str
    roles: frozenset[str]


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
)
