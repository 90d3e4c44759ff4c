"""The writes on one initiative. Each answers the progress after it, with the new ETag.

The routes are `async`: `Write.perform` hands the command to the group commit on SQLite (or
to the thread pool on PostgreSQL), never blocking the event loop. `write.actor` is read only in
the command given to `perform`: on PostgreSQL the token is checked there, right before it.
"""

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import WriteDep
from api.limits import MAX_LENGTHS
from api.problems import problem_responses
from api.views import ProgressOut

router = APIRouter(prefix="/initiatives/{initiative_id}", tags=["initiatives"])

_HEADERS = {
    "ETag": {"description": "The new version.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "true when an Idempotency-Key repeated an earlier request.",
        "schema": {"type": "string"},
    },
}
_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 412, 422)
_RESPONSES = {
    200: {"description": "The progress after the write.", "headers": _HEADERS},
    **_PROBLEMS,
}
_CREATED = {201: {"description": "The progress after the write.", "headers": _HEADERS}, **_PROBLEMS}

Reason = Field(min_length=1, max_length=MAX_LENGTHS["reason"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TickIn(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"evidence": "Protokoll 1. Stadtdialog", "note": "Fotos im Anhang"}]
        }
    )

    evidence: str | None = Field(
        default=None, max_length=MAX_LENGTHS["evidence"], examples=["https://…/protocol"]
    )
    note: str | None = Field(default=None, max_length=MAX_LENGTHS["note"])


class ReopenIn(_In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Das Kernteam hat sich geändert"}]}
    )

    reason: str = Reason


class WaiverIn(_In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Räume stellt das Wuppertal Institut"}]}
    )

    reason: str = Reason


class ApprovalIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"trigger": "start_co_creation"}]})

    trigger: str = Field(
        min_length=1, max_length=MAX_LENGTHS["trigger"], examples=["start_co_creation"]
    )
    role: str | None = Field(
        default=None,
        max_length=MAX_LENGTHS["role"],
        description="The role you sign for, if you hold several.",
    )


class ParticipantIn(_In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Aylin Demir", "role": "civil_society"}]}
    )

    name: str = Field(min_length=1, max_length=MAX_LENGTHS["name"])
    role: str = Field(
        min_length=1, max_length=MAX_LENGTHS["role"], description="The sector they bring."
    )
    contact: str | None = Field(default=None, max_length=MAX_LENGTHS["contact"])


class TransitionIn(_In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"trigger": "start_co_creation", "reason": "Runder Tisch"}]}
    )

    trigger: str = Field(min_length=1, max_length=MAX_LENGTHS["trigger"])
    reason: str | None = Field(default=None, max_length=MAX_LENGTHS["reason"])


class HoldIn(_In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Haushaltssperre bis zum Ratsbeschluss"}]}
    )

    reason: str = Reason


class ResumeIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Haushalt freigegeben"}]})

    reason: str | None = Field(default=None, max_length=MAX_LENGTHS["reason"])


class NoteIn(_In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "Ratsvorlage zum Mehrwegsystem ist in Arbeit"}]}
    )

    text: str = Field(min_length=1, max_length=MAX_LENGTHS["text"])


@router.post("/checklist/{item}", response_model=ProgressOut, responses=_RESPONSES)
async def tick(
    initiative_id: str,
    item: str,
    body: TickIn,
    write: WriteDep,
) -> Response:
    """Tick a checklist item of the current phase."""
    return await write.perform(
        lambda: write.services.tick(
            initiative_id,
            item,
            write.actor,
            evidence=body.evidence,
            note=body.note,
            **write.options,
        )
    )


@router.delete("/checklist/{item}", response_model=ProgressOut, responses=_RESPONSES)
async def reopen(
    initiative_id: str,
    item: str,
    body: ReopenIn,
    write: WriteDep,
) -> Response:
    """Reopen a done or waived item (sign-offs that depended on it are withdrawn)."""
    return await write.perform(
        lambda: write.services.reopen(
            initiative_id, item, body.reason, write.actor, **write.options
        )
    )


@router.post("/checklist/{item}/waiver", response_model=ProgressOut, responses=_RESPONSES)
async def waive(
    initiative_id: str,
    item: str,
    body: WaiverIn,
    write: WriteDep,
) -> Response:
    """Waive an item that the workflow lets the caller's role waive, with the reason why."""
    return await write.perform(
        lambda: write.services.waive(initiative_id, item, body.reason, write.actor, **write.options)
    )


@router.post("/approvals", response_model=ProgressOut, responses=_RESPONSES)
async def approve(
    initiative_id: str,
    body: ApprovalIn,
    write: WriteDep,
) -> Response:
    """Sign off a gate (a step that needs approvals) for one of your roles."""
    return await write.perform(
        lambda: write.services.approve(
            initiative_id, body.trigger, write.actor, role=body.role, **write.options
        )
    )


@router.post("/participants", status_code=201, response_model=ProgressOut, responses=_CREATED)
async def add_participant(
    initiative_id: str,
    body: ParticipantIn,
    write: WriteDep,
) -> Response:
    """Add a participant and the sector they bring (their name stays outside the history)."""
    return await write.perform(
        lambda: write.services.add_participant(
            initiative_id, body.name, body.role, write.actor, contact=body.contact, **write.options
        )
    )


@router.post("/transitions", response_model=ProgressOut, responses=_RESPONSES)
async def fire(
    initiative_id: str,
    body: TransitionIn,
    write: WriteDep,
) -> Response:
    """Take a step to another phase; 409 lists every blocker."""
    return await write.perform(
        lambda: write.services.fire(
            initiative_id, body.trigger, write.actor, reason=body.reason, **write.options
        )
    )


@router.post("/hold", response_model=ProgressOut, responses=_RESPONSES)
async def hold(
    initiative_id: str,
    body: HoldIn,
    write: WriteDep,
) -> Response:
    """Put the initiative on hold; nothing changes until it is resumed."""
    return await write.perform(
        lambda: write.services.hold(initiative_id, body.reason, write.actor, **write.options)
    )


@router.post("/resume", response_model=ProgressOut, responses=_RESPONSES)
async def resume(
    initiative_id: str,
    body: ResumeIn,
    write: WriteDep,
) -> Response:
    """Resume an initiative on hold."""
    return await write.perform(
        lambda: write.services.resume(
            initiative_id, write.actor, reason=body.reason, **write.options
        )
    )


@router.post("/notes", response_model=ProgressOut, responses=_RESPONSES)
async def note(
    initiative_id: str,
    body: NoteIn,
    write: WriteDep,
) -> Response:
    """Add a note to the history."""
    return await write.perform(
        lambda: write.services.note(initiative_id, body.text, write.actor, **write.options)
    )
