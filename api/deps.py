"""The request's ingredients, as ``Annotated`` aliases: services, actor, language, preconditions.

A dependency that does no I/O is ``async def``: FastAPI runs a plain ``def`` one in the thread
pool, and that hop costs more than the work (about 60 µs of CPU in-process, several times that
under load; bench/README.md). Short reads go through :func:`quick_read`: inline on SQLite, in
the thread pool on PostgreSQL. Writes go through :meth:`Write.perform`: on SQLite in a batch of
the group commit on the event loop, on PostgreSQL in the thread pool.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Header, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator

from api.views import answer_write
from kosiflow.engine import Actor
from kosiflow.errors import BadInput, PermissionDenied
from kosiflow.services import CommandResult, Services, WriteOptions

LANGUAGES = ("en", "de")
"""The languages kosiflow answers in; the first is the default."""

READ_ONLY_ROLES = frozenset({"auditor", "admin"})
"""Roles that let a user read (and manage) but never change an initiative."""

_bearer = HTTPBearer(auto_error=False, description="An API token (`kosiflow users add`).")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

T = TypeVar("T")


async def quick_read(services: Services, read: Callable[[], T]) -> T:
    """Run a short read of the database. On SQLite inline, on the event loop: a read there takes
    tens of µs and never waits for writers (WAL), less than the thread hop that would carry it.
    On PostgreSQL in the thread pool: a network round trip must not stall the loop."""
    if services.database.backend == "sqlite":
        return read()
    return await run_in_threadpool(read)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_actor(services: ServicesDep, credentials: Credentials) -> Actor:
    """The user the bearer token belongs to; 401 without a known token."""
    return await _actor(services, credentials)


async def _actor(services: Services, credentials: HTTPAuthorizationCredentials | None) -> Actor:
    user = None
    if credentials is not None:
        token = credentials.credentials
        user = await quick_read(services, lambda: services.database.user_by_token(token))
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="A valid API token is required (Authorization: Bearer <token>).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Actor(user.person_id, frozenset(user.roles))


ActorDep = Annotated[Actor, Depends(get_actor)]


async def get_writer(actor: ActorDep) -> Actor:
    """The actor of a write: a user holding only read-only roles is refused (403)."""
    return _writer(actor)


def _writer(actor: Actor) -> Actor:
    if actor.roles <= READ_ONLY_ROLES:
        raise PermissionDenied(actor.id, "change initiatives")
    return actor


WriterDep = Annotated[Actor, Depends(get_writer)]


def language_of(header: str | None) -> str:
    """The supported language the ``Accept-Language`` header prefers most (default English)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else LANGUAGES[0]


AcceptLanguage = Annotated[str | None, Header(description="de or en (default en)")]


async def get_language(accept_language: AcceptLanguage = None) -> str:
    return language_of(accept_language)


LangDep = Annotated[str, Depends(get_language)]


def _from_iso_8601(value: object) -> object:
    """A moment given as text must be ISO 8601 (pydantic alone takes a number as Unix time)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


Iso8601 = BeforeValidator(_from_iso_8601)
"""For a ``datetime`` query parameter: only ISO 8601 text, as the document says (422 else)."""


IF_MATCH_PATTERN = r'^[ \t]*(\*|(W/)?"?[0-9]+"?)[ \t]*$'
"""A version as our ETag (``"7"``, ``W/"7"`` or ``7``, ASCII digits only) or ``*``."""


IfMatch = Annotated[
    str | None,
    Header(
        description='The version you last saw, as its ETag (e.g. "7"); * for any.',
        json_schema_extra={"pattern": IF_MATCH_PATTERN},
    ),
]


async def get_if_match(if_match: IfMatch = None) -> int | None:
    return expected_version(if_match)


def expected_version(if_match: str | None) -> int | None:
    """The expected version from ``If-Match``; ``*`` is none."""
    if if_match is None:
        return None
    if re.match(IF_MATCH_PATTERN, if_match) is None:
        raise BadInput("If-Match", 'expected the version as an ETag, e.g. "7"')
    text = if_match.strip(" \t").removeprefix("W/").strip('"')
    return None if text == "*" else int(text)


IfMatchDep = Annotated[int | None, Depends(get_if_match)]


IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="Repeat a write safely: a repeat under the same key records nothing and "
        "gets the first answer again (Idempotent-Replayed: true); the same key with another "
        "request is 422 (idempotency-mismatch).",
    ),
]


async def get_idempotency_key(idempotency_key: IdempotencyKey = None) -> str | None:
    return idempotency_key


IdempotencyKeyDep = Annotated[str | None, Depends(get_idempotency_key)]


@dataclass(frozen=True)
class Write:
    """One write request: the services, who writes, in which language, with which
    preconditions (``If-Match``, ``Idempotency-Key``) as the services' write options."""

    services: Services
    actor: Actor
    lang: str
    options: WriteOptions
    response: Response
    status_code: int
    """The success status the route declares (200, or 201 where the write adds something)."""

    def answer(self, result: CommandResult) -> Response:
        """The progress after the write, with its ETag, as a ready response."""
        return answer_write(
            self.services,
            result,
            self.actor,
            self.lang,
            self.response,
            status_code=self.status_code,
        )

    async def perform(self, command: Callable[[], CommandResult]) -> Response:
        """Run ``command`` (a call of the command services) and answer the progress after it.

        On SQLite the command runs on the event loop in a batch of the group commit
        (``Database.group_commit``: one COMMIT, and one fsync, for the commands that came
        meanwhile; the fsync is waited for in a thread), and the answer is built here from the
        state the command led to (only the names are read). No thread of the pool is involved:
        a hop there and back costs more CPU than the command (bench/README.md). On PostgreSQL
        command and answer run in the thread pool, as each round trip would stall the loop.
        """
        group = self.services.database.group_commit
        if group is None:
            return await run_in_threadpool(lambda: self.answer(command()))
        return self.answer(await group.run(command))


async def get_write_actor(request: Request, credentials: Credentials) -> Actor:
    """:func:`get_actor` and :func:`get_writer` in one (401, then 403): every dependency costs
    FastAPI tens of µs to solve, and the writes of ``routes/actions.py`` are hot."""
    return _writer(await _actor(request.app.state.services, credentials))


async def get_write(
    actor: Annotated[Actor, Depends(get_write_actor)],
    request: Request,
    response: Response,
    accept_language: AcceptLanguage = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Write:
    """The headers are read here rather than by a dependency each (see
    :func:`get_write_actor`); the actor comes first, so a request without a valid token is
    answered 401 before any of its headers or its body is found wanting (422)."""
    options: WriteOptions = {
        "expected_version": expected_version(if_match),
        "idempotency_key": idempotency_key,
    }
    route = request.scope.get("route")
    status_code = route.status_code if isinstance(route, APIRoute) and route.status_code else 200
    services: Services = request.app.state.services
    lang = language_of(accept_language)
    return Write(services, actor, lang, options, response, status_code)


WriteDep = Annotated[Write, Depends(get_write)]


AUDIT_ROLES = frozenset({"auditor", "admin"})
"""Roles that may export every event."""


async def get_auditor(actor: ActorDep) -> Actor:
    """The actor of an audit read across all initiatives: auditors and admins only (403)."""
    if not actor.roles & AUDIT_ROLES:
        raise PermissionDenied(actor.id, "export histories (auditor or admin only)")
    return actor


AuditorDep = Annotated[Actor, Depends(get_auditor)]


async def get_admin(actor: ActorDep) -> Actor:
    """The actor of an admin's task (webhook subscriptions): admins only (403)."""
    if "admin" not in actor.roles:
        raise PermissionDenied(actor.id, "manage webhook subscriptions (admin only)")
    return actor


AdminDep = Annotated[Actor, Depends(get_admin)]


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route and its dependencies read."""
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names


async def reject_unknown_query(request: Request) -> None:
    """Unknown and repeated query parameters are 422, as unknown body fields are: a misspelt
    or repeated filter must not silently widen a list (no query parameter takes a list)."""
    route = request.scope.get("route")
    if not request.scope["query_string"] or not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    given = [name for name, _ in request.query_params.multi_items()]
    errors = [
        {"type": "extra_forbidden", "loc": ("query", name), "msg": "Unknown query parameter"}
        for name in dict.fromkeys(given)
        if name not in known
    ] + [
        {"type": "repeated", "loc": ("query", name), "msg": "Give this parameter only once"}
        for name in dict.fromkeys(given)
        if name in known and given.count(name) > 1
    ]
    if errors:
        raise RequestValidationError(errors)


StrictQuery = Depends(reject_unknown_query)
"""For the API's routers: refuse query parameters the route does not read."""
