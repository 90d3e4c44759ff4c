"""Auditors' reads across initiatives: the streamed export, phase durations, state as it was."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.errors import BadInput, NotFound
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.helpers import USERS, WORKFLOWS, Api, TestClient, assert_problem

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def days(self, count: float) -> None:
        self.now += timedelta(days=count)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(tmp_path: Path, clock: Clock) -> Iterator[Api]:
    """An API whose services run on ``clock``."""
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(f"sqlite:///{tmp_path / 'audit.db'}")
    catalog.register(database)
    services = Services(database, catalog, clock=clock)
    tokens = {key: database.add_user(name, roles)[1] for key, (name, roles) in USERS.items()}
    with TestClient(create_app(services)) as client:
        yield Api(client, services, tokens)
    database.close()


def _coordinator(api: Api) -> Actor:
    user = api.services.database.user_by_token(api.tokens["jana"])
    assert user is not None
    return Actor(user.person_id, frozenset(user.roles))


def _light(api: Api, clock: Clock, title: str, agree_days: float) -> str:
    """A light-track initiative that spent ``agree_days`` in "agree" before implementation."""
    jana = _coordinator(api)
    initiative_id = api.services.create("light-track", title, jana).initiative_id
    for item in ("request_described", "responsible_named"):
        api.services.tick(initiative_id, item, jana)
    clock.days(agree_days)
    api.services.fire(initiative_id, "start_implementation", jana)
    return initiative_id


def test_phase_statistics_as_json_and_csv(timed: Api, clock: Clock) -> None:
    for title, days in (("Bank", 2), ("Beet", 6), ("Laterne", 4)):
        _light(timed, clock, title, days)
    clock.days(100)  # every one of them is now past implement's max_days (90)
    response = timed.call("GET", "/reports/phase-durations", "renate")
    assert response.status_code == 200, response.text
    rows = {(r["workflow_id"], r["phase"]): r for r in response.json()["items"]}
    agree = rows[("light-track", "agree")]
    assert (agree["count"], agree["current"], agree["median_days"], agree["p90_days"]) == (
        3,
        0,
        4.0,
        6.0,
    )
    assert agree["bottleneck"] == {
        "kind": "item",
        "id": "responsible_named",
        "median_days": 0.0,
        "visits": 3,
    }
    implement = rows[("light-track", "implement")]
    assert (implement["count"], implement["current"], implement["overdue"]) == (0, 3, 3)
    assert implement["median_days"] is None

    as_csv = timed.client.get(
        "/api/v1/reports/phase-durations", params={"format": "csv"}, headers=timed.headers("jana")
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["phase"], r["count"], r["overdue"]) for r in table] == [
        ("agree", "3", "0"),
        ("implement", "0", "3"),
    ]
    assert_problem(timed.client.get("/api/v1/reports/phase-durations"), 401)


def test_the_state_as_it_was_at_any_moment(timed: Api, clock: Clock) -> None:
    initiative_id = _light(timed, clock, "Bank", 3)
    before = timed.services.state_at(initiative_id, START + timedelta(days=1))
    after = timed.services.state_at(initiative_id, START + timedelta(days=3))
    assert (before.phase, before.version, len(before.checklist)) == ("agree", 3, 2)
    assert (after.phase, after.visit, after.version, after.checklist) == ("implement", 1, 4, {})
    with pytest.raises(BadInput, match="created later"):
        timed.services.state_at(initiative_id, START - timedelta(seconds=1))
    with pytest.raises(BadInput, match="offset"):
        timed.services.state_at(initiative_id, datetime(2026, 3, 3))
    with pytest.raises(NotFound):
        timed.services.state_at("nope", START)


def test_visits_show_entered_left_and_time_on_hold(timed: Api, clock: Clock) -> None:
    jana = _coordinator(timed)
    initiative_id = _light(timed, clock, "Bank", 3)
    clock.days(1)
    timed.services.hold(initiative_id, "Haushaltssperre", jana)
    clock.days(5)
    timed.services.resume(initiative_id, jana)
    clock.days(2)
    agree, implement = timed.services.visits(initiative_id)
    assert (agree.phase, agree.duration(clock.now), agree.held) == (
        "agree",
        timedelta(days=3),
        timedelta(0),
    )
    assert agree.left is not None
    assert agree.left.trigger == "start_implementation"
    assert implement.left is None
    assert implement.duration(clock.now) == timedelta(days=8)
    assert (implement.held, implement.active(clock.now)) == (timedelta(days=5), timedelta(days=3))


def _export(api: Api, who: str = "renate", **params: str) -> list[dict[str, object]]:
    response = api.client.get("/api/v1/audit/export", params=params, headers=api.headers(who))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/jsonl"
    return [json.loads(line) for line in response.text.splitlines()]


def test_export_streams_every_event_as_json_lines_with_hashes(api: Api) -> None:
    first = api.create("Fahrradgaragen")
    second = api.create("Nachbarschaftsgarten", workflow="light-track")
    api.call("POST", f"/initiatives/{first}/checklist/problem_statement", json={})
    lines = _export(api)
    expected = [(i, e.seq, e.hash) for i in (first, second) for e in api.services.history(i)]
    assert [(line["initiative_id"], line["seq"], line["hash"]) for line in lines] == expected
    assert lines[0]["type"] == "InitiativeCreated"
    assert lines[0]["payload"]["title"] == "Fahrradgaragen"  # type: ignore[index]
    assert [line["initiative_id"] for line in _export(api, workflow="light-track")] == [second]
    assert {line["initiative_id"] for line in _export(api, "root", initiative=first)} == {first}


def test_export_filters_by_time(timed: Api, clock: Clock) -> None:
    _light(timed, clock, "Bank", 3)
    since = (START + timedelta(days=1)).isoformat()
    assert [line["type"] for line in _export(timed, since=since)] == ["PhaseChanged"]
    until = (START + timedelta(days=1)).isoformat()
    assert [line["type"] for line in _export(timed, until=until)] == [
        "InitiativeCreated",
        "ItemTicked",
        "ItemTicked",
    ]


def test_export_as_csv_keeps_payloads_as_json(api: Api) -> None:
    initiative_id = api.create('Titel mit "Anführung", Komma')
    response = api.client.get(
        "/api/v1/audit/export", params={"format": "csv"}, headers=api.headers("renate")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["initiative_id"], r["seq"]) for r in rows] == [(initiative_id, "1")]
    assert json.loads(rows[0]["payload"])["title"] == 'Titel mit "Anführung", Komma'


def test_export_is_for_auditors_and_admins_and_checks_its_input(api: Api) -> None:
    api.create()
    url = "/api/v1/audit/export"
    assert_problem(api.client.get(url), 401)
    assert_problem(api.client.get(url, headers=api.headers("jana")), 403)
    assert_problem(api.client.get(url, headers=api.headers("thomas")), 403)
    renate = api.headers("renate")
    body = assert_problem(api.client.get(url, params={"format": "xml"}, headers=renate), 422)
    assert "format" in json.dumps(body["errors"])
    naive = {"since": "2026-03-02T09:00:00"}
    assert_problem(api.client.get(url, params=naive, headers=renate), 422)
    assert_problem(api.client.get(url, params={"initiative": "nope"}, headers=renate), 404)


def test_the_api_shows_an_initiative_as_it_was(timed: Api, clock: Clock) -> None:
    initiative_id = _light(timed, clock, "Bank", 3)
    path = f"/initiatives/{initiative_id}"
    then = timed.client.get(
        f"/api/v1{path}",
        params={"at": (START + timedelta(days=1)).isoformat()},
        headers=timed.headers("renate"),
    )
    assert then.status_code == 200, then.text
    assert (then.json()["phase"]["id"], then.json()["version"]) == ("agree", 3)
    assert then.headers["ETag"] == '"3"'
    assert timed.call("GET", path, "renate").json()["phase"]["id"] == "implement"
    for bad in ("2026-03-02T09:00:00", "yesterday", "2020-01-01T00:00:00Z"):
        response = timed.client.get(
            f"/api/v1{path}", params={"at": bad}, headers=timed.headers("renate")
        )
        assert_problem(response, 422)
