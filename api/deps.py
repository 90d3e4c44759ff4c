"""The request's ingredients, as ``Annotated`` aliases: services, actor, language, preconditions."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.views import ProgressOut, after_write
from kosiflow.engine import Actor
from kosiflow.errors import BadInput, PermissionDenied
from kosiflow.services import CommandResult, Services, WriteOptions

LANGUAGES = ("en", "de")
"""The languages kosiflow answers in; the first is the default."""

READ_ONLY_ROLES = frozenset({"auditor", "admin"})
"""Roles that let a user read (and manage) but never change an initiative."""

_bearer = HTTPBearer(auto_error=False, description="An API token (`kosiflow users add`).")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_actor(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The user the bearer token belongs to; 401 without a known token."""
    user = None if credentials is None else services.database.user_by_token(credentials.credentials)
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="A valid API token is required (Authorization: Bearer <token>).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Actor(user.person_id, frozenset(user.roles))


ActorDep = Annotated[Actor, Depends(get_actor)]


def get_writer(actor: ActorDep) -> Actor:
    """The actor of a write: a user holding only read-only roles is refused (403)."""
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


def get_language(
    accept_language: Annotated[str | None, Header(description="de or en (default en)")] = None,
) -> str:
    return language_of(accept_language)


LangDep = Annotated[str, Depends(get_language)]


def get_if_match(
    if_match: Annotated[
        str | None, Header(description='The version you last saw, as its ETag (e.g. "7").')
    ] = None,
) -> int | None:
    """The expected version from ``If-Match`` (``"7"``, ``W/"7"`` or ``7``); ``*`` is none."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise BadInput("If-Match", 'expected the version as an ETag, e.g. "7"')
    return int(text)


IfMatchDep = Annotated[int | None, Depends(get_if_match)]


def get_idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Repeat a write safely: the first answer is reused."),
    ] = None,
) -> str | None:
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

    def answer(self, result: CommandResult) -> ProgressOut:
        """The progress after the write, with its ETag."""
        return after_write(self.services, result, self.actor, self.lang, self.response)


def get_write(
    services: ServicesDep,
    actor: WriterDep,
    lang: LangDep,
    version: IfMatchDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> Write:
    options: WriteOptions = {"expected_version": version, "idempotency_key": key}
    return Write(services, actor, lang, options, response)


WriteDep = Annotated[Write, Depends(get_write)]


AUDIT_ROLES = frozenset({"auditor", "admin"})
"""Roles that may export every event."""


def get_auditor(actor: ActorDep) -> Actor:
    """The actor of an audit read across all initiatives: auditors and admins only (403)."""
    if not actor.roles & AUDIT_ROLES:
        raise PermissionDenied(actor.id, "export histories (auditor or admin only)")
    return actor


AuditorDep = Annotated[Actor, Depends(get_auditor)]
