"""The auditor's report of one initiative, as a view: what it is and where it stands, every
decision with its reason, every sign-off, every piece of evidence, the phase visits, every event
in words, and whether the hash chain holds — all from one :class:`Timeline`."""

from collections.abc import Iterator
from dataclasses import dataclass

from api.pages.formats import Evidence, When, evidence_of, kept, person, when
from api.pages.history import HistoryView, history_view
from api.pages.wording import Wording
from kosiflow.engine import Event
from kosiflow.engine.events import (
    GateApproved,
    InitiativeCreated,
    InitiativeHeld,
    InitiativeResumed,
    ItemReopened,
    ItemTicked,
    PhaseChanged,
)
from kosiflow.services import Timeline, TimelineEvent


@dataclass(frozen=True, slots=True)
class DecisionView:
    seq: int
    at: When
    who: str
    step: str
    source: str
    target: str
    visit: int
    reason: str | None
    automatic_by: int | None
    """For an automatic step: the event that opened its gate."""
    automatic: bool


@dataclass(frozen=True, slots=True)
class ApprovalRow:
    seq: int
    at: When
    who: str
    step: str
    role: str
    phase: str
    note: str | None
    withdrawn_by: int | None
    """The event (a reopened item) that voided this sign-off, if one did."""


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    seq: int
    at: When
    who: str
    phase: str
    item: str
    evidence: Evidence
    """Text, and a link only for an http(s) URL (the text is the address: printed as it is)."""


@dataclass(frozen=True, slots=True)
class ReportView:
    id: str
    title: str
    description: str | None
    workflow_id: str
    workflow_title: str
    workflow_version: int
    created: When
    phase: str
    visit: int
    on_hold: bool
    generated: When
    chain_version: int
    """The seq of the last event: the head the hash below belongs to."""
    decisions: tuple[DecisionView, ...]
    approvals: tuple[ApprovalRow, ...]
    evidence: tuple[EvidenceRow, ...]
    history: HistoryView
    """Every event in words, the phase visits and the chain check (as the history page)."""


def _told(timeline: Timeline, lang: str) -> Iterator[tuple[Event, int, When, str]]:
    """Each event with what every row of the report begins with: its seq, when and who."""
    for entry in timeline.events:
        record = entry.record
        who = person(timeline.names, record.actor, lang)
        yield entry.recorded.event, record.seq, when(record.at, lang), who


def _decisions(timeline: Timeline, w: Wording) -> tuple[DecisionView, ...]:
    return tuple(
        DecisionView(
            seq=seq,
            at=at,
            who=who,
            step=w.trigger(event.trigger),
            source=w.phase(event.source),
            target=w.phase(event.target),
            visit=event.visit,
            reason=event.reason,
            automatic_by=event.cause_seq,
            automatic=event.automatic,
        )
        for event, seq, at, who in _told(timeline, w.lang)
        if isinstance(event, PhaseChanged)
    )


def _withdrawals(events: tuple[TimelineEvent, ...]) -> dict[int, int]:
    """Seq of each sign-off that a later reopened item voided → seq of that reopening."""
    given: dict[tuple[str, int, str], list[int]] = {}
    voided: dict[int, int] = {}
    for entry in events:
        event, seq = entry.recorded.event, entry.record.seq
        if isinstance(event, GateApproved):
            given.setdefault((event.phase, event.visit, event.trigger), []).append(seq)
        elif isinstance(event, ItemReopened):
            for trigger in event.invalidated_approvals:
                for approval in given.pop((event.phase, event.visit, trigger), []):
                    voided[approval] = seq
    return voided


def _approvals(timeline: Timeline, w: Wording) -> tuple[ApprovalRow, ...]:
    voided = _withdrawals(timeline.events)
    return tuple(
        ApprovalRow(
            seq=seq,
            at=at,
            who=who,
            step=w.trigger(event.trigger),
            role=w.role(event.role),
            phase=w.phase(event.phase),
            note=None if event.note is None else kept(event.note, w.lang),
            withdrawn_by=voided.get(seq),
        )
        for event, seq, at, who in _told(timeline, w.lang)
        if isinstance(event, GateApproved)
    )


def _evidence(timeline: Timeline, w: Wording) -> tuple[EvidenceRow, ...]:
    return tuple(
        EvidenceRow(
            seq=seq,
            at=at,
            who=who,
            phase=w.phase(event.phase),
            item=w.item(event.phase, event.item),
            evidence=evidence_of(event.evidence, w.lang),
        )
        for event, seq, at, who in _told(timeline, w.lang)
        if isinstance(event, ItemTicked) and event.evidence is not None
    )


def _is_on_hold(events: tuple[TimelineEvent, ...]) -> bool:
    """Whether the last hold of the history has not been resumed."""
    held = False
    for entry in events:
        if isinstance(entry.recorded.event, InitiativeHeld | InitiativeResumed):
            held = isinstance(entry.recorded.event, InitiativeHeld)
    return held


def report_view(timeline: Timeline, lang: str) -> ReportView:
    """The report of the initiative ``timeline`` tells, in ``lang``."""
    definition = timeline.definition
    w = Wording(definition, lang)
    first = timeline.events[0]
    created = first.recorded.event
    description = created.description if isinstance(created, InitiativeCreated) else None
    last_visit = timeline.visits[-1]
    return ReportView(
        id=timeline.initiative_id,
        title=timeline.title,
        description=description,
        workflow_id=definition.id,
        workflow_title=definition.title.in_(lang),
        workflow_version=definition.version,
        created=when(first.record.at, lang),
        phase=w.phase(last_visit.phase),
        visit=last_visit.visit,
        on_hold=_is_on_hold(timeline.events),
        generated=when(timeline.checked_at, lang),
        chain_version=timeline.events[-1].record.seq,
        decisions=_decisions(timeline, w),
        approvals=_approvals(timeline, w),
        evidence=_evidence(timeline, w),
        history=history_view(timeline, lang),
    )
