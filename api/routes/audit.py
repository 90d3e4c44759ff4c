"""For auditors: the streamed export of every event, the phase-duration report, and what
changed in an initiative between two moments."""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from api.deps import ActorDep, AuditorDep, Iso8601, LangDep, ServicesDep
from api.problems import problem_responses
from kosiflow.errors import BadInput
from kosiflow.services import Diff
from kosiflow.services.exports import EXPORT_COLUMNS, EXPORT_MEDIA_TYPES, export_lines
from kosiflow.store import StoredEvent

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
    records = services.export_stored(
        workflow_id=workflow, initiative_id=initiative, since=since, until=until
    )
    first = next(records, None)  # a NotFound must become a 404 before the answer starts
    stream = records if first is None else _chained(first, records)
    body = _in_chunks(export_lines(stream, format))
    filename = f"kosiflow-events.{format}"
    return StreamingResponse(
        body,
        media_type=EXPORT_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _chained(first: StoredEvent, rest: Iterator[StoredEvent]) -> Iterator[StoredEvent]:
    yield first
    yield from rest


CHUNK_BYTES = 64 * 1024
"""The export is sent in pieces of about this size: one per line would cost the server a
send (and on a sync iterator a thread hop) per event."""


def _in_chunks(lines: Iterator[bytes]) -> Iterator[bytes]:
    pending: list[bytes] = []
    size = 0
    for line in lines:
        pending.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


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


class ChangeOut(BaseModel):
    code: str = Field(description="What kind of change, e.g. item.ticked, phase.moved, hold.held.")
    sentence: str = Field(description="The change in words, in the language asked for.")
    params: dict[str, JsonValue] = Field(
        description="What the sentence is made of: ids, pseudonymous person ids, counts."
    )
    seqs: list[int] = Field(description="The events in between that make up this change.")


class DiffEventOut(BaseModel):
    seq: int
    type: str
    actor: str = Field(description="Pseudonymous person id, or 'system'.")
    at: datetime


class DiffOut(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "initiative_id": "4f8da6ab-f760-4349-a675-25b11d7b785d",
                    "from": "2017-06-01T00:00:00Z",
                    "to": "2017-09-01T00:00:00Z",
                    "version_from": 4,
                    "version_to": 7,
                    "phase_from": "initiation",
                    "phase_to": "co_creation",
                    "changes": [
                        {
                            "code": "phase.moved",
                            "sentence": "The phase moved from Initiation to Co-creation "
                            "(“Start co-creation”, Jana Becker).",
                            "params": {
                                "source": "initiation",
                                "target": "co_creation",
                                "trigger": "start_co_creation",
                                "who": "p-b0b026e8587a48c08b786b5446da3b6a",
                            },
                            "seqs": [7],
                        },
                        {
                            "code": "approval.given",
                            "sentence": "Thomas Krüger signed off “Start co-creation” for "
                            "Public administration.",
                            "params": {
                                "trigger": "start_co_creation",
                                "role": "administration",
                                "who": "p-5c1e0f6d9a2b4c7e8f0a1b2c3d4e5f60",
                            },
                            "seqs": [5],
                        },
                    ],
                    "events": [
                        {
                            "seq": 5,
                            "type": "GateApproved",
                            "actor": "p-5c1e0f6d9a2b4c7e8f0a1b2c3d4e5f60",
                            "at": "2017-07-03T09:00:00Z",
                        }
                    ],
                }
            ]
        },
    )

    initiative_id: str
    from_: datetime = Field(alias="from")
    to: datetime
    version_from: int = Field(
        description="How many events were recorded up to `from` (0: the initiative did not "
        "exist yet)."
    )
    version_to: int
    phase_from: str | None = Field(description="null when the initiative did not exist yet.")
    phase_to: str | None
    changes: list[ChangeOut] = Field(
        description="Never empty: `nothing` or `not_yet` when nothing changed."
    )
    events: list[DiffEventOut] = Field(
        description="Every event after `from` up to and including `to`: the evidence."
    )

    @classmethod
    def of(cls, diff: Diff, lang: str) -> "DiffOut":
        return cls.model_validate(diff.as_json(lang))


@router.get(
    "/initiatives/{initiative_id}/diff",
    response_model=DiffOut,
    summary="What changed between two moments",
    responses=problem_responses(401, 404, 422),
)
async def diff(
    initiative_id: str,
    services: ServicesDep,
    _: ActorDep,
    lang: LangDep,
    since: Annotated[
        datetime,
        Query(
            alias="from",
            description="The first moment (ISO 8601 with its offset). Before the initiative "
            "existed, the diff starts from nothing.",
            examples=["2017-06-01T00:00:00Z"],
        ),
        Iso8601,
    ],
    until: Annotated[
        datetime | None,
        Query(
            alias="to",
            description="The second moment, not before `from` (default: now).",
            examples=["2017-09-01T00:00:00Z"],
        ),
        Iso8601,
    ] = None,
) -> DiffOut:
    """The initiative's state at both moments compared, in sentences (`Accept-Language`), each
    with the events in between that prove it; 422 naming `query.from` or `query.to` for a
    moment without its offset or `from` after `to`."""
    # Folds the history twice: in the thread pool, never inline on the event loop.
    found = await run_in_threadpool(
        lambda: services.diff(initiative_id, since, until, fields=("query.from", "query.to"))
    )
    return DiffOut.of(found, lang)
