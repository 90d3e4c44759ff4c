"""The writes on one initiative. Each answers the progress after it, with the new ETag."""

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import WriteDep
from api.problems import problem_responses
from api.views import ProgressOut

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
    write: WriteDep,
) -> ProgressOut:
    """Tick a checklist item of the current phase."""
    return write.answer(
        write.services.tick(
            initiative_id,
            item,
            write.actor,
            evidence=body.evidence,
            note=body.note,
            **write.options,
        )
    )


@router.delete("/checklist/{item}", response_model=ProgressOut, responses=_RESPONSES)
def reopen(
    initiative_id: str,
    item: str,
    body: ReopenIn,
    write: WriteDep,
) -> ProgressOut:
    """Reopen a done or waived item (sign-offs that depended on it are withdrawn)."""
    return write.answer(
        write.services.reopen(initiative_id, item, body.reason, write.actor, **write.options)
    )


@router.post("/approvals", response_model=ProgressOut, responses=_RESPONSES)
def approve(
    initiative_id: str,
    body: ApprovalIn,
    write: WriteDep,
) -> ProgressOut:
    """Sign off a gate (a step that needs approvals) for one of your roles."""
    return write.answer(
        write.services.approve(
            initiative_id, body.trigger, write.actor, role=body.role, **write.options
        )
    )


@router.post("/participants", status_code=201, response_model=ProgressOut, responses=_RESPONSES)
def add_participant(
    initiative_id: str,
    body: ParticipantIn,
    write: WriteDep,
) -> ProgressOut:
    """Add a participant and the sector they bring (their name stays outside the history)."""
    return write.answer(
        write.services.add_participant(
            initiative_id, body.name, body.role, write.actor, contact=body.contact, **write.options
        )
    )


@router.post("/transitions", response_model=ProgressOut, responses=_RESPONSES)
def fire(
    initiative_id: str,
    body: TransitionIn,
    write: WriteDep,
) -> ProgressOut:
    """Take a step to another phase; 409 lists every blocker."""
    return write.answer(
        write.services.fire(
            initiative_id, body.trigger, write.actor, reason=body.reason, **write.options
        )
    )


@router.post("/hold", response_model=ProgressOut, responses=_RESPONSES)
def hold(
    initiative_id: str,
    body: HoldIn,
    write: WriteDep,
) -> ProgressOut:
    """Put the initiative on hold; nothing changes until it is resumed."""
    return write.answer(
        write.services.hold(initiative_id, body.reason, write.actor, **write.options)
    )


@router.post("/resume", response_model=ProgressOut, responses=_RESPONSES)
def resume(
    initiative_id: str,
    body: ResumeIn,
    write: WriteDep,
) -> ProgressOut:
    """Resume an initiative on hold."""
    return write.answer(
        write.services.resume(initiative_id, write.actor, reason=body.reason, **write.options)
    )


@router.post("/notes", response_model=ProgressOut, responses=_RESPONSES)
def note(
    initiative_id: str,
    body: NoteIn,
    write: WriteDep,
) -> ProgressOut:
    """Add a note to the history."""
    return write.answer(write.services.note(initiative_id, body.text, write.actor, **write.options))
