"""What the store reads and writes: plain records, independent of the engine's types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

JsonObject = Mapping[str, Any]
"""A JSON object as produced by ``json.loads`` (strings, numbers, bools, None, lists, objects)."""

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of every initiative's first event."""


@dataclass(frozen=True, slots=True)
class EventText:
    """A text of an event kept outside its hashed payload (schema ≥ 2; ``kosiflow.store.texts``).

    The payload holds ``{"sha256": sha256(salt || text)}`` in its place. Once the retention
    policy removed it, ``text`` and ``salt`` are None and ``removed_at`` says when.
    """

    category: str
    """The retention setting that applies: ``evidence`` or ``notes``."""
    text: str | None
    salt: str | None
    """Random, hex; at least 16 bytes."""
    removed_at: datetime | None = None


NO_TEXTS: Mapping[str, EventText] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended; the store gives it its seq and hashes."""

    type: str
    schema_version: int
    actor: str
    at: datetime
    """UTC, timezone-aware."""
    payload: JsonObject
    """As hashed: holding only the commitments of ``texts``."""
    texts: Mapping[str, EventText] = field(default_factory=lambda: NO_TEXTS)
    """Field → its text, stored beside the event in the same transaction."""


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One stored event row of an initiative's history."""

    initiative_id: str
    seq: int
    type: str
    schema_version: int
    actor: str
    at: datetime
    payload: JsonObject
    """As stored and hashed (from schema 2 on, texts as commitments: see ``texts``)."""
    prev_hash: str
    hash: str
    texts: Mapping[str, EventText] = field(default_factory=lambda: NO_TEXTS)
    """Field → the text kept outside the payload (``kosiflow.store.texts.readable_payload``
    puts them back)."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event row as stored, not decoded, with its texts: what an export writes.

    ``row`` has the columns of ``select_events``: initiative id, seq, type, schema version,
    actor, ``at`` (the ISO text it was hashed as, or a datetime), the payload as its canonical
    JSON text, prev_hash, hash.
    """

    row: Sequence[Any]
    texts: Mapping[str, EventText]


@dataclass(frozen=True, slots=True)
class StoredHead:
    """Where an initiative's history ends, as its projection records it."""

    initiative_id: str
    version: int
    hash: str


@dataclass(frozen=True, slots=True)
class Projection:
    """The initiatives row: the current state, a cache of the folded events."""

    initiative_id: str
    workflow_id: str
    workflow_version: int
    parent_id: str | None
    title: str
    phase: str
    on_hold: bool
    ended: bool
    version: int
    """Number of events in the history (= seq of the last one)."""
    state: JsonObject
    """The full folded state as JSON (the engine's ``state_to_json``)."""
    head_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredDefinition:
    workflow_id: str
    version: int
    content_hash: str
    text: str
    source_name: str


@dataclass(frozen=True, slots=True)
class Person:
    """Someone known to the lab by a pseudonymous id; ``name`` is "" once erased."""

    id: str
    name: str
    erased_at: datetime | None


@dataclass(frozen=True, slots=True)
class User:
    """Someone who may act; ``person_id`` is the pseudonymous id events record as actor."""

    id: str
    person_id: str
    name: str
    roles: tuple[str, ...]
    created_at: datetime
