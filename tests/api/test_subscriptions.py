"""Webhook subscriptions and their dead letters through the API (admins only: see
test_authorization.py for who else gets what)."""

from __future__ import annotations

import socket
from dataclasses import replace

from kosiflow.services import Dispatcher, DispatchSettings
from tests.api.helpers import Api, assert_problem

SECRET = "ein-langes-geheimnis-0123456789"  # noqa: S105 -- the tests' signing secret


def _closed_port_url() -> str:
    """A URL nobody listens at (a port that was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def test_an_admin_subscribes_a_webhook_and_sees_it_without_its_secret(api: Api) -> None:
    body = {"url": "https://lab.example/hook", "event_types": ["PhaseChanged"]}
    created = api.call("POST", "/subscriptions", "root", json=body)
    assert created.status_code == 201, created.text
    subscription = created.json()
    assert len(subscription["secret"]) >= 40  # made for us, shown this once
    location = created.headers["Location"]
    assert location == f"/api/v1/subscriptions/{subscription['id']}"
    shown = api.client.get(location, headers=api.headers("root"))
    assert shown.json() == {k: v for k, v in subscription.items() if k != "secret"}
    assert shown.json()["event_types"] == ["PhaseChanged"]
    listed = api.call("GET", "/subscriptions", "root").json()["items"]
    assert listed == [shown.json()]
    assert SECRET not in api.call("GET", "/subscriptions", "root").text

    assert api.client.delete(location, headers=api.headers("root")).status_code == 204
    gone = assert_problem(api.client.get(location, headers=api.headers("root")), 404)
    assert gone["type"] == "urn:kosiflow:problem:subscription-not-found"
    assert api.call("GET", "/subscriptions", "root").json() == {"items": []}


def test_a_given_secret_is_answered_once_and_never_listed(api: Api) -> None:
    body = {"url": "https://lab.example/hook", "secret": SECRET, "workflows": ["kosi-lab"]}
    created = api.call("POST", "/subscriptions", "root", json=body)
    assert created.json()["secret"] == SECRET
    assert SECRET not in api.call("GET", "/subscriptions", "root").text


def test_a_bad_subscription_is_422_naming_what_is_wrong(api: Api) -> None:
    cases = [
        ({"url": "ftp://lab.example/hook"}, "url"),
        ({"url": "https://lab.example/hook", "event_types": ["Ticked"]}, "event_types"),
        ({"url": "https://lab.example/hook", "phases": ["launch"]}, "phases"),
        ({"url": "https://lab.example/hook", "secret": "zu-kurz"}, "body.secret"),
        ({"url": "https://lab.example/hook", "events": ["ItemTicked"]}, "body.events"),
    ]
    for body, field in cases:
        response = api.call("POST", "/subscriptions", "root", json=body)
        (error,) = assert_problem(response, 422)["errors"]
        assert error["field"] == field, response.text
    unknown = api.call("POST", "/subscriptions", "root", json=cases[1][0]).json()
    assert "ItemTicked" in unknown["detail"]  # the known event types are named
    assert api.call("GET", "/subscriptions", "root").json() == {"items": []}


def test_dead_letters_are_listed_and_can_be_sent_again_or_given_up(api: Api) -> None:
    api.call("POST", "/subscriptions", "root", json={"url": _closed_port_url(), "secret": SECRET})
    initiative = api.create()
    api.call("POST", f"/initiatives/{initiative}/notes", json={"text": "Notiz"})
    once = DispatchSettings(max_attempts=1, timeout=1.0)
    with Dispatcher(api.services.database, once) as dispatcher:
        assert dispatcher.run_once().dead == 1  # the note waits for the creation

    dead = api.call("GET", "/deliveries?status=dead", "root").json()
    assert dead["total"] == 1
    (letter,) = dead["items"]
    assert (letter["event_id"], letter["type"]) == (f"{initiative}:1", "InitiativeCreated")
    assert (letter["status"], letter["attempts"]) == ("dead", 1)
    assert letter["last_error"].startswith("ConnectError")
    waiting = api.call("GET", "/deliveries?status=pending", "root").json()["items"]
    assert [(d["seq"], d["attempts"]) for d in waiting] == [(2, 0)]

    again = api.call("POST", f"/deliveries/{letter['id']}/redeliver", "root").json()
    assert (again["status"], again["attempts"], again["last_error"]) == (
        "pending",
        0,
        letter["last_error"],
    )
    skipped = api.call("POST", f"/deliveries/{letter['id']}/skip", "root").json()
    assert skipped["status"] == "skipped"
    with Dispatcher(api.services.database, replace(once, max_attempts=2)) as dispatcher:
        assert dispatcher.run_once().retrying == 1  # the note goes now (and fails)
    missing = api.call("POST", "/deliveries/999/redeliver", "root")
    assert assert_problem(missing, 404)["type"] == "urn:kosiflow:problem:delivery-not-found"
