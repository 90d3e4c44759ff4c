"""Events: the facts recorded in an initiative's history (past-tense names).

Each event type is stored under its class name with a schema version; payloads hold only ids and
the lab's own words, never a person's name (people are referred to by pseudonymous ids).

Schema versions: 1 kept every text inside the hashed payload. From 2 on, the texts of
:data:`TEXT_FIELDS` (evidence links and notes) are kept outside it, in the store's texts table,
and the hashed payload holds only a salted SHA-256 commitment to each (``{"sha256": …}``), so
that a retention policy can remove a text without breaking the hash chain. Reading an event
puts its texts back (:func:`event_from_payload` takes that readable payload); a text removed
under the policy reads as :class:`RemovedText`. Schema-1 events read as they are: their texts
cannot be removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from kosiflow.errors import StoreError

SCHEMA_VERSION = 2
"""The schema version new events are recorded under (1 is still read, see the module doc)."""

READABLE_SCHEMA_VERSIONS = (1, 2)

TEXT_FIELDS: Mapping[str, Mapping[str, str]] = {
    "ItemTicked": {"evidence": "evidence", "note": "notes"},
    "GateApproved": {"note": "notes"},
    "NoteAdded": {"text": "notes"},
}
"""Event type → field → retention category: the texts kept outside the hashed payload.

Evidence links and free notes only. Reasons (of a reopening, a waiver, a transition, a hold)
stay in the hashed payload: they are the grounds of decisions an auditor must be able to read
for as long as the history is kept; titles and descriptions name the initiative.
"""

RETENTION_CATEGORIES = ("evidence", "notes")
"""The kinds of text a retention setting applies to."""

REMOVED_SUFFIX = "_removed_at"
"""In a readable payload, ``<field>_removed_at`` beside a null ``<field>``: when the text was
removed under the retention policy (null: missing without a recorded removal)."""


@dataclass(frozen=True, slots=True)
class RemovedText:
    """In place of a text that is no longer kept: removed under the retention policy ``at``
    (None: missing from the texts table without a recorded removal — ``verify`` names it)."""

    at: datetime | None


Text = str | RemovedText
"""A text of :data:`TEXT_FIELDS` as read: the text itself, or the mark of its removal."""


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
    evidence: Text | None = None
    note: Text | None = None


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
    note: Text | None = None


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
    text: Text


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


@dataclass(frozen=True, slots=True)
class TextsRemoved:
    """Texts of earlier events were removed under the retention policy (actor: the system).

    ``removed`` names each as (seq, field); the days are the settings applied (None: kept
    forever). The commitments stay in the removed texts' events, so every chain still verifies.
    """

    removed: tuple[tuple[int, str], ...]
    evidence_days: int | None = None
    notes_days: int | None = None


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
    | TextsRemoved
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
        TextsRemoved,
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


def _listed(value: Any) -> Any:
    return [_listed(v) for v in value] if isinstance(value, tuple) else value


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


def event_payload(event: Event) -> dict[str, Any]:
    """The JSON payload of an event with its texts inline (tuples become lists, mappings plain
    dicts). A new event's texts are a recorded text, never a :class:`RemovedText`."""
    payload: dict[str, Any] = {}
    for name in _FIELDS[type(event)]:
        value = getattr(event, name)
        if isinstance(value, tuple):
            value = _listed(value)
        elif isinstance(value, dict):
            value = dict(value)  # a copy: the payload must not share the event's mapping
        elif isinstance(value, RemovedText):
            raise ValueError(f"{type(event).__name__}.{name}: a removed text cannot be recorded")
        payload[name] = value
    return payload


def event_from_payload(type_name: str, schema_version: int, payload: Mapping[str, Any]) -> Event:
    """Rebuild an event from its stored type name, schema version and readable payload (its
    texts put back: a text, or null with ``<field>_removed_at`` once removed)."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None or schema_version not in READABLE_SCHEMA_VERSIONS:
        raise StoreError(f"unknown event type {type_name!r} (schema version {schema_version})")
    values: dict[str, Any] = {}
    for name, value in payload.items():
        if name.endswith(REMOVED_SUFFIX) and name not in _FIELDS[cls]:
            field = name.removesuffix(REMOVED_SUFFIX)
            values[field] = RemovedText(None if value is None else datetime.fromisoformat(value))
        elif name not in values:
            values[name] = _tupled(value)
    return cls(**values)
