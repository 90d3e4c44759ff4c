"""The latest states of recently written initiatives, for the command hot path."""

from __future__ import annotations

from threading import Lock

from kosiflow.engine import InitiativeState


class StateCache:
    """The latest state of the most recently written initiatives, each with the head hash it
    folds to (the oldest written is dropped first).

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
        """Keep ``state`` unless a later version is kept already (threads put in any order)."""
        with self._lock:
            kept = self._states.pop(state.initiative_id, None)
            if kept is not None and kept[1].version > state.version:
                state, head_hash = kept[1], kept[0]
            self._states[state.initiative_id] = (head_hash, state)
            if len(self._states) > self._size:
                del self._states[next(iter(self._states))]


class StaleShare:
    """The share of recent commands whose cached state was found behind the store (a moving
    average over about the last :data:`SPAN` of them).

    With one process it stays near 0: only its own threads race. With several processes writing
    the same initiatives it rises, as each process's cache misses what the others wrote; then
    batching appends on PostgreSQL (``store/batched_appends.py``) on cached states costs more
    than it saves: a stale append still costs its share of a batch's statement before the
    command runs again on the locked row, in a transaction of its own. Above :data:`HIGH` the
    command services read the stored state before deciding (one autocommit round trip; over
    the API, the statement that checks the writer's token), so the append is batched on a
    current state; the read goes on measuring the share, so the reads stop when the others
    stop writing.
    Below it, the append itself tells (stale or not).
    """

    SPAN = 32
    HIGH = 0.2

    def __init__(self) -> None:
        self._share = 0.0

    @property
    def high(self) -> bool:
        return self._share > self.HIGH

    def note(self, *, stale: bool) -> None:
        """Count one command on a cached state (a lost update under threads only blurs it)."""
        self._share += ((1.0 if stale else 0.0) - self._share) / self.SPAN
