"""The statistics page: per workflow and phase, days in the phase (median, 90th percentile) and
initiatives there now (and overdue), as a table and as server-drawn charts; and its downloads."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.pages.conftest import Clock, Site
from tests.pages.hostile_site import ESCAPED, PAYLOAD, hostile_site

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def lab(site: Site, clock: Clock) -> Site:
    """Two light-track initiatives agreed after 10 and 30 days, both overdue in "implement"
    now; a kosi-lab initiative overdue in its first phase."""
    jana = site.actor("jana")
    first, second = site.create("Bank", "light-track"), site.create("Brunnen", "light-track")
    site.create("Fahrradgaragen", "kosi-lab")
    for days, initiative in ((10, first), (20, second)):
        clock.advance(timedelta(days=days))
        site.services.tick(initiative, "request_described", jana)
        site.services.tick(initiative, "responsible_named", jana)
        site.services.fire(initiative, "start_implementation", jana)
    clock.advance(timedelta(days=100))
    return site


def table(html: str, workflow: str) -> list[list[str]]:
    """The rows of a workflow's table: the phase and its numbers, as shown."""
    body = html.split(f'id="workflow-{workflow}-table"')[1].split("<tbody>")[1].split("</tbody>")[0]
    rows = []
    for row in body.split("</tr>")[:-1]:
        phase = re.search(r'<th scope="row">(.*?)</th>', row, re.DOTALL)
        assert phase is not None
        rows.append([phase.group(1), *re.findall(r"<td[^>]*>(.*?)</td>", row)])
    return rows


def chart(html: str, figure_id: str) -> ET.Element:
    figure = html.split(f'id="{figure_id}">')[1].split("<figcaption>")[0]
    return ET.fromstring(figure.strip())  # noqa: S314 -- our own page, parsed to check it


def values(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text") if t.get("class") == "kf-value"]


def test_the_table_shows_durations_and_initiatives_now_per_phase(lab: Site) -> None:
    html = lab.visitor("aylin").page("/statistics")

    assert "<h1>Phase statistics</h1>" in html
    assert table(html, "light-track") == [
        ["Agree", "2", "20.0", "30.0", "0", "0", "0", "“Responsible unit named”: 20.0"],
        ["Implement", "0", "—", "—", "2", "2", "0", "—"],
    ]
    assert table(html, "kosi-lab") == [["Initiation", "0", "—", "—", "1", "1", "0", "—"]]


def test_the_charts_draw_each_number_as_a_bar_with_its_value(lab: Site) -> None:
    html = lab.visitor("aylin").page("/statistics")

    durations = chart(html, "workflow-light-track-durations")
    assert durations.get("role") == "img"
    assert durations.findtext(f"{SVG}title") == (
        "Days in each phase of “Light track”: median and 90th percentile"
    )
    assert "Agree: Median 20.0 days, 90th percentile 30.0 days." in (
        durations.findtext(f"{SVG}desc") or ""
    )
    assert values(durations) == [
        "20.0 days",
        "30.0 days",
        "no completed visit",
        "no completed visit",
    ]
    widths = [
        float(r.get("width", "0")) for r in durations.iter(f"{SVG}rect") if r.get("data-value")
    ]
    assert len(widths) == 2
    assert widths[0] / widths[1] == pytest.approx(20 / 30, abs=0.001)
    load = chart(html, "workflow-light-track-load")
    assert values(load) == ["0", "0", "2", "2"]
    assert "The charts leave out final phases" in html


def test_the_page_speaks_german_with_decimal_commas(lab: Site) -> None:
    html = lab.visitor("aylin").page("/statistics?lang=de")

    assert "<h1>Phasenstatistik</h1>" in html
    assert table(html, "light-track")[0] == [
        "Vereinbaren",
        "2",
        "20,0",
        "30,0",
        "0",
        "0",
        "0",
        "„Zuständige Stelle benannt“: 20,0",
    ]
    assert values(chart(html, "workflow-light-track-durations"))[:2] == ["20,0 Tage", "30,0 Tage"]
    assert "Jetzt in der Phase" in html


def test_without_initiatives_the_page_says_there_are_no_statistics_yet(site: Site) -> None:
    html = site.visitor("renate").page("/statistics")

    assert "No statistics yet: no initiative has been started." in html
    assert "<svg" not in html


def test_every_page_links_to_the_statistics(site: Site) -> None:
    initiative = site.create()
    aylin = site.visitor("aylin")
    pages = ["/", f"/initiatives/{initiative}", f"/initiatives/{initiative}/history"]

    for page in [*pages, "/workflows/kosi-lab"]:
        assert '<a href="/statistics" id="nav-statistics">Statistics</a>' in aylin.page(page)
    assert 'href="/statistics" aria-current="page"' in aylin.page("/statistics")


def test_the_downloads_are_the_apis_phase_duration_report(lab: Site) -> None:
    visitor = lab.visitor("aylin")
    api = lab.client()
    bearer = {"Authorization": f"Bearer {lab.tokens['aylin']}"}
    html = visitor.page("/statistics")
    assert 'href="/statistics.csv"' in html
    assert 'href="/statistics.json"' in html

    as_json = visitor.get("/statistics.json")
    as_csv = visitor.get("/statistics.csv")

    assert as_json.status_code == 200
    assert as_json.headers["content-type"] == "application/json"
    assert 'filename="phase-statistics.json"' in as_json.headers["content-disposition"]
    from_api = api.get("/api/v1/reports/phase-durations", headers=bearer)
    assert json.loads(as_json.text) == from_api.json()
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0][:4] == ["workflow_id", "phase", "count", "current"]
    assert rows[1][:2] == ["kosi-lab", "initiation"]
    csv_api = api.get("/api/v1/reports/phase-durations?format=csv", headers=bearer)
    assert as_csv.text == csv_api.text


def test_a_signed_out_visitor_is_sent_to_sign_in_first(site: Site) -> None:
    visitor = site.visitor()

    page = visitor.get("/statistics")
    download = visitor.get("/statistics.csv")

    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fstatistics"
    assert download.status_code == 303
    assert download.headers["location"] == "/login?next=%2Fstatistics.csv"


def test_an_unknown_download_format_is_an_invalid_input_page(site: Site) -> None:
    response = site.visitor("aylin").get("/statistics.xml")

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")


@pytest.fixture
def hostile(tmp_path: Path, clock: Clock) -> Iterator[Site]:
    site, database = hostile_site(tmp_path, clock)
    yield site
    site.close()
    database.close()


def test_titles_from_the_workflow_file_are_escaped_in_table_and_charts(
    hostile: Site, clock: Clock
) -> None:
    initiative = hostile.create(workflow="light-track")
    jana = hostile.actor("jana")
    hostile.services.tick(initiative, "request_described", jana)
    hostile.services.tick(initiative, "responsible_named", jana)
    clock.advance(timedelta(days=3))
    hostile.services.fire(initiative, "start_implementation", jana)

    html = hostile.visitor("jana").page("/statistics")

    assert "<script" not in html
    assert f'<h2 id="workflow-light-track-heading">{ESCAPED} track</h2>' in html
    durations = chart(html, "workflow-light-track-durations")
    labels = [t.text for t in durations.iter(f"{SVG}text") if t.get("class") == "kf-category"]
    assert labels[0] == f"{PAYLOAD} Agree"
    assert not list(durations.iter(f"{SVG}script"))
