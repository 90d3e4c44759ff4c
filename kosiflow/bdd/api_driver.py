"""The HTTP way for steps: the same commands and reads through kosiflow's API, in process.

Each person sends their own API token; refusals come back as problem documents and are turned
into the same :class:`~kosiflow.errors.CommandRefused` and
:class:`~kosiflow.errors.ConcurrencyConflict` the engine raises, so a feature file reads the
same either way. One difference is bridged here, and only here: the API rejects a missing reason
or text as invalid input (422); it is reported as the engine's ``reason_required`` or
``text_required``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from kosiflow.bdd.drivers import Done, HistoryEntry, Person, StepView, View
from kosiflow.definition import Definition
from kosiflow.engine import (
    AddNote,
    ApproveGate,
    Blocker,
    Command,
    FireTrigger,
    Hold,
    ReopenItem,
    Resume,
    TickItem,
    WaiveItem,
)
from kosiflow.engine.blockers import blocker
from kosiflow.errors import (
    BadInput,
    CommandRefused,
    ConcurrencyConflict,
    KosiflowError,
    NotFound,
)
from kosiflow.services import Services

_PREFIX = "/api/v1"
_REFUSALS = {"command-refused", "role-missing", "item-unknown", "role-unknown"}
_CONFLICTS = {"concurrent-change", "stale-version"}
_MISSING_TEXT = {"body.reason": "reason_required", "body.text": "text_required"}
"""Request fields the engine would refuse as blank, and the blocker it would give."""
_PAGE = 100


class UnexpectedAnswer(KosiflowError):
    """The API answered in a way no step expects (its status and detail are in the message)."""


class ApiDriver:
    """Commands and reads through an in-process client of ``create_app(services)``."""

    def __init__(self, services: Services, definition: Definition, lang: str) -> None:
        with warnings.catch_warnings():
            # Starlette >= 1.x warns when its TestClient falls back to ``httpx``; only this
            # warning is silenced (the same as the project's API tests do).
            warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
            from fastapi.testclient import TestClient

        from api import create_app  # the API is a front of its own: loaded only for this mode

        self._definition = definition
        self._lang = lang
        self._client = TestClient(create_app(services))
        self._client.__enter__()
        self._reader = services.database.add_user("kosiflow specs (reader)", ["auditor"])[1]

    def close(self) -> None:
        self._client.__exit__(None, None, None)

    # -- commands ----------------------------------------------------------------------------------

    def create(self, workflow_id: str, title: str, person: Person) -> Done:
        body = self._send("POST", "/initiatives", person, {"title": title, "workflow": workflow_id})
        return Done(str(body["id"]), int(body["version"]))

    def add_participant(
        self,
        initiative_id: str,
        name: str,
        role: str,
        person: Person,
        *,
        expected_version: int | None = None,
    ) -> Done:
        path = f"/initiatives/{quote(initiative_id)}/participants"
        body = self._send(
            "POST", path, person, {"name": name, "role": role}, expected_version, initiative_id
        )
        return Done(initiative_id, int(body["version"]))

    def execute(
        self,
        initiative_id: str,
        command: Command,
        person: Person,
        *,
        expected_version: int | None = None,
    ) -> Done:
        method, path, body = _request_of(command)
        answer = self._send(
            method,
            f"/initiatives/{quote(initiative_id)}{path}",
            person,
            body,
            expected_version,
            initiative_id,
        )
        return Done(initiative_id, int(answer["version"]))

    # -- reads -------------------------------------------------------------------------------------

    def view(self, initiative_id: str) -> View:
        body = self._get(f"/initiatives/{quote(initiative_id)}")
        steps = {}
        for found in body["triggers"]:
            blockers = tuple(
                self._blocker(b) for b in found["blockers"] if b["code"] != "role_missing"
            )
            approvals = frozenset(str(a["role"]) for a in found["approvals"])
            steps[str(found["trigger"])] = StepView(str(found["trigger"]), blockers, approvals)
        hold = body["hold"]
        return View(
            phase=str(body["phase"]["id"]),
            visit=int(body["phase"]["visit"]),
            version=int(body["version"]),
            hold_reason=None if hold is None else str(hold["reason"]),
            checklist={str(i["id"]): str(i["status"]) for i in body["checklist"]},
            percent_done=int(body["percent_done"]),
            steps=steps,
            sectors=frozenset(str(p["role"]) for p in body["participants"]),
        )

    def history(self, initiative_id: str) -> list[HistoryEntry]:
        entries: list[HistoryEntry] = []
        while True:
            path = (
                f"/initiatives/{quote(initiative_id)}/history?limit={_PAGE}&offset={len(entries)}"
            )
            page = self._get(path)
            entries += [
                HistoryEntry(int(e["seq"]), str(e["type"]), str(e["actor"]), dict(e["payload"]))
                for e in page["items"]
            ]
            if not page["items"] or len(entries) >= int(page["total"]):
                return entries

    def is_chain_intact(self, initiative_id: str) -> bool:
        response = self._client.get(
            f"{_PREFIX}/initiatives/{quote(initiative_id)}/history/verify",
            headers=self._headers(self._reader),
        )
        return bool(response.status_code == 200)

    # -- HTTP --------------------------------------------------------------------------------------

    def _headers(self, token: str, expected_version: int | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": self._lang}
        if expected_version is not None:
            headers["If-Match"] = f'"{expected_version}"'
        return headers

    def _get(self, path: str) -> dict[str, Any]:
        response = self._client.get(f"{_PREFIX}{path}", headers=self._headers(self._reader))
        return self._answer(response.status_code, response.json(), "", None)

    def _send(
        self,
        method: str,
        path: str,
        person: Person,
        body: Mapping[str, object],
        expected_version: int | None = None,
        initiative_id: str = "",
    ) -> dict[str, Any]:
        response = self._client.request(
            method,
            f"{_PREFIX}{path}",
            json=dict(body),
            headers=self._headers(person.token, expected_version),
        )
        return self._answer(response.status_code, response.json(), initiative_id, expected_version)

    def _answer(
        self, status: int, body: dict[str, Any], initiative_id: str, expected_version: int | None
    ) -> dict[str, Any]:
        """The body of a success; a problem document raised as the engine's error."""
        if status < 300:
            return body
        slug = str(body.get("type", "")).rsplit(":", 1)[-1]
        errors = body.get("errors") or []
        if slug in _REFUSALS:
            raise CommandRefused([self._blocker(e) for e in errors], self._lang)
        if slug == "forbidden":  # a read-only user: the engine would name the missing role
            raise CommandRefused([self._said("role_missing", str(body["detail"]))], self._lang)
        if slug in _CONFLICTS:
            raise ConcurrencyConflict(initiative_id, expected_version or 0, None)
        if status == 404:
            raise NotFound(slug.removesuffix("-not-found"), initiative_id)
        blank = {_MISSING_TEXT.get(str(e.get("field"))) for e in errors}
        if status == 422 and errors and None not in blank:
            found = [blocker(self._definition, code) for code in sorted(c for c in blank if c)]
            raise CommandRefused(found, self._lang)
        if status == 422:
            raise BadInput(str(errors[0].get("field") if errors else "request"), body["detail"])
        raise UnexpectedAnswer(f"HTTP {status}: {body.get('detail', body)}")

    def _blocker(self, found: Mapping[str, Any]) -> Blocker:
        params = {str(k): v for k, v in dict(found.get("params") or {}).items()}
        return Blocker(str(found["code"]), params, {lang: str(found["message"]) for lang in _LANGS})

    def _said(self, code: str, message: str) -> Blocker:
        return Blocker(code, {}, dict.fromkeys(_LANGS, message))


_LANGS = ("en", "de")
"""The API answers in one language (the scenario's); the blocker carries it under both keys."""


def _request_of(command: Command) -> tuple[str, str, dict[str, object]]:
    """Method, path below the initiative, and body of a command (one case per command)."""
    match command:
        case TickItem():
            body = _present(evidence=command.evidence, note=command.note)
            return "POST", f"/checklist/{quote(command.item)}", body
        case ReopenItem():
            return "DELETE", f"/checklist/{quote(command.item)}", _present(reason=command.reason)
        case WaiveItem():
            waiver = f"/checklist/{quote(command.item)}/waiver"
            return "POST", waiver, _present(reason=command.reason)
        case ApproveGate():
            return "POST", "/approvals", _present(trigger=command.trigger, role=command.role)
        case FireTrigger():
            return "POST", "/transitions", _present(trigger=command.trigger, reason=command.reason)
        case Hold():
            return "POST", "/hold", _present(reason=command.reason)
        case Resume():
            return "POST", "/resume", _present(reason=command.reason)
        case AddNote():
            return "POST", "/notes", _present(text=command.text)
    raise BadInput("command", f"{type(command).__name__} has no API route here")


def _present(**fields: str | None) -> dict[str, object]:
    """The fields that have a value (a left-out reason is left out of the body too)."""
    return {k: v for k, v in fields.items() if v}
