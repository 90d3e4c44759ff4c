"""A write repeated under its Idempotency-Key gets the first answer and records nothing, on
SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.apps import api_on
from tests.api.helpers import Api, assert_problem


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    with api_on(database_url) as served:
        yield served


def tick(api: Api, initiative: str, key: str, evidence: str = "Protokoll") -> Any:
    return api.call(
        "POST",
        f"/initiatives/{initiative}/checklist/challenge_defined",
        json={"evidence": evidence},
        Idempotency_Key=key,
    )


def test_a_repeat_after_other_changes_gets_the_first_answer(api: Api) -> None:
    initiative = api.create()
    first = tick(api, initiative, "tick-1")
    assert first.status_code == 200
    assert tick(api, initiative, "tick-1").json() == first.json()
    noted = api.call("POST", f"/initiatives/{initiative}/notes", json={"text": "Termin"})
    assert noted.json()["version"] == 3

    again = tick(api, initiative, "tick-1")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["version"] == 2
    assert again.headers["etag"] == first.headers["etag"] == '"2"'
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    types = [e.type for e in api.services.history(initiative)]
    assert types == ["InitiativeCreated", "ItemTicked", "NoteAdded"]


def test_a_repeated_create_is_201_with_the_first_location_and_progress(api: Api) -> None:
    body = {"title": "Fahrradgaragen", "workflow": "kosi-lab"}
    first = api.call("POST", "/initiatives", json=body, Idempotency_Key="create-1")
    initiative = first.json()["id"]
    api.call("POST", f"/initiatives/{initiative}/checklist/core_team_named", json={})

    again = api.call("POST", "/initiatives", json=body, Idempotency_Key="create-1")
    assert again.status_code == 201
    assert again.headers["location"] == first.headers["location"]
    assert again.json() == first.json()
    assert again.json()["checklist"][3]["status"] == "open"
    assert len(api.services.list_initiatives()) == 1
    assert api.events(initiative) == 2


def test_a_repeated_participant_is_201_with_the_first_answer(api: Api) -> None:
    initiative = api.create()
    path = f"/initiatives/{initiative}/participants"
    body = {"name": "Aylin Demir", "role": "civil_society"}
    first = api.call("POST", path, json=body, Idempotency_Key="p-1")
    api.call("POST", path, json={"name": "Ben", "role": "business"})

    again = api.call("POST", path, json=body, Idempotency_Key="p-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert [p["person"]["name"] for p in again.json()["participants"]] == ["Aylin Demir"]
    assert api.events(initiative) == 3


def test_the_same_key_with_another_request_is_422_and_records_nothing(api: Api) -> None:
    initiative = api.create()
    tick(api, initiative, "tick-1")
    problem = assert_problem(tick(api, initiative, "tick-1", evidence="anders"), 422)
    assert problem["type"] == "urn:kosiflow:problem:idempotency-mismatch"
    assert problem["errors"][0]["field"] == "Idempotency-Key"
    elsewhere = api.create("Zweite")
    assert_problem(tick(api, elsewhere, "tick-1"), 422)
    assert api.events(initiative) == 2
    assert api.events(elsewhere) == 1


def test_keys_belong_to_their_user(api: Api) -> None:
    initiative = api.create()
    path = f"/initiatives/{initiative}/notes"
    mine = api.call("POST", path, "jana", json={"text": "eins"}, Idempotency_Key="k")
    theirs = api.call("POST", path, "thomas", json={"text": "eins"}, Idempotency_Key="k")
    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["version"] == 3


def test_a_refused_request_is_not_remembered(api: Api) -> None:
    initiative = api.create()
    path = f"/initiatives/{initiative}/checklist/mandate_secured"
    refused = api.call("POST", path, "thomas", json={}, Idempotency_Key="m-1")
    assert [e["code"] for e in assert_problem(refused, 409)["errors"]] == ["evidence_required"]
    api.call("POST", f"/initiatives/{initiative}/hold", json={"reason": "Pause"})
    again = api.call("POST", path, "thomas", json={}, Idempotency_Key="m-1")
    assert [e["code"] for e in assert_problem(again, 409)["errors"]] == ["on_hold"]
