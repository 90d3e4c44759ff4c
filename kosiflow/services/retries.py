"""Running a command's whole unit of work again when the database failed for a passing reason.

A serialization failure, a deadlock or a lost connection (:class:`StoreUnavailable`) rolls the
transaction back; the command is then decided afresh on the stored state, up to
:data:`ATTEMPTS` times with jittered, doubling pauses. Nothing is applied twice: a command runs
whole in one transaction, and a commit whose outcome is unknown (the connection was lost while
committing) is looked up in the event chain before the command runs again (see
``CommandServices``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from kosiflow.errors import StoreUnavailable

ATTEMPTS = 3
"""Tries of one command, the first included."""
FIRST_PAUSE_SECONDS = 0.05
"""The pause before the second try; it doubles before each further one, jittered ±50 %."""

T = TypeVar("T")
W = TypeVar("W")


def pause_before(attempt: int) -> float:
    """Seconds to wait before try ``attempt`` (2, 3, …)."""
    jitter: float = random.uniform(0.5, 1.5)  # noqa: S311 -- jitter, not a secret
    return float(FIRST_PAUSE_SECONDS * 2 ** (attempt - 2) * jitter)


class Pending(Generic[W]):
    """What one try wrote before committing: kept when the commit's outcome is unknown."""

    __slots__ = ("written",)

    def __init__(self) -> None:
        self.written: W | None = None


def retried(
    once: Callable[[W | None, Pending[W]], T],
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``once(uncertain, pending)`` until it returns, at most ``attempts`` times.

    ``once`` runs one unit of work. It notes in ``pending`` what it wrote before committing;
    when its commit then fails with an unknown outcome, the later tries get that as
    ``uncertain`` and must check whether it was committed before deciding anew.

    Raises:
        StoreUnavailable: every try failed for a passing reason (``outcome_unknown`` when a
            commit of unknown outcome was never resolved); any other error at once.
    """
    uncertain: W | None = None
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(pause_before(attempt))
        pending: Pending[W] = Pending()
        try:
            return once(uncertain, pending)
        except StoreUnavailable as exc:
            if exc.outcome_unknown and pending.written is not None:
                uncertain = pending.written
            if attempt == attempts:
                raise StoreUnavailable(
                    f"gave up after {attempts} tries: {exc}", outcome_unknown=uncertain is not None
                ) from exc
    raise AssertionError("unreachable: attempts must be at least 1")
