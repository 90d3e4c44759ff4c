"""German and English: from the browser's preference, switched in the header, remembered."""

from __future__ import annotations

import re
from pathlib import Path

from api.pages import texts
from tests.pages.conftest import Site
from tests.pages.markup import parse

TEMPLATES = Path(texts.__file__).resolve().parent / "templates"


def test_the_browsers_preferred_language_is_the_default(site: Site) -> None:
    visitor = site.visitor("jana")

    german = visitor.get("/", **{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    english = visitor.get("/", **{"Accept-Language": "en-GB"})

    assert parse(german.text).html_lang == "de"
    assert "<h1>Initiativen</h1>" in german.text
    assert parse(english.text).html_lang == "en"
    assert "<h1>Initiatives</h1>" in english.text


def test_the_switch_in_the_header_changes_the_language_and_it_is_remembered(
    site: Site,
) -> None:
    initiative = site.create()
    visitor = site.visitor("jana")
    page = visitor.page(f"/initiatives/{initiative}")
    assert f'href="/initiatives/{initiative}?lang=de" hreflang="de" lang="de"' in page

    switched = visitor.get(f"/initiatives/{initiative}?lang=de")

    assert "kosiflow_lang=de" in switched.headers["set-cookie"]
    assert parse(switched.text).html_lang == "de"
    assert "Checkliste: Initiierung" in switched.text
    later = visitor.get("/", **{"Accept-Language": "en"})
    assert parse(later.text).html_lang == "de"
    assert "Fortschritt über die Phasen" in later.text
    back = visitor.get("/?lang=en")
    assert parse(back.text).html_lang == "en"


def test_the_switch_keeps_the_dashboards_filters(site: Site) -> None:
    html = site.visitor("jana").page("/?state=ended")

    assert 'href="/?state=ended&amp;lang=de"' in html


def test_the_sign_in_page_speaks_german_too(site: Site) -> None:
    response = site.visitor().get("/login?lang=de")

    assert "<h1>Anmelden</h1>" in response.text
    assert '<label for="login-token">API-Token</label>' in response.text


def test_every_text_the_templates_use_exists_in_both_languages() -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z_.]+)["']""", template.read_text()))

    assert used
    for key in sorted(used):
        assert texts.has_text(key), key
    for key, by_lang in texts.TEXTS.items():
        assert set(by_lang) == {"de", "en"}, key
        assert all(by_lang.values()), key
