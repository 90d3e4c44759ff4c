"""The engine: commands, events, state folding, guards and the pure ``decide``."""

from kosiflow.engine.blockers import Blocker
from kosiflow.engine.commands import (
    MIGRATION_ROLES,
    SYSTEM,
    SYSTEM_ACTOR,
    Actor,
    AddNote,
    AddParticipant,
    ApproveGate,
    Command,
    CreateInitiative,
    FireTrigger,
    Hold,
    MigrateWorkflow,
    RecordOverdue,
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
from kosiflow.engine.migration import landing_phase
from kosiflow.engine.overdue import overdue_command
from kosiflow.engine.state import (
    DefinitionLookup,
    InitiativeState,
    apply,
    fold,
    state_from_json,
    state_to_json,
)

__all__ = [
    "MIGRATION_ROLES",
    "SCHEMA_VERSION",
    "SYSTEM",
    "SYSTEM_ACTOR",
    "Actor",
    "AddNote",
    "AddParticipant",
    "ApproveGate",
    "Blocker",
    "Command",
    "CreateInitiative",
    "DefinitionLookup",
    "Event",
    "FireTrigger",
    "Hold",
    "InitiativeState",
    "MigrateWorkflow",
    "Outcome",
    "RecordOverdue",
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
    "landing_phase",
    "machine_for",
    "overdue_command",
    "state_from_json",
    "state_to_json",
    "triggers",
]
