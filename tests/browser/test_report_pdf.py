"""The statistics, a workflow described and an audit report in a real browser over the demo data:
charts and tables show, the initiative's phase is marked, the report prints and downloads as a
PDF. Screens are kept as artifacts (``test-artifacts/browser/``)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, DemoServer
from tests.browser.test_pages import AUDITOR, COORDINATOR, sign_in

GARAGES = "Fahrradgaragen im Quartier"


def test_the_statistics_show_tables_and_charts(page: Page, demo_server: DemoServer) -> None:
    sign_in(page, demo_server, AUDITOR)
    page.locator("#nav-statistics").click()

    expect(page.locator("h1")).to_have_text("Phase statistics")
    tables = page.locator("table.statistics-table")
    expect(tables.first).to_be_visible()
    charts = page.locator("figure.chart svg.kf-chart")
    assert charts.count() == 2 * tables.count()
    durations = page.locator("#workflow-kosi-lab-durations svg")
    expect(durations).to_be_visible()
    assert durations.locator("rect.kf-bar").count() > 0
    expect(durations.locator("text.kf-value").first).to_have_text(re.compile(r"days|no "))
    box = durations.bounding_box()
    assert box is not None
    assert box["width"] <= 1280  # fits the window: no sideways scrolling


def test_the_workflow_page_marks_where_an_initiative_stands(
    page: Page, demo_server: DemoServer
) -> None:
    sign_in(page, demo_server, COORDINATOR)
    page.get_by_role("link", name=GARAGES).click()
    phase = page.locator("#current-phase").inner_text()
    page.locator("#workflow-link").click()

    expect(page.locator("#workflow-title")).to_have_text(re.compile(r"^Workflow: "))
    current = page.locator(".phase-current")
    expect(current).to_have_count(1)
    expect(current.locator("h3")).to_contain_text(phase.split(" (")[0])
    expect(current.locator("h3")).to_contain_text("current phase")
    expect(page.locator("#diagram svg .kf-current")).to_have_count(1)
    expect(page.locator("#highlight")).to_contain_text(GARAGES)


def test_the_report_prints_as_a_document_and_downloads_as_pdf(
    page: Page, demo_server: DemoServer
) -> None:
    sign_in(page, demo_server, AUDITOR)
    page.get_by_role("link", name=GARAGES).click()
    page.locator("#report-link").click()
    expect(page.locator("#report-title")).to_contain_text(GARAGES)
    expect(page.locator("#chain-status")).to_contain_text("Intact")

    with page.expect_download() as download:
        page.locator("#pdf-link").click()
    pdf = ARTIFACTS / "audit-report.pdf"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert pdf.stat().st_size > 1024

    page.emulate_media(media="print")
    expect(page.locator(".site-nav")).to_be_hidden()
    expect(page.locator("#pdf-link")).to_be_hidden()
