"""The change feed behind the live streams, on SQLite and PostgreSQL: changes recorded through
another connection reach every stream, once; on PostgreSQL an event committed after a later
one (its id drawn first) still arrives, and the position handed out never passes it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import psycopg
import pytest

from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.services.live import HOLE_GRACE_SECONDS, ChangeFeed, Message, Stream
from kosiflow.store import Database, open_database
from tests.api.helpers import WORKFLOWS
from tests.conftest import _conninfo

pytestmark = pytest.mark.anyio
WAIT_SECONDS = 10.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def writer(database_url: str) -> Iterator[tuple[Services, Actor]]:
    """The services of 'another process': their own connections to the database."""
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(database_url)
    catalog.register(database)
    user, _ = database.add_user("Jana Becker", ["coordinator"])
    yield Services(database, catalog), Actor(user.person_id, frozenset(user.roles))
    database.close()


@pytest.fixture
def feed(database_url: str, writer: tuple[Services, Actor]) -> Iterator[ChangeFeed]:
    database = open_database(database_url)
    made = ChangeFeed(database, poll_seconds=0.05)
    yield made
    made.close()
    database.close()


async def next_changes(stream: Stream, count: int) -> list[Message]:
    """The next ``count`` change messages (failing after :data:`WAIT_SECONDS`)."""
    found: list[Message] = []

    async def collect() -> None:
        while len(found) < count:
            found.extend(m for m in await stream.next(1.0) if m.event == "change")

    await asyncio.wait_for(collect(), WAIT_SECONDS)
    return found


async def test_changes_through_another_connection_reach_every_stream_once(
    feed: ChangeFeed, writer: tuple[Services, Actor]
) -> None:
    services, jana = writer
    loop = asyncio.get_running_loop()
    first = services.create("kosi-lab", "Fahrradgaragen", jana).initiative_id
    second = services.create("kosi-lab", "Sitzbänke", jana).initiative_id
    everything = feed.open(loop)
    one = feed.open(loop, first)
    assert [m.event for m in everything.opening] == ["ready"]
    assert one.opening[0].data == {"initiative": first, "version": 1}

    services.tick(first, "challenge_defined", jana, evidence="x")
    services.tick(second, "challenge_defined", jana, evidence="x")
    services.note(first, "Termin steht", jana)

    seen = await next_changes(everything, 3)
    assert [(m.data["initiative"], m.data["version"]) for m in seen] == [
        (first, 2),
        (second, 2),
        (first, 3),
    ]
    assert [m.data["type"] for m in seen] == ["ItemTicked", "ItemTicked", "NoteAdded"]
    positions = [int(m.id) for m in seen]
    assert positions == sorted(positions)
    assert [m.id for m in await next_changes(one, 2)] == ["2", "3"]
    assert await everything.next(0.3) == []  # nothing twice
    everything.close()
    one.close()
    assert feed.open_streams == 0


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_an_event_committed_after_a_later_one_is_not_lost(
    database_url: str, feed: ChangeFeed, writer: tuple[Services, Actor]
) -> None:
    services, jana = writer
    loop = asyncio.get_running_loop()
    early = services.create("kosi-lab", "Früh", jana).initiative_id
    late = services.create("kosi-lab", "Spät", jana).initiative_id
    stream = feed.open(loop)

    with psycopg.connect(_conninfo(database_url)) as slow:  # draws its id, commits last
        held = slow.execute(
            "INSERT INTO events (initiative_id, seq, type, schema_version, actor, at, payload,"
            " prev_hash, hash) VALUES (%s, 99, 'NoteAdded', 1, 'x', now(), '{}',"
            " repeat('0', 64), repeat('1', 64)) RETURNING id",
            (early,),
        ).fetchone()
        assert held is not None
        services.tick(late, "challenge_defined", jana, evidence="x")
        (ahead,) = await next_changes(stream, 1)
        assert ahead.data["position"] > held[0]
        assert int(ahead.id) < held[0]  # resuming from here would not skip the held event
        slow.commit()

    (behind,) = await next_changes(stream, 1)
    assert (behind.data["position"], behind.data["version"]) == (held[0], 99)
    resumed = feed.open(loop, after=int(ahead.id))
    replayed = {m.data["position"] for m in resumed.opening if m.event == "change"}
    assert {held[0], ahead.data["position"]} <= replayed
    stream.close()
    resumed.close()


def test_a_feed_needs_room_for_one_stream(database_url: str) -> None:
    database: Database = open_database(database_url)
    try:
        with pytest.raises(ValueError, match="max_streams must be at least 1"):
            ChangeFeed(database, max_streams=0)
    finally:
        database.close()


async def wait_until(condition: Callable[[], bool]) -> None:
    """Until ``condition`` holds (the poller runs every 0.05 s), failing after WAIT_SECONDS."""

    async def polled() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(polled(), WAIT_SECONDS)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_an_id_left_by_a_rollback_holds_positions_back_only_for_the_grace(
    database_url: str, writer: tuple[Services, Actor]
) -> None:
    services, jana = writer
    now = [0.0]
    database = open_database(database_url)
    feed = ChangeFeed(database, poll_seconds=0.05, clock=lambda: now[0])
    try:
        initiative = services.create("kosi-lab", "Früh", jana).initiative_id
        stream = feed.open(asyncio.get_running_loop())
        with psycopg.connect(_conninfo(database_url)) as aborted:
            lost = aborted.execute(
                "INSERT INTO events (initiative_id, seq, type, schema_version, actor, at,"
                " payload, prev_hash, hash) VALUES (%s, 99, 'NoteAdded', 1, 'x', now(), '{}',"
                " repeat('0', 64), repeat('1', 64)) RETURNING id",
                (initiative,),
            ).fetchone()
            assert lost is not None
            services.tick(initiative, "challenge_defined", jana, evidence="x")
            (ahead,) = await next_changes(stream, 1)
            aborted.rollback()
        assert int(ahead.id) == lost[0] - 1 == feed.position()
        now[0] = HOLE_GRACE_SECONDS + 1  # long enough: the id will never come
        await wait_until(lambda: feed.position() == ahead.data["position"])
        services.note(initiative, "Später", jana)
        (later,) = await next_changes(stream, 1)
        assert later.id == str(later.data["position"])
        stream.close()
    finally:
        feed.close()
        database.close()
