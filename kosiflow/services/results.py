"""What the use cases answer: command results, progress, rebuild reports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from kosiflow.definition import Definition
from kosiflow.engine import (
    InitiativeState,
    TriggerStatus,
)
from kosiflow.errors import (
    HistoryCorrupted,
)

Clock = Callable[[], datetime]
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What an acknowledged command did; ``replayed`` when an idempotency key answered it."""

    initiative_id: str
    version: int
    events: tuple[str, ...]
    replayed: bool = False
    state: InitiativeState | None = field(default=None, compare=False, repr=False)
    """The state the command led to (not for a replayed one): the answer needs no read-back."""
    names: Mapping[str, str] | None = field(default=None, compare=False, repr=False)
    """The names of the people ``state`` names, when the write read them (a batched append
    on PostgreSQL): the answer then reads nothing at all."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a longer list: its items and how many the whole list holds."""

    items: tuple[T, ...]
    total: int


@dataclass(frozen=True, slots=True)
class Progress:
    """Everything a coordinator needs to see about one initiative, in one object."""

    state: InitiativeState
    triggers: tuple[TriggerStatus, ...]
    names: Mapping[str, str]
    """Person id → display name (for who ticked, signed, participates)."""

    @property
    def definition(self) -> Definition:
        return self.state.definition

    @property
    def percent_done(self) -> int:
        """Share of the current phase's required items done or waived (100 when it has none)."""
        required = [i for i in self.definition.phase(self.state.phase).checklist if not i.optional]
        if not required:
            return 100
        done = sum(1 for i in required if i.id in self.state.checklist)
        return round(100 * done / len(required))


@dataclass(frozen=True, slots=True)
class RebuildReport:
    initiatives: int
    differing: tuple[str, ...]
    """Initiatives whose stored projection differed from the fold (now replaced)."""
    corrupted: tuple[HistoryCorrupted, ...] = ()
    """Initiatives whose hash chain is broken (not folded, left as they are)."""
