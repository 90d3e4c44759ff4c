"""Who may reach which page route, for every page route the app has (found from the app itself,
so a new page or form is covered the moment it exists): without a session, every page and form
leads to the sign-in page; read-only roles may send no form that changes an initiative."""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts

from tests.pages.conftest import Site

OPEN = {("GET", "/login"), ("POST", "/login"), ("GET", "/metrics")}
"""The sign-in page and its form: reachable without a session; and the metrics for Prometheus
(no page: open, or behind ``KOSIFLOW_METRICS_TOKEN``, see tests/api/test_metrics.py)."""
STREAMS = {("GET", "/live"), ("GET", "/initiatives/{initiative_id}/live")}
"""The pages' streams of changes: no page to be redirected to; 401 without a session."""

FILLED = {
    "title": "Neu",
    "workflow": "kosi-lab",
    "evidence": "Protokoll",
    "note": "Notiz",
    "reason": "Begründung",
    "role": "administration",
    "text": "Notiz",
    "name": "Ayla",
    "contact": "ayla@example.org",
}
"""A value for every field a page form has (a route reads the ones it needs)."""


def page_routes(site: Site) -> list[tuple[str, str]]:
    """Every (method, path) of the pages: the app's routes outside the JSON API."""
    found = {
        (method, route.path)
        for route in iter_route_contexts(site.app.routes)
        if route.methods and not route.path.startswith("/api/")
        for method in route.methods - {"HEAD"}
    }
    return sorted(found)


def url_of(path: str, initiative: str) -> str:
    return path.format(
        initiative_id=initiative,
        item="challenge_defined",
        trigger="start_co_creation",
        workflow_id="kosi-lab",
        format="csv",
    )


def test_the_page_routes_are_found(site: Site) -> None:
    routes = page_routes(site)

    assert ("GET", "/") in routes
    assert ("POST", "/initiatives/{initiative_id}/tick/{item}") in routes
    assert len(routes) >= 20


def test_without_a_session_every_page_and_form_leads_to_signing_in(site: Site) -> None:
    initiative = site.create()
    visitor = site.visitor()
    for method, path in page_routes(site):
        if (method, path) in OPEN:
            continue
        url = url_of(path, initiative)

        response = visitor.client.request(method, url, data=FILLED if method == "POST" else None)

        if (method, path) in STREAMS:
            assert response.status_code == 401, (method, path, response.text)
            continue
        assert response.status_code == 303, (method, path, response.text)
        assert response.headers["location"].startswith("/login?next="), (method, path)
    assert site.events(initiative) == ["InitiativeCreated"]
    assert len(site.services.list_initiatives()) == 1


@pytest.mark.parametrize("who", ["renate", "root"])
def test_read_only_roles_may_send_no_form_that_changes_an_initiative(site: Site, who: str) -> None:
    """Auditors and admins get 403 for every form (their own session's token and the page's
    version included), and nothing is recorded."""
    initiative = site.create()
    visitor = site.visitor(who)
    data = {**FILLED, "csrf_token": visitor.csrf, "version": "1"}
    writes = [
        (method, path)
        for method, path in page_routes(site)
        if method == "POST" and path.startswith("/initiatives")
    ]
    assert len(writes) == 10
    for method, path in writes:
        response = visitor.client.request(method, url_of(path, initiative), data=data)

        assert response.status_code == 403, (path, response.text)
        assert "Nothing was changed" in response.text
    assert site.events(initiative) == ["InitiativeCreated"]
    assert len(site.services.list_initiatives()) == 1
