"""The shared part of the services: database, workflows, clock, cache; state from storage."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import Definition
from kosiflow.engine import (
    TEXT_FIELDS,
    Event,
    InitiativeState,
    Recorded,
    event_from_payload,
    event_payload,
    event_type,
    fold,
    state_from_json,
    state_to_json,
)
from kosiflow.services.results import Clock, utc_now
from kosiflow.services.state_cache import StaleShare, StateCache
from kosiflow.store import (
    Database,
    EventRecord,
    EventText,
    Projection,
)
from kosiflow.store.texts import readable_payload, seal


def recorded(row: EventRecord) -> Recorded:
    """A stored event row (its texts put back) as the engine folds it."""
    event = event_from_payload(row.type, row.schema_version, readable_payload(row))
    return Recorded(row.seq, row.actor, row.at, event)


def sealed(event: Event) -> tuple[dict[str, Any], dict[str, EventText]]:
    """A new event's payload to hash, its evidence and notes replaced by commitments, and
    those texts to store beside it (``kosiflow.store.texts``)."""
    return seal(event_payload(event), TEXT_FIELDS.get(event_type(event), {}))


def projection_of(state: InitiativeState, head_hash: str) -> Projection:
    created = state.created_at
    updated = state.updated_at
    if created is None or updated is None:
        raise ValueError("only a created initiative has a projection")
    return Projection(
        initiative_id=state.initiative_id,
        workflow_id=state.definition.id,
        workflow_version=state.definition.version,
        parent_id=state.parent_id,
        title=state.title,
        phase=state.phase,
        on_hold=state.hold is not None,
        ended=state.has_ended,
        version=state.version,
        state=state_to_json(state),
        head_hash=head_hash,
        created_at=created,
        updated_at=updated,
    )


def people_in(state: InitiativeState) -> set[str]:
    """The people a progress view names: who ticked, participates, signed off, put on hold."""
    people = {item.by for item in state.checklist.values()} | set(state.participants)
    people |= {a.by for gate in state.approvals.values() for a in gate.values()}
    if state.hold is not None:
        people.add(state.hold.by)
    return people


class ServiceBase:
    """What every use case shares: the database, the workflows, the clock and the state cache."""

    def __init__(
        self, database: Database, catalog: WorkflowCatalog, *, clock: Clock = utc_now
    ) -> None:
        self.database = database
        self.catalog = catalog
        self._clock = clock
        self._states = StateCache()
        self._stale_share = StaleShare()

    def _definition(self, workflow_id: str, version: int) -> Definition:
        """The definition of a workflow version (the engine's ``DefinitionLookup``)."""
        return self.catalog.pinned(self.database, workflow_id, version)

    def _state_of(self, projection: Projection) -> InitiativeState:
        definition = self.catalog.pinned(
            self.database, projection.workflow_id, projection.workflow_version
        )
        return state_from_json(
            definition, projection.initiative_id, projection.version, projection.state
        )

    def _fold(self, projection: Projection, history: Iterable[EventRecord]) -> InitiativeState:
        """The state ``history`` leads to, each event under the workflow version in force at it
        (the history may have migrated from the version it was created under)."""
        definition = self._definition(projection.workflow_id, projection.workflow_version)
        records = (recorded(r) for r in history)
        return fold(definition, projection.initiative_id, records, self._definition)
