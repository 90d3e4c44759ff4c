"""The retry loop of the commands: bounded tries, jittered pauses, only passing failures."""

from __future__ import annotations

import pytest

from kosiflow.errors import CommandRefused, StoreUnavailable
from kosiflow.services.retries import ATTEMPTS, Pending, pause_before, retried


def test_a_passing_failure_runs_the_unit_again_until_it_goes_through() -> None:
    pauses: list[float] = []
    calls: list[str | None] = []

    def once(uncertain: str | None, _pending: Pending[str]) -> str:
        calls.append(uncertain)
        if len(calls) < ATTEMPTS:
            raise StoreUnavailable("deadlock detected")
        return "done"

    assert retried(once, sleep=pauses.append) == "done"
    assert calls == [None] * ATTEMPTS
    assert len(pauses) == ATTEMPTS - 1
    assert all(0.025 * 2**n <= p <= 0.075 * 2**n for n, p in enumerate(pauses))


def test_after_the_last_try_it_gives_up_naming_the_cause() -> None:
    def once(_uncertain: str | None, _pending: Pending[str]) -> str:
        raise StoreUnavailable("could not serialize access")

    with pytest.raises(StoreUnavailable, match=f"gave up after {ATTEMPTS} tries") as raised:
        retried(once, sleep=lambda _: None)
    assert not raised.value.outcome_unknown


def test_a_commit_of_unknown_outcome_is_handed_to_the_next_tries() -> None:
    seen: list[str | None] = []

    def once(uncertain: str | None, pending: Pending[str]) -> str:
        seen.append(uncertain)
        if uncertain is None:
            pending.written = "events of try 1"
            raise StoreUnavailable("connection lost while committing", outcome_unknown=True)
        raise StoreUnavailable("no connection")  # the database is still away

    with pytest.raises(StoreUnavailable) as raised:
        retried(once, sleep=lambda _: None)
    assert seen == [None, "events of try 1", "events of try 1"]
    assert raised.value.outcome_unknown


def test_anything_else_is_raised_at_once() -> None:
    calls = []

    def once(_uncertain: str | None, _pending: Pending[str]) -> str:
        calls.append(1)
        raise CommandRefused([])

    with pytest.raises(CommandRefused):
        retried(once, sleep=lambda _: None)
    assert calls == [1]


def test_pauses_double_and_are_jittered() -> None:
    second = [pause_before(2) for _ in range(200)]
    third = [pause_before(3) for _ in range(200)]
    assert 0.025 <= min(second) < max(second) <= 0.075
    assert 0.05 <= min(third) < max(third) <= 0.15
