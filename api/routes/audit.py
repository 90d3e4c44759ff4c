"""Across initiatives: the streamed export of every event and the phase-duration report."""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ActorDep, AuditorDep, Iso8601, ServicesDep
from api.problems import problem_responses
from kosiflow.errors import BadInput
from kosiflow.services.exports import EXPORT_COLUMNS, EXPORT_MEDIA_TYPES, export_lines
from kosiflow.store import EventRecord

router = APIRouter(tags=["audit"])

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
    since: Annotated[
        datetime | None, Query(description="From this time on (inclusive)."), Iso8601
    ] = None,
    until: Annotated[datetime | None, Query(description="Before this time."), Iso8601] = None,
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
        media_type=EXPORT_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _chained(first: EventRecord, rest: Iterator[EventRecord]) -> Iterator[EventRecord]:
    yield first
    yield from rest


class BottleneckOut(BaseModel):
    kind: Literal["item", "approval"]
    id: str = Field(description="The item id, or trigger:role for a sign-off.")
    median_days: float = Field(description="Median days from entering the phase to meeting it.")
    visits: int


class PhaseStatisticsOut(BaseModel):
    workflow_id: str
    phase: str
    count: int = Field(description="Completed visits of the phase.")
    current: int = Field(description="Initiatives in the phase now.")
    overdue: int = Field(description="Of those, past the phase's max_days (hold not counted).")
    rework: int = Field(description="Visits after the first.")
    median_days: float | None = Field(examples=[12.5])
    p90_days: float | None = Field(description="90th percentile (nearest rank).", examples=[30.0])
    bottleneck: BottleneckOut | None = Field(description="The requirement met last (median).")


class PhaseStatisticsPageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "workflow_id": "kosi-lab",
                            "phase": "initiation",
                            "count": 5,
                            "current": 0,
                            "overdue": 0,
                            "rework": 0,
                            "median_days": 41.0,
                            "p90_days": 165.0,
                            "bottleneck": {
                                "kind": "approval",
                                "id": "start_co_creation:administration",
                                "median_days": 38.0,
                                "visits": 5,
                            },
                        }
                    ]
                }
            ]
        }
    )

    items: list[PhaseStatisticsOut]


STATISTICS_COLUMNS = (
    "workflow_id",
    "phase",
    "count",
    "current",
    "overdue",
    "rework",
    "median_days",
    "p90_days",
    "bottleneck_kind",
    "bottleneck_id",
    "bottleneck_median_days",
)


@router.get(
    "/reports/phase-durations",
    response_model=PhaseStatisticsPageOut,
    responses={
        200: {"content": {"text/csv": {"example": ",".join(STATISTICS_COLUMNS) + "\n"}}},
        **problem_responses(401, 422),
    },
)
def phase_durations(
    services: ServicesDep,
    _: ActorDep,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> PhaseStatisticsPageOut | Response:
    """Per workflow and phase: visits, median and 90th-percentile days, overdue, rework and the
    requirement that kept the gate shut longest."""
    found = [
        PhaseStatisticsOut(
            workflow_id=s.workflow_id,
            phase=s.phase,
            count=s.count,
            current=s.current,
            overdue=s.overdue,
            rework=s.rework,
            median_days=s.median_days,
            p90_days=s.p90_days,
            bottleneck=None
            if s.bottleneck is None
            else BottleneckOut(
                kind="item" if s.bottleneck.kind == "item" else "approval",
                id=s.bottleneck.id,
                median_days=s.bottleneck.median_days,
                visits=s.bottleneck.visits,
            ),
        )
        for s in services.phase_statistics()
    ]
    if format == "json":
        return PhaseStatisticsPageOut(items=found)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(STATISTICS_COLUMNS)
    for row in found:
        neck = row.bottleneck
        writer.writerow(
            [
                *(getattr(row, c) for c in STATISTICS_COLUMNS[:8]),
                *((neck.kind, neck.id, neck.median_days) if neck else ("", "", "")),
            ]
        )
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")
