"""The request's ingredients, as ``Annotated`` aliases: services, actor, language, preconditions.

A dependency that does no I/O is ``async def``: FastAPI runs a plain ``def`` one in the thread
pool, and that hop costs more than the work (about 60 µs of CPU in-process, several times that
under load; bench/README.md). Short reads go through :func:`quick_read`: inline on SQLite, in
the thread pool on PostgreSQL. Writes go through :meth:`Write.perform`: on SQLite in a batch of
the group commit on the event loop, on PostgreSQL in the thread pool, together with the check of
the writer's token (one thread hop instead of two; 401 and 403 still come first, see
:class:`Write`).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BeforeValidator

from api.views import answer_write
from kosiflow.engine import Actor
from kosiflow.errors import BadInput, PermissionDenied
from kosiflow.services import CommandResult, Services, WriteOptions
from kosiflow.store import User

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
    if credentials is None:
        raise _unauthorized()
    token = credentials.credentials
    return _known(await quick_read(services, lambda: services.database.user_by_token(token)))


def _known(user: User | None) -> Actor:
    """The actor of the user a token belongs to; 401 when it belongs to nobody."""
    if user is None:
        raise _unauthorized()
    return Actor(user.person_id, frozenset(user.roles))


def _unauthorized() -> HTTPException:
    return HTTPException(
        status_code=401,
        detail="A valid API token is required (Authorization: Bearer <token>).",
        headers={"WWW-Authenticate": "Bearer"},
    )


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


@dataclass(eq=False)
class Write:
    """One write request: the services, who writes, in which language, with which
    preconditions (``If-Match``, ``Idempotency-Key``) as the services' write options.

    On PostgreSQL the token is checked in the command's thread, right before the command
    (:meth:`perform`): one thread hop for both instead of two (bench/README.md). 401 and 403
    still come before any 422 of the request's query, headers or body: whatever refuses it
    checks the writer first (:func:`check_writer_first`). So :attr:`actor` is known only in
    the command :meth:`perform` runs: a route must read it there (on PostgreSQL it raises
    elsewhere).
    """

    services: Services
    checked: Actor | None
    """Who writes, once the token is checked (at once on SQLite; in :meth:`perform` on
    PostgreSQL)."""
    token: str
    lang: str
    options: WriteOptions
    response: Response
    status_code: int
    """The success status the route declares (200, or 201 where the write adds something)."""
    initiative_id: str | None = None
    """The initiative the route writes to, when its path names one: on PostgreSQL its stored
    state may then be read with the token (``CommandServices.user_reading_ahead``)."""

    @property
    def actor(self) -> Actor:
        """Who writes (for the command :meth:`perform` runs: the token is checked by then)."""
        if self.checked is None:
            raise RuntimeError("the writer is known only inside Write.perform")
        return self.checked

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
        token check, command and answer run in the thread pool, in one hop, as each round trip
        would stall the loop; where the command will read its initiative's stored state first,
        the token check reads it too.
        """
        group = self.services.database.group_commit
        if group is None:
            return await run_in_threadpool(self._checked_and_answered, command)
        return self.answer(await group.run(command))

    def _checked_and_answered(self, command: Callable[[], CommandResult]) -> Response:
        if self.checked is None:
            if self.initiative_id is None:
                user, ahead = self.services.database.user_by_token(self.token), False
            else:
                key = self.options.get("idempotency_key")
                user, ahead = self.services.user_reading_ahead(
                    self.token, self.initiative_id, idempotency_key=key
                )
            self.checked = _writer(_known(user))
            if ahead:  # the command sees it: its lambda reads the options when it runs
                self.options["read_ahead"] = self.initiative_id
        return self.answer(command())


_WRITER = "kosiflow.writer"
"""Where in a request's scope :func:`get_write_checked` notes how far the writer is checked:
:data:`_CHECKED`, or the check it left to the command (PostgreSQL)."""
_CHECKED = "checked"


async def check_writer_first(request: Request) -> None:
    """Before a write is refused for its query, headers or body (422): check who writes, so
    that 401 and 403 come first — the check left to the command (PostgreSQL), or the whole
    check when the request was refused before :func:`get_write_checked` ran (a body that is no
    JSON, an unknown query parameter). Nothing for other routes, or when checked already."""
    noted = request.scope.get(_WRITER)
    if noted == _CHECKED:
        return
    if noted is not None:
        await noted()
        return
    route = request.scope.get("route")
    if isinstance(route, APIRoute) and _depends_on(route.dependant, get_write):
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
        credentials = None
        if scheme.lower() == "bearer" and token:  # as HTTPBearer reads the header
            credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
        _writer(await _actor(request.app.state.services, credentials))


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


async def get_write_checked(request: Request, credentials: Credentials) -> tuple[Actor | None, str]:
    """Who writes, as far as is checked before the request's headers and body are read (a
    dependency of :func:`get_write`, so it runs first), and the token. Without a token 401 at
    once. On SQLite the token is checked here (inline, tens of µs: 401, then 403). On
    PostgreSQL the actor is None: the check is left to :meth:`Write.perform`, or to
    :func:`check_writer_first` if the request is refused before."""
    if credentials is None:
        raise _unauthorized()
    services: Services = request.app.state.services
    if services.database.group_commit is not None:
        request.scope[_WRITER] = _CHECKED
        return _writer(await _actor(services, credentials)), credentials.credentials

    async def check() -> None:
        _writer(await _actor(services, credentials))

    request.scope[_WRITER] = check
    return None, credentials.credentials


async def get_write(
    writer: Annotated[tuple[Actor | None, str], Depends(get_write_checked)],
    request: Request,
    response: Response,
    accept_language: AcceptLanguage = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Write:
    """The headers are read here rather than by a dependency each: every dependency costs
    FastAPI tens of µs to solve, and the writes of ``routes/actions.py`` are hot. The writer
    comes first (:func:`get_write_checked`), and a refusal of a header checks it first too."""
    try:
        options: WriteOptions = {
            "expected_version": expected_version(if_match),
            "idempotency_key": idempotency_key,
        }
    except BadInput:
        await check_writer_first(request)
        raise
    route = request.scope.get("route")
    status_code = route.status_code if isinstance(route, APIRoute) and route.status_code else 200
    services: Services = request.app.state.services
    checked, token = writer
    return Write(
        services,
        checked,
        token,
        language_of(accept_language),
        options,
        response,
        status_code,
        request.path_params.get("initiative_id"),
    )


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
