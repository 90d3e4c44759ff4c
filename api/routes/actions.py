"""The writes on one initiative. Each answers the progress after it, with the new ETag."""

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import IdempotencyKeyDep, IfMatchDep, LangDep, ServicesDep, WriterDep
from api.problems import problem_responses
from api.views import ProgressOut, after_write

router = APIRouter(prefix="/initiatives/{initiative_id}", tags=["initiatives"])

_RESPONSES = {
    200: {"description": "The progress after the write.", "headers": {"ETag": {}}},
    **problem_responses(401, 403, 404, 409, 412, 422),
}

Reason = Field(min_length=1, max_length=2000)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TickIn(_In):
    evidence: str | None = Field(default=None, max_length=2000, examples=["https://…/protocol"])
    note: str | None = Field(default=None, max_length=5000)


class ReopenIn(_In):
    reason: str = Reason


class ApprovalIn(_In):
    trigger: str = Field(min_length=1, max_length=100, examples=["start_co_creation"])
    role: str | None = Field(
        default=None, max_length=100, description="The role you sign for, if you hold several."
    )


class ParticipantIn(_In):
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=100, description="The sector they bring.")
    contact: str | None = Field(default=None, max_length=200)


class TransitionIn(_In):
    trigger: str = Field(min_length=1, max_length=100)
    reason: str | None = Field(default=None, max_length=2000)


class HoldIn(_In):
    reason: str = Reason


class ResumeIn(_In):
    reason: str | None = Field(default=None, max_length=2000)


class NoteIn(_In):
    text: str = Field(min_length=1, max_length=10000)


@router.post("/checklist/{item}", response_model=ProgressOut, responses=_RESPONSES)
def tick(
    initiative_id: str,
    item: str,
    body: TickIn,
    services: ServicesDep,
    actor: WriterDep,
    lang: LangDep,
    version: IfMatchDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> ProgressOut:
    """Tick a checklist item of the current phase."""
    result = services.tick(
        initiative_id,
        item,
        actor,
        evidence=body.evidence,
        note=body.note,
        expected_version=version,
        idempotency_key=key,
    )
    return after_write(services, result, actor, lang, response)


@router.delete("/checklist/{item}", response_model=ProgressOut, responses=_RESPONSES)
def reopen(
    initiative_id: str,
    item: str,
    body: ReopenIn,
    services: ServicesDep,
    actor: WriterDep,
    lang: LangDep,
    version: IfMatchDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> ProgressOut:
    """Reopen a done or waived item (sign-offs that depended on it are withdrawn)."""
    result = services.reopen(
        initiative_id, item, body.reason, actor, expected_version=version, idempotency_key=key
    )
    return after_write(services, result, actor, lang, response)


@router.post("/approvals", response_model=ProgressOut, responses=_RESPONSES)
def approve(
    initiative_id: str,
    body: ApprovalIn,
    services: ServicesDep,
    actor: WriterDep,
    lang: LangDep,
    version: IfMatchDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> ProgressOut:
    """Sign off a gate (a step that needs approvals) for one of your roles."""
    result = services.approve(
        initiative_id,
        body.trigger,
        actor,
        role=body.role,
        expected_version=version,
        idempotency_key=key,
    )
    return after_write(services, result, actor, lang, response)


@router.post("/participants", status_code=201, response_model=ProgressOut, responses=_RESPONSES)
def add_participant(
    initiative_id: str,
    body: ParticipantIn,
    services: ServicesDep,
    actor: WriterDep,
    lang: LangDep,
    version: IfMatchDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> ProgressOut:
    """Add a participant and the sector they bring (their name stays outside the history)."""
    result = services.add_participant(
        initiative_id,
        body.name,
        body.role,
        actor,
        contact=body.contact,
        expected_version=version,
        idempotency_key=key,
    )
    return after_write(services, result, actor, lang, response)


@router.post("/transitions", response_model=ProgressOut, responses=_RESPONSES)
def fire(
    initiative_id: str,
    body: TransitionIn,
    services: ServicesDep,
    actor: WriterDep,
    lang: LangDep,
    version: IfMatchDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> ProgressOut:
    """Take a step to another phase; 409 lists every blocker."""
    result = services.fire(
        initiative_id,
        body.trigger,
        actor,
        reason=body.reason,
        expected_version=version,
        idempotency_key=key,
    )
    return after_write(services, result, actor, lang, response)


@router.post("/hold", response_model=ProgressOut, responses=_RESPONSES)
def hold(
    initiative_id: str,
    body: HoldIn,
    services: ServicesDep,
    actor: WriterDep,
    lang: LangDep,
    version: IfMatchDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> ProgressOut:
    """Put the initiative on hold; nothing changes until it is resumed."""
    result = services.hold(
        initiative_id, body.reason, actor, expected_version=version, idempotency_key=key
    )
    return after_write(services, result, actor, lang, response)


@router.post("/resume", response_model=ProgressOut, responses=_RESPONSES)
def resume(
    initiative_id: str,
    body: ResumeIn,
    services: ServicesDep,
    actor: WriterDep,
    lang: LangDep,
    version: IfMatchDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> ProgressOut:
    """Resume an initiative on hold."""
    result = services.resume(
        initiative_id, actor, reason=body.reason, expected_version=version, idempotency_key=key
    )
    return after_write(services, result, actor, lang, response)


@router.post("/notes", response_model=ProgressOut, responses=_RESPONSES)
def note(
    initiative_id: str,
    body: NoteIn,
    services: ServicesDep,
    actor: WriterDep,
    lang: LangDep,
    version: IfMatchDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> ProgressOut:
    """Add a note to the history."""
    result = services.note(
        initiative_id, body.text, actor, expected_version=version, idempotency_key=key
    )
    return after_write(services, result, actor, lang, response)
