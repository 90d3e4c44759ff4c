"""The loaded workflow definitions."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ActorDep, LangDep, ServicesDep
from api.problems import problem_responses
from kosiflow.definition import Definition

router = APIRouter(prefix="/workflows", tags=["workflows"])


class WorkflowSummaryOut(BaseModel):
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
    id: str
    version: int = Field(description="The newest version (new initiatives start under it).")
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


def _workflow(d: Definition, lang: str) -> WorkflowOut:
    return WorkflowOut(
        id=d.id,
        version=d.version,
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
    workflow_id: str, services: ServicesDep, _: ActorDep, lang: LangDep
) -> WorkflowOut:
    """The newest version of one workflow, with its phases, checklists and steps."""
    return _workflow(services.catalog.newest(workflow_id), lang)
