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
