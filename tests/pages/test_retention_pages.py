"""Texts removed under the retention policy, as the pages and the API show them (de and en)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.helpers import TestClient
from tests.pages.conftest import Clock, Site


@pytest.fixture
def removed(site: Site, clock: Clock) -> str:
    """kosi-lab initiative: ticked with evidence and a note, signed off with a note, a note
    added; after 40 days the evidence and every note removed (retention 30 days)."""
    initiative = site.create()
    jana, thomas = site.actor("jana"), site.actor("thomas")
    site.services.tick(
        initiative, "challenge_defined", jana, evidence="https://example.org/p", note="Lesung 1"
    )
    site.services.approve(initiative, "start_co_creation", thomas, note="passt so")
    site.services.note(initiative, "Telefonat mit Frau M.", jana)
    site.services.set_retention({"evidence": 30, "notes": 30}, site.actor("root"))
    clock.advance(timedelta(days=40))
    (done,) = site.services.apply_retention().removed
    assert len(done.texts) == 4
    return initiative


GONE = ("example.org/p", "Lesung 1", "passt so", "Telefonat")


def test_the_pages_say_when_a_text_was_removed(site: Site, removed: str, clock: Clock) -> None:
    day = (clock.now).strftime("%Y-%m-%d")
    tag = (clock.now).strftime("%d.%m.%Y")
    auditor = site.visitor("renate")
    coordinator = site.visitor("jana")
    pages = {
        "initiative": coordinator.page(f"/initiatives/{removed}"),
        "history": auditor.page(f"/initiatives/{removed}/history"),
        "report": auditor.page(f"/initiatives/{removed}/report"),
    }
    for name, page in pages.items():
        assert f"removed under the retention policy on {day}" in page, name
        assert not [text for text in GONE if text in page], name
    assert "Removed 4 text(s) under the retention policy" in pages["history"]
    german = auditor.page(f"/initiatives/{removed}/history?lang=de")
    assert f"gemäß der Aufbewahrungsregel gelöscht am {tag}" in german
    assert "4 Text(e) gemäß der Aufbewahrungsregel gelöscht" in german
    assert "broken" not in pages["history"].lower()


def test_the_api_gives_null_and_when_it_was_removed(site: Site, removed: str) -> None:
    headers = {"Authorization": f"Bearer {site.tokens['renate']}"}
    with TestClient(site.app) as client:
        progress = client.get(f"/api/v1/initiatives/{removed}", headers=headers).json()
        history = client.get(f"/api/v1/initiatives/{removed}/history", headers=headers).json()
        verified = client.get(f"/api/v1/initiatives/{removed}/history/verify", headers=headers)
    (item,) = [i for i in progress["checklist"] if i["id"] == "challenge_defined"]
    assert item["evidence"] is None
    assert item["note"] is None
    assert item["evidence_removed_at"] == item["note_removed_at"] is not None
    tick = next(e for e in history["items"] if e["type"] == "ItemTicked")
    assert tick["payload"]["evidence"] is None
    assert tick["payload"]["evidence_removed_at"] is not None
    assert history["items"][-1]["type"] == "TextsRemoved"
    assert verified.json()["ok"] is True
