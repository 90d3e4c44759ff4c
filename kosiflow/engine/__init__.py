"""The engine: commands, events, state folding, guards and the pure ``decide``."""

from kosiflow.engine.blockers import Blocker
from kosiflow.engine.commands import (
    SYSTEM_ACTOR,
    Actor,
    AddNote,
    AddParticipant,
    ApproveGate,
    Command,
    CreateInitiative,
    FireTrigger,
    Hold,
    ReopenItem,
    Resume,
    TickItem,
    WaiveItem,
)
from kosiflow.engine.decide import Outcome, Refused, TriggerStatus, decide, triggers
from kosiflow.engine.events import (
    SCHEMA_VERSION,
    Event,
    Recorded,
    event_from_payload,
    event_payload,
    event_type,
)
from kosiflow.engine.machines import machine_for
from kosiflow.engine.state import InitiativeState, apply, fold, state_from_json, state_to_json

__all__ = [
    "SCHEMA_VERSION",
    "SYSTEM_ACTOR",
    "Actor",
    "AddNote",
    "AddParticipant",
    "ApproveGate",
    "Blocker",
    "Command",
    "CreateInitiative",
    "Event",
    "FireTrigger",
    "Hold",
    "InitiativeState",
    "Outcome",
    "Recorded",
    "Refused",
    "ReopenItem",
    "Resume",
    "TickItem",
    "TriggerStatus",
    "WaiveItem",
    "apply",
    "decide",
    "event_from_payload",
    "event_payload",
    "event_type",
    "fold",
    "machine_for",
    "state_from_json",
    "state_to_json",
    "triggers",
]
