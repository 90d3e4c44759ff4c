"""Initiatives: create, list, show one, its history and the check of its hash chain."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from api.deps import (
    ActorDep,
    IdempotencyKeyDep,
    Iso8601,
    LangDep,
    ServicesDep,
    WriterDep,
    quick_read,
)
from api.limits import MAX_LENGTHS
from api.problems import problem_responses
from api.progress_cache import note_answer
from api.views import ProgressOut, after_write, show
from kosiflow.errors import HistoryCorrupted
from kosiflow.services import Page
from kosiflow.store import EventRecord, Projection
from kosiflow.store.texts import readable_payload

router = APIRouter(prefix="/initiatives", tags=["initiatives"])

MAX_PAGE_SIZE = 100
Limit = Annotated[
    int,
    Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1 to {MAX_PAGE_SIZE} (more is 422)."),
]
MAX_OFFSET = 2**31 - 1
"""Beyond any list; larger numbers overflow the databases' integers."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many to skip.")]


def _header(description: str) -> dict[str, Any]:
    """A response header as OpenAPI documents it."""
    return {"description": description, "schema": {"type": "string"}}


_INITIATIVE_EXAMPLE: dict[str, JsonValue] = {
    "id": "4f8da6ab-f760-4349-a675-25b11d7b785d",
    "title": "Fahrradgaragen im Quartier",
    "workflow_id": "kosi-lab",
    "workflow_version": 1,
    "parent_id": None,
    "phase": "consolidation",
    "on_hold": False,
    "ended": False,
    "version": 42,
    "created_at": "2017-06-12T10:00:00Z",
    "updated_at": "2019-06-20T10:00:00Z",
}
_EVENT_EXAMPLE: dict[str, JsonValue] = {
    "seq": 1,
    "type": "InitiativeCreated",
    "schema_version": 1,
    "actor": "p-b0b026e8587a48c08b786b5446da3b6a",
    "at": "2017-06-12T10:00:00Z",
    "payload": {
        "title": "Fahrradgaragen im Quartier",
        "workflow_id": "kosi-lab",
        "workflow_version": 1,
        "content_hash": "3eaee7175316738a96e6d19d65f8ba3732c7a11c504f57722a6e4a1f29998199",
        "phase": "initiation",
        "parent_id": None,
        "description": None,
    },
    "prev_hash": "0" * 64,
    "hash": "13f18acb9cc0f18fe519801f52eed1a4c7601afea9171741808dba31d6d79dbb",
}


class CreateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Fahrradgaragen im Quartier",
                    "workflow": "kosi-lab",
                    "description": "Sichere Fahrradboxen in Altbauquartieren ohne Keller",
                }
            ]
        },
    )

    title: str = Field(
        min_length=1, max_length=MAX_LENGTHS["title"], examples=["Fahrradgaragen im Quartier"]
    )
    workflow: str = Field(min_length=1, max_length=MAX_LENGTHS["workflow"], examples=["kosi-lab"])
    description: str | None = Field(default=None, max_length=MAX_LENGTHS["description"])
    parent: str | None = Field(default=None, max_length=100, description="Parent initiative id.")


class InitiativeSummaryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_INITIATIVE_EXAMPLE]})

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_INITIATIVE_EXAMPLE], "total": 6, "limit": 1, "offset": 2}]
        }
    )

    items: list[InitiativeSummaryOut]
    total: int = Field(description="How many initiatives match the filters, on all pages.")
    limit: int
    offset: int

    @classmethod
    def of(cls, page: Page[Projection], *, limit: int, offset: int) -> "InitiativePageOut":
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
            for p in page.items
        ]
        return cls(items=items, total=page.total, limit=limit, offset=offset)


class EventOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT_EXAMPLE]})

    seq: int
    type: str
    schema_version: int
    actor: str = Field(description="Pseudonymous person id, or 'system'.")
    at: datetime
    payload: dict[str, JsonValue] = Field(
        description="The event's fields. From schema version 2 on, evidence and notes are "
        "kept outside the hashed payload, which holds a salted SHA-256 commitment to each (the "
        "export carries both): here they are put back. A text removed under the retention "
        "policy is null, with `<field>_removed_at` saying when."
    )
    prev_hash: str
    hash: str


class HistoryPageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_EVENT_EXAMPLE], "total": 42, "limit": 1, "offset": 0}]
        }
    )

    items: list[EventOut]
    total: int = Field(description="How many events the history holds, on all pages.")
    limit: int
    offset: int

    @classmethod
    def of(cls, page: Page[EventRecord], *, limit: int, offset: int) -> "HistoryPageOut":
        items = [
            EventOut(
                seq=e.seq,
                type=e.type,
                schema_version=e.schema_version,
                actor=e.actor,
                at=e.at,
                payload=readable_payload(e),
                prev_hash=e.prev_hash,
                hash=e.hash,
            )
            for e in page.items
        ]
        return cls(items=items, total=page.total, limit=limit, offset=offset)


class VerifyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ok": True, "events": 42}]})

    ok: bool
    events: int = Field(description="How many events were checked.")


@router.post(
    "",
    status_code=201,
    response_model=ProgressOut,
    summary="Start an initiative",
    responses={
        201: {
            "description": "Created; its progress.",
            "headers": {
                "Location": _header("Where the initiative is, e.g. /api/v1/initiatives/{id}."),
                "ETag": _header('Its version, e.g. "1".'),
                "Idempotent-Replayed": _header("true when an Idempotency-Key repeated it."),
            },
        },
        **problem_responses(400, 401, 403, 404, 409, 422),
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


@router.get(
    "",
    response_model=InitiativePageOut,
    summary="List initiatives",
    responses=problem_responses(401, 422),
)
def list_initiatives(
    services: ServicesDep,
    _: ActorDep,
    workflow: Annotated[str | None, Query(max_length=100)] = None,
    phase: Annotated[str | None, Query(max_length=100)] = None,
    overdue: Annotated[
        bool | None,
        Query(
            description="true: only initiatives past their phase's max_days now (time on hold "
            "not counted); false: only those that are not."
        ),
    ] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> InitiativePageOut:
    """Initiatives in the order they were started, filtered by workflow, phase and whether they
    are overdue, one page at a time; ``total`` counts every match."""
    if overdue is None:
        page = services.initiative_page(
            workflow_id=workflow, phase=phase, limit=limit, offset=offset
        )
    else:
        page = services.deadline_page(
            overdue=overdue, workflow_id=workflow, phase=phase, limit=limit, offset=offset
        )
    return InitiativePageOut.of(page, limit=limit, offset=offset)


@router.get(
    "/{initiative_id}",
    response_model=ProgressOut,
    summary="Show an initiative's progress",
    responses={
        200: {
            "description": "The progress.",
            "headers": {"ETag": _header('Its version, e.g. "7"; send it back as If-Match.')},
        },
        **problem_responses(401, 404, 422),
    },
)
async def get_initiative(
    initiative_id: str,
    services: ServicesDep,
    actor: ActorDep,
    lang: LangDep,
    request: Request,
    response: Response,
    at: Annotated[
        datetime | None,
        Query(
            description="Show the initiative as it was at this moment (with its offset); "
            "blockers are then those anyone would have met.",
            examples=["2026-05-01T12:00:00Z"],
        ),
        Iso8601,
    ] = None,
) -> Response:
    """Phase, checklist with who/when/evidence, percent done, and what blocks each step."""
    if at is not None:
        moment = at
        progress = await quick_read(services, lambda: services.progress_at(initiative_id, moment))
        return show(progress, lang, response)
    progress = await quick_read(services, lambda: services.progress(initiative_id, actor))
    # The fast path sends this answer again while version, names, roles and language stay
    # the same (api/progress_cache.py): the answer must depend on nothing else.
    note_answer(request, progress, actor, lang)
    return show(progress, lang, response)


@router.get(
    "/{initiative_id}/history",
    response_model=HistoryPageOut,
    summary="Page through an initiative's history",
    responses=problem_responses(401, 404, 422),
)
def history(
    initiative_id: str,
    services: ServicesDep,
    _: ActorDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> HistoryPageOut:
    """The initiative's events in order, with actor, time and hashes; ``total`` counts them
    all."""
    page = services.history_page(initiative_id, limit=limit, offset=offset)
    return HistoryPageOut.of(page, limit=limit, offset=offset)


@router.get(
    "/{initiative_id}/history/verify",
    response_model=VerifyOut,
    summary="Check an initiative's hash chain",
    responses=problem_responses(401, 404, 409),
)
def verify(initiative_id: str, services: ServicesDep, _: ActorDep) -> VerifyOut:
    """200 when the hash chain is intact; 409 naming the first bad event otherwise."""
    result = services.verify(initiative_id)
    if not result.ok:
        raise HistoryCorrupted(initiative_id, result.first_bad_seq or 0, result.problem or "")
    return VerifyOut(ok=True, events=result.events_checked)
