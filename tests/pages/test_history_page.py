"""The history page: every event in words, phase visits with durations, the hash-chain check."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text

from tests.pages.conftest import Clock, Site


def test_the_history_tells_every_event_with_who_when_and_why(site: Site, clock: Clock) -> None:
    initiative = site.create()
    jana = site.actor("jana")
    site.services.tick(initiative, "challenge_defined", jana, evidence="https://example.org/p")
    site.services.hold(initiative, "Haushaltssperre", jana)
    html = site.visitor("renate").page(f"/initiatives/{initiative}/history")

    assert "History: Fahrradgaragen" in html
    assert "Started “Fahrradgaragen” in phase Initiation" in html
    assert "Ticked “Challenge statement agreed”." in html
    assert '<a href="https://example.org/p" rel="noopener noreferrer">' in html
    assert "Put on hold." in html
    assert "Haushaltssperre" in html
    assert html.count("Jana Becker") >= 3
    assert 'id="event-3"' in html


def test_the_history_shows_phase_visits_with_durations_and_time_on_hold(
    site: Site, clock: Clock
) -> None:
    initiative = site.create()
    jana = site.actor("jana")
    clock.advance(timedelta(days=2, hours=3))
    site.services.hold(initiative, "Pause", jana)
    clock.advance(timedelta(days=1))
    site.services.resume(initiative, jana)
    clock.advance(timedelta(hours=5))
    site.services.fire(initiative, "archive", jana, reason="Kein Bedarf")

    html = site.visitor("renate").page(f"/initiatives/{initiative}/history")

    visits = html.split('id="visits"')[1].split("</table>")[0]
    initiation, archived = visits.split("<tbody>")[1].split("</tr>")[:2]
    assert "Initiation" in initiation
    assert "3 days 8 hours" in initiation  # entered → left
    assert "1 day" in initiation  # of which on hold
    assert "Archived" in archived
    assert "ended here" in archived
    assert "“Archive”: from Initiation to Archived (visit 1)." in html
    assert "Kein Bedarf" in html


def test_the_history_shows_an_intact_chain_and_its_head_hash(site: Site) -> None:
    initiative = site.create()
    site.services.note(initiative, "eins", site.actor("jana"))
    html = site.visitor("renate").page(f"/initiatives/{initiative}/history")

    head = list(site.services.history(initiative))[-1].hash
    assert "Intact: all 2 events check out." in html
    assert f'<code class="hash" id="head-hash">{head}</code>' in html


def test_the_chain_of_a_single_event_is_told_in_the_singular(site: Site) -> None:
    initiative = site.create()
    visitor = site.visitor("renate")

    assert "Intact: its one event checks out." in visitor.page(f"/initiatives/{initiative}/history")
    german = visitor.page(f"/initiatives/{initiative}/history?lang=de")
    assert "Intakt: das einzige Ereignis ist unverändert." in german
    assert "alle 1 Ereignisse" not in german


def test_a_changed_event_shows_as_a_broken_chain(site: Site) -> None:
    initiative = site.create()
    site.services.note(initiative, "eins", site.actor("jana"))
    with site.services.database.engine.begin() as connection:
        connection.execute(
            text("UPDATE events SET payload = :p WHERE initiative_id = :i AND seq = 2"),
            {"p": json.dumps({"text": "umgeschrieben"}), "i": initiative},
        )

    html = site.visitor("renate").page(f"/initiatives/{initiative}/history")

    assert "Broken at event 2" in html
    assert 'class="chain-broken" id="chain-status" role="alert"' in html


def test_the_history_downloads_with_its_hashes(site: Site) -> None:
    initiative = site.create()
    visitor = site.visitor("renate")
    html = visitor.page(f"/initiatives/{initiative}/history")
    assert f'href="/initiatives/{initiative}/history.jsonl"' in html

    response = visitor.get(f"/initiatives/{initiative}/history.jsonl")

    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["type"] for line in lines] == ["InitiativeCreated"]
    assert lines[0]["hash"] == next(site.services.history(initiative)).hash
    assert visitor.get(f"/initiatives/{initiative}/history.csv").status_code == 200


def test_the_history_has_a_print_stylesheet(site: Site) -> None:
    css = site.visitor().get("/static/kosiflow.css")

    assert css.status_code == 200
    print_rules = css.text.split("@media print")[1]
    assert "form" in print_rules
    assert "display: none" in print_rules
