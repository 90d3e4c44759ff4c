"""The writes on an initiative: checklist, sign-offs, participants, steps, hold, notes."""

from __future__ import annotations

from typing import Any

import pytest

from kosiflow.errors import ConcurrencyConflict
from tests.api.helpers import Api, assert_problem

READY = [
    ("jana", "challenge_defined", "https://example.org/challenge"),
    ("thomas", "mandate_secured", "Ratsbeschluss 2024/17"),
    ("lena", "actor_mapping", "https://example.org/map"),
    ("jana", "core_team_named", None),
    ("jana", "resources_clarified", None),
    ("jana", "kickoff_dialogue", "https://example.org/kickoff"),
]
"""Who ticks each initiation item of kosi-lab, with which evidence."""


def ready_for_co_creation(api: Api, initiative: str) -> None:
    """Tick every initiation item, add three sectors and sign off ``start_co_creation``."""
    for who, item, evidence in READY:
        body = {} if evidence is None else {"evidence": evidence}
        assert api.call("POST", f"/initiatives/{initiative}/checklist/{item}", who, json=body)
    for name, role in [("Ayla", "civil_society"), ("Ben", "business"), ("Cem", "science")]:
        added = api.call(
            "POST", f"/initiatives/{initiative}/participants", json={"name": name, "role": role}
        )
        assert added.status_code == 201, added.text
    signed = api.call(
        "POST",
        f"/initiatives/{initiative}/approvals",
        "thomas",
        json={"trigger": "start_co_creation"},
    )
    assert signed.status_code == 200, signed.text


def post(api: Api, initiative: str, path: str, who: str = "jana", **kwargs: Any) -> Any:
    return api.call("POST", f"/initiatives/{initiative}{path}", who, **kwargs)


def test_tick_records_who_when_and_evidence_and_moves_the_etag(api: Api) -> None:
    initiative = api.create()
    response = post(
        api,
        initiative,
        "/checklist/challenge_defined",
        json={"evidence": "https://x", "note": "ok"},
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    body = response.json()
    item = body["checklist"][0]
    assert item["status"] == "done"
    assert item["by"]["name"] == "Jana Becker"
    assert item["at"]
    assert (item["evidence"], item["note"]) == ("https://x", "ok")
    assert body["percent_done"] == 17
    assert body["version"] == 2


def test_tick_of_an_unknown_item_or_initiative_is_404(api: Api) -> None:
    initiative = api.create()
    problem = assert_problem(post(api, initiative, "/checklist/challenge_define", json={}), 404)
    assert problem["errors"][0]["code"] == "item_unknown"
    assert problem["errors"][0]["params"]["suggestion"] == "challenge_defined"
    assert_problem(post(api, "missing", "/checklist/challenge_defined", json={}), 404)


def test_tick_without_the_items_role_is_403(api: Api) -> None:
    initiative = api.create()
    body = {"evidence": "x"}
    problem = assert_problem(post(api, initiative, "/checklist/mandate_secured", json=body), 403)
    assert [e["code"] for e in problem["errors"]] == ["role_missing"]
    assert api.events(initiative) == 1


def test_a_refusal_with_more_than_a_missing_role_is_409(api: Api) -> None:
    initiative = api.create()
    problem = assert_problem(post(api, initiative, "/checklist/mandate_secured", json={}), 409)
    assert [e["code"] for e in problem["errors"]] == ["role_missing", "evidence_required"]


def test_ticking_twice_is_409(api: Api) -> None:
    initiative = api.create()
    post(api, initiative, "/checklist/core_team_named", json={})
    problem = assert_problem(post(api, initiative, "/checklist/core_team_named", json={}), 409)
    assert [e["code"] for e in problem["errors"]] == ["item_already_done"]


def test_a_stale_if_match_is_412_and_a_current_one_passes(api: Api) -> None:
    initiative = api.create()
    post(api, initiative, "/checklist/core_team_named", json={})
    stale = post(api, initiative, "/notes", json={"text": "x"}, If_Match='"1"')
    problem = assert_problem(stale, 412)
    assert problem["type"] == "urn:kosiflow:problem:stale-version"
    assert api.events(initiative) == 2
    assert post(api, initiative, "/notes", json={"text": "x"}, If_Match='"2"').status_code == 200
    assert post(api, initiative, "/notes", json={"text": "y"}, If_Match='W/"3"').status_code == 200
    assert post(api, initiative, "/notes", json={"text": "z"}, If_Match="*").status_code == 200


def test_a_malformed_if_match_is_422(api: Api) -> None:
    initiative = api.create()
    problem = assert_problem(
        post(api, initiative, "/notes", json={"text": "x"}, If_Match="abc"), 422
    )
    assert problem["errors"][0]["field"] == "If-Match"


def test_a_concurrent_change_without_if_match_is_409(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    initiative = api.create()

    def racing(*_: object, **__: object) -> None:
        raise ConcurrencyConflict(initiative, 1, 2)

    monkeypatch.setattr(api.services, "note", racing)
    problem = assert_problem(post(api, initiative, "/notes", json={"text": "x"}), 409)
    assert problem["type"] == "urn:kosiflow:problem:concurrent-change"


def test_an_idempotent_retry_returns_the_first_answer_and_records_nothing(api: Api) -> None:
    initiative = api.create()
    path = "/checklist/challenge_defined"
    first = post(api, initiative, path, json={"evidence": "x"}, Idempotency_Key="tick-1")
    again = post(api, initiative, path, json={"evidence": "x"}, Idempotency_Key="tick-1")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"] == '"2"'
    assert again.headers["idempotent-replayed"] == "true"
    assert api.events(initiative) == 2
    different = post(api, initiative, path, json={"evidence": "y"}, Idempotency_Key="tick-1")
    assert_problem(different, 422)


@pytest.mark.parametrize(
    ("path", "body", "field", "code"),
    [
        ("/checklist/core_team_named", {"proof": "x"}, "body.proof", "extra_forbidden"),
        (
            "/checklist/core_team_named",
            {"evidence": "x" * 2001},
            "body.evidence",
            "string_too_long",
        ),
        ("/approvals", {}, "body.trigger", "missing"),
        ("/participants", {"name": "A"}, "body.role", "missing"),
        ("/transitions", {"trigger": ["a"]}, "body.trigger", "string_type"),
        ("/hold", {"reason": ""}, "body.reason", "string_too_short"),
        ("/resume", {"why": "x"}, "body.why", "extra_forbidden"),
        ("/notes", {"text": "x" * 10001}, "body.text", "string_too_long"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(
    api: Api, path: str, body: dict[str, Any], field: str, code: str
) -> None:
    initiative = api.create()
    problem = assert_problem(post(api, initiative, path, json=body), 422)
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]
    assert api.events(initiative) == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/checklist/core_team_named", {}),
        ("DELETE", "/checklist/core_team_named", {"reason": "x"}),
        ("POST", "/approvals", {"trigger": "start_co_creation"}),
        ("POST", "/participants", {"name": "A", "role": "science"}),
        ("POST", "/transitions", {"trigger": "archive", "reason": "x"}),
        ("POST", "/hold", {"reason": "x"}),
        ("POST", "/resume", {}),
        ("POST", "/notes", {"text": "x"}),
    ],
)
def test_an_auditor_writes_nothing(api: Api, method: str, path: str, body: dict[str, Any]) -> None:
    initiative = api.create()
    response = api.call(method, f"/initiatives/{initiative}{path}", "renate", json=body)
    assert assert_problem(response, 403)["type"] == "urn:kosiflow:problem:forbidden"
    assert api.events(initiative) == 1
    anonymous = api.client.request(method, f"/api/v1/initiatives/{initiative}{path}", json=body)
    assert_problem(anonymous, 401)


def test_reopen_needs_a_reason_and_a_done_item(api: Api) -> None:
    initiative = api.create()
    path = f"/initiatives/{initiative}/checklist/core_team_named"
    problem = assert_problem(api.call("DELETE", path, json={"reason": "wrong"}), 409)
    assert [e["code"] for e in problem["errors"]] == ["item_not_done"]
    assert_problem(api.call("DELETE", path, json={}), 422)
    post(api, initiative, "/checklist/core_team_named", json={})
    reopened = api.call("DELETE", path, json={"reason": "team changed"}, If_Match='"2"')
    assert reopened.status_code == 200
    assert reopened.headers["etag"] == '"3"'
    assert reopened.json()["checklist"][3]["status"] == "open"


def test_a_waiver_by_its_role_records_the_reason(api: Api) -> None:
    initiative = api.create()
    waiver = f"/initiatives/{initiative}/checklist/resources_clarified/waiver"
    assert_problem(api.call("POST", waiver, "jana", json={"reason": "Räume da"}), 403)
    assert_problem(api.call("POST", waiver, "thomas", json={}), 422)
    waived = api.call("POST", waiver, "thomas", json={"reason": "Räume stellt das Institut"})
    assert waived.status_code == 200, waived.text
    (item,) = [i for i in waived.json()["checklist"] if i["id"] == "resources_clarified"]
    assert (item["status"], item["reason"], item["by"]["name"]) == (
        "waived",
        "Räume stellt das Institut",
        "Thomas Krüger",
    )
    not_waivable = f"/initiatives/{initiative}/checklist/challenge_defined/waiver"
    problem = assert_problem(api.call("POST", not_waivable, "thomas", json={"reason": "x"}), 409)
    assert [e["code"] for e in problem["errors"]] == ["item_not_waivable"]


def test_participants_are_201_and_shown_with_their_sector(api: Api) -> None:
    initiative = api.create()
    body = {"name": "Aylin Demir", "role": "civil_society", "contact": "a@example.org"}
    response = post(api, initiative, "/participants", json=body)
    assert response.status_code == 201
    (participant,) = response.json()["participants"]
    assert participant["person"]["name"] == "Aylin Demir"
    assert participant["role"] == "civil_society"
    assert "a@example.org" not in str(api.call("GET", f"/initiatives/{initiative}/history").json())


def test_a_participant_with_an_unknown_sector_is_422(api: Api) -> None:
    initiative = api.create()
    body = {"name": "A", "role": "sciencex"}
    problem = assert_problem(
        post(api, initiative, "/participants", json=body, Accept_Language="de"), 422
    )
    assert problem["errors"][0]["message"] == (
        "Der Ablauf kennt keine Rolle 'sciencex' (meinten Sie 'science'?)."
    )


def test_approval_by_the_wrong_role_is_403_and_twice_is_409(api: Api) -> None:
    initiative = api.create()
    body = {"trigger": "start_co_creation"}
    assert_problem(post(api, initiative, "/approvals", json=body), 403)
    signed = post(api, initiative, "/approvals", "thomas", json=body)
    assert signed.status_code == 200
    (start, _) = signed.json()["triggers"]
    assert [(a["role"], a["by"]["name"]) for a in start["approvals"]] == [
        ("administration", "Thomas Krüger")
    ]
    problem = assert_problem(post(api, initiative, "/approvals", "thomas", json=body), 409)
    assert [e["code"] for e in problem["errors"]] == ["already_approved"]


def test_a_blocked_step_is_409_with_every_blocker_in_german(api: Api) -> None:
    initiative = api.create()
    response = post(
        api, initiative, "/transitions", json={"trigger": "start_co_creation"}, Accept_Language="de"
    )
    problem = assert_problem(response, 409)
    assert [(e["code"], e["params"].get("item")) for e in problem["errors"]] == [
        *[("item_open", item) for _, item, _ in READY],
        ("approval_missing", None),
        ("sectors_missing", None),
    ]
    messages = [e["message"] for e in problem["errors"]]
    assert messages[0] == "Checklistenpunkt 'Fragestellung vereinbart' ist noch offen."
    assert messages[-2:] == [
        "Freigabe durch Verwaltung fehlt.",
        "Beteiligte aus 3 verschiedenen Sektoren sind nötig; es sind 0.",
    ]
    assert problem["detail"] == " ".join(messages)
    assert api.events(initiative) == 1


def test_an_unknown_step_is_409(api: Api) -> None:
    initiative = api.create()
    problem = assert_problem(post(api, initiative, "/transitions", json={"trigger": "jump"}), 409)
    assert [e["code"] for e in problem["errors"]] == ["trigger_unknown"]


def test_a_ready_step_moves_to_the_next_phase(api: Api) -> None:
    initiative = api.create()
    ready_for_co_creation(api, initiative)
    before = api.call("GET", f"/initiatives/{initiative}").json()
    assert before["percent_done"] == 100
    assert before["triggers"][0]["may_fire"] is True
    assert before["triggers"][0]["blockers"] == []
    body = {"trigger": "start_co_creation"}
    moved = post(api, initiative, "/transitions", json=body, If_Match=f'"{before["version"]}"')
    assert moved.status_code == 200
    assert moved.json()["phase"]["id"] == "co_creation"
    assert moved.headers["etag"] == f'"{before["version"] + 1}"'


def test_hold_blocks_writes_until_resumed(api: Api) -> None:
    initiative = api.create()
    held = post(api, initiative, "/hold", json={"reason": "Haushaltssperre"})
    assert held.status_code == 200
    assert held.json()["hold"]["reason"] == "Haushaltssperre"
    assert held.json()["hold"]["by"]["id"]
    assert held.json()["hold"]["by"]["name"]
    problem = assert_problem(post(api, initiative, "/checklist/core_team_named", json={}), 409)
    assert [e["code"] for e in problem["errors"]] == ["on_hold"]
    resumed = post(api, initiative, "/resume", json={"reason": "Budget frei"})
    assert resumed.status_code == 200
    assert resumed.json()["hold"] is None
    problem = assert_problem(post(api, initiative, "/resume", json={}), 409)
    assert [e["code"] for e in problem["errors"]] == ["not_on_hold"]


def test_notes_are_recorded_and_blank_ones_refused(api: Api) -> None:
    initiative = api.create()
    assert post(api, initiative, "/notes", json={"text": "Termin am 3.5."}).status_code == 200
    assert api.events(initiative) == 2
    problem = assert_problem(post(api, initiative, "/notes", json={"text": "  "}), 409)
    assert [e["code"] for e in problem["errors"]] == ["text_required"]
