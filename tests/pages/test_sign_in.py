"""Signing in with an API token, the session cookie, signing out, and where sign-in leads."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from kosiflow.services import SESSION_LIFETIME
from tests.pages.conftest import Clock, Site
from tests.pages.markup import forms


def _cookie_header(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = [h for h in headers if h.startswith(f"{name}=")]
    assert len(found) == 1, headers
    return str(found[0])


def test_a_valid_token_opens_a_session_and_leads_to_next(site: Site) -> None:
    visitor = site.visitor()
    response = visitor.sign_in(site.tokens["jana"], next_path="/initiatives/x?lang=de")

    assert response.status_code == 303
    assert response.headers["location"] == "/initiatives/x?lang=de"
    cookie = _cookie_header(response, "kosiflow_session")
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert "secure" not in flags  # plain http: a Secure cookie would never come back
    session_id = cookie.split(";")[0].split("=", 1)[1]
    stored = site.sessions()
    assert len(stored) == 1
    assert session_id not in repr(stored)  # only its hash is kept
    assert "Signed in as Jana Becker" in visitor.page("/")


def test_over_https_the_session_cookie_is_secure(site: Site) -> None:
    visitor = site.visitor(base_url="https://testserver")
    response = visitor.sign_in(site.tokens["jana"])

    flags = [p.strip().lower() for p in _cookie_header(response, "kosiflow_session").split(";")]
    assert "secure" in flags


def test_a_wrong_token_gets_401_with_a_message_and_stores_nothing(site: Site) -> None:
    visitor = site.visitor()
    response = visitor.sign_in("not-a-token")

    assert response.status_code == 401
    assert "This token is not valid" in response.text
    assert "kosiflow_session" not in response.headers.get("set-cookie", "")
    assert site.sessions() == []
    assert visitor.get("/").status_code == 303


def test_a_page_without_a_session_sends_the_browser_to_sign_in_and_back(site: Site) -> None:
    initiative = site.create()
    visitor = site.visitor()
    response = visitor.get(f"/initiatives/{initiative}?lang=de")

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    next_path = parse_qs(location.query)["next"][0]
    assert next_path == f"/initiatives/{initiative}?lang=de"
    assert visitor.sign_in(site.tokens["jana"], next_path).headers["location"] == next_path


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_sign_in_never_redirects_off_the_site(site: Site, target: str) -> None:
    response = site.visitor().sign_in(site.tokens["jana"], next_path=target)

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_sign_in_form_carries_no_foreign_next(site: Site) -> None:
    page = site.visitor().get("/login?next=https://evil.example/")

    assert forms(page.text)["login"].fields["next"] == "/"


def test_a_sign_in_form_from_elsewhere_is_refused(site: Site) -> None:
    """Login CSRF: a form posted from another site lacks the cookie our sign-in page set."""
    client = site.client()
    response = client.post(
        "/login", data={"token": site.tokens["jana"], "next": "/", "csrf_token": "forged"}
    )

    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert site.sessions() == []


def test_signing_out_ends_the_session_for_good(site: Site) -> None:
    visitor = site.visitor("jana")
    old_cookie = visitor.client.cookies["kosiflow_session"]

    response = visitor.post("/logout", {"csrf_token": visitor.csrf})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert 'kosiflow_session=""' in _cookie_header(response, "kosiflow_session")
    assert site.sessions() == []
    replay = site.client()
    replay.cookies.set("kosiflow_session", old_cookie)
    assert replay.get("/").status_code == 303
    assert "You have signed out." in visitor.page("/login")


def test_signing_out_needs_the_sessions_form_token(site: Site) -> None:
    visitor = site.visitor("jana")

    assert visitor.post("/logout", {"csrf_token": "wrong"}).status_code == 403
    assert visitor.post("/logout", {}).status_code == 403
    assert len(site.sessions()) == 1
    assert visitor.get("/").status_code == 200


def test_a_session_ends_after_its_lifetime(site: Site, clock: Clock) -> None:
    visitor = site.visitor("jana")
    clock.advance(SESSION_LIFETIME - timedelta(minutes=1))
    assert visitor.get("/").status_code == 200

    clock.advance(timedelta(minutes=2))

    assert visitor.get("/").status_code == 303


def test_signing_in_again_replaces_the_old_session(site: Site) -> None:
    visitor = site.visitor("jana")
    first = visitor.client.cookies["kosiflow_session"]

    visitor.sign_in(site.tokens["jana"])

    assert visitor.client.cookies["kosiflow_session"] != first
    assert len(site.sessions()) == 1


def test_an_erased_users_session_ends(site: Site) -> None:
    visitor = site.visitor("jana")
    person = site.actor("jana").id
    with site.services.database.write() as unit:
        unit.erase_person(person)

    assert visitor.get("/").status_code == 303
