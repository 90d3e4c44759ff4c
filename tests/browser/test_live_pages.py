"""Live pages in a real browser: two people look at the same initiative; what one does shows on
the other's page without a reload (checklist, blockers, progress, fresh forms), and the
dashboard's bar moves when an initiative passes a gate through the API. Text being typed is
never swept away. The last screens are kept in test-artifacts/browser/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS, DemoServer
from tests.browser.test_pages import COORDINATOR, create_light_track, sign_in

AUDITOR = "Renate Albers"


@pytest.fixture
def second_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Another person's browser (a context of its own: its own session); its last screen kept."""
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    page.screenshot(path=str(ARTIFACTS / f"{name}-second.png"), full_page=True)
    context.close()


def mark_loaded(page: Page) -> None:
    """Leave a mark in the page's window: it is gone if the page is ever loaded again."""
    page.evaluate("window.kosiflowTestMark = 'not reloaded'")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.kosiflowTestMark") == "not reloaded"


def test_a_tick_on_one_page_updates_the_other_without_reload(
    page: Page, second_page: Page, demo_server: DemoServer
) -> None:
    sign_in(page, demo_server, COORDINATOR)
    create_light_track(page, "Bank am Wall")
    address = page.url
    sign_in(second_page, demo_server, COORDINATOR)
    second_page.goto(f"{address}?lang=de")
    expect(second_page.locator("#percent-done")).to_contain_text("0")
    mark_loaded(second_page)

    page.locator("#tick-request_described-submit").click()
    expect(page.locator("#flash")).to_be_visible()

    other = second_page
    expect(other.locator("#item-request_described-status")).to_contain_text(COORDINATOR)
    expect(other.locator("#step-start_implementation-blockers")).not_to_contain_text(
        "Anliegen beschrieben"
    )
    expect(other.locator("#percent-done")).to_contain_text("50")
    expect(other.locator("#live-notice")).to_contain_text(
        "mit den neuesten Änderungen aktualisiert"
    )
    assert_not_reloaded(other)

    # The swapped forms carry the new version: a tick on the updated page is accepted.
    other.locator("#tick-responsible_named-submit").click()
    expect(other.locator("#flash")).to_be_visible()
    expect(other.locator("#step-start_implementation-status")).to_have_class("may-fire")
    expect(page.locator("#step-start_implementation-status")).to_have_class("may-fire")
    expect(page.locator("#live-notice")).to_contain_text("Updated with the latest changes at")


def test_the_dashboard_bar_moves_when_a_gate_is_passed_elsewhere(
    page: Page, demo_server: DemoServer
) -> None:
    token = demo_server.token_of(COORDINATOR)
    api = httpx.Client(
        base_url=f"{demo_server.base_url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    with api:
        created = api.post(
            "/initiatives", json={"title": "Bank am Ufer", "workflow": "light-track"}
        )
        initiative = created.json()["id"]
        sign_in(page, demo_server, COORDINATOR)
        row = page.locator(f"#initiative-{initiative}")
        expect(row.locator(".step-current")).to_contain_text("Agree")
        mark_loaded(page)

        for item in ("request_described", "responsible_named"):
            ticked = api.post(f"/initiatives/{initiative}/checklist/{item}", json={})
            assert ticked.status_code == 200, ticked.text
        expect(row.locator(".percent")).to_contain_text("100")
        fired = api.post(
            f"/initiatives/{initiative}/transitions", json={"trigger": "start_implementation"}
        )
        assert fired.status_code == 200, fired.text

    expect(row.locator(".step-current")).to_contain_text("Implement")
    expect(row.locator(".step-passed")).to_contain_text("Agree")
    expect(page.locator("#live-notice")).to_contain_text("Updated with the latest changes at")
    assert_not_reloaded(page)


def test_text_being_typed_is_kept_and_the_part_updates_once_the_field_is_left(
    page: Page, second_page: Page, demo_server: DemoServer
) -> None:
    sign_in(page, demo_server, COORDINATOR)
    create_light_track(page, "Bank im Park")
    sign_in(second_page, demo_server, COORDINATOR)
    second_page.goto(f"{page.url}?lang=en")
    evidence = second_page.locator("#tick-responsible_named-evidence")
    evidence.fill("Protokoll vom 3. März")  # the field keeps the focus: typing goes on
    mark_loaded(second_page)

    page.locator("#tick-request_described-submit").click()
    expect(second_page.locator("#live-notice")).to_contain_text("leave the field")
    expect(second_page.locator("#percent-done")).to_contain_text("50")  # another part
    expect(second_page.locator("#item-request_described-status")).to_contain_text("Open")

    second_page.locator("#tick-responsible_named-note").focus()  # within the same part
    expect(second_page.locator("#item-request_described-status")).to_contain_text("Open")
    second_page.locator("#history-link").focus()  # out of the fields: the part updates
    expect(second_page.locator("#item-request_described-status")).to_contain_text(COORDINATOR)
    expect(evidence).to_have_value("Protokoll vom 3. März")
    assert_not_reloaded(second_page)

    second_page.locator("#tick-responsible_named-submit").click()  # with the new version
    expect(second_page.locator("#flash")).to_be_visible()
    expect(second_page.locator("#item-responsible_named")).to_contain_text("Protokoll vom 3. März")


def test_without_javascript_the_page_is_as_rendered(
    browser: Browser, demo_server: DemoServer
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    try:
        page = context.new_page()
        sign_in(page, demo_server, AUDITOR)
        page.locator("#initiatives tbody a").first.click()
        expect(page.locator("#checklist-panel")).to_be_visible()
        expect(page.locator("#live-notice")).to_be_empty()
    finally:
        context.close()
