"""Group commit on SQLite: commands of many requests in one transaction, answered once durable.

* Many concurrent commands in one process, and in two processes at once: every acknowledged
  command is in the history exactly once, every chain verifies, the projections equal the folds.
* Commands queued while another writer holds the turn run as one batch: one that is refused
  gets its own error and the others are committed; one that makes the COMMIT fail (a deferred
  foreign key) fails the whole batch: nothing acknowledged, nothing written, no state cached.
* Nothing is answered while the batch cannot commit (the turn held by another process).
* An unexpected error in a step of a batch (no turn to be had, a COMMIT cancelled before it
  ran) fails that batch only; an ``after_commit`` callback that raises fails no command. The
  writes after it go on.
* Closing the database on the event loop answers the batch committing meanwhile and closes its
  connection; writes after the close fail with :class:`StoreError`.
"""

from __future__ import annotations

import asyncio
import fcntl
import multiprocessing
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import load_definition
from kosiflow.engine import Actor, state_to_json
from kosiflow.errors import CommandRefused, StoreError
from kosiflow.services import CommandResult, Services
from kosiflow.store import open_database
from kosiflow.store.group_commit import GroupCommit

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = load_definition(ROOT / "bench" / "workflows" / "checklist.yaml")
ITEMS = [item.id for item in CHECKLIST.phase("work").checklist]
INITIATIVES = 12
IN_FLIGHT = 16


def _services(url: str) -> Services:
    catalog = WorkflowCatalog([CHECKLIST])
    return Services(open_database(url), catalog)


@pytest.fixture
def services(sqlite_url: str) -> Iterator[Services]:
    services = _services(sqlite_url)
    services.catalog.register(services.database)
    yield services
    services.database.close()


@pytest.fixture
def actor(services: Services) -> Actor:
    user, _ = services.database.add_user("Jana Becker", ["coordinator"])
    return Actor(user.person_id, frozenset(user.roles))


def _group(services: Services) -> GroupCommit:
    group = services.database.group_commit
    assert group is not None
    return group


def _ticks(initiatives: list[str]) -> list[tuple[str, str]]:
    """Every item of every initiative, item by item across them."""
    return [(initiative, item) for item in ITEMS for initiative in initiatives]


async def _tick_all(
    services: Services, actor: Actor, ticks: list[tuple[str, str]]
) -> list[CommandResult | BaseException]:
    """Each tick through the group commit, IN_FLIGHT at a time; each outcome in order."""
    group = _group(services)
    limit = asyncio.Semaphore(IN_FLIGHT)

    async def tick(initiative: str, item: str) -> CommandResult:
        async with limit:
            return await group.run(lambda: services.tick(initiative, item, actor))

    return await asyncio.gather(*(tick(*t) for t in ticks), return_exceptions=True)


def _assert_sound(services: Services, initiatives: list[str]) -> None:
    """Contiguous histories whose chains verify and whose folds equal the projections."""
    for initiative in initiatives:
        history = list(services.history(initiative))
        assert [r.seq for r in history] == list(range(1, len(history) + 1))
        assert services.verify(initiative).ok
        assert state_to_json(services.fold(initiative)) == state_to_json(services.state(initiative))


def _ticked(services: Services, initiative: str) -> list[str]:
    return [r.payload["item"] for r in services.history(initiative) if r.type == "ItemTicked"]


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run`` in a thread of its own: when the browser tests ran before, Playwright keeps
    an event loop running on the main thread for the rest of the session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_concurrent_commands_are_each_recorded_once(services: Services, actor: Actor) -> None:
    initiatives = [services.create(CHECKLIST.id, f"i{n}", actor).initiative_id for n in range(4)]
    # each item twice: the second tick of an item is refused, whichever batch it lands in
    ticks = _ticks(initiatives) * 2
    outcomes = _run(_tick_all(services, actor, ticks))

    acknowledged = [t for t, o in zip(ticks, outcomes, strict=True) if isinstance(o, CommandResult)]
    refused = [o for o in outcomes if isinstance(o, CommandRefused)]
    assert len(acknowledged) == len(ticks) // 2
    assert len(refused) == len(ticks) // 2
    assert {b.code for r in refused for b in r.blockers} == {"item_already_done"}
    for initiative in initiatives:
        assert sorted(_ticked(services, initiative)) == sorted(ITEMS)
    _assert_sound(services, initiatives)


def _hold_turn(sqlite_url: str) -> int:
    """Take the turn to write as another process would (a file of its own, an exclusive
    flock); closing the file gives it back."""
    path = f"{make_url(sqlite_url).database}-writers"
    file = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(file, fcntl.LOCK_EX)
    return file


async def _batch_behind_held_turn(
    services: Services, sqlite_url: str, calls: list[Callable[[], Any]]
) -> list[Any]:
    """Queue ``calls`` while another process holds the turn (so they form one batch), check
    that none is answered meanwhile, then give the turn back; their outcomes in order."""
    group = _group(services)
    held = _hold_turn(sqlite_url)
    try:
        tasks = [asyncio.ensure_future(group.run(call)) for call in calls]
        for _ in range(20):  # the line tries the turn, then waits for it in its thread
            await asyncio.sleep(0)
        assert not any(task.done() for task in tasks)
    finally:
        os.close(held)
    return list(await asyncio.gather(*tasks, return_exceptions=True))


def test_a_refused_command_in_a_batch_gets_its_error_and_the_others_commit(
    services: Services, actor: Actor, sqlite_url: str
) -> None:
    first, second = (services.create(CHECKLIST.id, t, actor).initiative_id for t in "ab")
    services.tick(first, "item_1", actor)
    calls: list[Callable[[], Any]] = [
        lambda: services.tick(first, "item_2", actor),
        lambda: services.tick(first, "item_1", actor),  # done already: refused
        lambda: services.tick(second, "no_such_item", actor),  # refused
        lambda: services.tick(second, "item_1", actor),
        lambda: services.tick(first, "item_3", actor),  # after item_2 in the same batch
    ]
    outcomes = _run(_batch_behind_held_turn(services, sqlite_url, calls))

    assert [type(o).__name__ for o in outcomes] == [
        "CommandResult",
        "CommandRefused",
        "CommandRefused",
        "CommandResult",
        "CommandResult",
    ]
    assert [b.code for b in outcomes[1].blockers] == ["item_already_done"]
    assert [b.code for b in outcomes[2].blockers] == ["item_unknown"]
    assert _ticked(services, first) == ["item_1", "item_2", "item_3"]
    assert _ticked(services, second) == ["item_1"]
    assert outcomes[4].version == 4
    _assert_sound(services, [first, second])


def test_a_failed_commit_fails_every_command_of_the_batch(
    services: Services, actor: Actor, sqlite_url: str
) -> None:
    first, second = (services.create(CHECKLIST.id, t, actor).initiative_id for t in "ab")
    cached_before = services.state(first).version

    def breaks_the_commit() -> None:
        """A write whose foreign key is checked only at COMMIT, and fails there."""
        with services.database.write() as unit:
            executor = unit._db
            executor.run_text("PRAGMA defer_foreign_keys = ON")
            executor.dbapi.execute(
                "UPDATE initiatives SET parent_id = 'nowhere' WHERE id = ?", (second,)
            )

    calls: list[Callable[[], Any]] = [
        lambda: services.tick(first, "item_1", actor),
        breaks_the_commit,
        lambda: services.tick(second, "item_1", actor),
        lambda: services.tick(first, "item_1", actor),  # refused: but not because of the first
    ]
    outcomes = _run(_batch_behind_held_turn(services, sqlite_url, calls))

    assert all(isinstance(o, StoreError) for o in outcomes), outcomes
    assert all("FOREIGN KEY constraint failed" in str(o) for o in outcomes)
    assert _ticked(services, first) == []
    assert _ticked(services, second) == []
    assert services.state(second).parent_id is None
    assert services.state(first).version == cached_before
    cached = services._states.peek(first)  # the cache never saw the lost tick
    assert cached is not None
    assert cached[1].version == cached_before
    ticked = services.tick(first, "item_1", actor)
    assert ticked.version == cached_before + 1
    _assert_sound(services, [first, second])


def _process(url: str, initiatives: list[str], actor: Actor, results: Any) -> None:
    """One server process's worth of ticks: every item of ``initiatives``, all at once."""
    services = _services(url)
    try:
        outcomes = asyncio.run(_tick_all(services, actor, _ticks(initiatives)))
        results.put(
            [
                (t, o.version if isinstance(o, CommandResult) else type(o).__name__)
                for t, o in zip(_ticks(initiatives), outcomes, strict=True)
            ]
        )
    finally:
        services.database.close()


@pytest.mark.slow
def test_two_processes_committing_in_batches_record_each_command_once(
    services: Services, actor: Actor, sqlite_url: str
) -> None:
    initiatives = [
        services.create(CHECKLIST.id, f"i{n}", actor).initiative_id for n in range(INITIATIVES)
    ]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    # both processes tick every item of the same initiatives: each item lands once
    processes = [
        context.Process(target=_process, args=(sqlite_url, initiatives, actor, results))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    landed = [(tick, o) for outcome in outcomes for tick, o in outcome if isinstance(o, int)]
    others = {o for outcome in outcomes for _, o in outcome if not isinstance(o, int)}
    assert len(landed) == len(_ticks(initiatives))
    assert others <= {"CommandRefused"}
    for initiative in initiatives:
        assert sorted(_ticked(services, initiative)) == sorted(ITEMS)
    versions = {(tuple(tick), version) for tick, version in landed}
    for initiative, item in _ticks(initiatives):
        history = services.history(initiative)
        seq = next(r.seq for r in history if r.payload.get("item") == item)
        assert ((initiative, item), seq) in versions  # acknowledged with its own version
    _assert_sound(services, initiatives)


# An unexpected error in a step of a batch fails that batch (nothing acknowledged that is not
# committed) and frees the line: the writes after it go on. Each test would hang without it,
# so each waits for its answers with a generous limit instead.
ANSWERED_WITHIN = 60


async def _answered(*calls: Callable[[], Any], group: GroupCommit) -> list[Any]:
    """The outcomes of ``calls``, queued together on ``group``."""
    tasks = [group.run(call) for call in calls]
    gathered = asyncio.gather(*tasks, return_exceptions=True)
    return list(await asyncio.wait_for(gathered, ANSWERED_WITHIN))


def test_a_turn_that_cannot_be_taken_fails_the_batch_and_later_writes_go_on(
    services: Services, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = services.create(CHECKLIST.id, "a", actor).initiative_id
    turns = services.database._turns
    assert turns is not None

    def no_turn() -> bool:
        error = OSError(5, "Input/output error")
        raise StoreError(f"database error: cannot take a turn to write: {error}") from error

    async def scenario() -> tuple[list[Any], list[Any]]:
        group = _group(services)
        with monkeypatch.context() as patched:
            patched.setattr(turns, "try_take", no_turn)
            failed = await _answered(
                lambda: services.tick(first, "item_1", actor),
                lambda: services.tick(first, "item_2", actor),
                group=group,
            )
        later = await _answered(lambda: services.tick(first, "item_3", actor), group=group)
        return failed, later

    failed, later = _run(scenario())

    assert all(isinstance(o, StoreError) for o in failed), failed
    assert all("cannot take a turn to write" in str(o) for o in failed)
    assert isinstance(later[0], CommandResult)
    assert _ticked(services, first) == ["item_3"]
    _assert_sound(services, [first])


def test_a_failing_after_commit_callback_leaves_its_commands_acknowledged(
    services: Services, actor: Actor, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    first = services.create(CHECKLIST.id, "a", actor).initiative_id

    def with_failing_callback() -> str:
        with services.database.write() as unit:
            unit.after_commit(lambda: 1 / 0)  # type: ignore[func-returns-value]
            unit.add_user("Ole Hansen", ["member"])
        return "written"

    calls: list[Callable[[], Any]] = [
        lambda: services.tick(first, "item_1", actor),
        with_failing_callback,
        lambda: services.tick(first, "item_2", actor),
    ]

    async def scenario() -> tuple[list[Any], list[Any]]:
        outcomes = await _batch_behind_held_turn(services, sqlite_url, calls)
        group = _group(services)
        later = await _answered(lambda: services.tick(first, "item_3", actor), group=group)
        return outcomes, later

    outcomes, later = _run(scenario())

    assert [type(o).__name__ for o in outcomes] == ["CommandResult", "str", "CommandResult"]
    assert isinstance(later[0], CommandResult)
    assert _ticked(services, first) == ["item_1", "item_2", "item_3"]
    assert services.database.user_by_name("Ole Hansen") is not None
    assert services.state(first).version == later[0].version  # the callbacks after it ran
    assert "an after-commit callback failed" in caplog.text
    _assert_sound(services, [first])


def test_a_commit_cancelled_before_it_ran_fails_the_batch_and_later_writes_go_on(
    services: Services, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = services.create(CHECKLIST.id, "a", actor).initiative_id
    services.tick(first, "item_1", actor)

    def cancelled(*_work: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.cancel()
        return future

    async def scenario() -> tuple[list[Any], list[Any]]:
        group = _group(services)
        await group.run(lambda: None)  # the line of this loop, now there
        line = group._lines[asyncio.get_running_loop()]
        with monkeypatch.context() as patched:
            # the turn and BEGIN are free at once: the only work for the thread is the COMMIT
            patched.setattr(line.thread, "submit", cancelled)
            failed = await _answered(
                lambda: services.tick(first, "item_2", actor),
                lambda: services.tick(first, "item_3", actor),
                group=group,
            )
        later = await _answered(lambda: services.tick(first, "item_4", actor), group=group)
        return failed, later

    failed, later = _run(scenario())

    assert all(isinstance(o, StoreError) for o in failed), failed
    assert isinstance(later[0], CommandResult)
    assert _ticked(services, first) == ["item_1", "item_4"]
    _assert_sound(services, [first])


def test_closing_on_the_loop_answers_the_batch_committing_and_closes_its_connection(
    services: Services, actor: Actor, sqlite_url: str
) -> None:
    first = services.create(CHECKLIST.id, "a", actor).initiative_id
    database = services.database

    async def scenario() -> tuple[Any, Any]:
        group = _group(services)
        await group.run(lambda: None)  # the line of this loop, now there
        line = group._lines[asyncio.get_running_loop()]
        release = threading.Event()
        line.thread.submit(release.wait)  # the COMMIT waits behind it, in the thread
        task = asyncio.ensure_future(group.run(lambda: services.tick(first, "item_1", actor)))
        for _ in range(20):  # the batch runs its job and hands its COMMIT to the thread
            await asyncio.sleep(0)
        assert not task.done()
        release.set()
        database.close()  # as the app's shutdown does, on the loop
        ticked = await asyncio.wait_for(task, ANSWERED_WITHIN)
        try:
            after = await group.run(lambda: services.tick(first, "item_2", actor))
        except StoreError as exc:
            after = exc
        return ticked, after

    ticked, after = _run(scenario())

    assert isinstance(ticked, CommandResult)
    assert isinstance(after, StoreError)
    assert "closed" in str(after)
    assert database._idle == []  # its connection came back before the close, and was closed
    reopened = _services(sqlite_url)
    try:
        assert _ticked(reopened, first) == ["item_1"]
    finally:
        reopened.database.close()
