"""The initiative page: what it shows, the forms it offers (exactly what the engine allows), and
what sending them does."""

from __future__ import annotations

import pytest

from tests.pages.conftest import Site
from tests.pages.markup import forms, initiative_forms, unlabelled_controls


def page_of(initiative: str) -> str:
    return f"/initiatives/{initiative}"


def test_a_coordinator_gets_forms_for_exactly_what_the_engine_allows(site: Site) -> None:
    initiative = site.create()
    html = site.visitor("jana").page(page_of(initiative))

    offered = set(initiative_forms(html))
    # coordinator items of initiation, and what coordinators may do to any initiative
    assert {
        "tick-challenge_defined",
        "tick-actor_mapping",
        "tick-core_team_named",
        "tick-resources_clarified",
        "tick-kickoff_dialogue",
        "participant",
        "note",
        "hold",
        "fire-archive",
    } <= offered
    # only administration ticks the mandate and waives resources; the gate is still shut
    assert "tick-mandate_secured" not in offered
    assert not any(f.startswith(("waive-", "reopen-", "approve-", "resume")) for f in offered)
    assert "fire-start_co_creation" not in offered
    assert unlabelled_controls(html) == []


def test_someone_of_another_role_gets_other_forms(site: Site) -> None:
    initiative = site.create()
    html = site.visitor("thomas").page(page_of(initiative))

    offered = set(initiative_forms(html))
    assert {"tick-mandate_secured", "waive-resources_clarified", "note"} <= offered
    assert "approve-start_co_creation-administration" in offered
    assert not {"tick-core_team_named", "hold", "participant", "fire-archive"} & offered


def test_an_auditor_sees_everything_and_no_write_control(site: Site) -> None:
    initiative = site.create()
    site.services.tick(initiative, "challenge_defined", site.actor("jana"), evidence="Protokoll")
    html = site.visitor("renate").page(page_of(initiative))

    assert initiative_forms(html) == {}
    assert "Challenge statement agreed" in html
    assert "by Jana Becker" in html
    assert "Protokoll" in html
    assert "There is nothing you can change here right now." in html
    assert "<button" not in html.replace('<button type="submit" class="secondary">', "")


def test_each_step_shows_whether_it_may_fire_and_every_blocker_in_words(site: Site) -> None:
    initiative = site.create()
    html = site.visitor("jana").page(page_of(initiative))

    assert "Start co-creation (to Co-creation)" in html
    assert "Checklist item &#39;Mandate or sponsor secured&#39; is not done yet." in html
    assert "Sign-off by Public administration is missing." in html
    assert "Participants from 3 different sectors are needed; there are 0." in html


def test_ticking_through_the_form_records_it_and_the_page_shows_who_and_when(site: Site) -> None:
    initiative = site.create()
    visitor = site.visitor("jana")

    response = visitor.submit(
        page_of(initiative),
        "tick-challenge_defined",
        evidence="https://example.org/protokoll",
        note="Im Stadtdialog",
    )

    assert response.status_code == 303
    assert response.headers["location"] == page_of(initiative)
    assert site.events(initiative) == ["InitiativeCreated", "ItemTicked"]
    html = visitor.page(page_of(initiative))
    assert "The item was ticked." in html  # the flash message, shown once
    assert "The item was ticked." not in visitor.page(page_of(initiative))
    item = html.split('id="item-challenge_defined"')[1].split("</li>")[0]
    assert "Done" in item
    assert "by Jana Becker" in item
    assert "<time datetime=" in item
    assert '<a href="https://example.org/protokoll" rel="noopener noreferrer">' in item
    assert "Im Stadtdialog" in item
    assert "tick-challenge_defined" not in forms(html)
    assert "reopen-challenge_defined" in forms(html)


def test_evidence_that_is_no_web_address_stays_text(site: Site) -> None:
    initiative = site.create()
    visitor = site.visitor("jana")
    visitor.submit(page_of(initiative), "tick-challenge_defined", evidence="javascript:alert(1)")

    item = visitor.page(page_of(initiative)).split('id="item-challenge_defined"')[1]
    assert "javascript:alert(1)" in item.split("</li>")[0]
    assert 'href="javascript' not in item


def test_a_step_the_engine_refuses_shows_409_with_the_blockers_in_words(site: Site) -> None:
    initiative = site.create()
    visitor = site.visitor("jana")
    version = forms(visitor.page(page_of(initiative)))["note"].fields["version"]

    response = visitor.post(
        f"{page_of(initiative)}/fire/start_co_creation",
        {"csrf_token": visitor.csrf, "version": version},
    )

    assert response.status_code == 409
    assert "Checklist item &#39;Challenge statement agreed&#39; is not done yet." in response.text
    assert 'role="alert"' in response.text
    assert site.events(initiative) == ["InitiativeCreated"]


def test_blockers_come_in_the_chosen_language(site: Site) -> None:
    initiative = site.create()
    visitor = site.visitor("jana")
    visitor.page("/?lang=de")
    version = forms(visitor.page(page_of(initiative)))["note"].fields["version"]

    response = visitor.post(
        f"{page_of(initiative)}/fire/start_co_creation",
        {"csrf_token": visitor.csrf, "version": version},
    )

    assert response.status_code == 409
    assert "Checklistenpunkt &#39;Fragestellung vereinbart&#39; ist noch offen." in response.text


def test_a_form_from_a_stale_page_changes_nothing_and_says_so(site: Site) -> None:
    initiative = site.create()
    visitor = site.visitor("jana")
    stale = forms(visitor.page(page_of(initiative)))["tick-core_team_named"]
    site.services.note(initiative, "inzwischen", site.actor("thomas"))

    response = visitor.post(stale.action, stale.fields)

    assert response.status_code == 409
    assert "Somebody changed this initiative meanwhile, so nothing was saved." in response.text
    assert site.events(initiative) == ["InitiativeCreated", "NoteAdded"]


@pytest.mark.parametrize(
    ("form", "values", "field"),
    [
        ("reopen-challenge_defined", {"reason": ""}, "Reason"),
        ("reopen-challenge_defined", {"reason": "x" * 2001}, "Reason"),
        ("participant", {"name": " ", "role": "science"}, "Name"),
        ("note", {"text": ""}, "Note"),
    ],
)
def test_bad_input_gets_422_naming_the_field(
    site: Site, form: str, values: dict[str, str], field: str
) -> None:
    initiative = site.create()
    site.services.tick(initiative, "challenge_defined", site.actor("jana"), evidence="x")
    visitor = site.visitor("jana")
    before = site.events(initiative)

    response = visitor.submit(page_of(initiative), form, **values)

    assert response.status_code == 422
    problems = response.text.split('id="problems"')[1].split("</div>")[0]
    assert field in problems
    assert site.events(initiative) == before


def test_a_read_only_user_cannot_write_even_with_a_forged_form(site: Site) -> None:
    initiative = site.create()
    auditor = site.visitor("renate")

    response = auditor.post(
        f"{page_of(initiative)}/notes",
        {"csrf_token": auditor.csrf, "version": "1", "text": "Prüfvermerk"},
    )

    assert response.status_code == 403
    assert site.events(initiative) == ["InitiativeCreated"]


def test_the_whole_gate_can_be_walked_through_the_forms(site: Site) -> None:
    initiative = site.create()
    jana, thomas = site.visitor("jana"), site.visitor("thomas")
    lena = site.visitor("lena")
    page = page_of(initiative)
    for visitor, item, evidence in [
        (jana, "challenge_defined", "Protokoll"),
        (thomas, "mandate_secured", "Ratsbeschluss"),
        (lena, "actor_mapping", "Karte"),
        (jana, "core_team_named", ""),
        (jana, "kickoff_dialogue", "Stadtdialog"),
    ]:
        assert visitor.submit(page, f"tick-{item}", evidence=evidence).status_code == 303
    assert thomas.submit(page, "waive-resources_clarified", reason="Räume da").status_code == 303
    for name, sector in [("Ayla", "civil_society"), ("Ben", "business"), ("Cem", "science")]:
        assert jana.submit(page, "participant", name=name, role=sector).status_code == 303
    assert thomas.submit(page, "approve-start_co_creation-administration").status_code == 303

    assert "You may take this step now." in jana.page(page)
    assert jana.submit(page, "fire-start_co_creation", reason="Los").status_code == 303

    html = jana.page(page)
    assert "Phase 2 of 4: Co-creation" in html
    assert "The step was taken." in html


def test_hold_and_resume_through_the_forms(site: Site) -> None:
    initiative = site.create()
    jana = site.visitor("jana")
    page = page_of(initiative)

    assert jana.submit(page, "hold", reason="Haushaltssperre").status_code == 303
    html = jana.page(page)
    assert "Haushaltssperre" in html
    assert "hold" not in forms(html)
    assert jana.submit(page, "resume").status_code == 303
    assert site.events(initiative)[-2:] == ["InitiativeHeld", "InitiativeResumed"]


def test_an_unknown_initiative_is_a_404_page(site: Site) -> None:
    response = site.visitor("jana").get("/initiatives/no-such-thing")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no such page or initiative." in response.text


def test_the_page_shows_the_workflow_diagram_with_the_current_phase_marked(site: Site) -> None:
    initiative = site.create()
    site.services.tick(initiative, "challenge_defined", site.actor("jana"), evidence="x")
    response = site.visitor("jana").get(f"{page_of(initiative)}?lang=de")

    diagram = response.text.split('<figure id="diagram">')[1].split("</figure>")[0]
    assert diagram.strip().startswith("<svg")
    assert diagram.count("kf-current") == 1
    assert "Aktuelle Phase: Initiierung (Checkliste 1/6)" in diagram
    assert 'href="/workflows/kosi-lab"' in diagram
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'; connect-src 'self'" in policy  # static/live.js, nothing inline
    assert "unsafe" not in policy
    assert "default-src 'none'" in policy
    assert "'sha256-" in policy  # the diagram's own <style>, and nothing else inline
