"""Initiatives: create, list, show one, its history and the check of its hash chain."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ActorDep, IdempotencyKeyDep, LangDep, ServicesDep, WriterDep
from api.problems import problem_responses
from api.views import ProgressOut, after_write, show
from kosiflow.errors import HistoryCorrupted

router = APIRouter(prefix="/initiatives", tags=["initiatives"])

Limit = Annotated[int, Query(ge=1, le=100, description="At most 100 per page.")]
Offset = Annotated[int, Query(ge=0)]


class CreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, examples=["Fahrradgaragen im Quartier"])
    workflow: str = Field(min_length=1, max_length=100, examples=["kosi-lab"])
    description: str | None = Field(default=None, max_length=5000)
    parent: str | None = Field(default=None, max_length=100, description="Parent initiative id.")


class InitiativeSummaryOut(BaseModel):
    id: str
    title: str
    workflow_id: str
    workflow_version: int
    parent_id: str | None
    phase: str
    on_hold: bool
    ended: bool
    version: int
    created_at: datetime
    updated_at: datetime


class InitiativePageOut(BaseModel):
    items: list[InitiativeSummaryOut]
    limit: int
    offset: int


class EventOut(BaseModel):
    seq: int
    type: str
    schema_version: int
    actor: str = Field(description="Pseudonymous person id, or 'system'.")
    at: datetime
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class HistoryPageOut(BaseModel):
    items: list[EventOut]
    limit: int
    offset: int


class VerifyOut(BaseModel):
    ok: bool
    events: int = Field(description="How many events were checked.")


@router.post(
    "",
    status_code=201,
    response_model=ProgressOut,
    responses={
        201: {"description": "Created; Location names it.", "headers": {"Location": {}}},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
def create_initiative(
    body: CreateIn,
    services: ServicesDep,
    actor: WriterDep,
    lang: LangDep,
    key: IdempotencyKeyDep,
    request: Request,
    response: Response,
) -> ProgressOut:
    """Start an initiative under the newest version of a workflow."""
    result = services.create(
        body.workflow,
        body.title,
        actor,
        parent_id=body.parent,
        description=body.description,
        idempotency_key=key,
    )
    location = request.app.url_path_for("get_initiative", initiative_id=result.initiative_id)
    response.headers["Location"] = str(location)
    return after_write(services, result, actor, lang, response)


@router.get("", response_model=InitiativePageOut, responses=problem_responses(401, 422))
def list_initiatives(
    services: ServicesDep,
    _: ActorDep,
    workflow: Annotated[str | None, Query(max_length=100)] = None,
    phase: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> InitiativePageOut:
    """Initiatives, most recently changed first, filtered by workflow and phase."""
    found = services.list_initiatives(workflow_id=workflow, phase=phase, limit=limit, offset=offset)
    items = [
        InitiativeSummaryOut(
            id=p.initiative_id,
            title=p.title,
            workflow_id=p.workflow_id,
            workflow_version=p.workflow_version,
            parent_id=p.parent_id,
            phase=p.phase,
            on_hold=p.on_hold,
            ended=p.ended,
            version=p.version,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
        for p in found
    ]
    return InitiativePageOut(items=items, limit=limit, offset=offset)


@router.get(
    "/{initiative_id}",
    response_model=ProgressOut,
    responses={
        200: {"description": "The progress; ETag is its version.", "headers": {"ETag": {}}},
        **problem_responses(401, 404, 422),
    },
)
def get_initiative(
    initiative_id: str,
    services: ServicesDep,
    actor: ActorDep,
    lang: LangDep,
    response: Response,
    at: Annotated[
        datetime | None,
        Query(
            description="Show the initiative as it was at this moment (with its offset); "
            "blockers are then those anyone would have met.",
            examples=["2026-05-01T12:00:00Z"],
        ),
    ] = None,
) -> ProgressOut:
    """Phase, checklist with who/when/evidence, percent done, and what blocks each step."""
    if at is not None:
        return show(services.progress_at(initiative_id, at), lang, response)
    return show(services.progress(initiative_id, actor), lang, response)


@router.get(
    "/{initiative_id}/history",
    response_model=HistoryPageOut,
    responses=problem_responses(401, 404, 422),
)
def history(
    initiative_id: str,
    services: ServicesDep,
    _: ActorDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> HistoryPageOut:
    """The initiative's events in order, with actor, time and hashes."""
    page = list(services.history(initiative_id))[offset : offset + limit]
    items = [
        EventOut(
            seq=e.seq,
            type=e.type,
            schema_version=e.schema_version,
            actor=e.actor,
            at=e.at,
            payload=dict(e.payload),
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
        for e in page
    ]
    return HistoryPageOut(items=items, limit=limit, offset=offset)


@router.get(
    "/{initiative_id}/history/verify",
    response_model=VerifyOut,
    responses=problem_responses(401, 404, 409),
)
def verify(initiative_id: str, services: ServicesDep, _: ActorDep) -> VerifyOut:
    """200 when the hash chain is intact; 409 naming the first bad event otherwise."""
    result = services.verify(initiative_id)
    if not result.ok:
        raise HistoryCorrupted(initiative_id, result.first_bad_seq or 0, result.problem or "")
    return VerifyOut(ok=True, events=result.events_checked)
