"""Who may write, checked before anything else is refused, on both backends.

On PostgreSQL a write's token is checked in the command's thread, right before the command (one
thread hop for both); a request refused earlier for its headers or body must still be answered
401 (no valid token) or 403 (a read-only role) first, and a refused writer records nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

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


pytestmark = pytest.mark.parametrize(
    "api", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.mark.parametrize(("path", "good", "bad"), WRITES)
def test_no_valid_token_is_401_before_a_bad_body_or_header(
    api: Api, path: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    initiative = api.create()
    before = api.events(initiative)
    for headers, body in [
        ({}, bad),
        (NOBODY, bad),
        ({**NOBODY, "If-Match": "seven"}, good),
        ({**NOBODY, "Idempotency-Key": "k" * 201}, good),
        (NOBODY, good),
    ]:
        response = _post(api, initiative, path, body, **headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    assert api.events(initiative) == before


@pytest.mark.parametrize(("path", "good", "bad"), WRITES)
def test_a_read_only_role_is_403_before_a_bad_body_or_header(
    api: Api, path: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    initiative = api.create()
    before = api.events(initiative)
    auditor = api.headers("renate")
    assert_problem(_post(api, initiative, path, bad, **auditor), 403)
    assert_problem(_post(api, initiative, path, good, **auditor, **{"If-Match": "seven"}), 403)
    assert_problem(_post(api, initiative, path, good, **auditor), 403)
    assert api.events(initiative) == before


@pytest.mark.parametrize(("path", "good", "bad"), WRITES)
def test_a_writer_gets_422_for_a_bad_body_and_writes_as_the_tokens_user(
    api: Api, path: str, good: dict[str, Any], bad: dict[str, Any]
) -> None:
    initiative = api.create()
    before = api.events(initiative)
    body = assert_problem(_post(api, initiative, path, bad, **api.headers("jana")), 422)
    assert body["errors"][0]["field"].startswith("body.")
    assert_problem(
        _post(api, initiative, path, good, **api.headers("jana"), **{"If-Match": "x"}), 422
    )
    assert api.events(initiative) == before

    answer = _post(api, initiative, path, good, **api.headers("jana"))
    assert answer.status_code == 200, answer.text
    jana = api.services.database.user_by_name("Jana Becker")
    assert jana is not None
    last = list(api.services.history(initiative))[-1]
    assert last.actor == jana.person_id
    assert api.events(initiative) == before + 1
