"""The commands: one transaction each — load (or take the cached state), decide, append.

A transaction that fails for a passing reason (serialization failure, deadlock, lost connection)
runs again, the command decided afresh (:mod:`kosiflow.services.retries`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from functools import partial
from typing import Any, TypedDict, Unpack

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
    WaiveItem,
    apply,
    decide,
    event_type,
)
from kosiflow.engine.events import Event, PhaseChanged
from kosiflow.errors import (
    BadInput,
    CommandRefused,
    ConcurrencyConflict,
    IdempotencyMismatch,
    KosiflowError,
    NotFound,
    StaleHead,
    StoreUnavailable,
)
from kosiflow.services.base import ServiceBase, people_in, projection_of, sealed
from kosiflow.services.outcomes import CommandObserver, observed
from kosiflow.services.results import CommandResult
from kosiflow.services.retries import Pending, retried
from kosiflow.store import (
    NewEvent,
    Projection,
    User,
    WriteUnit,
)


@dataclass(frozen=True, slots=True)
class _Written:
    """A command's events appended in an open unit: its answer and the state it led to."""

    result: CommandResult
    state: InitiativeState
    head_hash: str


class WriteOptions(TypedDict, total=False):
    """How any command may be sent: all optional keywords of every command method."""

    expected_version: int | None
    """Refuse with ConcurrencyConflict unless the initiative is at this version."""
    idempotency_key: str | None
    """Apply at most once under this key (per actor); a retry gets the first answer."""
    at: datetime | None
    """When it happened (aware; recorded in UTC); default now. For imports and the demo."""
    read_ahead: str | None
    """The initiative whose stored state the caller just had read and cached with the
    writer's token (:meth:`CommandServices.user_reading_ahead`): a command on it does not read
    it again before its first try."""


class _Start(Enum):
    """Where a try of a command starts."""

    CACHE = "cache"
    """The cached state, if any; the append then tells whether it was stale (StaleShare)."""
    READ = "read"
    """The cached state, just read from the store (StaleShare measured by the read)."""
    STORE = "store"
    """The locked row."""


_Attempt = Callable[[_Written | None, Pending[_Written], _Start], CommandResult]
"""A try of a command's unit: (uncertain, pending, where to start)."""

Describe = Callable[[], Mapping[str, Any]]
"""What identifies a command for its idempotency key (computed only when a key is given)."""


def _fingerprint(key: str | None, initiative_id: str, describe: Describe) -> str | None:
    if key is None:
        return None
    text = json.dumps([initiative_id, describe()], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class CommandServices(ServiceBase):
    """Every command of the engine as a use case."""

    command_observer: CommandObserver | None = None
    """Told how each command ended (:mod:`kosiflow.services.outcomes`); the API counts them."""

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
        initiative_id = str(uuid.uuid4())  # kept by every try: a lost commit is found by it

        def once(uncertain: _Written | None, pending: Pending[_Written]) -> CommandResult:
            with self.database.write() as unit:
                replayed = self._replay(unit, actor, idempotency_key, fingerprint)
                if replayed is not None:
                    return replayed
                if uncertain is not None and self._recorded_already(unit, uncertain):
                    return uncertain.result
                if parent_id is not None and unit.load_projection(parent_id) is None:
                    raise NotFound("initiative", parent_id)
                state = InitiativeState(initiative_id, definition)
                events = self._decided(state, command, actor)
                try:
                    pending.written = written = self._append(unit, state, events, actor, when)
                except ConcurrencyConflict as exc:
                    if uncertain is None:
                        raise
                    # the lost commit landed meanwhile: look it up again in the next try
                    raise StoreUnavailable(str(exc), outcome_unknown=True) from exc
                self._remember(unit, actor, idempotency_key, fingerprint, written.result)
                unit.after_commit(partial(self._states.put, written.state, written.head_hash))
            return written.result

        return observed(
            self.command_observer,
            "CreateInitiative",
            lambda: retried(once),
            self.database.group_commit,
        )

    def add_participant(
        self,
        initiative_id: str,
        name: str,
        role: str,
        actor: Actor,
        *,
        contact: str | None = None,
        **options: Unpack[WriteOptions],
    ) -> CommandResult:
        """Add a participant; the name and contact are kept outside the history."""

        if not name.strip():
            raise BadInput("name", "the participant's name is empty")

        def build(unit: WriteUnit) -> Command:
            return AddParticipant(unit.add_person(name.strip(), contact), role)

        def describe() -> Mapping[str, Any]:
            return {"participant": name, "role": role, "contact": contact}

        return observed(
            self.command_observer,
            "AddParticipant",
            lambda: self._execute(initiative_id, build, describe, actor, **options),
            self.database.group_commit,
        )

    def tick(
        self,
        initiative_id: str,
        item: str,
        actor: Actor,
        *,
        evidence: str | None = None,
        note: str | None = None,
        **options: Unpack[WriteOptions],
    ) -> CommandResult:
        return self._run(initiative_id, TickItem(item, evidence, note), actor, **options)

    def reopen(
        self,
        initiative_id: str,
        item: str,
        reason: str,
        actor: Actor,
        **options: Unpack[WriteOptions],
    ) -> CommandResult:
        return self._run(initiative_id, ReopenItem(item, reason), actor, **options)

    def waive(
        self,
        initiative_id: str,
        item: str,
        reason: str,
        actor: Actor,
        **options: Unpack[WriteOptions],
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
        **options: Unpack[WriteOptions],
    ) -> CommandResult:
        return self._run(initiative_id, ApproveGate(trigger, role, note), actor, **options)

    def fire(
        self,
        initiative_id: str,
        trigger: str,
        actor: Actor,
        *,
        reason: str | None = None,
        **options: Unpack[WriteOptions],
    ) -> CommandResult:
        return self._run(initiative_id, FireTrigger(trigger, reason), actor, **options)

    def hold(
        self, initiative_id: str, reason: str, actor: Actor, **options: Unpack[WriteOptions]
    ) -> CommandResult:
        return self._run(initiative_id, Hold(reason), actor, **options)

    def resume(
        self,
        initiative_id: str,
        actor: Actor,
        *,
        reason: str | None = None,
        **options: Unpack[WriteOptions],
    ) -> CommandResult:
        return self._run(initiative_id, Resume(reason), actor, **options)

    def note(
        self, initiative_id: str, text: str, actor: Actor, **options: Unpack[WriteOptions]
    ) -> CommandResult:
        return self._run(initiative_id, AddNote(text), actor, **options)

    def _run(
        self, initiative_id: str, command: Command, actor: Actor, **options: Unpack[WriteOptions]
    ) -> CommandResult:
        def describe() -> Mapping[str, Any]:
            return {type(command).__name__: asdict(command)}

        return observed(
            self.command_observer,
            type(command).__name__,
            lambda: self._execute(initiative_id, lambda _: command, describe, actor, **options),
            self.database.group_commit,
        )

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
        read_ahead: str | None = None,
    ) -> CommandResult:
        fingerprint = _fingerprint(idempotency_key, initiative_id, describe)
        when = self._when(at)

        def attempt(
            uncertain: _Written | None, pending: Pending[_Written], start: _Start
        ) -> CommandResult:
            with self.database.write() as unit:
                replayed = self._replay(unit, actor, idempotency_key, fingerprint)
                if replayed is not None:
                    return replayed
                if uncertain is not None:
                    self._load_for_update(unit, initiative_id)  # waits for the lost commit
                    if self._recorded_already(unit, uncertain):
                        return uncertain.result
                command = build(unit)
                written = None
                if start is not _Start.STORE:
                    written = self._on_cached_state(
                        unit, initiative_id, command, actor, when, expected_version,
                        deferrable=batched is not None, measure=start is _Start.CACHE,
                    )  # fmt: skip
                if written is None:
                    state = self._load_for_update(unit, initiative_id)
                    if expected_version is not None and expected_version != state.version:
                        raise ConcurrencyConflict(initiative_id, expected_version, state.version)
                    events = self._decided(state, command, actor)
                    written = self._append(unit, state, events, actor, when)
                pending.written = written
                self._remember(unit, actor, idempotency_key, fingerprint, written.result)
                unit.after_commit(partial(self._states.put, written.state, written.head_hash))
            if unit.names is None:
                return written.result
            return replace(written.result, names=unit.names)  # read with a batched append

        batched = (
            initiative_id if idempotency_key is None and self.database.batches_appends else None
        )
        ahead = [read_ahead == initiative_id]  # for the first try only: the others read
        return retried(partial(self._cached_first, attempt, batched, ahead))

    def user_reading_ahead(
        self, token: str, initiative_id: str, *, idempotency_key: str | None = None
    ) -> tuple[User | None, bool]:
        """The user whose token ``token`` is (as ``Database.user_by_token``), and whether the
        initiative's stored state was read ahead.

        When a command on the initiative would read its stored state first (PostgreSQL, no
        ``idempotency_key``, see :meth:`_cached_first`), the same statement reads that too and
        caches it; the command, sent with ``read_ahead`` (:class:`WriteOptions`), then decides
        on it without a read of its own: one round trip less. Nothing is kept for an unknown
        token, nor when the state cannot be made here (the command reads it and says why).
        """
        if (
            idempotency_key is not None
            or not self.database.batches_appends
            or not self._reads_first(initiative_id)
        ):
            return self.database.user_by_token(token), False
        user, projection = self.database.user_and_projection(token, initiative_id)
        if user is None or projection is None:
            return user, False
        try:
            self._keep_stored(projection)
        except KosiflowError:  # e.g. its workflow version unreadable: after the writer's check
            return user, False
        return user, True

    def _cached_first(
        self,
        attempt: _Attempt,
        batched: str | None,
        ahead: list[bool],
        uncertain: _Written | None,
        pending: Pending[_Written],
    ) -> CommandResult:
        """One try of a command (see ``retried``): on the cached state, then on the locked row.

        An append on the cached state written at commit that found its head moved on wrote
        nothing; the command is then decided again on the locked row. (Deciding it again on the
        state the batch found, and batching it again, cost PostgreSQL more: bench/README.md.)
        ``batched`` names the initiative when the append may be batched (PostgreSQL, no
        idempotency key). The stored state is then read first (one round trip, no
        transaction) when it is not cached, or when many cached states have lately been found
        behind the store (:class:`StaleShare`: other processes write the same initiatives), so
        that the append is batched on a current state rather than found stale and decided
        again on the locked row in a transaction of its own (six round trips). ``ahead``: it
        was read just before, with the writer's token (:meth:`user_reading_ahead`); taken by
        the first try.
        """
        if uncertain is None:
            read_ahead = bool(ahead) and ahead.pop()
            read = batched is not None and (read_ahead or self._read_first(batched))
            try:
                return attempt(uncertain, pending, _Start.READ if read else _Start.CACHE)
            except StaleHead:  # an append on the cached state, written at commit, found its
                pending.written = None  # head moved on: nothing was written
                if not read:
                    self._stale_share.note(stale=True)
        return attempt(uncertain, pending, _Start.STORE)

    def _read_first(self, initiative_id: str) -> bool:
        """Cache the stored state before deciding, when it is not cached or cached states are
        often stale; whether it was read (the read then measures :class:`StaleShare`)."""
        if not self._reads_first(initiative_id):
            return False
        self._cache_stored(initiative_id)
        return True

    def _reads_first(self, initiative_id: str) -> bool:
        """Whether a command on the initiative reads its stored state before deciding: when it
        is not cached, or cached states are often stale (:class:`StaleShare`)."""
        return self._states.peek(initiative_id) is None or self._stale_share.high

    def _on_cached_state(
        self,
        unit: WriteUnit,
        initiative_id: str,
        command: Command,
        actor: Actor,
        when: datetime | None,
        expected_version: int | None,
        *,
        deferrable: bool,
        measure: bool,
    ) -> _Written | None:
        """Apply the command to the cached state, if there is one and it is still current.

        Saves reading the projection on the hot path. The store checks the cached head where it
        moves the projection on; a refusal, a version mismatch or a stale head may all stem from
        a stale cache, so then None (nothing was written): the caller decides on the stored state.
        ``deferrable``: the unit runs no further statement, so the append may be left to the
        commit (``WriteUnit.append``), where a stale head raises :class:`StaleHead`.
        ``measure``: whether the append's outcome counts for :class:`StaleShare` (not when the
        state was just read: the read was counted).
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
            written = self._append(unit, state, outcome, actor, when, deferrable=deferrable)
        except StaleHead:
            if measure:
                self._stale_share.note(stale=True)
            return None
        if not measure:
            return written
        if unit.deferred is None:
            self._stale_share.note(stale=False)
        else:  # known at commit (a stale one raises there instead)
            unit.after_commit(partial(self._stale_share.note, stale=False))
        return written

    def _cache_stored(self, initiative_id: str) -> None:
        """Cache the initiative's stored state (nothing when there is no such initiative: the
        command then says so from the locked row)."""
        with self.database.read() as unit:
            projection = unit.load_projection(initiative_id)
        if projection is not None:
            self._keep_stored(projection)

    def _keep_stored(self, projection: Projection) -> None:
        """Cache the stored state; when one was cached, count whether it was behind."""
        cached = self._states.peek(projection.initiative_id)
        self._states.put(self._state_of(projection), projection.head_hash)
        if cached is not None:
            self._stale_share.note(stale=projection.version > cached[1].version)

    @staticmethod
    def _recorded_already(unit: WriteUnit, written: _Written) -> bool:
        """Whether the events of a commit whose outcome was unknown are stored: the event at
        their last seq carries their hash (which covers their time, content and predecessor).
        Definitive once the initiative's row is locked (any commit still in flight is over)."""
        result = written.result
        found = unit.events_page(result.initiative_id, limit=1, offset=result.version - 1)
        return bool(found) and found[0].hash == written.head_hash

    def _load_for_update(self, unit: WriteUnit, initiative_id: str) -> InitiativeState:
        projection = unit.load_projection(initiative_id)
        if projection is None:
            raise NotFound("initiative", initiative_id)
        return self._state_of(projection)

    @staticmethod
    def _decided(state: InitiativeState, command: Command, actor: Actor) -> list[Event]:
        outcome = decide(state, command, actor)
        if isinstance(outcome, Refused):
            raise CommandRefused(outcome.blockers)
        return outcome

    @staticmethod
    def _when(at: datetime | None) -> datetime | None:
        """A given time to record events at, checked and in UTC; None for now."""
        if at is None:
            return None
        if at.tzinfo is None:
            raise BadInput("at", "a time needs its time zone (e.g. +00:00)")
        return at.astimezone(UTC)

    def _moment(self, state: InitiativeState, at: datetime | None) -> datetime:
        """When the events are recorded: never before the initiative's last event, so that
        every history runs forward in time. A given time before it is refused; the clock is
        held at it (the clocks of several machines may disagree by a little)."""
        last = state.updated_at
        if at is None:
            now = self._clock()
            return now if last is None or now >= last else last
        if last is not None and at < last:
            raise BadInput(
                "at", f"{at.isoformat()} is before the initiative's last event ({last.isoformat()})"
            )
        return at

    def _append(
        self,
        unit: WriteUnit,
        state: InitiativeState,
        events: list[Event],
        actor: Actor,
        at: datetime | None,
        *,
        deferrable: bool = False,
    ) -> _Written:
        when = self._moment(state, at)
        new_events = [self._new_event(event, actor, when) for event in events]
        new_state = state
        for new, event in zip(new_events, events, strict=True):
            new_state = apply(
                new_state, Recorded(new_state.version + 1, new.actor, when, event), self._definition
            )
        records = unit.append(
            projection_of(new_state, ""),
            state.version,
            new_events,
            deferrable=deferrable,
            named=sorted(people_in(new_state)) if deferrable else (),
        )
        types = tuple(e.type for e in new_events)
        result = CommandResult(state.initiative_id, new_state.version, types, state=new_state)
        return _Written(result, new_state, records[-1].hash)

    @staticmethod
    def _new_event(event: Event, actor: Actor, at: datetime) -> NewEvent:
        automatic = isinstance(event, PhaseChanged) and event.automatic
        payload, texts = sealed(event)
        return NewEvent(
            type=event_type(event),
            schema_version=SCHEMA_VERSION,
            actor=SYSTEM_ACTOR if automatic else actor.id,
            at=at,
            payload=payload,
            texts=texts,
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
