"""A person at a browser, for the page tests: signs in through the form and fills in forms."""

from __future__ import annotations

import httpx

from tests.api.helpers import TestClient
from tests.pages.markup import forms


class Visitor:
    """One browser (its own cookies) on the app; never follows redirects by itself."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def sign_in(self, token: str, next_path: str = "/") -> httpx.Response:
        """Open the sign-in page and send its form with ``token``."""
        page = self.client.get("/login", params={"next": next_path})
        assert page.status_code == 200, page.text
        form = forms(page.text)["login"]
        data = {**form.fields, "token": token}
        return self.client.post("/login", data=data)

    def get(self, path: str, **headers: str) -> httpx.Response:
        return self.client.get(path, headers=headers)

    def page(self, path: str) -> str:
        """The HTML of a page that must answer 200."""
        response = self.client.get(path)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.text

    def submit(self, page_path: str, form_id: str, **values: str) -> httpx.Response:
        """Fill in the form ``form_id`` of the page at ``page_path`` (its hidden fields as
        rendered) and send it."""
        form = forms(self.page(page_path))[form_id]
        return self.client.post(form.action, data={**form.fields, **values})

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        """Send a form body as-is (e.g. one no page offers, or without the CSRF token)."""
        return self.client.post(path, data=data)

    @property
    def csrf(self) -> str:
        """This session's form token, as its pages carry it."""
        return forms(self.page("/"))["logout"].fields["csrf_token"]
