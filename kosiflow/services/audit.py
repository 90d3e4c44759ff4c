"""What auditors ask of the histories: state at a moment, phase visits, exports, phase durations."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from kosiflow.engine import InitiativeState, fold, triggers
from kosiflow.engine.visits import PhaseVisit, phase_visits
from kosiflow.errors import BadInput, HistoryCorrupted, NotFound
from kosiflow.services.base import ServiceBase, people_in, projection_of, recorded
from kosiflow.services.heads import ChainHead, HeadFinding
from kosiflow.services.results import Progress
from kosiflow.services.statistics import PhaseStatistics, PhaseStatisticsBuilder
from kosiflow.store import (
    EventRecord,
    Projection,
    ReadUnit,
    StoredEvent,
    VerifyResult,
)
from kosiflow.store.columns import from_db_time
from kosiflow.store.texts import verify_history, verify_stored_history
from kosiflow.store.units import event_record


@dataclass(frozen=True, slots=True)
class ImportReport:
    initiatives: int
    events: int


class AuditServices(ServiceBase):
    """Reading histories the way auditors do. Every answer is folded from the events."""

    def state_at(self, initiative_id: str, at: datetime) -> InitiativeState:
        """The initiative as it was at ``at`` (its events up to and including that moment)."""
        if at.tzinfo is None:
            raise BadInput("at", "give a time with its offset, e.g. 2026-05-01T12:00:00Z")
        with self.database.read() as unit:
            projection = unit.load_projection(initiative_id)
            if projection is None:
                raise NotFound("initiative", initiative_id)
            if at < projection.created_at:
                raise BadInput("at", f"the initiative was created later ({projection.created_at})")
            history = [r for r in unit.events(initiative_id) if r.at <= at]
            return self._fold(projection, history)

    def progress_at(self, initiative_id: str, at: datetime) -> Progress:
        """The progress view of :meth:`state_at` (blockers as they were then, for anyone)."""
        state = self.state_at(initiative_id, at)
        with self.database.read() as unit:
            names = unit.person_names(sorted(people_in(state)))
        return Progress(state, tuple(triggers(state, None)), names)

    def visits(self, initiative_id: str) -> list[PhaseVisit]:
        """Every phase visit of the initiative, with entered/left, movers and time on hold."""
        with self.database.read() as unit:
            if unit.load_projection(initiative_id) is None:
                raise NotFound("initiative", initiative_id)
            return phase_visits((recorded(r) for r in unit.events(initiative_id)), self._clock())

    def export(
        self,
        *,
        workflow_id: str | None = None,
        initiative_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[EventRecord]:
        """Every event matching the filters, initiative by initiative (in order of creation)
        in seq order, streamed from one statement with flat memory."""
        stored = self.export_stored(
            workflow_id=workflow_id, initiative_id=initiative_id, since=since, until=until
        )
        return (event_record(event) for event in stored)

    def export_stored(
        self,
        *,
        workflow_id: str | None = None,
        initiative_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[StoredEvent]:
        """:meth:`export` as stored, not decoded: what ``export_lines`` writes fastest."""
        with self.database.read() as unit:
            if initiative_id is not None and unit.load_projection(initiative_id) is None:
                raise NotFound("initiative", initiative_id)
            events = unit.all_stored_events(workflow_id=workflow_id, initiative_id=initiative_id)
            if since is None and until is None:
                yield from events
                return
            for event in events:
                at = from_db_time(event.row[5])
                if (since is None or at >= since) and (until is None or at < until):
                    yield event

    def verify_all(self) -> Iterator[tuple[str, VerifyResult]]:
        """Every initiative's hash chain checked up to the head its projection records, in
        order of creation; streamed from one statement (one read transaction, flat memory)."""
        with self.database.read() as unit:
            texts_of = unit.texts_lookup()
            for head, rows in unit.histories():
                texts = texts_of(head.initiative_id)
                yield (
                    head.initiative_id,
                    verify_stored_history(rows, texts, head_hash=head.hash, version=head.version),
                )

    def import_history(self, records: Iterable[EventRecord]) -> ImportReport:
        """Store exported histories in an empty database, each verified and folded; all or
        nothing. Every initiative's workflow version must be among the loaded workflows with
        the hash it was recorded under."""
        initiatives = events = 0
        with self.database.write() as unit:
            if next(unit.initiative_ids(), None) is not None:
                raise BadInput("import", "needs an empty database (no initiatives)")
            for initiative_id, group in itertools.groupby(records, lambda r: r.initiative_id):
                history = list(group)
                unit.import_history(self._imported(initiative_id, history), history)
                initiatives += 1
                events += len(history)
        return ImportReport(initiatives, events)

    def _imported(self, initiative_id: str, history: list[EventRecord]) -> Projection:
        """The fold of an imported history, after checking its chain, its texts against their
        commitments, and its workflow."""
        check = verify_history(history)
        if not check.ok:
            raise HistoryCorrupted(initiative_id, check.first_bad_seq or 0, check.problem or "")
        created = history[0].payload
        definition = self.catalog.pinned(
            self.database, str(created["workflow_id"]), int(created["workflow_version"])
        )
        if definition.content_hash != created["content_hash"]:
            raise BadInput(
                initiative_id,
                f"was recorded under another text of {definition.id} v{definition.version} "
                "than the loaded workflow file",
            )
        state = fold(definition, initiative_id, (recorded(r) for r in history), self._definition)
        return projection_of(state, history[-1].hash)

    def chain_heads(self) -> list[ChainHead]:
        """Every initiative's current head (version and hash of its last event)."""
        with self.database.read() as unit:
            return [ChainHead(h.initiative_id, h.version, h.hash) for h in unit.heads()]

    def check_heads(self, heads: Iterable[ChainHead]) -> list[HeadFinding]:
        """Initiatives whose history is broken or no longer passes through its recorded head."""
        findings: list[HeadFinding] = []
        with self.database.read() as unit:
            unit.snapshot()  # each projection's head as of its events' moment
            for head in heads:
                problem = self._head_problem(unit, head)
                if problem is not None:
                    findings.append(HeadFinding(head.initiative_id, problem))
        return findings

    @staticmethod
    def _head_problem(unit: ReadUnit, head: ChainHead) -> str | None:
        projection = unit.load_projection(head.initiative_id)
        if projection is None:
            return "the initiative is gone"
        history = list(unit.events(head.initiative_id))
        check = verify_history(history, head_hash=projection.head_hash, version=projection.version)
        if not check.ok:
            return f"the chain is broken at event {check.first_bad_seq}: {check.problem}"
        if len(history) < head.version:
            return f"the history ends at event {len(history)}, the head was event {head.version}"
        if history[head.version - 1].hash != head.hash:
            return f"event {head.version} no longer carries the recorded hash: history rewritten"
        return None

    def phase_statistics(self) -> list[PhaseStatistics]:
        """Per workflow and phase: visits, median and 90th-percentile days, current and overdue
        initiatives, rework and the slowest requirement (:mod:`kosiflow.services.statistics`)."""
        builder = PhaseStatisticsBuilder(self._clock())
        with self.database.read() as unit:
            for initiative_id in list(unit.initiative_ids()):
                projection = unit.load_projection(initiative_id)
                if projection is None:
                    continue
                definition = self.catalog.pinned(
                    self.database, projection.workflow_id, projection.workflow_version
                )
                builder.add(definition, (recorded(r) for r in unit.events(initiative_id)))
        return builder.result()
