"""The loaded workflow definitions."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from api.deps import ActorDep, LangDep, ServicesDep
from api.problems import problem_responses
from kosiflow.definition import Definition, PhaseMark, diagram_mermaid, diagram_svg

router = APIRouter(prefix="/workflows", tags=["workflows"])


_WORKFLOW_EXAMPLE: dict[str, JsonValue] = {
    "id": "light-track",
    "version": 1,
    "versions": [1],
    "title": "Light track",
    "description": "Lean process for small requests from the city's residents.",
    "languages": ["de", "en"],
    "initial": "agree",
    "roles": [{"id": "coordinator", "title": "Lab coordination"}],
    "phases": [
        {
            "id": "agree",
            "title": "Agree",
            "description": "The request, the place and who is responsible are agreed together.",
            "final": False,
            "max_days": 30,
            "checklist": [
                {
                    "id": "request_described",
                    "title": "Request described",
                    "roles": ["coordinator", "civil_society"],
                    "evidence": "optional",
                    "optional": False,
                    "waivable_by": [],
                }
            ],
        }
    ],
    "transitions": [
        {
            "trigger": "start_implementation",
            "title": "Start implementation",
            "sources": ["agree"],
            "target": "implement",
            "roles": ["coordinator", "administration"],
            "reason": "optional",
            "auto": False,
            "checklist": "complete",
            "approvals": [],
            "sectors": 0,
        }
    ],
}
"""The light track (shortened), for the API docs."""


class WorkflowSummaryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "kosi-lab",
                    "version": 1,
                    "title": "Municipal social innovation lab",
                    "phases": ["initiation", "co_creation", "prototyping", "consolidation"],
                }
            ]
        }
    )

    id: str
    version: int
    title: str
    phases: list[str] = Field(description="Phase ids in order.")


class RoleOut(BaseModel):
    id: str
    title: str


class ChecklistDefinitionOut(BaseModel):
    id: str
    title: str
    roles: list[str]
    evidence: Literal["required", "optional"]
    optional: bool
    waivable_by: list[str]


class PhaseDefinitionOut(BaseModel):
    id: str
    title: str
    description: str | None
    final: bool
    max_days: int | None
    checklist: list[ChecklistDefinitionOut]


class TransitionDefinitionOut(BaseModel):
    trigger: str
    title: str | None
    sources: list[str]
    target: str
    roles: list[str]
    reason: Literal["required", "optional", "none"]
    auto: bool
    checklist: Literal["complete", "none"] = Field(description="Must the checklist be complete?")
    approvals: list[str] = Field(description="Roles that must sign off.")
    sectors: int = Field(description="Distinct participant sectors needed.")


class WorkflowOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_WORKFLOW_EXAMPLE]})

    id: str
    version: int = Field(description="The version shown (default: the newest).")
    versions: list[int] = Field(
        description="Every known version: the files' and those initiatives run under."
    )
    title: str
    description: str | None
    languages: list[str]
    initial: str
    roles: list[RoleOut]
    phases: list[PhaseDefinitionOut]
    transitions: list[TransitionDefinitionOut]


def _summary(definition: Definition, lang: str) -> WorkflowSummaryOut:
    return WorkflowSummaryOut(
        id=definition.id,
        version=definition.version,
        title=definition.title.in_(lang),
        phases=[phase.id for phase in definition.phases],
    )


def _workflow(d: Definition, versions: list[int], lang: str) -> WorkflowOut:
    return WorkflowOut(
        id=d.id,
        version=d.version,
        versions=versions,
        title=d.title.in_(lang),
        description=d.description.in_(lang) if d.description else None,
        languages=list(d.languages),
        initial=d.initial,
        roles=[RoleOut(id=k, title=v.in_(lang)) for k, v in d.roles.items()],
        phases=[
            PhaseDefinitionOut(
                id=p.id,
                title=p.title.in_(lang),
                description=p.description.in_(lang) if p.description else None,
                final=p.final,
                max_days=p.max_days,
                checklist=[
                    ChecklistDefinitionOut(
                        id=i.id,
                        title=i.title.in_(lang),
                        roles=list(i.roles),
                        evidence=i.evidence,
                        optional=i.optional,
                        waivable_by=list(i.waivable_by),
                    )
                    for i in p.checklist
                ],
            )
            for p in d.phases
        ],
        transitions=[
            TransitionDefinitionOut(
                trigger=t.trigger,
                title=t.title.in_(lang) if t.title else None,
                sources=list(t.sources),
                target=t.target,
                roles=list(t.roles),
                reason=t.reason,
                auto=t.auto,
                checklist=t.requires.checklist,
                approvals=list(t.requires.approvals),
                sectors=t.requires.sectors,
            )
            for t in d.transitions
        ],
    )


@router.get("", response_model=list[WorkflowSummaryOut], responses=problem_responses(401))
def list_workflows(services: ServicesDep, _: ActorDep, lang: LangDep) -> list[WorkflowSummaryOut]:
    """The newest version of every loaded workflow."""
    return [_summary(d, lang) for d in services.catalog.current]


@router.get("/{workflow_id}", response_model=WorkflowOut, responses=problem_responses(401, 404))
def get_workflow(
    workflow_id: str,
    services: ServicesDep,
    _: ActorDep,
    lang: LangDep,
    version: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="The version to show (default: the newest)."),
    ] = None,
) -> WorkflowOut:
    """One workflow with its phases, checklists and steps, and every version there is."""
    catalog = services.catalog
    definition = (
        catalog.newest(workflow_id)
        if version is None
        else catalog.pinned(services.database, workflow_id, version)
    )
    return _workflow(definition, catalog.versions(services.database, workflow_id), lang)


# -- the diagram ---------------------------------------------------------------------------------

SVG = "image/svg+xml"
MERMAID = "text/vnd.mermaid"

_SVG_POLICY = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
"""Opened on its own, the SVG may apply its inline style and nothing else."""

_SVG_EXAMPLE = """\
<svg xmlns="http://www.w3.org/2000/svg" class="kf-diagram" viewBox="0 0 404.8 390" \
width="404.8" height="390" role="img" lang="en" data-workflow="light-track" data-version="1">
<title>Light track: state diagram, version 1</title>
<desc>Phases from top to bottom: Agree (start), Implement, Done (final phase), Archived (final \
phase). Transitions: Start implementation: Agree → Implement; Finish (automatic): Implement → \
Done; Archive: Agree, Implement → Archived.</desc>
<style>…</style>
…
</svg>
"""

_MERMAID_EXAMPLE = """\
stateDiagram-v2
    direction TB
    %% light-track 1: Light track
    state "Agree" as agree
    state "Implement" as implement
    state "Done" as done
    state "Archived" as archived
    agree : #9679; current
    agree : Checklist 1/3
    [*] --> agree
    agree --> implement : Start implementation
    implement --> done : Finish (automatic)
    agree --> archived : Archive
    implement --> archived : Archive
    done --> [*]
    archived --> [*]
    classDef current font-weight:bold,stroke-width:4px
    class agree current
"""

_DIAGRAM_RESPONSE: dict[str, Any] = {
    "description": "The state diagram: SVG by default, Mermaid text when `Accept` prefers "
    f"`{MERMAID}` or `text/plain`.",
    "content": {
        SVG: {"schema": {"type": "string"}, "example": _SVG_EXAMPLE},
        MERMAID: {"schema": {"type": "string"}, "example": _MERMAID_EXAMPLE},
    },
}


def _quality(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The quality ``Accept`` gives ``media_type``: that of the most specific matching range."""
    major = media_type.split("/")[0]
    matches = {media_type: 2, f"{major}/*": 1, "*/*": 0}
    best = max(((matches[r], q) for r, q in ranges if r in matches), default=None)
    return 0.0 if best is None else best[1]


def _prefers_mermaid(accept: str | None) -> bool:
    """Whether ``Accept`` ranks Mermaid text (``text/vnd.mermaid`` or ``text/plain``) above
    SVG; SVG wins ties, a missing header and types neither matches."""
    ranges: list[tuple[str, float]] = []
    for part in (accept or "*/*").split(","):
        media_type, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media_type.lower(), quality if 0 <= quality <= 1 else 0.0))
    mermaid = max(_quality(ranges, MERMAID), _quality(ranges, "text/plain"))
    return mermaid > _quality(ranges, SVG)


@router.get(
    "/{workflow_id}/diagram",
    response_class=Response,
    responses={200: _DIAGRAM_RESPONSE, **problem_responses(401, 404, 422)},
)
def get_diagram(
    workflow_id: str,
    request: Request,
    services: ServicesDep,
    _: ActorDep,
    lang: LangDep,
    version: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="The version to draw (default: the newest)."),
    ] = None,
    initiative: Annotated[
        str | None,
        Query(
            max_length=200,
            description="An initiative of this workflow: its current phase is highlighted and "
            "its checklist progress shown (drawn in the version it runs under).",
        ),
    ] = None,
) -> Response:
    """The workflow's state diagram, as SVG or, by `Accept`, as Mermaid `stateDiagram-v2`."""
    definition, state = services.workflow_shown(workflow_id, version=version, initiative=initiative)
    mark = None if state is None else PhaseMark.at(definition, state.phase, state.checklist.keys())
    headers = {
        "Vary": "Accept, Accept-Language",
        "Content-Language": lang,
        "X-Content-Type-Options": "nosniff",  # neither is ever read as another type
    }
    if _prefers_mermaid(request.headers.get("accept")):
        return Response(
            diagram_mermaid(definition, lang, mark), media_type=MERMAID, headers=headers
        )
    svg = diagram_svg(definition, lang, mark)
    return Response(svg, media_type=SVG, headers={**headers, **_SVG_POLICY})
