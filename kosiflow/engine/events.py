"""Events: the facts recorded in an initiative's history (past-tense names).

Each event type is stored under its class name with a schema version; payloads hold only ids and
the lab's own words, never a person's name (people are referred to by pseudonymous ids).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from kosiflow.errors import StoreError

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class InitiativeCreated:
    workflow_id: str
    workflow_version: int
    content_hash: str
    title: str
    phase: str
    parent_id: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ParticipantAdded:
    participant_id: str
    role: str


@dataclass(frozen=True, slots=True)
class ItemTicked:
    phase: str
    visit: int
    item: str
    evidence: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ItemReopened:
    phase: str
    visit: int
    item: str
    reason: str
    invalidated_approvals: tuple[str, ...] = ()
    """Triggers whose sign-offs this reopening voided."""


@dataclass(frozen=True, slots=True)
class ItemWaived:
    phase: str
    visit: int
    item: str
    reason: str


@dataclass(frozen=True, slots=True)
class GateApproved:
    phase: str
    visit: int
    trigger: str
    role: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PhaseChanged:
    trigger: str
    source: str
    target: str
    visit: int
    """The visit number of ``target`` that this change starts (1 on the first entry)."""
    reason: str | None = None
    automatic: bool = False
    cause_seq: int | None = None
    """For automatic transitions: the seq of the event that opened the gate."""


@dataclass(frozen=True, slots=True)
class InitiativeHeld:
    reason: str


@dataclass(frozen=True, slots=True)
class InitiativeResumed:
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class NoteAdded:
    text: str


@dataclass(frozen=True, slots=True)
class PhaseOverdue:
    """The time of a phase visit not on hold passed the phase's ``max_days`` (once per visit)."""

    phase: str
    visit: int
    max_days: int
    overdue_since: str
    """When it passed ``max_days`` (ISO 8601, UTC); the event is recorded when a sweep notices."""


@dataclass(frozen=True, slots=True)
class WorkflowMigrated:
    """The initiative moved to another version of its workflow; its current visit goes on.

    The initiative lands in ``phase`` (its phase mapped by ``phase_map``, unmapped phases keep
    their id) as visit ``visit``. Done or waived items the landing phase no longer has, and
    sign-offs of gates that no longer leave it, drop out of the state (the history keeps them).
    """

    from_version: int
    to_version: int
    content_hash: str
    """Of the definition text migrated to: a fold checks it names the same text."""
    phase_map: Mapping[str, str]
    """Old phase id → new phase id, as the migration was given it."""
    phase: str
    visit: int
    dropped_items: tuple[str, ...] = ()
    dropped_approvals: tuple[str, ...] = ()
    """Triggers whose sign-offs of the current visit no longer apply."""


Event = (
    InitiativeCreated
    | ParticipantAdded
    | ItemTicked
    | ItemReopened
    | ItemWaived
    | GateApproved
    | PhaseChanged
    | InitiativeHeld
    | InitiativeResumed
    | NoteAdded
    | PhaseOverdue
    | WorkflowMigrated
)

EVENT_TYPES: Mapping[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        InitiativeCreated,
        ParticipantAdded,
        ItemTicked,
        ItemReopened,
        ItemWaived,
        GateApproved,
        PhaseChanged,
        InitiativeHeld,
        InitiativeResumed,
        NoteAdded,
        PhaseOverdue,
        WorkflowMigrated,
    )
}

_FIELDS: Mapping[type[Event], tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls)) for cls in EVENT_TYPES.values()
}


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event as it stands in the history: with its position, actor and time."""

    seq: int
    actor: str
    at: datetime
    event: Event


def event_type(event: Event) -> str:
    """The name an event is stored under."""
    return type(event).__name__


def event_payload(event: Event) -> dict[str, Any]:
    """The JSON payload of an event (tuples become lists, mappings plain dicts)."""
    payload: dict[str, Any] = {}
    for name in _FIELDS[type(event)]:
        value = getattr(event, name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)  # a copy: the payload must not share the event's mapping
        payload[name] = value
    return payload


def event_from_payload(type_name: str, schema_version: int, payload: Mapping[str, Any]) -> Event:
    """Rebuild an event from its stored type name, schema version and payload."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None or schema_version != SCHEMA_VERSION:
        raise StoreError(f"unknown event type {type_name!r} (schema version {schema_version})")
    values: dict[str, Any] = {
        name: tuple(value) if isinstance(value, list) else value for name, value in payload.items()
    }
    return cls(**values)
