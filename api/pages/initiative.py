"""``GET /initiatives/{id}``: one initiative, what blocks each step, and forms for exactly the
actions the engine lets the viewer take now."""

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from markupsafe import Markup

from api.deps import ServicesDep
from api.pages.formats import Evidence, When, duration, evidence_of, kept, person, when
from api.pages.rendering import render, style_hashes
from api.pages.routing import PageRoute
from api.pages.session import LangDep, Viewer, ViewerDep
from api.pages.standing import Mark, TrackView, marks, track_view
from api.pages.texts import translate
from api.pages.workflow_view import diagram_markup
from kosiflow.engine import TriggerStatus
from kosiflow.services import AllowedActions, Progress, Services, Workbench

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class RoleOption:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class ItemView:
    id: str
    title: str
    optional: bool
    status: str
    """open, done or waived."""
    status_text: str
    by: str | None
    at: When | None
    evidence: Evidence | None
    note: str | None
    reason: str | None
    """Why it was waived."""
    evidence_required: bool
    can_tick: bool
    can_reopen: bool
    can_waive: bool


@dataclass(frozen=True, slots=True)
class ApprovalView:
    role: str
    by: str
    at: When


@dataclass(frozen=True, slots=True)
class TriggerView:
    id: str
    title: str
    target: str
    may_fire: bool
    blockers: tuple[str, ...]
    """Every reason it may not fire now, in the viewer's language."""
    approvals: tuple[ApprovalView, ...]
    """Sign-offs given in this visit of the phase."""
    can_fire: bool
    reason: str
    """required, optional or none: what the fire form asks."""
    approve_as: tuple[RoleOption, ...]
    """The roles the viewer may sign this step off for now."""


@dataclass(frozen=True, slots=True)
class HoldView:
    reason: str
    by: str
    since: When


@dataclass(frozen=True, slots=True)
class ParticipantView:
    name: str
    sector: str


@dataclass(frozen=True, slots=True)
class InitiativeView:
    id: str
    title: str
    description: str | None
    workflow_id: str
    workflow_title: str
    workflow_version: int
    phase: str
    visit: int
    entered: When | None
    in_phase: str | None
    track: TrackView
    marks: tuple[Mark, ...]
    percent_done: int
    ended: bool
    hold: HoldView | None
    participants: tuple[ParticipantView, ...]
    checklist: tuple[ItemView, ...]
    triggers: tuple[TriggerView, ...]
    version: int
    """The version the forms were rendered at (sent back as the expected version)."""
    can_hold: bool
    can_resume: bool
    can_note: bool
    can_add_participant: bool
    sectors: tuple[RoleOption, ...]
    """The workflow's roles: the sectors a participant may bring."""
    has_forms: bool
    diagram: Markup
    """The workflow's diagram with the current phase highlighted (an escaped SVG)."""


def _checklist(progress: Progress, actions: AllowedActions, lang: str) -> tuple[ItemView, ...]:
    state = progress.state
    items = []
    for item in progress.definition.phase(state.phase).checklist:
        done = state.checklist.get(item.id)
        status = "open" if done is None else done.status
        items.append(
            ItemView(
                id=item.id,
                title=item.title.in_(lang),
                optional=item.optional,
                status=status,
                status_text=translate(lang, f"item.{status}"),
                by=None if done is None else person(progress.names, done.by, lang),
                at=None if done is None else when(done.at, lang),
                evidence=evidence_of(done.evidence, lang) if done and done.evidence else None,
                note=None if done is None or done.note is None else kept(done.note, lang),
                reason=None if done is None else done.reason,
                evidence_required=item.evidence == "required",
                can_tick=item.id in actions.tick,
                can_reopen=item.id in actions.reopen,
                can_waive=item.id in actions.waive,
            )
        )
    return tuple(items)


def _trigger(
    status: TriggerStatus, progress: Progress, actions: AllowedActions, lang: str
) -> TriggerView:
    definition = progress.definition
    transition = status.transition
    trigger = transition.trigger
    signed = progress.state.approvals.get(trigger, {})
    return TriggerView(
        id=trigger,
        title=transition.title.in_(lang) if transition.title else trigger,
        target=definition.phase(transition.target).title.in_(lang),
        may_fire=status.may_fire,
        blockers=tuple(b.message(lang) for b in status.blockers),
        approvals=tuple(
            ApprovalView(
                definition.roles[role].in_(lang) if role in definition.roles else role,
                person(progress.names, approval.by, lang),
                when(approval.at, lang),
            )
            for role, approval in signed.items()
        ),
        can_fire=trigger in actions.fire,
        reason=transition.reason,
        approve_as=tuple(
            RoleOption(role, definition.roles[role].in_(lang))
            for t, role in actions.approve
            if t == trigger
        ),
    )


def initiative_view(workbench: Workbench, lang: str) -> InitiativeView:
    """The initiative page's view of ``workbench``, in ``lang``: its forms only for what the
    engine lets the viewer do now."""
    progress, standing, actions = workbench.progress, workbench.standing, workbench.actions
    state, definition = progress.state, progress.definition
    hold = state.hold
    return InitiativeView(
        id=state.initiative_id,
        title=state.title,
        description=state.description,
        workflow_id=definition.id,
        workflow_title=definition.title.in_(lang),
        workflow_version=definition.version,
        phase=standing.phase.title.in_(lang),
        visit=state.visit,
        entered=None if state.phase_entered_at is None else when(state.phase_entered_at, lang),
        in_phase=None
        if standing.in_phase_for is None
        else duration(standing.in_phase_for, lang, precise=False),
        track=track_view(standing, lang),
        marks=marks(standing, lang),
        percent_done=standing.percent_done,
        ended=state.has_ended,
        hold=None
        if hold is None
        else HoldView(hold.reason, person(progress.names, hold.by, lang), when(hold.since, lang)),
        participants=tuple(
            ParticipantView(
                person(progress.names, pid, lang),
                definition.roles[role].in_(lang) if role in definition.roles else role,
            )
            for pid, role in state.participants.items()
        ),
        checklist=_checklist(progress, actions, lang),
        triggers=tuple(_trigger(s, progress, actions, lang) for s in progress.triggers),
        version=state.version,
        can_hold=actions.hold,
        can_resume=actions.resume,
        can_note=actions.note,
        can_add_participant=actions.add_participant,
        sectors=tuple(RoleOption(k, v.in_(lang)) for k, v in definition.roles.items()),
        has_forms=actions.any,
        diagram=diagram_markup(definition, lang, state),
    )


def show_initiative(
    request: Request,
    services: Services,
    viewer: Viewer,
    lang: str,
    initiative_id: str,
    *,
    status: int = 200,
    problems: Sequence[str] = (),
) -> Response:
    """The initiative's page as it is now (after a refused form: with what went wrong)."""
    view = initiative_view(services.workbench(initiative_id, viewer.actor), lang)
    return render(
        request,
        "initiative.html",
        lang=lang,
        viewer=viewer,
        title=view.title,
        status=status,
        here=f"/initiatives/{initiative_id}",
        style_hashes=style_hashes(view.diagram),
        view=view,
        problems=problems,
        current="initiative",
        # Changes after the version shown (only a GET page stays live, see static/live.js).
        live_stream=f"/initiatives/{view.id}/live?after={view.version}"
        if request.method == "GET"
        else None,
    )


@router.get("/initiatives/{initiative_id}")
def initiative(
    initiative_id: str, request: Request, services: ServicesDep, viewer: ViewerDep, lang: LangDep
) -> Response:
    """Phase, checklist with who/when/evidence, each step with its blockers, allowed actions."""
    return show_initiative(request, services, viewer, lang, initiative_id)
