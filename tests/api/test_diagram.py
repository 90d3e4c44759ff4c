"""GET /api/v1/workflows/{id}/diagram: SVG or Mermaid by Accept, versions, an initiative's mark."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from kosiflow.catalog import WorkflowCatalog
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.helpers import WORKFLOWS, Api, assert_problem

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """The repository's workflows plus a version 2 of kosi-lab (the newest, so the default)."""
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    text = (folder / "kosi-lab.yaml").read_text(encoding="utf-8")
    second = text.replace("\nversion: 1\n", "\nversion: 2\n").replace(
        "title: {de: Verstetigung, en: Consolidation}",
        "title: {de: Verstetigung und Transfer, en: Consolidation and transfer}",
    )
    (folder / "kosi-lab-v2.yaml").write_text(second, encoding="utf-8")
    catalog = WorkflowCatalog.from_folder(folder)
    database = open_database(f"sqlite:///{tmp_path / 'api.db'}")
    catalog.register(database)
    yield Services(database, catalog)
    database.close()


def _svg(response_text: str) -> ET.Element:
    root = ET.fromstring(response_text)  # noqa: S314 (our own output)
    assert root.tag == f"{SVG}svg"
    return root


def _current(root: ET.Element) -> list[tuple[str | None, list[str]]]:
    """The phases marked current, each with the lines of text in its box."""
    return [
        (g.get("data-phase"), ["".join(t.itertext()) for t in g.iter(f"{SVG}text")])
        for g in root.iter(f"{SVG}g")
        if "kf-current" in g.get("class", "").split()
    ]


def test_the_diagram_is_an_svg_of_the_newest_version_by_default(api: Api) -> None:
    response = api.call("GET", "/workflows/kosi-lab/diagram")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["vary"] == "Accept, Accept-Language"
    assert response.headers["content-language"] == "en"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    root = _svg(response.text)
    assert root.get("data-version") == "2"
    assert "Consolidation and transfer" in "".join(root.itertext())
    assert _current(root) == []


def test_an_older_version_is_drawn_when_asked_for(api: Api) -> None:
    root = _svg(api.call("GET", "/workflows/kosi-lab/diagram?version=1").text)
    assert root.get("data-version") == "1"
    assert "Consolidation and transfer" not in "".join(root.itertext())


@pytest.mark.parametrize(
    ("accept", "mermaid"),
    [
        ("text/vnd.mermaid", True),
        ("text/plain", True),
        ("text/*", True),
        ("image/svg+xml", False),
        ("*/*", False),
        ("application/json", False),
        ("text/plain;q=0.5, image/svg+xml", False),
        ("image/svg+xml;q=0.4, text/vnd.mermaid;q=0.9", True),
        ("text/plain;q=oops", False),
    ],
)
def test_accept_chooses_mermaid_or_svg(api: Api, accept: str, mermaid: bool) -> None:
    response = api.call("GET", "/workflows/light-track/diagram", Accept=accept)

    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    if mermaid:
        assert response.headers["content-type"] == "text/vnd.mermaid; charset=utf-8"
        assert response.text.startswith("stateDiagram-v2\n")
        assert "    agree --> implement : Start implementation\n" in response.text
    else:
        assert response.headers["content-type"] == "image/svg+xml"
        _svg(response.text)


@pytest.mark.parametrize(
    ("language", "title", "phase"),
    [
        ("de", "Kurzverfahren: Ablaufdiagramm, Version 1", "Vereinbaren"),
        ("en", "Light track: state diagram, version 1", "Agree"),
        ("fr, de;q=0.5", "Kurzverfahren: Ablaufdiagramm, Version 1", "Vereinbaren"),
    ],
)
def test_the_diagram_speaks_the_requested_language(
    api: Api, language: str, title: str, phase: str
) -> None:
    response = api.call("GET", "/workflows/light-track/diagram", Accept_Language=language)
    root = _svg(response.text)
    assert root.findtext(f"{SVG}title") == title
    assert phase in "".join(root.itertext())
    assert root.get("lang") == response.headers["content-language"]
    mermaid = api.call(
        "GET", "/workflows/light-track/diagram", Accept="text/plain", Accept_Language=language
    )
    assert f'state "{phase}" as agree' in mermaid.text


def test_an_initiative_marks_its_phase_and_checklist_progress(api: Api) -> None:
    initiative = api.create()  # kosi-lab version 2, in initiation (6 required items)
    ticked = api.call("POST", f"/initiatives/{initiative}/checklist/core_team_named", json={})
    assert ticked.status_code == 200, ticked.text

    response = api.call("GET", f"/workflows/kosi-lab/diagram?initiative={initiative}", "renate")
    assert response.status_code == 200
    assert _current(_svg(response.text)) == [
        ("initiation", ["Initiation", "● current", "Checklist 1/6"])
    ]
    mermaid = api.call(
        "GET",
        f"/workflows/kosi-lab/diagram?initiative={initiative}&version=2",
        Accept="text/vnd.mermaid",
        Accept_Language="de",
    ).text
    assert "    initiation : Checkliste 1/6\n" in mermaid
    assert mermaid.endswith("    class initiation current\n")


def test_a_token_is_required(api: Api) -> None:
    response = api.client.get("/api/v1/workflows/kosi-lab/diagram")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("/workflows/nowhere/diagram", "workflow-not-found"),
        ("/workflows/kosi-lab/diagram?version=9", "workflow-not-found"),
        ("/workflows/nowhere/diagram?version=1", "workflow-not-found"),
        ("/workflows/kosi-lab/diagram?initiative=missing", "initiative-not-found"),
    ],
)
def test_an_unknown_workflow_version_or_initiative_is_404(api: Api, query: str, slug: str) -> None:
    problem = assert_problem(api.call("GET", query), 404)
    assert problem["type"] == f"urn:kosiflow:problem:{slug}"


@pytest.mark.parametrize("version", ["0", "-1", "x", "99999999999999999999"])
def test_a_malformed_version_is_422(api: Api, version: str) -> None:
    problem = assert_problem(api.call("GET", f"/workflows/kosi-lab/diagram?version={version}"), 422)
    assert problem["errors"][0]["field"] == "query.version"


def test_an_initiative_of_another_workflow_is_422_naming_both(api: Api) -> None:
    initiative = api.create(workflow="light-track")
    response = api.call("GET", f"/workflows/kosi-lab/diagram?initiative={initiative}")
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "initiative"
    message = problem["errors"][0]["message"]
    assert "light-track version 1" in message
    assert "not kosi-lab" in message


def test_an_initiative_under_another_version_is_422(api: Api) -> None:
    initiative = api.create()  # under version 2
    response = api.call("GET", f"/workflows/kosi-lab/diagram?initiative={initiative}&version=1")
    problem = assert_problem(response, 422)
    assert "kosi-lab version 2, not kosi-lab version 1" in problem["errors"][0]["message"]


def test_the_openapi_document_describes_both_media_types_with_examples(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/workflows/{workflow_id}/diagram"]["get"]

    content = operation["responses"]["200"]["content"]
    assert set(content) == {"image/svg+xml", "text/vnd.mermaid"}
    assert content["image/svg+xml"]["example"].startswith("<svg")
    assert content["text/vnd.mermaid"]["example"].startswith("stateDiagram-v2")
    assert set(operation["responses"]) >= {"200", "401", "404", "422"}
    assert {p["name"] for p in operation["parameters"]} >= {"version", "initiative"}


def test_a_workflow_lists_every_version_and_shows_any_of_them(api: Api) -> None:
    newest = api.call("GET", "/workflows/kosi-lab")
    assert newest.status_code == 200, newest.text
    assert (newest.json()["version"], newest.json()["versions"]) == (2, [1, 2])
    titles = [p["title"] for p in newest.json()["phases"]]
    assert "Consolidation and transfer" in titles
    first = api.call("GET", "/workflows/kosi-lab?version=1").json()
    assert (first["version"], first["versions"]) == (1, [1, 2])
    assert "Consolidation" in [p["title"] for p in first["phases"]]
    assert_problem(api.call("GET", "/workflows/kosi-lab?version=7"), 404)
    assert_problem(api.call("GET", "/workflows/kosi-lab?version=0"), 422)
