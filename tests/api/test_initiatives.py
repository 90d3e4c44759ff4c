"""Creating, listing and showing initiatives; their history and its hash chain."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kosiflow.demo import load_demo
from tests.api.helpers import Api, assert_problem


def test_create_answers_201_with_location_etag_and_the_progress(api: Api) -> None:
    body = {"title": "Fahrradgaragen", "workflow": "kosi-lab", "description": "im Quartier"}
    response = api.call("POST", "/initiatives", json=body)
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/api/v1/initiatives/{created['id']}"
    assert response.headers["etag"] == '"1"'
    assert created["version"] == 1
    assert created["phase"]["id"] == "initiation"
    assert created["description"] == "im Quartier"
    assert created["percent_done"] == 0
    assert api.client.get(response.headers["location"], headers=api.headers("jana")).is_success


def test_create_with_a_parent(api: Api) -> None:
    parent = api.create("Parent")
    body = {"title": "Child", "workflow": "light-track", "parent": parent}
    response = api.call("POST", "/initiatives", json=body)
    assert response.status_code == 201
    assert response.json()["parent_id"] == parent


def test_create_under_an_unknown_workflow_or_parent_is_404(api: Api) -> None:
    body = assert_problem(
        api.call("POST", "/initiatives", json={"title": "x", "workflow": "nope"}), 404
    )
    assert body["type"] == "urn:kosiflow:problem:workflow-not-found"
    orphan = {"title": "x", "workflow": "kosi-lab", "parent": "missing"}
    assert_problem(api.call("POST", "/initiatives", json=orphan), 404)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"title": "x", "workflow": "kosi-lab", "colour": "red"}, "body.colour", "extra_forbidden"),
        ({"workflow": "kosi-lab"}, "body.title", "missing"),
        ({"title": "", "workflow": "kosi-lab"}, "body.title", "string_too_short"),
        ({"title": "x" * 201, "workflow": "kosi-lab"}, "body.title", "string_too_long"),
        ({"title": 5, "workflow": "kosi-lab"}, "body.title", "string_type"),
    ],
)
def test_create_with_bad_input_is_422_naming_the_field(
    api: Api, body: dict[str, object], field: str, code: str
) -> None:
    problem = assert_problem(api.call("POST", "/initiatives", json=body), 422)
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]
    assert api.services.list_initiatives() == []


def test_a_blank_title_is_refused_by_the_rules(api: Api) -> None:
    body = {"title": "   ", "workflow": "kosi-lab"}
    problem = assert_problem(api.call("POST", "/initiatives", json=body), 409)
    assert [e["code"] for e in problem["errors"]] == ["title_required"]


@pytest.mark.parametrize("who", ["renate", "root"])
def test_auditors_and_admins_may_not_create(api: Api, who: str) -> None:
    body = {"title": "x", "workflow": "kosi-lab"}
    problem = assert_problem(api.call("POST", "/initiatives", who, json=body), 403)
    assert problem["type"] == "urn:kosiflow:problem:forbidden"


def test_a_workflow_role_without_coordination_may_not_create(api: Api) -> None:
    body = {"title": "x", "workflow": "kosi-lab"}
    problem = assert_problem(api.call("POST", "/initiatives", "lena", json=body), 403)
    assert [e["code"] for e in problem["errors"]] == ["role_missing"]


def test_an_idempotent_create_returns_the_first_answer(api: Api) -> None:
    body = {"title": "Once", "workflow": "kosi-lab"}
    first = api.call("POST", "/initiatives", json=body, Idempotency_Key="k1")
    again = api.call("POST", "/initiatives", json=body, Idempotency_Key="k1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api.services.list_initiatives()) == 1
    other = {"title": "Other", "workflow": "kosi-lab"}
    problem = assert_problem(
        api.call("POST", "/initiatives", json=other, Idempotency_Key="k1"), 422
    )
    assert problem["type"] == "urn:kosiflow:problem:idempotency-mismatch"
    assert problem["errors"][0]["field"] == "Idempotency-Key"


def test_get_shows_the_progress_with_etag_for_readers(api: Api) -> None:
    initiative = api.create()
    response = api.call("GET", f"/initiatives/{initiative}", "renate", Accept_Language="de")
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    body = response.json()
    assert body["phase"] == {
        "id": "initiation",
        "title": "Initiierung",
        "visit": 1,
        "entered_at": body["phase"]["entered_at"],
    }
    assert [i["id"] for i in body["checklist"]][:2] == ["challenge_defined", "mandate_secured"]
    assert body["checklist"][0]["status"] == "open"
    (start, archive) = body["triggers"]
    assert start["trigger"] == "start_co_creation"
    assert start["may_fire"] is False
    assert {b["code"] for b in start["blockers"]} >= {"item_open", "role_missing"}
    assert (
        start["blockers"][0]["message"]
        == "Nur Lab-Koordination darf 'Ko-Kreation starten' auslösen."
    )
    assert archive["trigger"] == "archive"


def test_an_unknown_initiative_is_404(api: Api) -> None:
    problem = assert_problem(api.call("GET", "/initiatives/missing"), 404)
    assert problem["type"] == "urn:kosiflow:problem:initiative-not-found"


def test_the_list_filters_and_pages(api: Api) -> None:
    ids = [api.create(f"K{n}") for n in range(3)]
    light = api.create("L", workflow="light-track")
    every = api.call("GET", "/initiatives", "renate").json()
    assert every["limit"] == 20
    assert every["offset"] == 0
    assert {i["id"] for i in every["items"]} == {*ids, light}
    kosi = api.call("GET", "/initiatives?workflow=kosi-lab").json()["items"]
    assert {i["id"] for i in kosi} == set(ids)
    assert api.call("GET", "/initiatives?phase=co_creation").json()["items"] == []
    first = api.call("GET", "/initiatives?limit=2").json()["items"]
    rest = api.call("GET", "/initiatives?limit=2&offset=2").json()["items"]
    assert len(first) == 2
    assert len(rest) == 2
    assert {i["id"] for i in first + rest} == {*ids, light}


def test_the_list_filters_by_overdue_with_time_on_hold_not_counted(api: Api) -> None:
    """The demo's stories lie years back: the garages and the empty shops are long past their
    phase's max_days; the cups are on hold since 21 days into co-creation (max_days 120)."""
    load_demo(api.services)

    overdue = api.call("GET", "/initiatives?overdue=true&limit=1", "renate").json()
    on_time = api.call("GET", "/initiatives?overdue=false", "renate").json()
    light = api.call("GET", "/initiatives?overdue=true&workflow=light-track").json()

    assert overdue["total"] == 2
    assert [i["title"] for i in overdue["items"]] == ["Fahrradgaragen im Quartier"]
    assert on_time["total"] == 4
    assert "Einwegbecherfreies Wuppertal" in {i["title"] for i in on_time["items"]}
    assert (light["items"], light["total"]) == ([], 0)
    assert_problem(api.call("GET", "/initiatives?overdue=maybe"), 422)


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=101", "query.limit"), ("limit=0", "query.limit"), ("offset=-1", "query.offset")],
)
def test_bad_pagination_is_422(api: Api, query: str, field: str) -> None:
    problem = assert_problem(api.call("GET", f"/initiatives?{query}"), 422)
    assert [e["field"] for e in problem["errors"]] == [field]


def test_history_lists_the_events_in_pages(api: Api) -> None:
    initiative = api.create()
    api.call("POST", f"/initiatives/{initiative}/notes", json={"text": "one"})
    api.call("POST", f"/initiatives/{initiative}/notes", json={"text": "two"})
    page = api.call("GET", f"/initiatives/{initiative}/history", "renate").json()
    events = page["items"]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert [e["type"] for e in events] == ["InitiativeCreated", "NoteAdded", "NoteAdded"]
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert events[2]["payload"]["text"] == "two"
    second = api.call("GET", f"/initiatives/{initiative}/history?limit=1&offset=1").json()
    assert [e["seq"] for e in second["items"]] == [2]
    assert_problem(api.call("GET", f"/initiatives/{initiative}/history?limit=101"), 422)
    assert_problem(api.call("GET", "/initiatives/missing/history"), 404)


def test_verify_is_ok_for_an_intact_chain_and_409_for_a_broken_one(
    api: Api, tmp_path: Path
) -> None:
    initiative = api.create()
    api.call("POST", f"/initiatives/{initiative}/notes", json={"text": "one"})
    ok = api.call("GET", f"/initiatives/{initiative}/history/verify", "renate")
    assert ok.status_code == 200
    assert ok.json() == {"ok": True, "events": 2}
    with sqlite3.connect(tmp_path / "api.db") as connection:
        connection.execute('UPDATE events SET payload = \'{"text": "forged"}\' WHERE seq = 2')
    problem = assert_problem(api.call("GET", f"/initiatives/{initiative}/history/verify"), 409)
    assert problem["first_bad_seq"] == 2
    assert problem["problem"]
    assert_problem(api.call("GET", "/initiatives/missing/history/verify"), 404)
