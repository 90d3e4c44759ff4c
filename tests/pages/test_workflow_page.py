"""The workflow page: a definition as a readable process description (roles, each phase with its
checklist and ways out, the diagram), in German or English, with an initiative's phase marked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pages.conftest import Clock, Site
from tests.pages.hostile_site import ESCAPED, PAYLOAD, hostile_site


def section(html: str, element_id: str) -> str:
    """The markup of the element ``id="element_id"`` up to the next phase (or the page's end)."""
    rest = html.split(f'id="{element_id}"', 1)[1]
    return rest.split('<li id="phase-', 1)[0]


def cells(row: str) -> list[str]:
    """The texts of a table row's data cells."""
    return re.findall(r"<td>(.*?)</td>", row)


def test_the_page_describes_the_workflow_phase_by_phase(site: Site) -> None:
    html = site.visitor("aylin").page("/workflows/kosi-lab")

    assert "<title>Workflow: Municipal social innovation lab \N{EN DASH} kosiflow</title>" in html
    assert "jointly develop a solution to a question of the city" in html
    roles = html.split('id="roles"')[1].split("</ul>")[0]
    for role in ("Lab coordination", "Public administration", "Civil society", "Science"):
        assert f"<li>{role}</li>" in roles
    headings = [
        "1. Initiation",
        "2. Co-creation",
        "3. Prototyping",
        "4. Consolidation",
        "5. Completed",
        "6. Archived",
    ]
    positions = [html.index(heading) for heading in headings]
    assert positions == sorted(positions)
    initiation = section(html, "phase-initiation")
    assert "Time limit: 90 days (time on hold not counted)." in initiation
    assert '<span class="tag">start</span>' in initiation
    completed = section(html, "phase-completed")
    assert '<span class="tag">final phase</span>' in completed
    assert "An initiative that reaches this phase has ended." in completed


def test_each_checklist_item_says_who_ticks_it_with_which_evidence(site: Site) -> None:
    html = site.visitor("jana").page("/workflows/kosi-lab")

    mandate = html.split('id="phase-initiation-item-mandate_secured"')[1].split("</tr>")[0]
    assert "Mandate or sponsor secured" in mandate
    assert cells(mandate) == ["Public administration", "required", "required", "nobody"]
    resources = html.split('id="phase-initiation-item-resources_clarified"')[1].split("</tr>")[0]
    assert cells(resources) == [
        "Lab coordination, Public administration",
        "not required",
        "required",
        "Public administration",
    ]
    model = html.split('id="phase-prototyping-item-operating_model"')[1].split("</tr>")[0]
    assert cells(model) == ["Business", "not required", "optional", "nobody"]


def test_each_way_out_says_what_it_requires_in_words(site: Site) -> None:
    html = site.visitor("jana").page("/workflows/kosi-lab")

    start = html.split('id="phase-initiation-way-start_co_creation"')[1].split("</ul>")[0]
    assert "Start co-creation: to Co-creation" in start
    assert "Every required checklist item is done or waived." in start
    assert "Sign-offs by: Public administration." in start
    assert "Participants from at least 3 different sectors." in start
    assert "Taken by: Lab coordination." in start
    archive = html.split('id="phase-co_creation-way-archive"')[1].split("</ul>")[0]
    assert "Archive: to Archived" in archive
    assert "Open checklist items do not hold it up." in archive
    assert "A reason must be given." in archive
    assert "Possible from every phase that is not final." in archive
    light = site.visitor("jana").page("/workflows/light-track")
    finish = light.split('id="phase-implement-way-finish"')[1].split("</ul>")[0]
    assert "Happens by itself as soon as the requirements are met." in finish
    assert "Taken by" not in finish


def test_the_page_shows_the_diagram_inline_under_the_pages_policy(site: Site) -> None:
    response = site.visitor("jana").get("/workflows/kosi-lab")

    diagram = response.text.split('<figure id="diagram">')[1].split("</figure>")[0]
    assert diagram.strip().startswith('<svg xmlns="http://www.w3.org/2000/svg" class="kf-diagram"')
    assert "kf-current" not in diagram
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert "'sha256-" in policy


def test_the_page_speaks_german(site: Site) -> None:
    html = site.visitor("jana").page("/workflows/kosi-lab?lang=de")

    assert '<html lang="de">' in html
    assert "Ablauf: Kommunales Labor sozialer Innovation" in html
    assert "1. Initiierung" in html
    assert "Frist: 90 Tage (Pausen nicht mitgezählt)." in html
    assert "Freigaben durch: Verwaltung." in html
    assert "Beteiligte aus mindestens 3 verschiedenen Sektoren." in html
    assert "Eine Begründung ist erforderlich." in html
    assert "Wer darf abhaken" in html
    assert "Ablaufdiagramm" in html


def test_an_initiative_has_its_phase_and_checklist_marked(site: Site) -> None:
    initiative = site.create()
    jana = site.actor("jana")
    site.services.tick(initiative, "challenge_defined", jana, evidence="Protokoll")
    html = site.visitor("renate").page(f"/workflows/kosi-lab?initiative={initiative}")

    assert "Shown for the initiative “Fahrradgaragen”: its current phase, Initiation" in html
    assert f'href="/initiatives/{initiative}"' in html
    assert html.count('aria-current="step"') == 1
    initiation = section(html, "phase-initiation")
    assert initiation.startswith(' class="panel phase phase-current" aria-current="step">')
    assert "● current phase" in initiation
    assert "1 of 6 required items done or waived." in initiation
    assert '<span class="badge badge-done">Done</span>' in initiation
    assert initiation.count('<span class="badge badge-open">Open</span>') == 5
    assert "badge" not in section(html, "phase-co_creation")
    diagram = html.split('<figure id="diagram">')[1].split("</figure>")[0]
    assert diagram.count("kf-current") == 1
    assert "Current phase: Initiation (Checklist 1/6)" in diagram


def test_the_pages_link_to_the_workflow_page(site: Site) -> None:
    initiative = site.create()
    jana = site.visitor("jana")

    assert 'href="/workflows/kosi-lab"' in jana.page("/")
    initiative_page = jana.page(f"/initiatives/{initiative}")
    link = f'href="/workflows/kosi-lab?version=1&amp;initiative={initiative}"'
    assert link in initiative_page
    assert jana.page(f"/workflows/kosi-lab?version=1&initiative={initiative}")


@pytest.mark.parametrize(
    "path",
    [
        "/workflows/nonexistent",
        "/workflows/kosi-lab?version=99",
        "/workflows/kosi-lab?initiative=nonexistent",
    ],
)
def test_an_unknown_workflow_or_version_is_a_404_page(site: Site, path: str) -> None:
    response = site.visitor("jana").get(path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no such page or initiative." in response.text


def test_an_initiative_of_another_workflow_or_version_is_a_404_page(site: Site) -> None:
    initiative = site.create(workflow="light-track")
    jana = site.visitor("jana")

    assert jana.get(f"/workflows/kosi-lab?initiative={initiative}").status_code == 404
    assert jana.get(f"/workflows/light-track?version=2&initiative={initiative}").status_code == 404
    assert jana.get(f"/workflows/light-track?version=1&initiative={initiative}").status_code == 200


def test_a_version_that_is_no_number_is_an_invalid_input_page(site: Site) -> None:
    response = site.visitor("jana").get("/workflows/kosi-lab?version=eins")

    assert response.status_code == 422
    assert "<h1>Invalid input</h1>" in response.text


def test_a_signed_out_visitor_is_sent_to_sign_in_first(site: Site) -> None:
    response = site.visitor().get("/workflows/kosi-lab?version=1")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fworkflows%2Fkosi-lab%3Fversion%3D1"


@pytest.fixture
def hostile(tmp_path: Path, clock: Clock) -> Iterator[Site]:
    site, database = hostile_site(tmp_path, clock)
    yield site
    site.close()
    database.close()


def test_titles_from_the_workflow_file_and_the_initiative_are_escaped(hostile: Site) -> None:
    initiative = hostile.create(title=PAYLOAD, workflow="light-track")

    html = hostile.visitor("jana").page(f"/workflows/light-track?initiative={initiative}")

    assert "<script" not in html
    for words in ("track", "Agree", "Request", "Administration", "Start"):
        assert f"{ESCAPED} {words}" in html
    assert f"Shown for the initiative “{ESCAPED}”" in html
