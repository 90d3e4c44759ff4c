"""What the API answers about initiatives: the progress view, built from the services' Progress."""

from datetime import datetime
from typing import Literal

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from kosiflow.engine import Actor, Blocker, RemovedText
from kosiflow.engine.events import Text
from kosiflow.services import CommandResult, Progress, Services


class PersonOut(BaseModel):
    id: str = Field(description="Pseudonymous person id (as recorded in the history).")
    name: str | None = Field(description="Display name; None once erased or for the system.")


class BlockerOut(BaseModel):
    """Why a step may not be taken now."""

    code: str = Field(examples=["item_open"])
    params: dict[str, str | int] = Field(examples=[{"item": "mandate_secured"}])
    message: str = Field(description="In the request's language (Accept-Language).")


class ChecklistItemOut(BaseModel):
    id: str
    title: str
    optional: bool
    status: Literal["open", "done", "waived"]
    by: PersonOut | None
    at: datetime | None
    evidence: str | None = Field(
        description="Null when none was given, or once removed under the retention policy."
    )
    evidence_removed_at: datetime | None = Field(
        default=None, description="When the evidence was removed under the retention policy."
    )
    note: str | None = Field(description="Null when none was given, or once removed.")
    note_removed_at: datetime | None = Field(
        default=None, description="When the note was removed under the retention policy."
    )
    reason: str | None = Field(description="Why it was waived.")


class ApprovalOut(BaseModel):
    role: str
    by: PersonOut
    at: datetime


class TriggerOut(BaseModel):
    trigger: str
    title: str
    target: str
    may_fire: bool = Field(description="Whether you may take this step now.")
    blockers: list[BlockerOut] = Field(description="Every reason it may not, if not.")
    approvals: list[ApprovalOut] = Field(description="Sign-offs given in this visit.")


class HoldOut(BaseModel):
    reason: str
    by: PersonOut
    since: datetime


class ParticipantOut(BaseModel):
    person: PersonOut
    role: str = Field(description="The sector the participant brings (a workflow role).")


class PhaseOut(BaseModel):
    id: str
    title: str
    visit: int = Field(description="1 on the first entry, 2 after coming back once, ...")
    entered_at: datetime | None


_JANA: dict[str, JsonValue] = {"id": "p-b0b026e8587a48c08b786b5446da3b6a", "name": "Jana Becker"}
PROGRESS_EXAMPLE: dict[str, JsonValue] = {
    "id": "4f8da6ab-f760-4349-a675-25b11d7b785d",
    "title": "Fahrradgaragen im Quartier",
    "description": "Sichere Fahrradboxen in Altbauquartieren ohne Keller",
    "parent_id": None,
    "workflow_id": "kosi-lab",
    "workflow_version": 1,
    "phase": {
        "id": "consolidation",
        "title": "Consolidation",
        "visit": 1,
        "entered_at": "2019-06-05T10:00:00Z",
    },
    "ended": False,
    "hold": None,
    "checklist": [
        {
            "id": "carrier_named",
            "title": "Long-term host organisation named",
            "optional": False,
            "status": "done",
            "by": _JANA,
            "at": "2019-06-20T10:00:00Z",
            "evidence": "Wohnungsgenossenschaft betreibt die Boxen",
            "evidence_removed_at": None,
            "note": None,
            "note_removed_at": None,
            "reason": None,
        },
        {
            "id": "funding_secured",
            "title": "Follow-up funding secured",
            "optional": False,
            "status": "open",
            "by": None,
            "at": None,
            "evidence": None,
            "evidence_removed_at": None,
            "note": None,
            "note_removed_at": None,
            "reason": None,
        },
    ],
    "percent_done": 50,
    "triggers": [
        {
            "trigger": "complete",
            "title": "Complete",
            "target": "completed",
            "may_fire": False,
            "blockers": [
                {
                    "code": "item_open",
                    "params": {"item": "funding_secured", "phase": "consolidation"},
                    "message": "Checklist item 'Follow-up funding secured' is not done yet.",
                }
            ],
            "approvals": [],
        }
    ],
    "participants": [
        {
            "person": {"id": "p-1a91717db4b145d1a35b7084d2ef2a63", "name": "Thomas Krüger"},
            "role": "administration",
        }
    ],
    "version": 42,
}
"""What the progress of the demo's bicycle garages looks like (shortened), for the API docs."""


class ProgressOut(BaseModel):
    """An initiative as a coordinator sees it: where it stands and what blocks the next step."""

    model_config = ConfigDict(json_schema_extra={"examples": [PROGRESS_EXAMPLE]})

    id: str
    title: str
    description: str | None
    parent_id: str | None
    workflow_id: str
    workflow_version: int
    phase: PhaseOut
    ended: bool
    hold: HoldOut | None
    checklist: list[ChecklistItemOut] = Field(description="The items of the current phase.")
    percent_done: int = Field(ge=0, le=100)
    triggers: list[TriggerOut] = Field(description="Every step from this phase.")
    participants: list[ParticipantOut]
    version: int = Field(description="Also sent as the ETag; send it back as If-Match.")


def _person(progress: Progress, person_id: str) -> PersonOut:
    return PersonOut(id=person_id, name=progress.names.get(person_id) or None)


def _blocker(blocker: Blocker, lang: str) -> BlockerOut:
    return BlockerOut(code=blocker.code, params=dict(blocker.params), message=blocker.message(lang))


def _kept(value: Text | None) -> str | None:
    return None if isinstance(value, RemovedText) else value


def _removed_at(value: Text | None) -> datetime | None:
    return value.at if isinstance(value, RemovedText) else None


def _checklist(progress: Progress, lang: str) -> list[ChecklistItemOut]:
    state = progress.state
    items = []
    for item in progress.definition.phase(state.phase).checklist:
        done = state.checklist.get(item.id)
        items.append(
            ChecklistItemOut(
                id=item.id,
                title=item.title.in_(lang),
                optional=item.optional,
                status="open" if done is None else done.status,
                by=None if done is None else _person(progress, done.by),
                at=None if done is None else done.at,
                evidence=None if done is None else _kept(done.evidence),
                evidence_removed_at=None if done is None else _removed_at(done.evidence),
                note=None if done is None else _kept(done.note),
                note_removed_at=None if done is None else _removed_at(done.note),
                reason=None if done is None else done.reason,
            )
        )
    return items


def _triggers(progress: Progress, lang: str) -> list[TriggerOut]:
    signed = progress.state.approvals
    return [
        TriggerOut(
            trigger=status.transition.trigger,
            title=status.transition.title.in_(lang)
            if status.transition.title
            else status.transition.trigger,
            target=status.transition.target,
            may_fire=status.may_fire,
            blockers=[_blocker(b, lang) for b in status.blockers],
            approvals=[
                ApprovalOut(role=role, by=_person(progress, a.by), at=a.at)
                for role, a in signed.get(status.transition.trigger, {}).items()
            ],
        )
        for status in progress.triggers
    ]


def progress_out(progress: Progress, lang: str) -> ProgressOut:
    state = progress.state
    hold = state.hold
    return ProgressOut(
        id=state.initiative_id,
        title=state.title,
        description=state.description,
        parent_id=state.parent_id,
        workflow_id=progress.definition.id,
        workflow_version=progress.definition.version,
        phase=PhaseOut(
            id=state.phase,
            title=progress.definition.phase(state.phase).title.in_(lang),
            visit=state.visit,
            entered_at=state.phase_entered_at,
        ),
        ended=state.has_ended,
        hold=None
        if hold is None
        else HoldOut(reason=hold.reason, by=_person(progress, hold.by), since=hold.since),
        checklist=_checklist(progress, lang),
        percent_done=progress.percent_done,
        triggers=_triggers(progress, lang),
        participants=[
            ParticipantOut(person=_person(progress, pid), role=role)
            for pid, role in state.participants.items()
        ],
        version=state.version,
    )


def etag(version: int) -> str:
    return f'"{version}"'


_PROGRESS_JSON = ProgressOut.__pydantic_serializer__


def show(progress: Progress, lang: str, response: Response, *, status_code: int = 200) -> Response:
    """The progress view as a JSON response, with its version as the ETag and the headers set
    on ``response`` (the route's own), ready to send.

    A route returns it as it is: FastAPI would otherwise validate the returned model again, and
    for a plain ``def`` route it does that in the thread pool, one more hop per request
    (bench/README.md). The model was validated when it was built; the JSON is what FastAPI
    would have sent.
    """
    response.headers["ETag"] = etag(progress.state.version)
    body = _PROGRESS_JSON.to_json(progress_out(progress, lang), by_alias=True)
    answer = Response(body, status_code, media_type="application/json")
    answer.headers.raw.extend(response.headers.raw)
    return answer


def _progress_after(
    services: Services, result: CommandResult, actor: Actor, response: Response
) -> Progress:
    """The initiative's progress after a write; a repeated request gets the progress right
    after the first one, with ``Idempotent-Replayed: true``."""
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return services.progress_after(result, actor)


def after_write(
    services: Services, result: CommandResult, actor: Actor, lang: str, response: Response
) -> ProgressOut:
    """What every write answers: the initiative's progress after it, with its ETag (see
    :func:`_progress_after`)."""
    progress = _progress_after(services, result, actor, response)
    response.headers["ETag"] = etag(progress.state.version)
    return progress_out(progress, lang)


def answer_write(
    services: Services,
    result: CommandResult,
    actor: Actor,
    lang: str,
    response: Response,
    *,
    status_code: int = 200,
) -> Response:
    """:func:`after_write` as a ready response (see :func:`show`)."""
    progress = _progress_after(services, result, actor, response)
    return show(progress, lang, response, status_code=status_code)
