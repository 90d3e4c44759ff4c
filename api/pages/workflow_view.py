"""A workflow definition as a readable process description: its roles, then each phase in order
with its checklist (who ticks what, with which evidence) and the ways out of it in words; and,
for one initiative, where it stands (its phase marked, its checklist's state)."""

from dataclasses import dataclass

from markupsafe import Markup

from api.pages.wording import Wording
from kosiflow.definition import (
    ChecklistItem,
    Definition,
    Phase,
    PhaseMark,
    Transition,
    diagram_svg,
)
from kosiflow.engine import InitiativeState


@dataclass(frozen=True, slots=True)
class ItemView:
    id: str
    title: str
    description: str | None
    who: str
    """The roles that may tick it, in words."""
    evidence: str
    required: str
    waivable_by: str
    status: str | None
    """done, waived or open in the highlighted initiative's phase; None otherwise."""
    status_text: str | None


@dataclass(frozen=True, slots=True)
class WayOutView:
    trigger: str
    title: str
    target: str
    rules: tuple[str, ...]
    """What must hold, who takes it, whether a reason is asked: one sentence each."""


@dataclass(frozen=True, slots=True)
class PhaseView:
    id: str
    number: int
    title: str
    description: str | None
    tags: tuple[str, ...]
    """start, final phase: in words."""
    limit: str | None
    """The time limit in words (None for a final phase)."""
    checklist: tuple[ItemView, ...]
    ways_out: tuple[WayOutView, ...]
    final: bool
    current: bool
    progress: str | None
    """For the highlighted initiative's phase: how many required items are done."""


@dataclass(frozen=True, slots=True)
class HighlightView:
    """The initiative whose phase the page marks."""

    id: str
    title: str
    phase: str


@dataclass(frozen=True, slots=True)
class WorkflowView:
    id: str
    version: int
    title: str
    description: str | None
    start: str
    roles: tuple[str, ...]
    phases: tuple[PhaseView, ...]
    diagram: Markup
    """The workflow's diagram (an escaped SVG), the initiative's phase highlighted if given."""
    highlight: HighlightView | None


def _item(item: ChecklistItem, state: InitiativeState | None, w: Wording) -> ItemView:
    status = None
    if state is not None:
        done = state.checklist.get(item.id)
        status = "open" if done is None else done.status
    return ItemView(
        id=item.id,
        title=item.title.in_(w.lang),
        description=None if item.description is None else item.description.in_(w.lang),
        who=w.roles(item.roles),
        evidence=w.text(f"workflow.evidence_{item.evidence}"),
        required=w.text("workflow.item_optional" if item.optional else "workflow.item_required"),
        waivable_by=w.roles(item.waivable_by) or w.text("workflow.not_waivable"),
        status=status,
        status_text=None if status is None else w.text(f"item.{status}"),
    )


def _rules(transition: Transition, w: Wording) -> tuple[str, ...]:
    requires = transition.requires
    rules = [
        w.text(
            "workflow.req_checklist"
            if requires.checklist == "complete"
            else "workflow.req_no_checklist"
        )
    ]
    if requires.approvals:
        rules.append(w.text("workflow.req_approvals", roles=w.roles(requires.approvals)))
    if requires.sectors:
        rules.append(w.text("workflow.req_sectors", n=requires.sectors))
    if transition.reason != "none":
        rules.append(w.text(f"workflow.reason_{transition.reason}"))
    if transition.auto:
        rules.append(w.text("workflow.automatic"))
    else:
        rules.append(w.text("workflow.taken_by", roles=w.roles(transition.roles)))
    if transition.from_any:
        rules.append(w.text("workflow.from_any"))
    return tuple(rules)


def _way_out(transition: Transition, w: Wording) -> WayOutView:
    return WayOutView(
        trigger=transition.trigger,
        title=transition.title.in_(w.lang) if transition.title else transition.trigger,
        target=w.phase(transition.target),
        rules=_rules(transition, w),
    )


def _progress(phase: Phase, state: InitiativeState, w: Wording) -> str | None:
    required = [item.id for item in phase.checklist if not item.optional]
    if not required:
        return None
    done = sum(1 for item in required if item in state.checklist)
    return w.text("workflow.done_of", done=done, total=len(required))


def _phase(
    definition: Definition, number: int, phase: Phase, state: InitiativeState | None, w: Wording
) -> PhaseView:
    current = state is not None and state.phase == phase.id
    tags = [w.text("workflow.tag_start")] if phase.id == definition.initial else []
    tags += [w.text("workflow.tag_final")] if phase.final else []
    limit = None
    if not phase.final:
        limit = (
            w.text("workflow.no_limit")
            if phase.max_days is None
            else w.text("workflow.max_days", n=phase.max_days)
        )
    return PhaseView(
        id=phase.id,
        number=number,
        title=phase.title.in_(w.lang),
        description=None if phase.description is None else phase.description.in_(w.lang),
        tags=tuple(tags),
        limit=limit,
        checklist=tuple(_item(item, state if current else None, w) for item in phase.checklist),
        ways_out=tuple(_way_out(t, w) for t in definition.transitions_from(phase.id)),
        final=phase.final,
        current=current,
        progress=_progress(phase, state, w) if state is not None and current else None,
    )


def diagram_markup(definition: Definition, lang: str, state: InitiativeState | None) -> Markup:
    """The workflow's diagram as markup for a page, ``state``'s phase highlighted if given."""
    mark = None if state is None else PhaseMark.at(definition, state.phase, state.checklist.keys())
    # The one piece of markup the pages insert as it is: its builder escapes every text in it
    # (titles come from workflow files) and it holds no script, link or id.
    return Markup(diagram_svg(definition, lang, mark))  # noqa: S704


def workflow_view(definition: Definition, state: InitiativeState | None, lang: str) -> WorkflowView:
    """``definition`` described in ``lang``; ``state``'s phase and checklist marked, if given."""
    w = Wording(definition, lang)
    return WorkflowView(
        id=definition.id,
        version=definition.version,
        title=definition.title.in_(lang),
        description=None if definition.description is None else definition.description.in_(lang),
        start=w.phase(definition.initial),
        roles=tuple(title.in_(lang) for title in definition.roles.values()),
        phases=tuple(
            _phase(definition, n, p, state, w) for n, p in enumerate(definition.phases, start=1)
        ),
        diagram=diagram_markup(definition, lang, state),
        highlight=None
        if state is None
        else HighlightView(state.initiative_id, state.title, w.phase(state.phase)),
    )
