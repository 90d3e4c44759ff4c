"""The history page's form "compare two moments": GET, without JavaScript, in both languages,
hostile titles escaped, bad moments named in the form."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.pages.conftest import Clock, Site
from tests.pages.hostile_site import ESCAPED, PAYLOAD, hostile_site
from tests.pages.markup import forms


def _moment(clock: Clock, hours: float = 0) -> str:
    return (clock.now + timedelta(hours=hours)).isoformat()


def test_the_form_shows_what_changed_with_links_to_the_events(site: Site, clock: Clock) -> None:
    initiative = site.create()
    start = _moment(clock)
    clock.advance(timedelta(hours=1))
    site.services.tick(initiative, "challenge_defined", site.actor("jana"), evidence="Protokoll")
    clock.advance(timedelta(hours=1))
    visitor = site.visitor("renate")
    page = f"/initiatives/{initiative}/history"

    empty = visitor.page(page)
    assert 'id="compare-form"' in empty
    assert 'id="compare-result"' not in empty

    form = forms(empty)["compare-form"]
    assert form.method == "get"  # no JavaScript and no CSRF token needed: it changes nothing
    response = visitor.client.get(form.action.split("#")[0], params={**form.fields, "from": start})
    assert response.status_code == 200, response.text
    result = response.text.split('id="compare-result"')[1].split("</ul>")[0]
    assert "Jana Becker ticked “Challenge statement agreed” (Initiation)." in result
    assert '<a href="#event-2">#2</a>' in result
    assert f'value="{start}"' in response.text  # the form keeps what was asked

    german = visitor.page(f"{page}?from={start.replace('+', '%2B')}&lang=de")
    assert "Zwei Zeitpunkte vergleichen" in german
    assert "Jana Becker hat „Fragestellung vereinbart“ (Initiierung) abgehakt." in german


def test_a_moment_without_offset_is_utc_and_an_early_one_starts_from_nothing(
    site: Site, clock: Clock
) -> None:
    initiative = site.create()
    naive = (clock.now - timedelta(days=1)).replace(tzinfo=None).isoformat(timespec="minutes")
    html = site.visitor("jana").page(f"/initiatives/{initiative}/history?from={naive}")
    result = html.split('id="compare-result"')[1].split("</ul>")[0]
    assert "started the initiative “Fahrradgaragen” in Initiation." in result
    quiet = site.visitor("jana").page(f"/initiatives/{initiative}/history?from={naive}&to={naive}")
    assert "The initiative did not exist yet." in quiet


def test_bad_moments_are_named_in_the_form_and_answer_422(site: Site, clock: Clock) -> None:
    initiative = site.create()
    visitor = site.visitor("renate")
    page = f"/initiatives/{initiative}/history"

    bad = visitor.get(f"{page}?from=gestern")
    assert bad.status_code == 422
    assert "“gestern” is not a date and time" in bad.text
    assert 'id="compare-from"' in bad.text.split('aria-invalid="true"')[0].rsplit("<input", 1)[1]

    later, earlier = _moment(clock, 2), _moment(clock, 1)
    swapped = visitor.get(
        f"{page}?from={later.replace('+', '%2B')}&to={earlier.replace('+', '%2B')}&lang=de"
    )
    assert swapped.status_code == 422
    assert "„Von“ darf nicht nach „bis“ liegen." in swapped.text


def test_hostile_titles_and_values_come_back_escaped(tmp_path: Path, clock: Clock) -> None:
    site, database = hostile_site(tmp_path, clock)
    try:
        initiative = site.create(workflow="light-track")
        start = _moment(clock)
        clock.advance(timedelta(hours=1))
        site.services.tick(initiative, "request_described", site.actor("jana"))
        visitor = site.visitor("renate")
        page = f"/initiatives/{initiative}/history"
        html = visitor.page(f"{page}?from={start.replace('+', '%2B')}")
        result = html.split('id="compare-result"')[1].split("</ul>")[0]
        assert f"{ESCAPED} Request" in result
        assert PAYLOAD not in html
        echoed = visitor.get(f"{page}?from=%3Cscript%3Ealert(1)%3C/script%3E")
        assert echoed.status_code == 422
        assert PAYLOAD not in echoed.text
        assert ESCAPED in echoed.text
    finally:
        database.close()
