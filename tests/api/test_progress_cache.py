"""The progress read's kept answers (``api/progress_cache.py``) are the route's answers.

For every state reached below — the demo's initiatives, then one initiative taken through every
kind of command, a deadline crossing on a fake clock and the sweep after it, an erased
participant — each caller (several roles, two people holding the same role) and each language
reads the progress three times: once as it comes (kept or not), once past the cache (the
route's answer, see ``BY_THE_ROUTE``), and once more (kept by then). All three must be equal,
byte for byte and header for header, and after a change no answer kept before it is sent.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api import create_app
from api.deps import language_of
from api.progress_cache import AnswerCache
from kosiflow.catalog import WorkflowCatalog
from kosiflow.demo import load_demo
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.apps import api_on
from tests.api.helpers import WORKFLOWS, TestClient, assert_problem

ROOT = Path(__file__).resolve().parents[2]

LANGUAGES = ({}, {"Accept-Language": "de"}, {"Accept-Language": "de-CH;q=0.5, en;q=0.9"})
"""English by default, German, and English asked for another way (the same kept answer)."""

CALLERS = {
    "jana": ("Jana Becker", None),
    "sven": ("Sven Richter", None),  # a coordinator too: the same answer as Jana's
    "thomas": ("Thomas Krüger", None),
    "aylin": ("Aylin Demir", None),
    "renate": ("Renate Albers", None),
    "root": ("Root", ("admin",)),
    "both": ("Kim Both", ("coordinator", "administration")),
}
"""Callers: key → (name, roles of a user to add; None for a demo user)."""

BY_THE_ROUTE = {"Content-Length": "0"}
"""A request with a body (even an empty one) never takes the fast path, nor fills it."""


class Clock:
    """The services' clock, moved on by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Setup:
    client: TestClient
    cache: AnswerCache
    services: Services
    clock: Clock
    tokens: dict[str, str]
    actors: dict[str, Actor]

    def get(self, initiative_id: str, who: str, **headers: str) -> httpx.Response:
        return self.client.get(
            f"/api/v1/initiatives/{initiative_id}",
            headers={"Authorization": f"Bearer {self.tokens[who]}", **headers},
        )

    def same_as_route(self, initiative_id: str, who: str, language: dict[str, str]) -> bool:
        """Whether the first read was a kept answer; every read equals the route's answer."""
        hits = self.cache.hits
        first = self.get(initiative_id, who, **language)
        was_kept = self.cache.hits == hits + 1
        by_route = self.get(initiative_id, who, **language, **BY_THE_ROUTE)
        kept = self.get(initiative_id, who, **language)
        assert self.cache.hits == hits + was_kept + 1, "the route's answer was not kept"
        assert by_route.status_code == 200, by_route.text
        for response in (first, kept):
            assert response.status_code == by_route.status_code
            assert response.headers.multi_items() == by_route.headers.multi_items()
            assert response.content == by_route.content
        return was_kept

    @property
    def repeats(self) -> int:
        """Reads of one :meth:`check` that repeat an earlier one's roles and language: right
        after a change, exactly these are kept answers (made during the same check)."""
        languages = {language_of(h.get("Accept-Language")) for h in LANGUAGES}
        kinds = {actor.roles for actor in self.actors.values()}
        return len(self.tokens) * len(LANGUAGES) - len(kinds) * len(languages)

    def check(self, initiative_id: str) -> int:
        """Every caller in every language; how many first reads were kept answers."""
        return sum(
            self.same_as_route(initiative_id, who, language)
            for who in self.tokens
            for language in LANGUAGES
        )


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    clock = Clock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(f"sqlite:///{tmp_path / 'kosiflow.db'}")
    try:
        catalog.register(database)
        services = Services(database, catalog, clock=clock)
        load_demo(services)
        tokens, actors = {}, {}
        for key, (name, roles) in CALLERS.items():
            if roles is None:
                user = database.user_by_name(name)
                assert user is not None, name
                token = database.renew_token(user)
            else:
                user, token = database.add_user(name, roles)
            tokens[key] = token
            actors[key] = Actor(user.person_id, frozenset(user.roles))
        app = create_app(services)
        with TestClient(app) as client:
            yield Setup(client, app.state.progress_cache, services, clock, tokens, actors)
    finally:
        database.close()


def test_kept_answers_of_the_demo_are_the_routes(setup: Setup) -> None:
    ids = [p.initiative_id for p in setup.services.list_initiatives(limit=100)]
    assert len(ids) >= 5
    for initiative_id in ids:
        setup.check(initiative_id)
    # nothing changed since: every first read is a kept answer now
    assert setup.check(ids[0]) == len(CALLERS) * len(LANGUAGES)


def test_no_command_leaves_a_stale_answer_behind(setup: Setup) -> None:
    services, clock, actors = setup.services, setup.clock, setup.actors
    jana, thomas = actors["jana"], actors["thomas"]
    initiative = services.create("kosi-lab", "Repair café <script>", jana).initiative_id
    other = services.list_initiatives(limit=1)[0].initiative_id
    everyone = len(CALLERS) * len(LANGUAGES)
    commands: list[Callable[[], object]] = [
        lambda: services.tick(initiative, "challenge_defined", jana, evidence="https://a.example"),
        lambda: services.tick(initiative, "mandate_secured", thomas, evidence="Ratsbeschluss"),
        lambda: services.reopen(initiative, "mandate_secured", "wrong document", thomas),
        lambda: services.tick(initiative, "mandate_secured", thomas, evidence="B 2", note="ok"),
        lambda: services.waive(initiative, "resources_clarified", "own rooms", thomas),
        lambda: services.add_participant(initiative, "Ute Amt", "administration", jana),
        lambda: services.add_participant(initiative, "Cem Verein", "civil_society", jana),
        lambda: services.add_participant(initiative, "Ida Uni", "science", jana),
        lambda: services.tick(initiative, "actor_mapping", jana, evidence="Karte"),
        lambda: services.tick(initiative, "core_team_named", jana),
        lambda: services.tick(initiative, "kickoff_dialogue", jana, evidence="Protokoll"),
        lambda: services.approve(initiative, "start_co_creation", thomas, role="administration"),
        lambda: services.note(initiative, "Treffen im Rathaus", jana),
        lambda: services.hold(initiative, "Sommerpause", jana),
        lambda: services.resume(initiative, jana),
        lambda: services.fire(initiative, "start_co_creation", jana),
    ]
    setup.check(initiative)
    setup.check(other)
    for command in commands:
        clock.now += timedelta(hours=1)
        command()
        assert setup.check(initiative) == setup.repeats  # nothing kept from before was sent
        assert setup.check(other) == everyone  # the other initiative's answers stay kept

    # a deadline crossing without an event: co-creation's max_days (120) pass
    clock.now += timedelta(days=121)
    assert setup.check(initiative) == everyone
    assert services.sweep().recorded  # PhaseOverdue: a new version
    assert setup.check(initiative) == setup.repeats

    # an erased participant: a name the answer shows changes without an event
    services.erase_people("Cem Verein")
    assert setup.check(initiative) == setup.repeats
    services.fire(initiative, "archive", jana, reason="Förderung endet")
    assert setup.check(initiative) == setup.repeats


def test_every_other_answer_is_the_apps(setup: Setup) -> None:
    """401, 404, 422, time travel and a failing check go to the app unchanged."""
    initiative = setup.services.list_initiatives(limit=1)[0].initiative_id
    setup.check(initiative)  # answers are kept for it now
    path = f"/api/v1/initiatives/{initiative}"
    jana = {"Authorization": f"Bearer {setup.tokens['jana']}"}
    hits = setup.cache.hits
    assert_problem(setup.client.get(path), 401)
    assert_problem(setup.client.get(path, headers={"Authorization": "Bearer nobody"}), 401)
    assert_problem(setup.client.get(path, headers={"Authorization": "Basic eDp5"}), 401)
    assert_problem(setup.client.get("/api/v1/initiatives/no-such-id", headers=jana), 404)
    assert_problem(setup.client.get(f"{path}?colour=red", headers=jana), 422)
    at = setup.client.get(path, params={"at": "2019-01-01T00:00:00Z"}, headers=jana)
    assert at.status_code == 200
    assert at.json()["version"] < setup.get(initiative, "jana").json()["version"]
    assert setup.cache.hits == hits + 1  # only the last plain read

    async def failing(*_args: object) -> None:
        raise RuntimeError("database gone")

    setup.cache.check = failing  # type: ignore[method-assign]
    answer = setup.get(initiative, "jana")
    assert answer.status_code == 200
    assert setup.cache.hits == hits + 1


def test_the_kept_answers_stay_within_their_bound(setup: Setup) -> None:
    ids = [p.initiative_id for p in setup.services.list_initiatives(limit=100)]
    largest = max(len(setup.get(i, "jana").content) for i in ids)
    setup.cache.clear()
    setup.cache.max_bytes = 3 * largest  # two or three answers
    for initiative_id in ids:
        assert setup.get(initiative_id, "jana").status_code == 200
        assert 0 < setup.cache.size <= setup.cache.max_bytes
    hits = setup.cache.hits
    setup.get(ids[-1], "jana")  # the most recent is kept
    setup.get(ids[0], "jana")  # the oldest was dropped
    assert setup.cache.hits == hits + 1


def _cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kosiflow", "--database", url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_a_token_renewed_or_erased_elsewhere_is_refused_at_once(database_url: str) -> None:
    with api_on(database_url) as api:
        cache = api.client.app.state.progress_cache  # type: ignore[attr-defined]
        initiative = api.create()
        user = api.services.database.user_by_name("Jana Becker")
        assert user is not None
        jana = Actor(user.person_id, frozenset(user.roles))
        api.services.add_participant(initiative, "Ute Amt", "administration", jana)
        api.services.tick(initiative, "challenge_defined", jana, evidence="https://a.example")
        old = api.call("GET", f"/initiatives/{initiative}")
        assert old.json()["participants"][0]["person"]["name"] == "Ute Amt"
        assert api.call("GET", f"/initiatives/{initiative}").content == old.content
        assert cache.hits == 1

        new_token = _cli(database_url, "users", "token", "Jana Becker")
        assert_problem(api.call("GET", f"/initiatives/{initiative}"), 401)
        api.tokens["jana"] = new_token
        assert api.call("GET", f"/initiatives/{initiative}").content == old.content
        assert cache.hits == 2  # the same roles: the same kept answer

        _cli(database_url, "erase", "Jana Becker", "--yes")
        assert_problem(api.call("GET", f"/initiatives/{initiative}"), 401)
        assert cache.hits == 2


def test_concurrent_reads_share_the_checks_connections(database_url: str) -> None:
    """Many reads at once (more than the PostgreSQL check's connections): every one answered,
    all alike, all but the first from the cache."""
    with api_on(database_url) as api:
        app = api.client.app
        cache: AnswerCache = app.state.progress_cache  # type: ignore[attr-defined]
        initiative = api.create()
        path = f"/api/v1/initiatives/{initiative}"
        first = api.call("GET", f"/initiatives/{initiative}")

        async def read_all() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                reads = [client.get(path, headers=api.headers("jana")) for _ in range(40)]
                return await asyncio.gather(*reads)

        try:
            answers = asyncio.run(read_all())
        finally:
            cache.close()  # the connections of that event loop
        assert {(a.status_code, a.content) for a in answers} == {(200, first.content)}
        assert cache.hits == 40
