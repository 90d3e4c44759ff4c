"""The tick's fast path: ``POST /api/v1/initiatives/{id}/checklist/{item}`` without FastAPI's
routing and dependencies, on SQLite.

:class:`TickFastPath` is a pure ASGI layer in front of the app (inside the body limit). A tick
of the plain shape — no query string, a JSON body, a bearer token of a user who may write,
well-formed ``If-Match`` and ``Idempotency-Key`` if any — is read here exactly as the route
reads it (the same body model, the same header rules, the same token check) and run through
the same services and group commit (``Write.perform``); its answer, or the problem document of
its error, is made by the same functions as the route's (``answer_write``,
``problems.answer_error``). Anything else goes to the app unchanged, the body as it came: a
body, header or token the route would refuse (401, 403, 422: the route says why), PostgreSQL
(its commands run in the thread pool there). Nothing is decided here that the route decides
otherwise: ``tests/api/test_tick_fastpath.py`` compares both answers, byte for byte.

Why: FastAPI's routing, its dependency solving and body handling cost a tick ~600 µs of CPU,
more than the command and its answer together (bench/README.md).
"""

from __future__ import annotations

import json
import re

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.deps import READ_ONLY_ROLES, Write, expected_version, language_of
from api.routes.actions import TickIn
from kosiflow.engine import Actor
from kosiflow.errors import BadInput
from kosiflow.services import Services, WriteOptions

PATH = re.compile(r"/api/v1/initiatives/([^/]+)/checklist/([^/]+)")
ROUTE = "/api/v1/initiatives/{initiative_id}/checklist/{item}"
MAX_KEY = 200
"""The longest ``Idempotency-Key`` the route takes (``api.deps.IdempotencyKey``)."""
_JSON = (b"application/json", b"application/json; charset=utf-8")


class TickFastPath:
    """The ASGI layer running plain ticks itself (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and not scope["query_string"]
            and not scope.get("root_path")
            and self.services.database.group_commit is not None
        ):
            match = PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        body, more = await _body(receive)
        write = None if more is not None else await self._write(scope, body)
        if write is None:
            await self.app(scope, _replay(body, more, receive), send)
            return
        tick, data = write
        initiative_id, item = match.group(1), match.group(2)
        scope["route"] = ROUTE  # for the metrics layer, which labels requests by their route
        try:
            answer: Response = await tick.perform(
                lambda: tick.services.tick(
                    initiative_id,
                    item,
                    tick.actor,
                    evidence=data.evidence,
                    note=data.note,
                    **tick.options,
                )
            )
        except Exception as exc:
            answer = problems.answer_error(Request(scope), exc)
        await answer(scope, receive, send)

    async def _write(self, scope: Scope, body: bytes) -> tuple[Write, TickIn] | None:
        """The write as the route would get it, or None where the route is to answer."""
        headers = dict(scope["headers"])
        if len(headers) != len(scope["headers"]) or headers.get(b"content-type") not in _JSON:
            return None  # a header given twice: which one counts is the route's business
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        key = headers.get(b"idempotency-key")
        if key is not None and len(key.decode("latin-1")) > MAX_KEY:
            return None
        if_match = headers.get(b"if-match")
        try:
            version = expected_version(None if if_match is None else if_match.decode("latin-1"))
            data = TickIn.model_validate(json.loads(body))
        except (BadInput, ValidationError, ValueError):
            return None
        try:
            user = self.services.database.user_by_token(token)  # SQLite: inline, as quick_read
        except Exception:  # the route meets the failure again and answers it (503)
            return None
        if user is None or frozenset(user.roles) <= READ_ONLY_ROLES:
            return None
        language = headers.get(b"accept-language")
        response = Response()  # for the headers the answer gets, as FastAPI makes it for a route
        del response.headers["content-length"]
        options: WriteOptions = {
            "expected_version": version,
            "idempotency_key": None if key is None else key.decode("latin-1"),
        }
        write = Write(
            self.services,
            Actor(user.person_id, frozenset(user.roles)),
            token,
            language_of(None if language is None else language.decode("latin-1")),
            options,
            response,
            200,
        )
        return write, data


async def _body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body; or what came of it and the message that was not body (a disconnect)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, other: Message | None, receive: Receive) -> Receive:
    """``receive`` as if nothing had been read of it yet."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": other is not None}
        return other if other is not None else await receive()

    return replayed
