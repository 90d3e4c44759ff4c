"""A newcomer's path in a real browser: sign in with the printed token, take an initiative through
a gate, switch to German; an auditor sees no write controls. Screens are kept as artifacts."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import DemoServer

COORDINATOR = "Jana Becker"
AUDITOR = "Renate Albers"


def sign_in(page: Page, server: DemoServer, who: str) -> None:
    page.goto(f"{server.base_url}/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label(re.compile("token", re.IGNORECASE)).fill(server.token_of(who))
    page.locator("#login button[type=submit]").click()
    expect(page.locator("#signed-in-as")).to_contain_text(who)


def create_light_track(page: Page, title: str) -> None:
    """Start a light-track initiative from the dashboard's form; lands on its page."""
    page.locator("#create-title").fill(title)
    page.locator("#create-workflow").select_option("light-track")
    page.locator("#create button[type=submit]").click()
    expect(page.locator("#initiative-title")).to_have_text(title)


def test_a_coordinator_takes_an_initiative_through_a_gate(
    page: Page, demo_server: DemoServer
) -> None:
    sign_in(page, demo_server, COORDINATOR)
    expect(page.locator("#initiatives tbody tr")).to_have_count(6)
    create_light_track(page, "Bank am Laurentiusplatz")

    step = page.locator("#step-start_implementation")
    blockers = page.locator("#step-start_implementation-blockers")
    expect(step.locator("#step-start_implementation-status")).to_have_class("blocked")
    expect(blockers).to_contain_text("Request described")
    expect(blockers).to_contain_text("Responsible unit named")

    page.locator("#tick-request_described-submit").click()
    expect(page.locator("#flash")).to_be_visible()
    expect(page.locator("#item-request_described-status")).to_contain_text(COORDINATOR)
    expect(blockers).not_to_contain_text("Request described")
    expect(blockers).to_contain_text("Responsible unit named")
    expect(page.locator("#percent-done")).to_contain_text("50")

    page.locator("#tick-responsible_named-submit").click()
    expect(page.locator("#step-start_implementation-status")).to_have_class("may-fire")
    page.locator("#fire-start_implementation-submit").click()
    expect(page.locator("#current-phase")).to_contain_text("Implement")

    page.goto(f"{demo_server.base_url}/")
    row = page.locator("#initiatives tr", has_text="Bank am Laurentiusplatz")
    expect(row.locator(".step-current")).to_contain_text("Implement")
    expect(row.locator(".step-passed")).to_contain_text("Agree")


def test_german_is_one_click_away_and_remembered(page: Page, demo_server: DemoServer) -> None:
    sign_in(page, demo_server, COORDINATOR)
    page.locator("#lang-de").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#signed-in-as")).to_contain_text("Angemeldet")
    create_light_track(page, "Bank an der Nordbahntrasse")
    expect(page.locator("#step-start_implementation-blockers")).to_contain_text(
        "Anliegen beschrieben"
    )
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "de")


def test_an_auditor_sees_everything_and_no_write_control(
    page: Page, demo_server: DemoServer
) -> None:
    sign_in(page, demo_server, AUDITOR)
    expect(page.locator("#create")).to_have_count(0)
    page.locator("#initiatives tbody a").first.click()
    expect(page.locator("#read-only")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)
    page.locator("#history-link").click()
    expect(page.locator("#chain-status")).to_have_class("chain-ok")
    expect(page.locator("#timeline li").first).to_be_visible()
    expect(page.locator("#visits tbody tr").first).to_be_visible()
    # Only a form that reads: comparing two moments (GET); nothing that writes.
    expect(page.locator("main form[method=post]")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(1)
    expect(page.locator("main form")).to_have_attribute("method", "get")


def test_signing_out_ends_the_session(page: Page, demo_server: DemoServer) -> None:
    sign_in(page, demo_server, COORDINATOR)
    page.locator("#logout button").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto(f"{demo_server.base_url}/")
    expect(page).to_have_url(re.compile(r"/login"))


def test_the_keyboard_reaches_the_sign_in_form_through_the_skip_link(
    page: Page, demo_server: DemoServer
) -> None:
    page.goto(f"{demo_server.base_url}/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "login-token"
