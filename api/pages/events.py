"""Each recorded event in words, beside the person's own words (reasons, evidence, notes)."""

from collections.abc import Mapping
from dataclasses import dataclass

from api.pages.formats import Evidence, evidence_of, kept, person
from api.pages.wording import Wording
from kosiflow.definition import Definition
from kosiflow.engine import Event
from kosiflow.engine.events import (
    GateApproved,
    InitiativeCreated,
    InitiativeHeld,
    InitiativeResumed,
    ItemReopened,
    ItemTicked,
    ItemWaived,
    NoteAdded,
    ParticipantAdded,
    PhaseChanged,
    PhaseOverdue,
    Text,
    TextsRemoved,
    WorkflowMigrated,
)


@dataclass(frozen=True, slots=True)
class Detail:
    label: str
    value: Evidence
    """Text, and a link only for evidence that is an http(s) URL."""


@dataclass(frozen=True, slots=True)
class Described:
    sentence: str
    details: tuple[Detail, ...]


class _Words(Wording):
    """The workflow's words (:class:`Wording`) and the details people wrote beside an event."""

    def detail(self, key: str, value: Text | None, *, link: bool = False) -> tuple[Detail, ...]:
        """A person's words beside an event (a removed text as the words of its removal)."""
        if value is None:
            return ()
        shown = evidence_of(value, self.lang) if link else Evidence(kept(value, self.lang), None)
        return (Detail(self.text(f"detail.{key}"), shown),)


def _item_event(event: ItemTicked | ItemReopened | ItemWaived, w: _Words) -> Described:
    item = w.item(event.phase, event.item)
    match event:
        case ItemTicked():
            details = w.detail("evidence", event.evidence, link=True) + w.detail("note", event.note)
            return Described(w.text("event.ticked", item=item), details)
        case ItemReopened():
            withdrawn = ", ".join(w.trigger(t) for t in event.invalidated_approvals) or None
            details = w.detail("reason", event.reason) + w.detail("withdrawn", withdrawn)
            return Described(w.text("event.reopened", item=item), details)
        case ItemWaived():
            return Described(w.text("event.waived", item=item), w.detail("reason", event.reason))


def _phase_changed(event: PhaseChanged, w: _Words) -> Described:
    key = "event.moved_automatically" if event.automatic else "event.moved"
    sentence = w.text(
        key,
        source=w.phase(event.source),
        target=w.phase(event.target),
        trigger=w.trigger(event.trigger),
        visit=event.visit,
    )
    cause = None if event.cause_seq is None else w.text("event.cause", seq=event.cause_seq)
    return Described(sentence, w.detail("reason", event.reason) + w.detail("cause", cause))


def _texts_removed(event: TextsRemoved, w: _Words) -> Described:
    note = w.text("detail.note")
    labels = {"evidence": w.text("detail.evidence"), "note": note, "text": note}
    texts = ", ".join(
        w.text("event.removed_text", field=labels.get(field, field), seq=seq)
        for seq, field in event.removed
    )
    return Described(w.text("event.texts_removed", count=len(event.removed), texts=texts), ())


def _upkeep_event(event: PhaseOverdue | WorkflowMigrated | TextsRemoved, w: _Words) -> Described:
    """What kosiflow's upkeep recorded: a deadline passed, a move to another workflow version,
    texts removed under the retention policy."""
    if isinstance(event, TextsRemoved):
        return _texts_removed(event, w)
    if isinstance(event, PhaseOverdue):
        return Described(
            w.text("event.overdue", phase=w.phase(event.phase), days=event.max_days), ()
        )
    sentence = w.text("event.migrated", version=event.to_version, phase=w.phase(event.phase))
    return Described(sentence, ())


def describe_event(
    event: Event, definition: Definition, names: Mapping[str, str], lang: str
) -> Described:
    """What ``event`` says, as a sentence in ``lang`` and the details people wrote."""
    w = _Words(definition, lang)
    match event:
        case InitiativeCreated():
            sentence = w.text(
                "event.created",
                title=event.title,
                phase=w.phase(event.phase),
                version=event.workflow_version,
            )
            return Described(sentence, w.detail("description", event.description))
        case ParticipantAdded():
            name = person(names, event.participant_id, w.lang)
            return Described(
                w.text("event.participant_added", name=name, role=w.role(event.role)), ()
            )
        case ItemTicked() | ItemReopened() | ItemWaived():
            return _item_event(event, w)
        case GateApproved():
            sentence = w.text(
                "event.approved", trigger=w.trigger(event.trigger), role=w.role(event.role)
            )
            return Described(sentence, w.detail("note", event.note))
        case PhaseChanged():
            return _phase_changed(event, w)
        case InitiativeHeld():
            return Described(w.text("event.held"), w.detail("reason", event.reason))
        case InitiativeResumed():
            return Described(w.text("event.resumed"), w.detail("reason", event.reason))
        case NoteAdded():
            return Described(w.text("event.noted"), w.detail("note", event.text))
        case PhaseOverdue() | WorkflowMigrated() | TextsRemoved():
            return _upkeep_event(event, w)
