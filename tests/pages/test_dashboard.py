"""The dashboard: every initiative with where it stands, filters, pages, starting a new one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kosiflow.demo import load_demo
from tests.pages.conftest import Clock, Site
from tests.pages.markup import forms, unlabelled_controls

DEMO_TITLES = {
    "Fahrradgaragen im Quartier",
    "Social Innovation Center Dortmund",
    "KoSI-Lab Wuppertal",
    "Sitzbank aufstellen",
    "Belebung leerstehender Ladenlokale",
    "Einwegbecherfreies Wuppertal",
}


@pytest.fixture
def demo(site: Site) -> Site:
    load_demo(site.services)
    return site


def titles(html: str) -> set[str]:
    """The initiatives the dashboard's table lists."""
    return set(re.findall(r'<th scope="row"><a href="/initiatives/[^"]+">([^<]+)</a>', html))


def row(html: str, title: str) -> str:
    """The table row of the initiative ``title``."""
    for found in html.split("<tr ")[1:]:
        if f">{title}</a>" in found:
            return found.split("</tr>")[0]
    raise AssertionError(f"no row for {title}")


def test_the_dashboard_lists_every_demo_initiative_with_where_it_stands(demo: Site) -> None:
    html = demo.visitor("jana").page("/")

    assert titles(html) == DEMO_TITLES
    garages = row(html, "Fahrradgaragen im Quartier")
    assert "Municipal social innovation lab" in garages
    assert "Phase 4 of 4: Consolidation" in garages
    assert garages.count("step step-passed") == 3
    assert garages.count("step step-current") == 1
    assert "(passed)" in garages  # the segments say their status in words too
    assert "20 % done" in garages
    assert "Overdue by" in garages
    cups = row(html, "Einwegbecherfreies Wuppertal")
    assert "On hold" in cups
    assert "Phase 2 of 4: Co-creation" in cups
    completed = row(html, "KoSI-Lab Wuppertal")
    assert "Ended: Completed" in completed
    assert "Overdue" not in completed
    assert unlabelled_controls(html) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("workflow=light-track", {"Sitzbank aufstellen"}),
        ("phase=prototyping", {"Belebung leerstehender Ladenlokale"}),
        ("state=on_hold", {"Einwegbecherfreies Wuppertal"}),
        (
            "state=ended",
            {"Social Innovation Center Dortmund", "KoSI-Lab Wuppertal", "Sitzbank aufstellen"},
        ),
        (
            "state=overdue",  # not the cups: on hold since 21 days into co-creation
            {"Fahrradgaragen im Quartier", "Belebung leerstehender Ladenlokale"},
        ),
        (
            "state=active&workflow=kosi-lab",
            {"Fahrradgaragen im Quartier", "Belebung leerstehender Ladenlokale"},
        ),
        ("workflow=&phase=&state=", DEMO_TITLES),
        ("workflow=reallabor", set()),
    ],
)
def test_the_filters_narrow_the_list(demo: Site, query: str, expected: set[str]) -> None:
    html = demo.visitor("jana").page(f"/?{query}")

    assert titles(html) == expected
    if not expected:
        assert "No initiative matches these filters." in html


def test_the_filter_form_keeps_what_was_chosen(demo: Site) -> None:
    html = demo.visitor("jana").page("/?state=on_hold&workflow=kosi-lab")

    assert '<option value="on_hold" selected>' in html
    assert '<option value="kosi-lab" selected>' in html
    assert forms(html)["filters"].method == "get"


def test_an_unknown_state_filter_is_a_422_page(site: Site) -> None:
    response = site.visitor("jana").get("/?state=sleeping")

    assert response.status_code == 422
    assert "“State” has a value that is not valid." in response.text


def test_long_lists_come_in_pages(site: Site, clock: Clock) -> None:
    for number in range(25):
        site.create(f"Initiative {number:02}")
        clock.advance(timedelta(minutes=1))  # the list is in order of creation
    visitor = site.visitor("jana")

    first = visitor.page("/")
    assert len(titles(first)) == 20
    assert 'id="page-previous"' not in first
    assert 'href="/?page=2"' in first
    second = visitor.page("/?page=2")
    assert titles(second) == {f"Initiative {n:02}" for n in range(20, 25)}
    assert 'href="/?page=1"' in second
    assert 'id="page-next"' not in second


def test_paging_keeps_the_filters(site: Site) -> None:
    for number in range(22):
        site.create(f"Initiative {number:02}")
    html = site.visitor("jana").page("/?state=active")

    assert 'href="/?state=active&amp;page=2"' in html


def test_a_phase_is_overdue_once_its_max_days_have_passed(site: Site, clock: Clock) -> None:
    site.create("Neu")
    assert "Overdue" not in row(site.visitor("jana").page("/"), "Neu")

    clock.advance(timedelta(days=91))  # initiation allows 90 days

    visitor = site.visitor("jana")  # the first session has long expired
    assert "Overdue by 1 day" in row(visitor.page("/"), "Neu")
    assert titles(visitor.page("/?state=overdue")) == {"Neu"}


def test_time_on_hold_does_not_count_towards_overdue(site: Site, clock: Clock) -> None:
    held = site.create("Pausiert")
    running = site.create("Läuft")
    jana = site.actor("jana")
    clock.advance(timedelta(days=10))
    site.services.hold(held, "Haushaltssperre", jana)
    site.services.hold(running, "Kurz", jana)
    clock.advance(timedelta(days=1))
    site.services.resume(running, jana)
    clock.advance(timedelta(days=70))  # 81 days since creation: 80 resp. 10 days not on hold

    site.services.resume(held, jana)
    clock.advance(timedelta(days=20))  # 101 days since creation: 100 resp. 30 days not on hold

    html = site.visitor("jana").page("/")
    assert "Overdue by 10 days" in row(html, "Läuft")
    assert "Overdue" not in row(html, "Pausiert")
    assert titles(site.visitor("jana").page("/?state=overdue")) == {"Läuft"}
    clock.advance(timedelta(days=61))  # now 91 days not on hold
    assert "Overdue by 1 day" in row(site.visitor("jana").page("/"), "Pausiert")


def test_an_initiative_on_hold_since_before_its_deadline_is_not_overdue(
    site: Site, clock: Clock
) -> None:
    initiative = site.create("Wartet")
    clock.advance(timedelta(days=30))
    site.services.hold(initiative, "Ratsbeschluss abwarten", site.actor("jana"))
    clock.advance(timedelta(days=200))

    visitor = site.visitor("jana")
    assert "Overdue" not in row(visitor.page("/"), "Wartet")
    assert "Overdue" not in visitor.page(f"/initiatives/{initiative}")
    assert titles(visitor.page("/?state=overdue")) == set()


def test_a_coordinator_starts_an_initiative_from_the_dashboard(site: Site) -> None:
    visitor = site.visitor("jana")

    response = visitor.submit("/", "create", title="Quartiersgarten", workflow="light-track")

    assert response.status_code == 303
    initiative = response.headers["location"].removeprefix("/initiatives/")
    assert site.services.state(initiative).title == "Quartiersgarten"
    assert "The initiative was started." in visitor.page(response.headers["location"])


def test_a_start_form_sent_twice_starts_one_initiative(site: Site) -> None:
    visitor = site.visitor("jana")
    form = forms(visitor.page("/"))["create"]
    data = {**form.fields, "title": "Quartiersgarten", "workflow": "light-track"}

    first = visitor.post("/initiatives", data)
    again = visitor.post("/initiatives", data)  # a double click, or the browser sending it again
    changed = visitor.post("/initiatives", {**data, "title": "Anderer Garten"})

    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert changed.status_code == 422
    assert "This form already started an initiative" in changed.text
    assert [p.title for p in site.services.list_initiatives()] == ["Quartiersgarten"]
    next_form = forms(changed.text)["create"]
    assert next_form.fields["request_key"] != form.fields["request_key"]


def test_only_who_may_start_initiatives_gets_the_form(site: Site) -> None:
    assert "create" not in forms(site.visitor("renate").page("/"))
    assert "create" not in forms(site.visitor("thomas").page("/"))


def test_starting_without_a_title_names_the_field(site: Site) -> None:
    response = site.visitor("jana").submit("/", "create", title=" ", workflow="kosi-lab")

    assert response.status_code == 422
    assert "“Title” must be filled in." in response.text
    assert site.services.list_initiatives() == []
