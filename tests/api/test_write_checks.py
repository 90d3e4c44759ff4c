"""Who may write, checked before anything else is refused, on both backends.

On PostgreSQL a write's token is checked in the command's thread, right before the command (one
thread hop for both); a request refused earlier for its query, headers or body (a bad field, a
bad ``If-Match``, a too long ``Idempotency-Key``, a body that is no JSON, an unknown query
parameter) must still be answered 401 (no valid token) or 403 (a read-only role) first, and a
refused writer records nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.store import Database
from tests.api.apps import api_on
from tests.api.helpers import Api, assert_problem

WRITES = [
    ("/checklist/challenge_defined", {"evidence": "Protokoll"}, {"evidence": 5}),
    ("/notes", {"text": "Runder Tisch"}, {"text": ""}),
    ("/hold", {"reason": "Haushaltssperre"}, {"reason": ["Haushaltssperre"]}),
]
"""(path below the initiative, a valid body, an invalid one)."""

NOBODY = {"Authorization": "Bearer no-such-token"}


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    url = request.getfixturevalue(f"{request.param}_url")
    with api_on(url) as served:
        yield served


def _post(api: Api, initiative: str, path: str, body: Any, **headers: str) -> Any:
    return api.client.post(f"/api/v1/initiatives/{initiative}{path}", json=body, headers=headers)


def _refusals(api: Api, initiative: str, path: str, good: Any, bad: Any, **who: str) -> list[Any]:
    """Requests refused for their query, headers or body (422 for a writer)."""
    url = f"/api/v1/initiatives/{initiative}{path}"
    no_json = {**who, "Content-Type": "application/json"}
    return [
        _post(api, initiative, path, bad, **who),
        _post(api, initiative, path, good, **who, **{"If-Match": "seven"}),
        _post(api, initiative, path, good, **who, **{"Idempotency-Key": "k" * 201}),
        api.client.post(url, content=b'{"text": ', headers=no_json),
        api.client.post(url, params={"unknown": "1"}, json=good, headers=who),
    ]


pytestmark = pytest.mark.parametrize(
    "api", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.mark.parametrize(("path", "good", "bad"), WRITES)
def test_no_valid_token_is_401_before_a_bad_query_header_or_body(
    api: Api, path: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    initiative = api.create()
    before = api.events(initiative)
    for who in ({}, NOBODY, {"Authorization": "Basic eDp5"}):
        for response in [
            *_refusals(api, initiative, path, good, bad, **who),
            _post(api, initiative, path, good, **who),
        ]:
            assert_problem(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"
    assert api.events(initiative) == before


@pytest.mark.parametrize(("path", "good", "bad"), WRITES)
def test_a_read_only_role_is_403_before_a_bad_query_header_or_body(
    api: Api, path: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    initiative = api.create()
    before = api.events(initiative)
    auditor = api.headers("renate")
    for response in [
        *_refusals(api, initiative, path, good, bad, **auditor),
        _post(api, initiative, path, good, **auditor),
    ]:
        assert_problem(response, 403)
    assert api.events(initiative) == before


@pytest.mark.parametrize(("path", "good", "bad"), WRITES)
def test_a_writer_gets_422_for_a_bad_query_header_or_body_and_writes_as_the_tokens_user(
    api: Api, path: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    initiative = api.create()
    before = api.events(initiative)
    refused = _refusals(api, initiative, path, good, bad, **api.headers("jana"))
    fields = [assert_problem(response, 422)["errors"][0]["field"] for response in refused]
    assert fields[0].startswith("body.")
    assert fields[1:3] == ["If-Match", "header.idempotency-key"]
    assert fields[4] == "query.unknown"
    assert api.events(initiative) == before

    answer = _post(api, initiative, path, good, **api.headers("jana"))
    assert answer.status_code == 200, answer.text
    jana = api.services.database.user_by_name("Jana Becker")
    assert jana is not None
    last = list(api.services.history(initiative))[-1]
    assert last.actor == jana.person_id
    assert api.events(initiative) == before + 1


def test_on_postgresql_the_token_check_reads_the_state_the_command_reads_first(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that has not cached the initiative reads its stored state before a command
    (PostgreSQL): the token check reads it too, in the same statement, and the command reads
    nothing more. Read so, an unknown token is still 401 and a read-only role 403, and nothing
    is recorded. A command with an ``Idempotency-Key`` reads its locked row instead, so
    nothing is read ahead for it. SQLite checks the token on the event loop, alone."""
    elsewhere = Services(api.services.database, api.services.catalog)  # another process's cache
    jana = api.services.database.user_by_name("Jana Becker")
    assert jana is not None
    actor = Actor(jana.person_id, frozenset(jana.roles))
    plain, keyed, refused = (
        elsewhere.create("kosi-lab", title, actor).initiative_id for title in "abc"
    )
    ahead: list[str] = []
    reads: list[str] = []
    user_and_projection = Database.user_and_projection
    cache_stored = Services._cache_stored

    def read_ahead(self: Database, token: str, initiative_id: str) -> tuple[Any, Any]:
        ahead.append(initiative_id)
        return user_and_projection(self, token, initiative_id)

    def read(self: Services, initiative_id: str) -> None:
        reads.append(initiative_id)
        cache_stored(self, initiative_id)

    monkeypatch.setattr(Database, "user_and_projection", read_ahead)
    monkeypatch.setattr(Services, "_cache_stored", read)

    for who, status in ((NOBODY, 401), (api.headers("renate"), 403)):
        assert_problem(_post(api, refused, "/notes", {"text": "eins"}, **who), status)
    assert api.events(refused) == 1
    key = {"Idempotency-Key": "k"}
    answers = [
        _post(api, plain, "/notes", {"text": "eins"}, **api.headers("jana")),
        _post(api, keyed, "/notes", {"text": "eins"}, **api.headers("jana"), **key),
    ]

    assert [answer.json()["version"] for answer in answers] == [2, 2]
    assert ahead == ([refused, refused, plain] if api.services.database.batches_appends else [])
    assert reads == []
