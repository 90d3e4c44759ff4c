"""Live changes for API clients, as server-sent events: of every initiative, or of one.

Any signed-in caller may follow any initiative, as it may read any (``GET /initiatives``).
The framing, resuming and limits are those of :mod:`api.live_stream`.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.security.utils import get_authorization_scheme_param

from api.deps import ActorDep, ServicesDep, quick_read
from api.live_stream import (
    POSITION,
    EventStreamResponse,
    LastEventId,
    StillAllowed,
    open_stream,
    resume_from,
    stream_documentation,
)
from api.problems import problem_responses
from kosiflow.services import Services

router = APIRouter(tags=["live"])

_ALL_EXAMPLE = (
    "retry: 3000\n\n"
    'event: ready\nid: 4711\ndata: {"position":4711}\n\n'
    "event: change\nid: 4712\n"
    'data: {"initiative":"4f8da6ab-f760-4349-a675-25b11d7b785d","version":43,'
    '"type":"ItemTicked","workflow":"kosi-lab","phase":"consolidation",'
    '"at":"2026-11-24T10:00:00+00:00","position":4712}\n\n'
    ": keep-alive\n\n"
)
_ONE_EXAMPLE = (
    "retry: 3000\n\n"
    'event: ready\nid: 42\ndata: {"initiative":"4f8da6ab-f760-4349-a675-25b11d7b785d",'
    '"version":42}\n\n'
    "event: change\nid: 43\n"
    'data: {"initiative":"4f8da6ab-f760-4349-a675-25b11d7b785d","version":43,'
    '"type":"ItemTicked","workflow":"kosi-lab","phase":"consolidation",'
    '"at":"2026-11-24T10:00:00+00:00","position":4712}\n\n'
)


def _token_check(request: Request, services: Services) -> StillAllowed:
    """Whether the bearer token of ``request`` still belongs to a user (it may be renewed or
    its person erased while the stream runs)."""
    _, token = get_authorization_scheme_param(request.headers.get("authorization"))

    async def still_allowed() -> bool:
        user = await quick_read(services, lambda: services.database.user_by_token(token))
        return user is not None

    return still_allowed


@router.get(
    "/stream",
    responses={**stream_documentation(_ALL_EXAMPLE), **problem_responses(401, 422, 503)},
    summary="Follow every initiative's changes (server-sent events)",
    response_class=EventStreamResponse,
)
async def stream_all(
    request: Request,
    services: ServicesDep,
    _actor: ActorDep,
    last_event_id: LastEventId = None,
    after: Annotated[
        str | None,
        Query(
            pattern=POSITION,
            description="Resume after this position (the `id` of a message); without it, from now.",
        ),
    ] = None,
) -> Response:
    """One `change` message per recorded event of any initiative, as it happens (also when
    another process records it): its initiative, version, event type, workflow and the
    initiative's phase now. Each message's `id` is a position to resume after; `ready` comes
    first, `reset` when the client is too far behind to be told each change (read afresh).
    A comment every 15 s keeps the connection open."""
    return await open_stream(
        request,
        services,
        _token_check(request, services),
        initiative_id=None,
        after=resume_from(last_event_id, after),
    )


@router.get(
    "/initiatives/{initiative_id}/stream",
    responses={**stream_documentation(_ONE_EXAMPLE), **problem_responses(401, 404, 422, 503)},
    summary="Follow one initiative's changes (server-sent events)",
    response_class=EventStreamResponse,
)
async def stream_one(
    initiative_id: str,
    request: Request,
    services: ServicesDep,
    _actor: ActorDep,
    last_event_id: LastEventId = None,
    after: Annotated[
        str | None,
        Query(
            pattern=POSITION,
            description="Resume after this version (the `ETag` of the progress, the `id` of "
            "a message); without it, from now.",
        ),
    ] = None,
) -> Response:
    """One `change` message per event of this initiative; each message's `id` is the
    initiative's version after it. Otherwise like `GET /stream`."""
    return await open_stream(
        request,
        services,
        _token_check(request, services),
        initiative_id=initiative_id,
        after=resume_from(last_event_id, after),
    )
