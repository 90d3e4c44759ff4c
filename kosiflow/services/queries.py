"""Reading: current state, progress, lists, histories; verifying and rebuilding."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields

from kosiflow.engine import (
    Actor,
    InitiativeState,
    triggers,
)
from kosiflow.errors import (
    HistoryCorrupted,
    NotFound,
)
from kosiflow.services.base import ServiceBase, people_in, projection_of
from kosiflow.services.results import CommandResult, Page, Progress, RebuildReport
from kosiflow.store import (
    EventRecord,
    Projection,
    VerifyResult,
    WriteUnit,
    canonical_json,
)
from kosiflow.store.texts import verify_history, verify_stored_history


def _encoded(projection: Projection) -> str:
    """A projection as canonical text, for byte-for-byte comparison."""
    return canonical_json(
        {
            **{f.name: getattr(projection, f.name) for f in fields(projection)},
            "created_at": projection.created_at.isoformat(),
            "updated_at": projection.updated_at.isoformat(),
        }
    )


class QueryServices(ServiceBase):
    """What people look at, and the checks of the history."""

    # -- reading ---------------------------------------------------------------------------------

    def state(self, initiative_id: str) -> InitiativeState:
        """The current state of an initiative, from its projection."""
        with self.database.read() as unit:
            projection = unit.load_projection(initiative_id)
        if projection is None:
            raise NotFound("initiative", initiative_id)
        return self._state_of(projection)

    def progress(self, initiative_id: str, actor: Actor | None = None) -> Progress:
        """Phase, checklist and, for each step from here, what blocks it now.

        State and names come from one read transaction (one round of BEGIN and COMMIT: this is
        the hot read of the API, bench/README.md).
        """
        with self.database.read() as unit:
            projection = unit.load_projection(initiative_id)
            if projection is None:
                raise NotFound("initiative", initiative_id)
            state = self._state_of(projection)
            names = unit.person_names(sorted(people_in(state)))
        return Progress(state, tuple(triggers(state, actor)), names)

    def list_initiatives(
        self,
        *,
        workflow_id: str | None = None,
        phase: str | None = None,
        parent_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Projection]:
        with self.database.read() as unit:
            return unit.list_projections(
                workflow_id=workflow_id,
                phase=phase,
                parent_id=parent_id,
                limit=limit,
                offset=offset,
            )

    def progress_after(self, result: CommandResult, actor: Actor | None = None) -> Progress:
        """The progress a write answers: right after the write (from the state its result
        carries: only the names are read, unless the write read them; without one, the
        current progress), or, for a request replayed under its idempotency key, right after
        the first request (its events folded up to the version that request produced), so
        that a repeat gets the first answer."""
        if result.state is not None:
            state = result.state
            names = result.names
            if names is None:
                with self.database.read() as unit:
                    names = unit.person_names(sorted(people_in(state)))
            return Progress(state, tuple(triggers(state, actor)), names)
        if not result.replayed:
            return self.progress(result.initiative_id, actor)
        with self.database.read() as unit:
            projection = unit.load_projection(result.initiative_id)
            if projection is None:
                raise NotFound("initiative", result.initiative_id)
            state = self._fold(projection, unit.events_until(result.initiative_id, result.version))
            names = unit.person_names(sorted(people_in(state)))
        return Progress(state, tuple(triggers(state, actor)), names)

    def initiative_page(
        self,
        *,
        workflow_id: str | None = None,
        phase: str | None = None,
        parent_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[Projection]:
        """One page of :meth:`list_initiatives` and how many initiatives match in all (both read
        in one transaction, so they agree)."""
        with self.database.read() as unit:
            found = unit.list_projections(
                workflow_id=workflow_id,
                phase=phase,
                parent_id=parent_id,
                limit=limit,
                offset=offset,
            )
            total = unit.count_projections(
                workflow_id=workflow_id, phase=phase, parent_id=parent_id
            )
        return Page(tuple(found), total)

    def history(self, initiative_id: str) -> Iterator[EventRecord]:
        """The initiative's events in order (streamed)."""
        with self.database.read() as unit:
            if unit.load_projection(initiative_id) is None:
                raise NotFound("initiative", initiative_id)
            yield from unit.events(initiative_id)

    def history_page(self, initiative_id: str, *, limit: int, offset: int) -> Page[EventRecord]:
        """At most ``limit`` of the initiative's events in order from ``offset`` (paged in the
        database), and how many events its history holds."""
        with self.database.read() as unit:
            if unit.load_projection(initiative_id) is None:
                raise NotFound("initiative", initiative_id)
            found = unit.events_page(initiative_id, limit=limit, offset=offset)
            total = unit.count_events(initiative_id)
        return Page(tuple(found), total)

    def person_names(self, ids: list[str]) -> dict[str, str]:
        with self.database.read() as unit:
            return unit.person_names(ids)

    def verify(self, initiative_id: str) -> VerifyResult:
        """Check the hash chain of one initiative's history, up to the head its projection
        names (so a deleted last event is found too)."""
        with self.database.read() as unit:
            unit.snapshot()  # the head, the events and their texts as of one moment
            projection = unit.load_projection(initiative_id)
            if projection is None:
                raise NotFound("initiative", initiative_id)
            return verify_stored_history(
                unit.stored_events(initiative_id),
                unit.event_texts(initiative_id),
                head_hash=projection.head_hash,
                version=projection.version,
            )

    def initiative_ids(self) -> list[str]:
        with self.database.read() as unit:
            return list(unit.initiative_ids())

    def fold(self, initiative_id: str) -> InitiativeState:
        """The state the history leads to (ignores the stored projection)."""
        with self.database.read() as unit:
            projection = unit.load_projection(initiative_id)
            if projection is None:
                raise NotFound("initiative", initiative_id)
            return self._fold(projection, unit.events(initiative_id))

    def rebuild(self, progress: Callable[[int], None] | None = None) -> RebuildReport:
        """Fold every history again and replace each projection that differs from its fold.

        A history whose hash chain is broken is not folded: it is reported as corrupted and
        its projection left as it is.
        """
        ids = self.initiative_ids()
        differing: list[str] = []
        corrupted: list[HistoryCorrupted] = []
        for initiative_id in ids:
            with self.database.write() as unit:
                outcome = self._rebuild_one(unit, initiative_id)
            if isinstance(outcome, HistoryCorrupted):
                corrupted.append(outcome)
            elif outcome:
                differing.append(initiative_id)
            if progress is not None:
                progress(1)
        self._states.clear()  # cached states may stem from a projection rebuild replaced
        return RebuildReport(len(ids), tuple(differing), tuple(corrupted))

    def _rebuild_one(self, unit: WriteUnit, initiative_id: str) -> bool | HistoryCorrupted:
        """Whether the projection differed (and was replaced), or why the history is broken."""
        stored = unit.load_projection(initiative_id)
        if stored is None:
            return False
        history = list(unit.events(initiative_id))
        check = verify_history(history, head_hash=stored.head_hash, version=stored.version)
        if not check.ok:
            return HistoryCorrupted(
                initiative_id, check.first_bad_seq or 0, check.problem or "broken chain"
            )
        fresh = projection_of(self._fold(stored, history), history[-1].hash)
        if _encoded(fresh) == _encoded(stored):
            return False
        unit.replace_projection(fresh)
        return True
