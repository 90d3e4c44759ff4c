"""How each command ended, told to an observer (the API counts them for ``/metrics``).

The outcomes: ``accepted`` (recorded), ``replayed`` (an ``Idempotency-Key`` repeated an earlier
command: its first answer, nothing recorded), ``refused`` (the engine's rules said no: every
blocker), ``conflict`` (a stale version, or somebody else changed the initiative at the same
moment), ``invalid`` (bad input, an unknown initiative or workflow, a reused idempotency key)
and ``error`` (the database failed, or anything unexpected).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

from kosiflow.errors import CommandRefused, ConcurrencyConflict, KosiflowError, StoreError
from kosiflow.services.results import CommandResult

Outcome = Literal["accepted", "replayed", "refused", "conflict", "invalid", "error"]
OUTCOMES: tuple[Outcome, ...] = ("accepted", "replayed", "refused", "conflict", "invalid", "error")

CommandObserver = Callable[[str, Outcome], None]
"""Told a command's kind (the engine's command name, e.g. ``TickItem``) and its outcome."""

R = TypeVar("R", bound=CommandResult)


def outcome_of(error: BaseException) -> Outcome:
    """The outcome of a command that raised ``error``."""
    match error:
        case CommandRefused():
            return "refused"
        case ConcurrencyConflict():
            return "conflict"
        case StoreError():
            return "error"
        case KosiflowError():
            return "invalid"
    return "error"


def observed(observer: CommandObserver | None, kind: str, run: Callable[[], R]) -> R:
    """``run()``, telling ``observer`` (when there is one) how it ended."""
    if observer is None:
        return run()
    try:
        result = run()
    except BaseException as error:
        observer(kind, outcome_of(error))
        raise
    observer(kind, "replayed" if result.replayed else "accepted")
    return result
