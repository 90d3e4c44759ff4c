"""Headless Chromium against a real ``kosiflow serve`` process with the demo data.

The browser is Debian's Chromium (``/usr/bin/chromium``, packages ``chromium`` and
``chromium-driver``), driven by Python ``playwright`` — never a browser download. ``.ci/run``
installs the packages; without them the tests fail under CI and are skipped elsewhere.

Every test's last screen is kept as ``test-artifacts/browser/<test>.png``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.api.real_server import ROOT, RealServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    # The flags of a quiet headless run on a machine without network beyond localhost: no
    # background connections, no component updates, no sandbox (tests may run as root).
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_TOKEN_LINE = re.compile(r"sign-in token of (?P<name>[^(]+) \((?P<roles>[^)]*)\): (?P<token>\S+)")


@dataclass(frozen=True)
class DemoServer:
    """The address of a running server and the sign-in tokens it printed, by person name."""

    base_url: str
    tokens: dict[str, str]

    def token_of(self, name: str) -> str:
        return self.tokens[name]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """``kosiflow serve`` on a new SQLite file: the demo loaded, its printed tokens parsed."""
    server = RealServer(tmp_path_factory.mktemp("browser"))
    server.start(demo=True)
    try:
        printed = server.log.read_text()
        tokens = {match["name"].strip(): match["token"] for match in _TOKEN_LINE.finditer(printed)}
        assert len(tokens) == 2, f"serve printed no sign-in tokens:\n{printed}"
        yield DemoServer(f"http://127.0.0.1:{server.port}", tokens)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (Debian packages chromium and chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the browser tests")
        pytest.skip(reason)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test; its last screen kept as an artifact."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
