"""Whatever people type shows as text on every page: markup is escaped, template syntax inert."""

from __future__ import annotations

from tests.pages.conftest import Site

PAYLOAD = "<script>alert(1)</script>{{7*7}}"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}"
LINK = 'https://x.example/"><script>alert(2)</script>'


OWN_SCRIPT = '<script src="/static/live.js" defer></script>'
"""The one script a live page loads: our own file (the pages' policy allows no other)."""


def assert_inert(html: str) -> None:
    assert "<script" not in html.replace(OWN_SCRIPT, "")
    assert "&lt;/script&gt;49" not in html  # {{7*7}} was never evaluated
    assert ESCAPED in html


def test_every_text_a_user_enters_is_shown_escaped_on_every_page(site: Site) -> None:
    jana, thomas = site.visitor("jana"), site.visitor("thomas")
    created = jana.submit("/", "create", title=PAYLOAD, workflow="kosi-lab", description=PAYLOAD)
    assert created.status_code == 303
    page = created.headers["location"]
    steps = [
        (jana, "participant", {"name": PAYLOAD, "role": "science", "contact": PAYLOAD}),
        (jana, "tick-challenge_defined", {"evidence": PAYLOAD, "note": PAYLOAD}),
        (jana, "reopen-challenge_defined", {"reason": PAYLOAD}),
        (jana, "tick-challenge_defined", {"evidence": LINK, "note": PAYLOAD}),
        (jana, "tick-actor_mapping", {"evidence": PAYLOAD}),
        (thomas, "waive-resources_clarified", {"reason": PAYLOAD}),
        (jana, "note", {"text": PAYLOAD}),
        (jana, "hold", {"reason": PAYLOAD}),
    ]
    for visitor, form, values in steps:
        response = visitor.submit(page, form, **values)
        assert response.status_code == 303, (form, response.text)

    initiative_page = jana.page(page)
    assert_inert(initiative_page)
    assert 'href="https://x.example/&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in (
        initiative_page
    )
    assert_inert(jana.page("/"))
    assert jana.submit(page, "resume", reason=PAYLOAD).status_code == 303
    assert jana.submit(page, "fire-archive", reason=PAYLOAD).status_code == 303
    history = site.visitor("renate").page(f"{page}/history")
    assert_inert(history)
    assert history.count(ESCAPED) >= 12  # title, description, name, evidence, notes, reasons


def test_refused_and_invalid_forms_show_the_input_escaped_too(site: Site) -> None:
    initiative = site.create(PAYLOAD)
    jana = site.visitor("jana")
    page = f"/initiatives/{initiative}"

    refused = jana.submit(page, "tick-challenge_defined", evidence="")
    invalid = jana.submit(page, "participant", name=" ", role=PAYLOAD)

    assert refused.status_code == 422
    assert invalid.status_code == 422
    assert_inert(refused.text)
    assert_inert(invalid.text)
