"""``GET /live`` and ``GET /initiatives/{id}/live``: the pages' streams of changes, for the
signed-in browser (session cookie), read by ``static/live.js``.

They show no more than the pages do: any signed-in user sees every initiative on the dashboard
and its page. Without a valid session they answer 401 (a stream is no page to be redirected
to); when the session ends while a stream runs, the stream ends. Framing, resuming and limits
as in :mod:`api.live_stream`.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.deps import ServicesDep, quick_read
from api.live_stream import POSITION, LastEventId, StillAllowed, open_stream, resume_from
from api.pages.session import SESSION_COOKIE
from kosiflow.services import Services

router = APIRouter(include_in_schema=False)

After = Annotated[str | None, Query(pattern=POSITION)]


async def _session_check(request: Request, services: Services) -> StillAllowed:
    """The check that the request's session is still valid; 401 when it is not now."""
    session_id = request.cookies.get(SESSION_COOKIE)

    async def still_allowed() -> bool:
        if not session_id:
            return False
        session = await quick_read(services, lambda: services.signed_in(session_id))
        return session is not None

    if not await still_allowed():
        raise HTTPException(401, "Sign in first: live changes need a signed-in session.")
    return still_allowed


@router.get("/live")
async def live_dashboard(
    request: Request, services: ServicesDep, last_event_id: LastEventId = None, after: After = None
) -> Response:
    """Every initiative's changes, for the dashboard."""
    return await open_stream(
        request,
        services,
        await _session_check(request, services),
        initiative_id=None,
        after=resume_from(last_event_id, after),
    )


@router.get("/initiatives/{initiative_id}/live")
async def live_initiative(
    initiative_id: str,
    request: Request,
    services: ServicesDep,
    last_event_id: LastEventId = None,
    after: After = None,
) -> Response:
    """One initiative's changes, for its page (``after`` is the version the page shows)."""
    return await open_stream(
        request,
        services,
        await _session_check(request, services),
        initiative_id=initiative_id,
        after=resume_from(last_event_id, after),
    )
