"""Every form must carry its session's token: without it, or with another, nothing changes (403)."""

from __future__ import annotations

import pytest

from tests.pages.conftest import Site

FORMS = [
    ("/tick/challenge_defined", {"evidence": "Protokoll"}),
    ("/waive/resources_clarified", {"reason": "Räume da"}),
    ("/approve/start_co_creation", {"role": "administration"}),
    ("/fire/archive", {"reason": "Abbruch"}),
    ("/hold", {"reason": "Pause"}),
    ("/notes", {"text": "Notiz"}),
    ("/participants", {"name": "Ayla", "role": "civil_society"}),
]
"""Forms of a fresh kosi-lab initiative, each with values the engine would accept."""


@pytest.mark.parametrize(("path", "values"), FORMS)
@pytest.mark.parametrize("sent", ["none", "wrong", "another session's"])
def test_a_form_without_this_sessions_token_is_refused_and_changes_nothing(
    site: Site, path: str, values: dict[str, str], sent: str
) -> None:
    initiative = site.create()
    visitor = site.visitor("thomas" if "waive" in path or "approve" in path else "jana")
    token = {
        "none": None,
        "wrong": "x" * 43,
        "another session's": site.visitor("jana").csrf,  # valid, but not this session's
    }[sent]
    data = {**values, "version": "1"} | ({} if token is None else {"csrf_token": token})

    response = visitor.post(f"/initiatives/{initiative}{path}", data)

    assert response.status_code == 403
    assert "Nothing was changed" in response.text
    assert site.events(initiative) == ["InitiativeCreated"]
    # the same form with the right token goes through: the refusal was the token's alone
    accepted = visitor.post(
        f"/initiatives/{initiative}{path}", {**data, "csrf_token": visitor.csrf}
    )
    assert accepted.status_code == 303, accepted.text


def test_starting_an_initiative_needs_the_token_too(site: Site) -> None:
    visitor = site.visitor("jana")

    response = visitor.post("/initiatives", {"title": "Neu", "workflow": "kosi-lab"})

    assert response.status_code == 403
    assert site.services.list_initiatives() == []
