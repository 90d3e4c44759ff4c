"""The state of one initiative, folded from its events; and its JSON form (the projection).

``apply`` is the only place that knows how an event changes the state. The projection stored in
the database is ``state_to_json(fold(events))``; ``rebuild`` recomputes it and must get the same.

A state carries the definition it runs under. A history runs under the version its
``InitiativeCreated`` names until a ``WorkflowMigrated`` names another; folding such a history
needs a :data:`DefinitionLookup` to find those versions (the engine itself does no I/O).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from kosiflow.definition.model import Definition
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
    Recorded,
    RemovedText,
    Text,
    TextsRemoved,
    WorkflowMigrated,
)
from kosiflow.errors import StoreError

ItemStatus = Literal["done", "waived"]

DefinitionLookup = Callable[[str, int], Definition]
"""The definition of a workflow id and version (the services take it from their catalog)."""


@dataclass(frozen=True, slots=True)
class ItemState:
    """A checklist item of the current visit that is done or waived."""

    status: ItemStatus
    by: str
    at: datetime
    evidence: Text | None = None
    note: Text | None = None
    reason: str | None = None
    as_json: Mapping[str, Any] = field(init=False, repr=False, compare=False)
    """Its projection, built once: states share items, so each is encoded only once."""

    def __post_init__(self) -> None:
        as_json = {
            "status": self.status,
            "by": self.by,
            "at": self.at.isoformat(),
            **_text_json("evidence", self.evidence),
            **_text_json("note", self.note),
            "reason": self.reason,
        }
        object.__setattr__(self, "as_json", as_json)


def _text_json(name: str, value: Text | None) -> dict[str, Any]:
    """A text in the projection: itself; once removed, null and ``<name>_removed_at`` (only
    then, so that projections stored before retention existed equal their fold)."""
    if isinstance(value, RemovedText):
        return {name: None, f"{name}_removed_at": _time(value.at)}
    return {name: value}


def _text_of(data: Mapping[str, Any], name: str) -> Text | None:
    """The inverse of :func:`_text_json`."""
    removed = f"{name}_removed_at"
    if removed in data:
        return RemovedText(_parse_time(data[removed]))
    text: str | None = data[name]
    return text


@dataclass(frozen=True, slots=True)
class Approval:
    by: str
    at: datetime
    note: Text | None = None
    as_json: Mapping[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        as_json = {"by": self.by, "at": self.at.isoformat(), **_text_json("note", self.note)}
        object.__setattr__(self, "as_json", as_json)


@dataclass(frozen=True, slots=True)
class HoldState:
    reason: str
    by: str
    since: datetime


@dataclass(frozen=True, slots=True)
class InitiativeState:
    """Everything the rules look at. Never mutated: ``apply`` returns a new state."""

    initiative_id: str
    definition: Definition = field(compare=False)
    version: int = 0
    title: str = ""
    description: str | None = None
    parent_id: str | None = None
    phase: str = ""
    """Empty until the initiative is created."""
    visit: int = 0
    """Which visit of ``phase`` this is (1 on first entry, 2 after coming back once, ...)."""
    visits: Mapping[str, int] = field(default_factory=dict)
    phase_entered_at: datetime | None = None
    checklist: Mapping[str, ItemState] = field(default_factory=dict)
    """Items done or waived in the current visit, by item id."""
    approvals: Mapping[str, Mapping[str, Approval]] = field(default_factory=dict)
    """Sign-offs of the current visit: trigger → role → approval."""
    participants: Mapping[str, str] = field(default_factory=dict)
    """Participant id → the sector (role) they bring."""
    hold: HoldState | None = None
    overdue_since: datetime | None = None
    """When the current visit passed its phase's ``max_days``, once a sweep recorded it."""
    notes: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_created(self) -> bool:
        return self.version > 0

    @property
    def has_ended(self) -> bool:
        return self.is_created and self.definition.phase(self.phase).final

    @property
    def sectors(self) -> frozenset[str]:
        """The distinct sectors (roles) of the participants."""
        return frozenset(self.participants.values())


Changes = dict[str, Any]


def _entered(state: InitiativeState, phase: str, visit: int, at: datetime) -> Changes:
    return {
        "phase": phase,
        "visit": visit,
        "visits": {**state.visits, phase: visit},
        "phase_entered_at": at,
        "checklist": {},
        "approvals": {},
        "overdue_since": None,
    }


def _without(mapping: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    drop = set(keys)
    return {k: v for k, v in mapping.items() if k not in drop}


def _approved(state: InitiativeState, e: GateApproved, r: Recorded) -> Changes:
    gate = {**state.approvals.get(e.trigger, {}), e.role: Approval(r.actor, r.at, e.note)}
    return {"approvals": {**state.approvals, e.trigger: gate}}


def _definition(
    state: InitiativeState,
    definitions: DefinitionLookup | None,
    workflow_id: str,
    version: int,
    content_hash: str,
) -> Definition:
    """The definition an event names: the state's own, or one looked up and checked."""
    if state.definition.key == (workflow_id, version):
        return state.definition
    if definitions is None:
        raise StoreError(
            f"initiative {state.initiative_id} runs under {workflow_id} v{version}: "
            "folding its history needs that definition"
        )
    found = definitions(workflow_id, version)
    if found.content_hash != content_hash:
        raise StoreError(
            f"initiative {state.initiative_id} was recorded under another text of "
            f"{workflow_id} v{version} than the one stored"
        )
    return found


def _migrated(
    state: InitiativeState, e: WorkflowMigrated, definitions: DefinitionLookup | None
) -> Changes:
    """The visit goes on in the new version: visit counts follow the phase map."""
    workflow_id = state.definition.id
    visits: dict[str, int] = {}
    for phase, count in state.visits.items():
        mapped = e.phase_map.get(phase, phase)
        visits[mapped] = max(count, visits.get(mapped, 0))
    visits[e.phase] = e.visit
    return {
        "definition": _definition(state, definitions, workflow_id, e.to_version, e.content_hash),
        "phase": e.phase,
        "visit": e.visit,
        "visits": visits,
        "checklist": _without(state.checklist, e.dropped_items),
        "approvals": _without(state.approvals, e.dropped_approvals),
    }


def _changes(  # noqa: C901 -- one case per event
    state: InitiativeState, r: Recorded, definitions: DefinitionLookup | None
) -> Changes:
    e = r.event
    match e:
        case InitiativeCreated():
            created = {
                "definition": _definition(
                    state, definitions, e.workflow_id, e.workflow_version, e.content_hash
                ),
                "title": e.title,
                "description": e.description,
                "parent_id": e.parent_id,
                "created_at": r.at,
            }
            return created | _entered(state, e.phase, 1, r.at)
        case ParticipantAdded():
            return {"participants": {**state.participants, e.participant_id: e.role}}
        case ItemTicked():
            item = ItemState("done", r.actor, r.at, evidence=e.evidence, note=e.note)
            return {"checklist": {**state.checklist, e.item: item}}
        case ItemWaived():
            item = ItemState("waived", r.actor, r.at, reason=e.reason)
            return {"checklist": {**state.checklist, e.item: item}}
        case ItemReopened():
            return {
                "checklist": _without(state.checklist, [e.item]),
                "approvals": _without(state.approvals, e.invalidated_approvals),
            }
        case GateApproved():
            return _approved(state, e, r)
        case PhaseChanged():
            return _entered(state, e.target, e.visit, r.at)
        case InitiativeHeld():
            return {"hold": HoldState(e.reason, r.actor, r.at)}
        case InitiativeResumed():
            return {"hold": None}
        case NoteAdded():
            return {"notes": state.notes + 1}
        case PhaseOverdue():
            return {"overdue_since": datetime.fromisoformat(e.overdue_since)}
        case WorkflowMigrated():
            return _migrated(state, e, definitions)
        case TextsRemoved():
            return {}  # the events read their texts as removed already


_STATE_FIELDS = tuple(f.name for f in fields(InitiativeState))


def apply(
    state: InitiativeState, recorded: Recorded, definitions: DefinitionLookup | None = None
) -> InitiativeState:
    """The state after ``recorded`` (which must be the next event: seq = version + 1).

    ``definitions`` finds the definition an event names when it is not the state's own (a
    ``WorkflowMigrated``, or the ``InitiativeCreated`` of a history folded from a later version).
    """
    changes = _changes(state, recorded, definitions)
    changes["version"] = recorded.seq
    changes["updated_at"] = recorded.at
    # dataclasses.replace() re-runs __init__ over every field; on the hot path of every
    # command a direct copy of the (frozen, slotted) fields costs half as much.
    new = object.__new__(InitiativeState)
    for name in _STATE_FIELDS:
        object.__setattr__(new, name, changes[name] if name in changes else getattr(state, name))
    return new


def fold(
    definition: Definition,
    initiative_id: str,
    history: Iterable[Recorded],
    definitions: DefinitionLookup | None = None,
) -> InitiativeState:
    """The state an initiative's history leads to.

    Each event is folded under the definition version in force at it: the one the history was
    created under, then each one it migrated to (found through ``definitions``; ``definition``
    serves when the history names no other).
    """
    state = InitiativeState(initiative_id, definition)
    for recorded in history:
        state = apply(state, recorded, definitions)
    return state


# -- JSON form ---------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def state_to_json(state: InitiativeState) -> dict[str, Any]:
    """The projection of a state: plain JSON, deterministic for equal states.

    ``overdue_since`` appears only once a sweep recorded it, so that projections stored before
    deadlines were recorded still equal their rebuilt fold byte for byte.
    """
    data = {
        "title": state.title,
        "description": state.description,
        "parent_id": state.parent_id,
        "phase": state.phase,
        "visit": state.visit,
        "visits": dict(state.visits),
        "phase_entered_at": _time(state.phase_entered_at),
        "checklist": {k: v.as_json for k, v in state.checklist.items()},
        "approvals": {
            trigger: {role: a.as_json for role, a in by_role.items()}
            for trigger, by_role in state.approvals.items()
        },
        "participants": dict(state.participants),
        "hold": None
        if state.hold is None
        else {"reason": state.hold.reason, "by": state.hold.by, "since": _time(state.hold.since)},
        "notes": state.notes,
        "created_at": _time(state.created_at),
        "updated_at": _time(state.updated_at),
    }
    if state.overdue_since is not None:
        data["overdue_since"] = state.overdue_since.isoformat()
    return data


def state_from_json(
    definition: Definition, initiative_id: str, version: int, data: Mapping[str, Any]
) -> InitiativeState:
    """The state a projection describes (the inverse of :func:`state_to_json`)."""
    hold = data["hold"]
    return InitiativeState(
        initiative_id=initiative_id,
        definition=definition,
        version=version,
        title=data["title"],
        description=data["description"],
        parent_id=data["parent_id"],
        phase=data["phase"],
        visit=data["visit"],
        visits=data["visits"],
        phase_entered_at=_parse_time(data["phase_entered_at"]),
        checklist={
            k: ItemState(
                v["status"],
                v["by"],
                datetime.fromisoformat(v["at"]),
                _text_of(v, "evidence"),
                _text_of(v, "note"),
                v["reason"],
            )
            for k, v in data["checklist"].items()
        },
        approvals={
            trigger: {
                role: Approval(a["by"], datetime.fromisoformat(a["at"]), _text_of(a, "note"))
                for role, a in by_role.items()
            }
            for trigger, by_role in data["approvals"].items()
        },
        participants=data["participants"],
        hold=None
        if hold is None
        else HoldState(hold["reason"], hold["by"], datetime.fromisoformat(hold["since"])),
        overdue_since=_parse_time(data.get("overdue_since")),
        notes=data["notes"],
        created_at=_parse_time(data["created_at"]),
        updated_at=_parse_time(data["updated_at"]),
    )
