"""Use cases: open a unit of work, load, decide, append. The CLI and the API call only these.

Every command runs in one transaction: its events, the new projection and the idempotency record
commit together or not at all. A refusal raises :class:`CommandRefused` and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from threading import Lock
from typing import Any

from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import Definition
from kosiflow.engine import (
    SCHEMA_VERSION,
    SYSTEM_ACTOR,
    Actor,
    AddNote,
    AddParticipant,
    ApproveGate,
    Command,
    CreateInitiative,
    FireTrigger,
    Hold,
    InitiativeState,
    Recorded,
    Refused,
    ReopenItem,
    Resume,
    TickItem,
    TriggerStatus,
    WaiveItem,
    apply,
    decide,
    event_from_payload,
    event_payload,
    event_type,
    fold,
    state_from_json,
    state_to_json,
    triggers,
)
from kosiflow.engine.events import Event, PhaseChanged
from kosiflow.errors import (
    BadInput,
    CommandRefused,
    ConcurrencyConflict,
    HistoryCorrupted,
    IdempotencyMismatch,
    NotFound,
    StaleHead,
)
from kosiflow.store import (
    Database,
    EventRecord,
    NewEvent,
    Projection,
    VerifyResult,
    WriteUnit,
    canonical_json,
    verify_chain,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What an acknowledged command did; ``replayed`` when an idempotency key answered it."""

    initiative_id: str
    version: int
    events: tuple[str, ...]
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Progress:
    """Everything a coordinator needs to see about one initiative, in one object."""

    state: InitiativeState
    triggers: tuple[TriggerStatus, ...]
    names: Mapping[str, str]
    """Person id → display name (for who ticked, signed, participates)."""

    @property
    def definition(self) -> Definition:
        return self.state.definition

    @property
    def percent_done(self) -> int:
        """Share of the current phase's required items done or waived (100 when it has none)."""
        required = [i for i in self.definition.phase(self.state.phase).checklist if not i.optional]
        if not required:
            return 100
        done = sum(1 for i in required if i.id in self.state.checklist)
        return round(100 * done / len(required))


@dataclass(frozen=True, slots=True)
class _Written:
    """A command's events appended in an open unit: its answer and the state it led to."""

    result: CommandResult
    state: InitiativeState
    head_hash: str


@dataclass(frozen=True, slots=True)
class RebuildReport:
    initiatives: int
    differing: tuple[str, ...]
    """Initiatives whose stored projection differed from the fold (now replaced)."""
    corrupted: tuple[HistoryCorrupted, ...] = ()
    """Initiatives whose hash chain is broken (not folded, left as they are)."""


def _encoded(projection: Projection) -> str:
    """A projection as canonical text, for byte-for-byte comparison."""
    return canonical_json(
        {
            **{f.name: getattr(projection, f.name) for f in fields(projection)},
            "created_at": projection.created_at.isoformat(),
            "updated_at": projection.updated_at.isoformat(),
        }
    )


def _record(row: EventRecord) -> Recorded:
    return Recorded(
        row.seq, row.actor, row.at, event_from_payload(row.type, row.schema_version, row.payload)
    )


Describe = Callable[[], Mapping[str, Any]]
"""What identifies a command for its idempotency key (computed only when a key is given)."""


def _fingerprint(key: str | None, initiative_id: str, describe: Describe) -> str | None:
    if key is None:
        return None
    text = json.dumps([initiative_id, describe()], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _projection(state: InitiativeState, head_hash: str) -> Projection:
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


class _StateCache:
    """The latest state of recently used initiatives, each with the head hash it folds to.

    A cached state is only a guess: a write assumes it and the store checks the guess where it
    moves the projection on (version and head hash, which covers every event of the history).
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._states: dict[str, tuple[str, InitiativeState]] = {}
        self._lock = Lock()

    def peek(self, initiative_id: str) -> tuple[str, InitiativeState] | None:
        return self._states.get(initiative_id)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def put(self, state: InitiativeState, head_hash: str) -> None:
        with self._lock:
            self._states.pop(state.initiative_id, None)
            self._states[state.initiative_id] = (head_hash, state)
            if len(self._states) > self._size:
                del self._states[next(iter(self._states))]


class Services:
    """kosiflow's use cases over one database and one workflow catalog."""

    def __init__(
        self, database: Database, catalog: WorkflowCatalog, *, clock: Clock = utc_now
    ) -> None:
        self.database = database
        self.catalog = catalog
        self._clock = clock
        self._states = _StateCache()

    # -- writing ---------------------------------------------------------------------------------

    def create(
        self,
        workflow_id: str,
        title: str,
        actor: Actor,
        *,
        parent_id: str | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """Start a new initiative under the newest version of ``workflow_id``."""
        definition = self.catalog.newest(workflow_id)
        command = CreateInitiative(title, parent_id=parent_id, description=description)
        fingerprint = _fingerprint(
            idempotency_key, "", lambda: {"create": workflow_id, **asdict(command)}
        )
        when = self._when(at)
        with self.database.write() as unit:
            replayed = self._replay(unit, actor, idempotency_key, fingerprint)
            if replayed is not None:
                return replayed
            if parent_id is not None and unit.load_projection(parent_id) is None:
                raise NotFound("initiative", parent_id)
            state = InitiativeState(str(uuid.uuid4()), definition)
            written = self._append(unit, state, self._decided(state, command, actor), actor, when)
            self._remember(unit, actor, idempotency_key, fingerprint, written.result)
        self._states.put(written.state, written.head_hash)
        return written.result

    def add_participant(
        self,
        initiative_id: str,
        name: str,
        role: str,
        actor: Actor,
        *,
        contact: str | None = None,
        **options: Any,
    ) -> CommandResult:
        """Add a participant; the name and contact are kept outside the history."""

        if not name.strip():
            raise BadInput("name", "the participant's name is empty")

        def build(unit: WriteUnit) -> Command:
            return AddParticipant(unit.add_person(name.strip(), contact), role)

        def describe() -> Mapping[str, Any]:
            return {"participant": name, "role": role, "contact": contact}

        return self._execute(initiative_id, build, describe, actor, **options)

    def tick(
        self,
        initiative_id: str,
        item: str,
        actor: Actor,
        *,
        evidence: str | None = None,
        note: str | None = None,
        **options: Any,
    ) -> CommandResult:
        return self._run(initiative_id, TickItem(item, evidence, note), actor, **options)

    def reopen(
        self, initiative_id: str, item: str, reason: str, actor: Actor, **options: Any
    ) -> CommandResult:
        return self._run(initiative_id, ReopenItem(item, reason), actor, **options)

    def waive(
        self, initiative_id: str, item: str, reason: str, actor: Actor, **options: Any
    ) -> CommandResult:
        return self._run(initiative_id, WaiveItem(item, reason), actor, **options)

    def approve(
        self,
        initiative_id: str,
        trigger: str,
        actor: Actor,
        *,
        role: str | None = None,
        note: str | None = None,
        **options: Any,
    ) -> CommandResult:
        return self._run(initiative_id, ApproveGate(trigger, role, note), actor, **options)

    def fire(
        self,
        initiative_id: str,
        trigger: str,
        actor: Actor,
        *,
        reason: str | None = None,
        **options: Any,
    ) -> CommandResult:
        return self._run(initiative_id, FireTrigger(trigger, reason), actor, **options)

    def hold(self, initiative_id: str, reason: str, actor: Actor, **options: Any) -> CommandResult:
        return self._run(initiative_id, Hold(reason), actor, **options)

    def resume(
        self, initiative_id: str, actor: Actor, *, reason: str | None = None, **options: Any
    ) -> CommandResult:
        return self._run(initiative_id, Resume(reason), actor, **options)

    def note(self, initiative_id: str, text: str, actor: Actor, **options: Any) -> CommandResult:
        return self._run(initiative_id, AddNote(text), actor, **options)

    def _run(
        self, initiative_id: str, command: Command, actor: Actor, **options: Any
    ) -> CommandResult:
        def describe() -> Mapping[str, Any]:
            return {type(command).__name__: asdict(command)}

        return self._execute(initiative_id, lambda _: command, describe, actor, **options)

    def _execute(
        self,
        initiative_id: str,
        build: Callable[[WriteUnit], Command],
        describe: Describe,
        actor: Actor,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        fingerprint = _fingerprint(idempotency_key, initiative_id, describe)
        when = self._when(at)
        with self.database.write() as unit:
            replayed = self._replay(unit, actor, idempotency_key, fingerprint)
            if replayed is not None:
                return replayed
            command = build(unit)
            written = self._on_cached_state(
                unit, initiative_id, command, actor, when, expected_version
            )
            if written is None:
                state = self._load_for_update(unit, initiative_id)
                if expected_version is not None and expected_version != state.version:
                    raise ConcurrencyConflict(initiative_id, expected_version, state.version)
                events = self._decided(state, command, actor)
                written = self._append(unit, state, events, actor, when)
            self._remember(unit, actor, idempotency_key, fingerprint, written.result)
        self._states.put(written.state, written.head_hash)  # only once committed
        return written.result

    def _on_cached_state(
        self,
        unit: WriteUnit,
        initiative_id: str,
        command: Command,
        actor: Actor,
        when: datetime,
        expected_version: int | None,
    ) -> _Written | None:
        """Apply the command to the cached state, if there is one and it is still current.

        Saves reading the projection on the hot path. The store checks the cached head where it
        moves the projection on; a refusal, a version mismatch or a stale head may all stem from
        a stale cache, so then None (nothing was written): the caller decides on the stored state.
        """
        cached = self._states.peek(initiative_id)
        if cached is None:
            return None
        head_hash, state = cached
        if expected_version is not None and expected_version != state.version:
            return None
        outcome = decide(state, command, actor)
        if isinstance(outcome, Refused):
            return None
        unit.assume_head(initiative_id, state.version, head_hash, state.phase)
        try:
            return self._append(unit, state, outcome, actor, when)
        except StaleHead:
            return None

    def _load_for_update(self, unit: WriteUnit, initiative_id: str) -> InitiativeState:
        projection = unit.load_projection(initiative_id)
        if projection is None:
            raise NotFound("initiative", initiative_id)
        return self._state_of(projection)

    def _state_of(self, projection: Projection) -> InitiativeState:
        definition = self.catalog.pinned(
            self.database, projection.workflow_id, projection.workflow_version
        )
        return state_from_json(
            definition, projection.initiative_id, projection.version, projection.state
        )

    @staticmethod
    def _decided(state: InitiativeState, command: Command, actor: Actor) -> list[Event]:
        outcome = decide(state, command, actor)
        if isinstance(outcome, Refused):
            raise CommandRefused(outcome.blockers)
        return outcome

    def _when(self, at: datetime | None) -> datetime:
        """The time events are recorded at: now, or a given aware time, in UTC."""
        if at is None:
            return self._clock()
        if at.tzinfo is None:
            raise BadInput("at", "a time needs its time zone (e.g. +00:00)")
        return at.astimezone(UTC)

    def _append(
        self,
        unit: WriteUnit,
        state: InitiativeState,
        events: list[Event],
        actor: Actor,
        when: datetime,
    ) -> _Written:
        new_events = [self._new_event(event, actor, when) for event in events]
        new_state = state
        for new, event in zip(new_events, events, strict=True):
            new_state = apply(new_state, Recorded(new_state.version + 1, new.actor, when, event))
        records = unit.append(_projection(new_state, ""), state.version, new_events)
        result = CommandResult(
            state.initiative_id, new_state.version, tuple(e.type for e in new_events)
        )
        return _Written(result, new_state, records[-1].hash)

    @staticmethod
    def _new_event(event: Event, actor: Actor, at: datetime) -> NewEvent:
        automatic = isinstance(event, PhaseChanged) and event.automatic
        return NewEvent(
            type=event_type(event),
            schema_version=SCHEMA_VERSION,
            actor=SYSTEM_ACTOR if automatic else actor.id,
            at=at,
            payload=event_payload(event),
        )

    @staticmethod
    def _replay(
        unit: WriteUnit, actor: Actor, key: str | None, fingerprint: str | None
    ) -> CommandResult | None:
        if key is None:
            return None
        found = unit.find_idempotent(actor.id, key)
        if found is None:
            return None
        stored_fingerprint, response = found
        if stored_fingerprint != fingerprint:
            raise IdempotencyMismatch(key)
        data = json.loads(response)
        return CommandResult(
            data["initiative_id"], data["version"], tuple(data["events"]), replayed=True
        )

    @staticmethod
    def _remember(
        unit: WriteUnit,
        actor: Actor,
        key: str | None,
        fingerprint: str | None,
        result: CommandResult,
    ) -> None:
        if key is None or fingerprint is None:
            return
        response = json.dumps(
            {
                "initiative_id": result.initiative_id,
                "version": result.version,
                "events": list(result.events),
            }
        )
        unit.remember_idempotent(actor.id, key, fingerprint, result.initiative_id, response)

    # -- reading ---------------------------------------------------------------------------------

    def state(self, initiative_id: str) -> InitiativeState:
        """The current state of an initiative, from its projection."""
        with self.database.read() as unit:
            projection = unit.load_projection(initiative_id)
        if projection is None:
            raise NotFound("initiative", initiative_id)
        return self._state_of(projection)

    def progress(self, initiative_id: str, actor: Actor | None = None) -> Progress:
        """Phase, checklist and, for each step from here, what blocks it now."""
        state = self.state(initiative_id)
        people = {item.by for item in state.checklist.values()} | set(state.participants)
        people |= {a.by for gate in state.approvals.values() for a in gate.values()}
        with self.database.read() as unit:
            names = unit.person_names(sorted(people))
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

    def history(self, initiative_id: str) -> Iterator[EventRecord]:
        """The initiative's events in order (streamed)."""
        with self.database.read() as unit:
            if unit.load_projection(initiative_id) is None:
                raise NotFound("initiative", initiative_id)
            yield from unit.events(initiative_id)

    def person_names(self, ids: list[str]) -> dict[str, str]:
        with self.database.read() as unit:
            return unit.person_names(ids)

    def verify(self, initiative_id: str) -> VerifyResult:
        """Check the hash chain of one initiative's history, up to the head its projection
        names (so a deleted last event is found too)."""
        with self.database.read() as unit:
            projection = unit.load_projection(initiative_id)
            if projection is None:
                raise NotFound("initiative", initiative_id)
            return verify_chain(
                unit.events(initiative_id),
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

    def _fold(self, projection: Projection, history: Iterable[EventRecord]) -> InitiativeState:
        definition = self.catalog.pinned(
            self.database, projection.workflow_id, projection.workflow_version
        )
        return fold(definition, projection.initiative_id, (_record(r) for r in history))

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
        check = verify_chain(history, head_hash=stored.head_hash, version=stored.version)
        if not check.ok:
            return HistoryCorrupted(
                initiative_id, check.first_bad_seq or 0, check.problem or "broken chain"
            )
        fresh = _projection(self._fold(stored, history), history[-1].hash)
        if _encoded(fresh) == _encoded(stored):
            return False
        unit.replace_projection(fresh)
        return True
