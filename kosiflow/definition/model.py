"""The typed, immutable model of a workflow definition (format ``kosiflow/v1``).

A :class:`Definition` is built only by the loader (``kosiflow.definition.load``) after the YAML
file has been validated, so every reference in it (phases, roles, items) is known to resolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

EvidenceRule = Literal["required", "optional"]
ChecklistRule = Literal["complete", "none"]
ReasonRule = Literal["required", "optional", "none"]

FORMAT = "kosiflow/v1"
DEFAULT_ROLE = "coordinator"


@dataclass(frozen=True, slots=True)
class Text:
    """A text in every language of its definition."""

    by_lang: Mapping[str, str]

    def in_(self, lang: str) -> str:
        """The text in ``lang``, falling back to the first language the text has."""
        text = self.by_lang.get(lang)
        if text is None:
            return next(iter(self.by_lang.values()))
        return text


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    id: str
    title: Text
    roles: tuple[str, ...] = (DEFAULT_ROLE,)
    evidence: EvidenceRule = "optional"
    optional: bool = False
    waivable_by: tuple[str, ...] = ()
    description: Text | None = None


@dataclass(frozen=True, slots=True)
class Phase:
    id: str
    title: Text
    checklist: tuple[ChecklistItem, ...] = ()
    final: bool = False
    max_days: int | None = None
    description: Text | None = None
    _items: Mapping[str, ChecklistItem] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_items", {item.id: item for item in self.checklist})

    def item(self, item_id: str) -> ChecklistItem | None:
        """The checklist item ``item_id`` of this phase, or None."""
        return self._items.get(item_id)


@dataclass(frozen=True, slots=True)
class Requirements:
    """What must hold before a transition may fire (all of it)."""

    checklist: ChecklistRule = "complete"
    approvals: tuple[str, ...] = ()
    sectors: int = 0


@dataclass(frozen=True, slots=True)
class Transition:
    trigger: str
    sources: tuple[str, ...]
    """The phases it leaves from, with ``"*"`` already expanded to every non-final phase."""
    target: str
    roles: tuple[str, ...] = (DEFAULT_ROLE,)
    requires: Requirements = Requirements()
    reason: ReasonRule = "optional"
    auto: bool = False
    from_any: bool = False
    """True when the file said ``from: "*"``."""
    title: Text | None = None


@dataclass(frozen=True, slots=True)
class Definition:
    """One version of one workflow, as validated from its YAML text."""

    id: str
    version: int
    languages: tuple[str, ...]
    title: Text
    roles: Mapping[str, Text]
    initial: str
    phases: tuple[Phase, ...]
    transitions: tuple[Transition, ...]
    source_text: str
    """The full YAML text the definition was loaded from (stored with every initiative's pin)."""
    content_hash: str
    """SHA-256 (hex) of ``source_text`` encoded as UTF-8."""
    source_name: str = "<string>"
    description: Text | None = None
    _phases: Mapping[str, Phase] = field(init=False, repr=False, compare=False)
    _outgoing: Mapping[str, tuple[Transition, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_phases", {phase.id: phase for phase in self.phases})
        outgoing: dict[str, list[Transition]] = {phase.id: [] for phase in self.phases}
        for transition in self.transitions:
            for source in transition.sources:
                outgoing[source].append(transition)
        object.__setattr__(self, "_outgoing", {k: tuple(v) for k, v in outgoing.items()})

    @property
    def key(self) -> tuple[str, int]:
        """``(id, version)``: what an initiative is pinned to."""
        return (self.id, self.version)

    def phase(self, phase_id: str) -> Phase:
        """The phase ``phase_id``; raises KeyError for an unknown id."""
        return self._phases[phase_id]

    def has_phase(self, phase_id: str) -> bool:
        return phase_id in self._phases

    def transitions_from(self, phase_id: str) -> tuple[Transition, ...]:
        """Every transition that may leave ``phase_id``, in file order."""
        return self._outgoing.get(phase_id, ())

    def transition(self, trigger: str, phase_id: str) -> Transition | None:
        """The transition ``trigger`` from ``phase_id``, or None when there is none."""
        for transition in self.transitions_from(phase_id):
            if transition.trigger == trigger:
                return transition
        return None

    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger name, each once, in file order."""
        return tuple(dict.fromkeys(t.trigger for t in self.transitions))
