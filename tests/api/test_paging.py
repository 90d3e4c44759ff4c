"""Lists come in pages counted and cut in the database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kosiflow.store import ReadUnit
from tests.api.apps import api_on
from tests.api.helpers import Api, assert_problem


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """The API over a fresh database of each backend."""
    with api_on(database_url) as served:
        yield served


def test_the_list_counts_every_match_while_showing_one_page(api: Api) -> None:
    kosi = [api.create(f"K{n}") for n in range(3)]
    light = [api.create(f"L{n}", workflow="light-track") for n in range(2)]
    page = api.call("GET", "/initiatives?limit=2&offset=1", "renate").json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [i["id"] for i in page["items"]] == [*kosi, *light][1:3]
    filtered = api.call("GET", "/initiatives?workflow=light-track").json()
    assert filtered["total"] == 2
    assert [i["id"] for i in filtered["items"]] == light
    beyond = api.call("GET", "/initiatives?offset=10").json()
    assert (beyond["items"], beyond["total"]) == ([], 5)
    none = api.call("GET", "/initiatives?phase=co_creation").json()
    assert (none["items"], none["total"]) == ([], 0)


def test_the_history_comes_in_pages_with_its_total(api: Api) -> None:
    initiative = api.create()
    for n in range(4):
        api.call("POST", f"/initiatives/{initiative}/notes", json={"text": f"note {n}"})
    page = api.call("GET", f"/initiatives/{initiative}/history?limit=2&offset=1", "renate").json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [e["seq"] for e in page["items"]] == [2, 3]
    assert [e["payload"]["text"] for e in page["items"]] == ["note 0", "note 1"]
    last = api.call("GET", f"/initiatives/{initiative}/history?offset=4").json()
    assert [e["seq"] for e in last["items"]] == [5]
    assert api.call("GET", f"/initiatives/{initiative}/history?offset=9").json()["items"] == []


def test_a_history_page_never_reads_the_whole_history(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    initiative = api.create()
    api.call("POST", f"/initiatives/{initiative}/notes", json={"text": "one"})

    def everything(*_: object) -> None:
        raise AssertionError("the whole history was read for one page")

    monkeypatch.setattr(ReadUnit, "events", everything)
    page = api.call("GET", f"/initiatives/{initiative}/history?limit=1&offset=1").json()
    assert [e["seq"] for e in page["items"]] == [2]
    assert page["total"] == 2


@pytest.mark.parametrize("path", ["/initiatives", "/initiatives/{id}/history"])
@pytest.mark.parametrize(("query", "bound"), [("limit=101", {"le": 100}), ("limit=0", {"ge": 1})])
def test_a_page_size_outside_1_to_100_is_422_naming_limit_and_its_bound(
    api: Api, path: str, query: str, bound: dict[str, int]
) -> None:
    initiative = api.create()
    response = api.call("GET", f"{path.format(id=initiative)}?{query}")
    (error,) = assert_problem(response, 422)["errors"]
    assert error["field"] == "query.limit"
    assert error["params"] == bound
    assert str(next(iter(bound.values()))) in error["message"]


def test_the_largest_page_is_100(api: Api) -> None:
    initiative = api.create()
    page = api.call("GET", f"/initiatives/{initiative}/history?limit=100").json()
    assert (page["limit"], page["total"]) == (100, 1)
    limit = api.client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/initiatives"]["get"]
    (schema,) = [p["schema"] for p in limit["parameters"] if p["name"] == "limit"]
    assert (schema["minimum"], schema["maximum"]) == (1, 100)
