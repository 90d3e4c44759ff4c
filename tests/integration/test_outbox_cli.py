"""``kosiflow subscriptions …`` and ``kosiflow dispatch`` end to end on a SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kosiflow.cli import app
from tests.integration.outbox_helpers import SECRET, WORKFLOWS
from tests.integration.webhook_receiver import Receiver, always_ok

Run = Callable[..., str]
QUICK = ["--poll", "0.02", "--backoff-base", "0.01", "--timeout", "1"]


@pytest.fixture
def kosiflow(tmp_path: Path) -> Run:
    runner = CliRunner()
    base = ["--database", f"sqlite:///{tmp_path / 'lab.db'}", "--workflows", str(WORKFLOWS)]

    def run(*args: str, expect: int = 0) -> str:
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == expect, result.output
        return result.output

    return run


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        receiver.up()
        yield receiver


def _initiative(kosiflow: Run) -> str:
    kosiflow("users", "add", "Jana", "--role", "coordinator")
    return kosiflow("--as", "Jana", "create", "kosi-lab", "Fahrradgaragen").split()[0]


def test_subscriptions_are_added_listed_and_removed_without_showing_secrets(
    kosiflow: Run,
) -> None:
    given = kosiflow(
        "subscriptions",
        "add",
        "https://lab.example/a",
        "--secret",
        SECRET,
        "--event",
        "PhaseChanged",
    )
    assert "events: PhaseChanged" in given
    assert SECRET not in given
    made = kosiflow("subscriptions", "add", "https://lab.example/b", "--phase", "initiation")
    secret = made.strip().splitlines()[-1]
    assert "shown once" in made
    assert len(secret) >= 40
    listed = kosiflow("subscriptions", "list")
    assert "https://lab.example/a" in listed
    assert "phases: initiation" in listed
    assert SECRET not in listed
    assert secret not in listed
    first = given.split()[0]
    assert kosiflow("subscriptions", "remove", first) == f"subscription {first} removed\n"
    assert "https://lab.example/a" not in kosiflow("subscriptions", "list")
    assert "not found" in kosiflow("subscriptions", "remove", first, expect=2)


def test_a_bad_url_or_filter_is_bad_input(kosiflow: Run) -> None:
    assert "http:// or https://" in kosiflow("subscriptions", "add", "ftp://lab.example", expect=2)
    unknown = kosiflow("subscriptions", "add", "https://lab.example", "--event", "Ticked", expect=2)
    assert "unknown: Ticked" in unknown
    assert "ItemTicked" in unknown


def test_dispatch_once_delivers_and_dead_letters_can_be_redelivered(
    kosiflow: Run, receiver: Receiver
) -> None:
    kosiflow("subscriptions", "add", receiver.url(), "--secret", SECRET)
    initiative = _initiative(kosiflow)
    receiver.script = lambda _: (500, 0.0)
    dispatched = kosiflow("dispatch", "--once", "--max-attempts", "1", *QUICK)
    assert "fanned out 1, delivered 0, retrying 0, dead 1" in dispatched
    dead = kosiflow("subscriptions", "deliveries", "--dead")
    assert f"#1 dead      {initiative}:1 InitiativeCreated" in dead
    assert "1 attempt(s), dead; last error: HTTP 500" in dead

    receiver.script = always_ok
    assert "pending" in kosiflow("subscriptions", "redeliver", "1")
    assert "delivered 1" in kosiflow("dispatch", "--once", *QUICK)
    assert "0 of 0 deliveries" in kosiflow("subscriptions", "deliveries", "--dead")
    assert "#1 delivered" in kosiflow("subscriptions", "deliveries")
    assert [r.event["seq"] for r in receiver.acknowledged()] == [1]
    assert all(r.is_signed_with(SECRET) for r in receiver.received)
    assert "delivered" in kosiflow("subscriptions", "skip", "1")  # nothing left to give up
    assert "not found" in kosiflow("subscriptions", "redeliver", "7", expect=2)
