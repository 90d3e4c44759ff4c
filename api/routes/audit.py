"""Across initiatives: the streamed export of every event and the phase-duration report."""

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.deps import ActorDep, AuditorDep, ServicesDep
from api.problems import problem_responses
from kosiflow.errors import BadInput
from kosiflow.services.exports import EXPORT_COLUMNS, export_lines
from kosiflow.store import EventRecord

router = APIRouter(tags=["audit"])

_MEDIA_TYPES = {"jsonl": "application/jsonl", "csv": "text/csv; charset=utf-8"}
_EXAMPLE_LINE = (
    '{"initiative_id":"fahrradgaragen","seq":1,"type":"InitiativeCreated","schema_version":1,'
    '"actor":"p-1a2b","at":"2026-03-02T09:00:00+00:00","payload":{"title":"…"},'
    '"prev_hash":"000…","hash":"9f2c…"}\n'
)


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every matching event, initiative by initiative in history order.",
            "content": {
                "application/jsonl": {"example": _EXAMPLE_LINE},
                "text/csv": {"example": ",".join(EXPORT_COLUMNS) + "\n"},
            },
        },
        **problem_responses(401, 403, 404, 422),
    },
)
def export(
    services: ServicesDep,
    _: AuditorDep,
    format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl or csv")] = "jsonl",
    workflow: Annotated[str | None, Query(max_length=100)] = None,
    initiative: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[datetime | None, Query(description="From this time on (inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time.")] = None,
) -> StreamingResponse:
    """Stream every event (auditors and admins): JSON Lines or CSV, with hashes to verify."""
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise BadInput(name, "give a time with its offset, e.g. 2026-05-01T00:00:00Z")
    records = services.export(
        workflow_id=workflow, initiative_id=initiative, since=since, until=until
    )
    first = next(records, None)  # a NotFound must become a 404 before the answer starts
    stream = records if first is None else _chained(first, records)
    body = export_lines(stream, format)
    filename = f"kosiflow-events.{format}"
    return StreamingResponse(
        body,
        media_type=_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _chained(first: EventRecord, rest: Iterator[EventRecord]) -> Iterator[EventRecord]:
    yield first
    yield from rest


class PhaseDurationOut(BaseModel):
    workflow_id: str
    phase: str
    count: int = Field(description="Completed visits of the phase.")
    current: int = Field(description="Initiatives in the phase now.")
    median_days: float | None = Field(examples=[12.5])
    p90_days: float | None = Field(description="90th percentile (nearest rank).", examples=[30.0])


class PhaseDurationsOut(BaseModel):
    items: list[PhaseDurationOut]


@router.get(
    "/reports/phase-durations",
    response_model=PhaseDurationsOut,
    responses=problem_responses(401),
)
def phase_durations(services: ServicesDep, _: ActorDep) -> PhaseDurationsOut:
    """Per workflow and phase: how many visits, median and 90th-percentile days."""
    return PhaseDurationsOut(
        items=[
            PhaseDurationOut(
                workflow_id=d.workflow_id,
                phase=d.phase,
                count=d.count,
                current=d.current,
                median_days=d.median_days,
                p90_days=d.p90_days,
            )
            for d in services.phase_durations()
        ]
    )
