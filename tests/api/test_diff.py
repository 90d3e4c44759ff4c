"""``GET /api/v1/initiatives/{id}/diff``: what changed between two moments, in words, with the
events as evidence; for every reader role; 422 naming the bad moment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.helpers import USERS, WORKFLOWS, Api, TestClient, assert_problem

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(tmp_path: Path, clock: Clock) -> Iterator[Api]:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(f"sqlite:///{tmp_path / 'diff.db'}")
    catalog.register(database)
    services = Services(database, catalog, clock=clock)
    tokens = {key: database.add_user(name, roles)[1] for key, (name, roles) in USERS.items()}
    with TestClient(create_app(services)) as client:
        yield Api(client, services, tokens)
    database.close()


@pytest.fixture
def bench(timed: Api, clock: Clock) -> str:
    """A light-track initiative: created and two items ticked on day 0, moved on day 3."""
    user = timed.services.database.user_by_token(timed.tokens["jana"])
    assert user is not None
    jana = Actor(user.person_id, frozenset(user.roles))
    initiative_id = timed.services.create("light-track", "Bank am Markt", jana).initiative_id
    for item in ("request_described", "responsible_named"):
        timed.services.tick(initiative_id, item, jana)
    clock.now += timedelta(days=3)
    timed.services.fire(initiative_id, "start_implementation", jana)
    clock.now += timedelta(days=1)
    return initiative_id


def _diff(api: Api, initiative_id: str, who: str = "renate", **params: str) -> dict[str, object]:
    headers = api.headers(who, **{"Accept-Language": params.pop("lang", "en")})
    response = api.client.get(
        f"/api/v1/initiatives/{initiative_id}/diff", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _moment(days: float) -> str:
    return (START + timedelta(days=days)).isoformat()


def test_the_changes_between_two_moments_in_words_with_their_events(timed: Api, bench: str) -> None:
    body = _diff(timed, bench, **{"from": _moment(1), "to": _moment(3.5)})
    assert (body["version_from"], body["version_to"]) == (3, 4)
    assert (body["phase_from"], body["phase_to"]) == ("agree", "implement")
    assert body["changes"] == [
        {
            "code": "phase.moved",
            "sentence": "The phase moved from Agree to Implement (“Start implementation”, "
            "Jana Becker).",
            "params": {
                "source": "agree",
                "target": "implement",
                "trigger": "start_implementation",
                "who": body["events"][0]["actor"],  # type: ignore[index]
            },
            "seqs": [4],
        }
    ]
    assert [(e["seq"], e["type"]) for e in body["events"]] == [(4, "PhaseChanged")]  # type: ignore[attr-defined]
    german = _diff(timed, bench, lang="de", **{"from": _moment(1), "to": _moment(3.5)})
    assert german["changes"][0]["sentence"].startswith("Die Phase wechselte von")  # type: ignore[index]


def test_to_defaults_to_now_and_from_before_the_start_begins_with_nothing(
    timed: Api, bench: str
) -> None:
    body = _diff(timed, bench, **{"from": _moment(-1)})
    assert body["to"] == _moment(4).replace("+00:00", "Z")
    assert (body["version_from"], body["phase_from"], body["version_to"]) == (0, None, 4)
    codes = [c["code"] for c in body["changes"]]  # type: ignore[attr-defined]
    assert codes == ["created", "phase.moved", "item.ticked", "item.ticked"]


def test_nothing_changed_and_not_yet_are_answers(timed: Api, bench: str) -> None:
    quiet = _diff(timed, bench, **{"from": _moment(3.5), "to": _moment(4)})
    assert [c["sentence"] for c in quiet["changes"]] == ["Nothing changed."]  # type: ignore[attr-defined]
    assert quiet["events"] == []
    early = _diff(timed, bench, lang="de", **{"from": _moment(-2), "to": _moment(-1)})
    assert [c["sentence"] for c in early["changes"]] == ["Die Initiative gab es noch nicht."]  # type: ignore[attr-defined]
    assert (early["phase_from"], early["phase_to"]) == (None, None)


@pytest.mark.parametrize("who", ["jana", "thomas", "aylin", "lena", "renate", "root"])
def test_every_reader_may_compare(timed: Api, bench: str, who: str) -> None:
    assert _diff(timed, bench, who, **{"from": _moment(0)})["version_to"] == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "query.from"),
        ({"from": "yesterday"}, "query.from"),
        ({"from": "1700000000"}, "query.from"),
        ({"from": "2026-03-02T09:00:00"}, "query.from"),
        ({"from": _moment(0), "to": "2026-03-05T09:00:00"}, "query.to"),
        ({"from": _moment(2), "to": _moment(1)}, "query.from"),
        ({"from": _moment(0), "since": _moment(0)}, "query.since"),
    ],
)
def test_bad_or_missing_moments_are_422_naming_the_field(
    timed: Api, bench: str, params: dict[str, str], field: str
) -> None:
    response = timed.client.get(
        f"/api/v1/initiatives/{bench}/diff", params=params, headers=timed.headers("renate")
    )
    assert [e["field"] for e in assert_problem(response, 422)["errors"]] == [field]


def test_an_unknown_initiative_is_404_and_no_token_is_401(timed: Api, bench: str) -> None:
    params = {"from": _moment(0)}
    url = "/api/v1/initiatives/nope/diff"
    assert_problem(timed.client.get(url, params=params, headers=timed.headers("renate")), 404)
    assert_problem(timed.client.get(f"/api/v1/initiatives/{bench}/diff", params=params), 401)


def test_the_openapi_document_describes_the_diff_with_an_example(timed: Api) -> None:
    document = timed.client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/initiatives/{initiative_id}/diff"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "initiative_id"}
    assert {"200", "401", "404", "422"} <= operation["responses"].keys()
    schema = document["components"]["schemas"]["DiffOut"]
    assert schema["examples"][0]["changes"][0]["code"] == "phase.moved"
    assert {"from", "to", "changes", "events"} <= schema["properties"].keys()
