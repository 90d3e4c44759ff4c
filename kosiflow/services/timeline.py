"""An initiative's history as an auditor reads it: every event, each visit of a phase (with time
on hold), and whether the hash chain is intact — all read in one transaction, so they agree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from kosiflow.definition import Definition
from kosiflow.engine import Recorded
from kosiflow.engine.events import ParticipantAdded
from kosiflow.engine.visits import PhaseVisit, phase_visits
from kosiflow.errors import NotFound
from kosiflow.services.base import ServiceBase, recorded
from kosiflow.store import EventRecord, VerifyResult
from kosiflow.store.texts import verify_history


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One stored event (with its hashes) and what it says."""

    record: EventRecord
    recorded: Recorded


@dataclass(frozen=True, slots=True)
class Timeline:
    initiative_id: str
    title: str
    definition: Definition
    events: tuple[TimelineEvent, ...]
    names: Mapping[str, str]
    """Person id → display name, for actors and participants."""
    visits: tuple[PhaseVisit, ...]
    checked_at: datetime
    """When the timeline was read: open visits and holds are measured up to it."""
    chain: VerifyResult
    head_hash: str
    """The hash the projection names as the last event's."""


class TimelineQueries(ServiceBase):
    """The auditor's view of one initiative."""

    def timeline(self, initiative_id: str) -> Timeline:
        """The history, phase visits and hash-chain check of one initiative."""
        now = self._clock()
        with self.database.read() as unit:
            unit.snapshot()  # the head the chain is checked against is the events' own
            projection = unit.load_projection(initiative_id)
            if projection is None:
                raise NotFound("initiative", initiative_id)
            records = list(unit.events(initiative_id))
            events = tuple(TimelineEvent(r, recorded(r)) for r in records)
            people = {r.actor for r in records} | {
                e.recorded.event.participant_id
                for e in events
                if isinstance(e.recorded.event, ParticipantAdded)
            }
            names = unit.person_names(sorted(people))
        return Timeline(
            initiative_id=initiative_id,
            title=projection.title,
            definition=self.catalog.pinned(
                self.database, projection.workflow_id, projection.workflow_version
            ),
            events=events,
            names=names,
            visits=tuple(phase_visits((e.recorded for e in events), now)),
            checked_at=now,
            chain=verify_history(
                records, head_hash=projection.head_hash, version=projection.version
            ),
            head_hash=projection.head_hash,
        )
