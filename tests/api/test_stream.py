"""The live streams (server-sent events) through the ASGI app: framing, resuming with
``Last-Event-ID`` or ``?after=``, who may follow (401, 404, 422), the limit (503), heartbeats
that end a stream whose caller may no longer read, the end of every stream at shutdown; the
pages' streams on their session cookie. Another process's changes: ``test_stream_server.py``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from api import create_app, live_stream
from api.pages.session import SESSION_COOKIE
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.services import live as live_feed
from tests.api.helpers import USERS, TestClient
from tests.api.sse_client import AsgiStream, SseMessage, first_answer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Live:
    """The app (not started: its streams are read with :class:`AsgiStream`), its users."""

    app: FastAPI
    services: Services
    tokens: dict[str, str]
    actors: dict[str, Actor]

    def headers(self, who: str = "jana", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def create(self, title: str = "Fahrradgaragen") -> str:
        return self.services.create("kosi-lab", title, self.actors["jana"]).initiative_id

    def tick(self, initiative: str, item: str = "challenge_defined") -> int:
        return self.services.tick(initiative, item, self.actors["jana"], evidence="x").version

    def stream(self, path: str, who: str | None = "jana", **extra: str) -> AsgiStream:
        headers = {} if who is None else self.headers(who, **extra)
        return AsgiStream(self.app, path, headers)


def make_live(services: Services) -> Live:
    tokens, actors = {}, {}
    for key, (name, roles) in USERS.items():
        user, tokens[key] = services.database.add_user(name, roles)
        actors[key] = Actor(user.person_id, frozenset(user.roles))
    return Live(create_app(services), services, tokens, actors)


@pytest.fixture
def live(services: Services) -> Iterator[Live]:
    made = make_live(services)
    yield made
    made.app.state.live.close()


async def changes(stream: AsgiStream, count: int) -> list[SseMessage]:
    return [await stream.next_message("change") for _ in range(count)]


# -- framing -----------------------------------------------------------------------------------


async def test_the_stream_of_every_initiative_frames_each_change_as_an_event(live: Live) -> None:
    initiative = live.create()
    async with live.stream("/api/v1/stream") as stream:
        assert stream.status == 200
        assert stream.response_headers["content-type"] == "text/event-stream; charset=utf-8"
        assert stream.response_headers["cache-control"] == "no-store"
        hint = await stream.next_message()
        assert hint.retry == live_stream.RETRY_MILLISECONDS
        ready = await stream.next_message()
        assert ready.event == "ready"
        assert ready.json() == {"position": int(ready.id or "")}

        version = live.tick(initiative)
        (change,) = await changes(stream, 1)

    data = change.json()
    assert data == {
        "initiative": initiative,
        "version": version,
        "type": "ItemTicked",
        "workflow": "kosi-lab",
        "phase": "initiation",
        "at": data["at"],
        "position": data["position"],
    }
    assert change.id == str(data["position"])
    assert data["position"] > int(ready.id or "")
    assert b"\ndata: " in stream.body
    assert b"\r" not in stream.body


async def test_the_stream_of_one_initiative_counts_in_its_versions_and_skips_others(
    live: Live,
) -> None:
    mine, other = live.create(), live.create("Anderes")
    async with live.stream(f"/api/v1/initiatives/{mine}/stream") as stream:
        ready = await stream.next_message("ready")
        assert (ready.id, ready.json()) == ("1", {"initiative": mine, "version": 1})
        live.tick(other)
        live.tick(mine)
        live.tick(other, "actor_mapping")
        live.tick(mine, "actor_mapping")
        received = await changes(stream, 2)

    assert [m.id for m in received] == ["2", "3"]
    assert {m.json()["initiative"] for m in received} == {mine}


# -- resuming -----------------------------------------------------------------------------------


async def test_a_reconnection_with_last_event_id_gets_every_change_it_missed(live: Live) -> None:
    initiative = live.create()
    async with live.stream("/api/v1/stream") as stream:
        last_seen = (await stream.next_message("ready")).id or ""
    missed = [live.tick(initiative), live.tick(initiative, "actor_mapping")]

    async with live.stream("/api/v1/stream", **{"Last-Event-ID": last_seen}) as stream:
        assert (await stream.next_message("ready")).id == last_seen
        received = await changes(stream, 2)
        later = live.tick(initiative, "core_team_named")
        (live_change,) = await changes(stream, 1)

    assert [m.json()["version"] for m in received] == missed
    assert live_change.json()["version"] == later


async def test_after_resumes_the_first_connection_and_last_event_id_takes_precedence(
    live: Live,
) -> None:
    initiative = live.create()
    first, second = live.tick(initiative), live.tick(initiative, "actor_mapping")
    path = f"/api/v1/initiatives/{initiative}/stream"

    async with live.stream(f"{path}?after=1") as stream:
        assert [m.json()["version"] for m in await changes(stream, 2)] == [first, second]
    async with live.stream(f"{path}?after=1", **{"Last-Event-ID": str(first)}) as stream:
        assert [m.json()["version"] for m in await changes(stream, 1)] == [second]


async def test_a_client_too_far_behind_is_told_to_start_afresh(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_feed, "REPLAY_LIMIT", 2)
    initiative = live.create()
    for item in ("challenge_defined", "actor_mapping", "core_team_named"):
        live.tick(initiative, item)

    async with live.stream("/api/v1/stream?after=0") as stream:
        reset = await stream.next_message()
        reset = reset if reset.event == "reset" else await stream.next_message()
    async with live.stream(f"/api/v1/initiatives/{initiative}/stream?after=0") as one:
        one_reset = await one.next_message("reset")

    assert reset.event == "reset"
    assert reset.json() == {"position": int(reset.id or "")}
    assert int(reset.id or "") >= 4
    assert (one_reset.id, one_reset.json()) == ("4", {"initiative": initiative, "version": 4})


async def test_a_position_beyond_anything_recorded_starts_afresh(live: Live) -> None:
    initiative = live.create()
    async with live.stream("/api/v1/stream?after=999") as stream:
        reset = await stream.next_message("reset")
    async with live.stream(f"/api/v1/initiatives/{initiative}/stream?after=7") as one:
        one_reset = await one.next_message("reset")
    assert reset.json() == {"position": 1}
    assert one_reset.json() == {"initiative": initiative, "version": 1}


# -- who may follow -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/stream", "/api/v1/initiatives/{id}/stream"])
@pytest.mark.parametrize("token", [None, "not-a-token"])
async def test_without_a_valid_token_a_stream_is_401(
    live: Live, path: str, token: str | None
) -> None:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    status, answer, _body = await first_answer(live.app, path.format(id=live.create()), headers)
    assert (status, answer["content-type"]) == (401, "application/problem+json")
    assert answer["www-authenticate"] == "Bearer"
    assert live.app.state.live.open_streams == 0


@pytest.mark.parametrize("who", ["jana", "thomas", "renate", "root"])
async def test_every_signed_in_role_may_follow_as_it_may_read(live: Live, who: str) -> None:
    initiative = live.create()
    for path in ("/api/v1/stream", f"/api/v1/initiatives/{initiative}/stream"):
        status, _, body = await first_answer(live.app, path, live.headers(who))
        assert status == 200
        assert body.startswith(b"retry: ")


async def test_an_unknown_initiative_is_404(live: Live) -> None:
    status, answer, body = await first_answer(
        live.app, "/api/v1/initiatives/no-such/stream", live.headers()
    )
    assert (status, answer["content-type"]) == (404, "application/problem+json")
    assert b"no-such" in body
    assert live.app.state.live.open_streams == 0


@pytest.mark.parametrize(
    ("query", "header", "field"),
    [
        ("?after=seven", None, "query.after"),
        ("?after=-1", None, "query.after"),
        ("?after=1234567890123456789", None, "query.after"),
        ("", "7; drop", "header.Last-Event-ID"),
        ("?unknown=1", None, "query.unknown"),
    ],
)
async def test_a_malformed_position_is_422_naming_where(
    live: Live, query: str, header: str | None, field: str
) -> None:
    extra = {} if header is None else {"Last-Event-ID": header}
    status, answer, body = await first_answer(
        live.app, f"/api/v1/stream{query}", live.headers(**extra)
    )
    assert (status, answer["content-type"]) == (422, "application/problem+json")
    assert f'"field":"{field}"' in body.decode()


async def test_beyond_the_limit_of_open_streams_the_answer_is_503_with_retry_after(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(live_stream.MAX_STREAMS_VARIABLE, "2")
    live = make_live(services)
    try:
        async with live.stream("/api/v1/stream") as one, live.stream("/api/v1/stream") as two:
            assert (one.status, two.status) == (200, 200)
            status, answer, _ = await first_answer(live.app, "/api/v1/stream", live.headers())
            assert (status, answer["retry-after"]) == (503, "30")
        status, _, _ = await first_answer(live.app, "/api/v1/stream", live.headers())
        assert status == 200  # the two ended: their places are free again
    finally:
        live.app.state.live.close()


def test_a_bad_limit_setting_is_refused_naming_it(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(live_stream.MAX_STREAMS_VARIABLE, "many")
    with pytest.raises(Exception, match="KOSIFLOW_LIVE_STREAMS: expected a whole number"):
        create_app(services)


# -- heartbeats and the end of a stream ---------------------------------------------------------


async def test_a_quiet_stream_heartbeats_and_ends_once_its_token_is_renewed(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_stream, "HEARTBEAT_SECONDS", 0.05)
    async with live.stream("/api/v1/stream") as stream:
        await stream.next_message("ready")
        await stream.next_message()  # a heartbeat: a comment alone
        assert b"\n: keep-alive\n\n" in stream.body
        user = live.services.database.user_by_name("Jana Becker")
        assert user is not None
        live.services.database.renew_token(user)
        await stream.until_ended()


async def test_shutting_the_feed_down_ends_every_stream_and_refuses_new_ones(live: Live) -> None:
    async with live.stream("/api/v1/stream") as stream:
        await stream.next_message("ready")
        live.app.state.live.close()  # what SIGTERM and the application's shutdown do
        await stream.until_ended()
    status, answer, _ = await first_answer(live.app, "/api/v1/stream", live.headers())
    assert (status, answer["retry-after"]) == (503, "5")


def test_the_application_shutdown_closes_the_feed(services: Services) -> None:
    app = create_app(services)
    with TestClient(app):
        assert not app.state.live.closed
    assert app.state.live.closed


# -- the pages' streams --------------------------------------------------------------------------


def session_cookie(live: Live, who: str = "jana") -> dict[str, str]:
    signed_in = live.services.sign_in(live.tokens[who])
    assert signed_in is not None
    return {"Cookie": f"{SESSION_COOKIE}={signed_in.session_id}"}


@pytest.mark.parametrize("path", ["/live", "/initiatives/{id}/live"])
async def test_a_page_stream_needs_a_signed_in_session(live: Live, path: str) -> None:
    url = path.format(id=live.create())
    for headers in ({}, {"Cookie": f"{SESSION_COOKIE}=forged"}, live.headers()):
        status, answer, _ = await first_answer(live.app, url, headers)
        assert (status, answer["content-type"]) == (401, "application/problem+json")
    status, answer, _body = await first_answer(live.app, url, session_cookie(live, "renate"))
    assert (status, answer["content-type"]) == (200, "text/event-stream; charset=utf-8")


async def test_a_page_stream_follows_its_initiative_and_ends_with_its_session(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    initiative = live.create()
    cookie = session_cookie(live)
    url = f"/initiatives/{initiative}/live?after=1"
    async with AsgiStream(live.app, url, cookie) as stream:
        version = live.tick(initiative)
        (change,) = await changes(stream, 1)
        assert (change.id, change.json()["version"]) == (str(version), version)
        monkeypatch.setattr(live_stream, "HEARTBEAT_SECONDS", 0.05)
        live.services.sign_out(cookie["Cookie"].split("=", 1)[1])
        live.tick(initiative, "actor_mapping")  # wakes the stream: its check is due
        await stream.until_ended()


async def test_a_page_stream_of_an_unknown_initiative_is_404(live: Live) -> None:
    status, _, _ = await first_answer(live.app, "/initiatives/nope/live", session_cookie(live))
    assert status == 404


def test_live_pages_name_their_stream_and_allow_only_our_own_script(live: Live) -> None:
    initiative = live.create()
    with TestClient(live.app) as client:
        client.cookies.set(SESSION_COOKIE, session_cookie(live)["Cookie"].split("=", 1)[1])
        dashboard = client.get("/")
        page = client.get(f"/initiatives/{initiative}")
        workflow = client.get("/workflows/kosi-lab")

    assert 'data-live-stream="/live?after=' in dashboard.text
    assert f'data-live-stream="/initiatives/{initiative}/live?after=1"' in page.text
    for live_page in (dashboard, page):
        assert '<script src="/static/live.js" defer></script>' in live_page.text
        policy = live_page.headers["content-security-policy"]
        assert "script-src 'self'; connect-src 'self'" in policy
        assert "unsafe" not in policy
    assert "data-live-stream" not in workflow.text
    assert "script-src" not in workflow.headers["content-security-policy"]
