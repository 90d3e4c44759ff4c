"""Helpers of the API tests: the test users, a client wrapper and the problem check."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import httpx
from starlette.exceptions import StarletteDeprecationWarning

from kosiflow.services import Services

with warnings.catch_warnings():
    # Starlette >= 1.x wants the ``httpx2`` package for its TestClient and warns when it falls
    # back to ``httpx`` (the project's dev dependency). Only this one warning is silenced.
    warnings.filterwarnings(
        "ignore",
        message="Using `httpx` with `starlette.testclient`",
        category=StarletteDeprecationWarning,
    )
    from fastapi.testclient import TestClient

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"

USERS = {
    "jana": ("Jana Becker", ("coordinator",)),
    "thomas": ("Thomas Krüger", ("administration",)),
    "aylin": ("Aylin Demir", ("civil_society",)),
    "lena": ("Lena Vogt", ("science",)),
    "renate": ("Renate Albers", ("auditor",)),
    "root": ("Root", ("admin",)),
}
"""Test users: key → (name, roles)."""


class Api:
    """The client, the users' tokens and shortcuts for what most tests do."""

    def __init__(self, client: TestClient, services: Services, tokens: dict[str, str]) -> None:
        self.client = client
        self.services = services
        self.tokens = tokens

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def call(
        self, method: str, path: str, who: str = "jana", *, json: Any = None, **headers: str
    ) -> httpx.Response:
        """``method path`` as ``who``; keyword headers use ``_`` for ``-`` (If_Match=...)."""
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        return self.client.request(
            method, f"/api/v1{path}", json=json, headers=self.headers(who, **sent)
        )

    def create(self, title: str = "Fahrradgaragen", workflow: str = "kosi-lab") -> str:
        response = self.call("POST", "/initiatives", json={"title": title, "workflow": workflow})
        assert response.status_code == 201, response.text
        initiative_id: str = response.json()["id"]
        return initiative_id

    def events(self, initiative_id: str) -> int:
        return len(list(self.services.history(initiative_id)))


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is a problem details body with ``status``; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "errors"} <= body.keys()
    return body
