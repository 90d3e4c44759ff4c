"""How each command ended, told to an observer (the API counts them for ``/metrics``).

The outcomes: ``accepted`` (recorded), ``replayed`` (an ``Idempotency-Key`` repeated an earlier
command: its first answer, nothing recorded), ``refused`` (the engine's rules said no: every
blocker), ``conflict`` (a stale version, or somebody else changed the initiative at the same
moment), ``invalid`` (bad input, an unknown initiative or workflow, a reused idempotency key)
and ``error`` (the database failed, or anything unexpected).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Literal, TypeVar

from kosiflow.errors import CommandRefused, ConcurrencyConflict, KosiflowError, StoreError
from kosiflow.services.results import CommandResult

if TYPE_CHECKING:
    from kosiflow.store.group_commit import GroupCommit

_log = logging.getLogger(__name__)

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


def observed(
    observer: CommandObserver | None,
    kind: str,
    run: Callable[[], R],
    group: GroupCommit | None = None,
) -> R:
    """``run()``, telling ``observer`` (when there is one) how it ended.

    A command run in a job of ``group`` (SQLite's group commit) is told ``accepted`` or
    ``replayed`` once its batch has committed, never before. Its batch's COMMIT may still fail
    after ``run()`` returned: the command then fails with :class:`StoreError` outside of this
    function and is told nothing (not even ``error``). An observer that raises is logged: the
    count is lost, never the command.
    """
    if observer is None:
        return run()
    try:
        result = run()
    except BaseException as error:
        _tell(observer, kind, outcome_of(error))
        raise
    tell = partial(_tell, observer, kind, "replayed" if result.replayed else "accepted")
    if group is None or not group.after_commit(tell):
        tell()
    return result


def _tell(observer: CommandObserver, kind: str, outcome: Outcome) -> None:
    try:
        observer(kind, outcome)
    except Exception:
        _log.exception("the command observer failed on %s %s", kind, outcome)
