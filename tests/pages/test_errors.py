"""Whatever goes wrong, a page answers: in the visitor's language, never with a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import pytest

from kosiflow.errors import StoreError
from tests.pages.conftest import Site


def _fail(error: Exception) -> Callable[..., NoReturn]:
    def fail(*_args: object, **_kwargs: object) -> NoReturn:
        raise error

    return fail


def test_an_unexpected_error_is_a_500_page_without_details(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    initiative = site.create()
    visitor = site.visitor("jana")
    monkeypatch.setattr(site.services, "workbench", _fail(RuntimeError("secret detail")))

    response = visitor.get(f"/initiatives/{initiative}?lang=de")

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Bei uns ist etwas schiefgegangen." in response.text
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text


def test_an_unreachable_database_is_a_503_page(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    visitor = site.visitor("jana")
    monkeypatch.setattr(site.services, "standings", _fail(StoreError("connection refused")))

    response = visitor.get("/")

    assert response.status_code == 503
    assert "The database is not available right now." in response.text
    assert "connection refused" not in response.text


def test_an_invalid_query_value_is_a_422_page_naming_it(site: Site) -> None:
    response = site.visitor("jana").get("/?page=0")

    assert response.status_code == 422
    assert "“Page” has a value that is not valid." in response.text
