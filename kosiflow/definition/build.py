"""Turning a validated raw file into the typed, immutable :class:`Definition`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from kosiflow.definition.model import (
    ChecklistItem,
    Definition,
    Phase,
    Requirements,
    Text,
    Transition,
)
from kosiflow.definition.raw import ANY_PHASE, RawDefinition, RawItem, RawPhase, RawTransition


def build_definition(raw: RawDefinition, *, text: str, source_name: str) -> Definition:
    """The model of ``raw``, which must already have passed every rule."""
    languages = tuple(raw.languages)
    return Definition(
        id=raw.id,
        version=raw.version,
        languages=languages,
        title=_text(raw.title, languages),
        description=_optional_text(raw.description, languages),
        roles={name: _text(title, languages) for name, title in raw.roles.items()},
        initial=raw.initial,
        phases=tuple(_phase(phase, languages) for phase in raw.phases),
        transitions=tuple(_transition(t, raw.phases, languages) for t in raw.transitions),
        source_text=text,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source_name=source_name,
    )


def _text(value: Mapping[str, str], languages: Sequence[str]) -> Text:
    return Text({lang: value[lang] for lang in languages})


def _optional_text(value: Mapping[str, str] | None, languages: Sequence[str]) -> Text | None:
    return None if value is None else _text(value, languages)


def _item(item: RawItem, languages: Sequence[str]) -> ChecklistItem:
    return ChecklistItem(
        id=item.id,
        title=_text(item.title, languages),
        roles=tuple(item.roles),
        evidence=item.evidence,
        optional=item.optional,
        waivable_by=tuple(item.waivable_by),
        description=_optional_text(item.description, languages),
    )


def _phase(phase: RawPhase, languages: Sequence[str]) -> Phase:
    return Phase(
        id=phase.id,
        title=_text(phase.title, languages),
        checklist=tuple(_item(item, languages) for item in phase.checklist),
        final=phase.final,
        max_days=phase.max_days,
        description=_optional_text(phase.description, languages),
    )


def _transition(
    transition: RawTransition, phases: Sequence[RawPhase], languages: Sequence[str]
) -> Transition:
    requires = transition.requires
    return Transition(
        trigger=transition.trigger,
        sources=transition.source_ids(phases),
        target=transition.to,
        roles=tuple(transition.roles),
        requires=Requirements(
            checklist=requires.checklist,
            approvals=tuple(requires.approvals),
            sectors=requires.sectors,
        ),
        reason=transition.reason,
        auto=transition.auto,
        from_any=transition.sources == ANY_PHASE,
        title=_optional_text(transition.title, languages),
    )
