"""``GET /``: every initiative with where it stands, filtered and paged; ``POST /initiatives``
starts a new one (for those the engine lets start one)."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import ServicesDep
from api.live_stream import live_position
from api.pages.errors import FormProblem
from api.pages.fields import describe, optional_text, required_text
from api.pages.rendering import render
from api.pages.routing import PageRoute
from api.pages.session import FormWriterDep, LangDep, Viewer, ViewerDep, set_flash
from api.pages.standing import Mark, TrackView, marks, track_view
from api.pages.texts import translate
from kosiflow.errors import BadInput, CommandRefused, IdempotencyMismatch, NotFound
from kosiflow.services import STATE_FILTERS, Services, Standing, StateFilter

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass(frozen=True, slots=True)
class RowView:
    id: str
    title: str
    workflow_id: str
    workflow_title: str
    phase: str
    visit: int
    track: TrackView
    percent_done: int | None
    """None once the initiative has ended (a final phase has no checklist)."""
    marks: tuple[Mark, ...]


@dataclass(frozen=True, slots=True)
class Filters:
    workflow: str | None = None
    phase: str | None = None
    state: StateFilter | None = None

    def query(self, **extra: str | int) -> str:
        """The filters (and ``extra``) as a query string, empty ones left out."""
        values = {"workflow": self.workflow, "phase": self.phase, "state": self.state, **extra}
        return urlencode({k: v for k, v in values.items() if v})


@dataclass(frozen=True, slots=True)
class DashboardView:
    rows: tuple[RowView, ...]
    workflows: tuple[Option, ...]
    phases: tuple[Option, ...]
    states: tuple[Option, ...]
    page: int
    previous_href: str | None
    next_href: str | None
    startable: tuple[Option, ...]
    """Workflows the viewer may start an initiative under (empty: no form)."""
    request_key: str
    """A fresh key the start form sends along: the same form sent twice starts one initiative."""


def _row(standing: Standing, lang: str) -> RowView:
    state = standing.state
    return RowView(
        id=state.initiative_id,
        title=state.title,
        workflow_id=standing.definition.id,
        workflow_title=standing.definition.title.in_(lang),
        phase=standing.phase.title.in_(lang),
        visit=state.visit,
        track=track_view(standing, lang),
        percent_done=None if state.has_ended else standing.percent_done,
        marks=marks(standing, lang),
    )


def _filter_options(
    services: Services, filters: Filters, lang: str
) -> dict[str, tuple[Option, ...]]:
    definitions = services.catalog.current
    phases: dict[str, str] = {}
    for definition in definitions:
        for phase in definition.phases:
            phases.setdefault(phase.id, phase.title.in_(lang))
    return {
        "workflows": tuple(
            Option(d.id, d.title.in_(lang), d.id == filters.workflow) for d in definitions
        ),
        "phases": tuple(Option(k, v, k == filters.phase) for k, v in phases.items()),
        "states": tuple(
            Option(s, translate(lang, f"state.{s}"), s == filters.state) for s in STATE_FILTERS
        ),
    }


def dashboard_view(
    services: Services, viewer: Viewer, filters: Filters, page: int, lang: str
) -> DashboardView:
    found = services.standings(
        workflow_id=filters.workflow,
        phase=filters.phase,
        state=filters.state,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    startable = services.startable_workflows(viewer.actor)
    return DashboardView(
        rows=tuple(_row(s, lang) for s in found.items),
        page=page,
        previous_href=f"/?{filters.query(page=page - 1)}" if page > 1 else None,
        next_href=f"/?{filters.query(page=page + 1)}" if found.has_more else None,
        startable=tuple(Option(d.id, d.title.in_(lang)) for d in startable),
        request_key=secrets.token_urlsafe(16),
        **_filter_options(services, filters, lang),
    )


def _filters(workflow: str, phase: str, state: str) -> Filters:
    if state and state not in STATE_FILTERS:
        raise FormProblem("state", "invalid")
    chosen: StateFilter | None = next((s for s in STATE_FILTERS if s == state), None)
    return Filters(workflow or None, phase or None, chosen)


def _show(
    request: Request,
    services: Services,
    viewer: Viewer,
    lang: str,
    *,
    filters: Filters,
    page: int = 1,
    status: int = 200,
    problems: Sequence[str] = (),
) -> Response:
    # Where the page's stream of changes begins: taken before the rows are read, so that a
    # change between the two comes again rather than never (only a GET page stays live).
    live = f"/live?after={live_position(request)}" if request.method == "GET" else None
    return render(
        request,
        "dashboard.html",
        lang=lang,
        viewer=viewer,
        title=translate(lang, "dashboard.title"),
        status=status,
        here="/",
        view=dashboard_view(services, viewer, filters, page, lang),
        problems=problems,
        current="dashboard",
        live_stream=live,
    )


FilterText = Annotated[str, Query(max_length=100)]


@router.get("/")
def dashboard(
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    lang: LangDep,
    workflow: FilterText = "",
    phase: FilterText = "",
    state: FilterText = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Every initiative: phase, progress across the phases, checklist share, marks; filters."""
    return _show(
        request, services, viewer, lang, filters=_filters(workflow, phase, state), page=page
    )


@router.post("/initiatives")
def create(
    request: Request,
    services: ServicesDep,
    viewer: FormWriterDep,
    lang: LangDep,
    title: Annotated[str, Form()] = "",
    workflow: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    request_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Start an initiative; then its page (303), or the dashboard again with what went wrong.
    A form sent again (a double click, a reload) leads to the initiative it started."""
    try:
        result = services.create(
            required_text(workflow, "workflow"),
            required_text(title, "title"),
            viewer.actor,
            description=optional_text(description, "description"),
            idempotency_key=f"page:{request_key}" if request_key else None,
        )
    except FormProblem as exc:
        return _again(request, services, viewer, lang, 422, [describe(exc, lang)])
    except NotFound:
        problem = describe(FormProblem("workflow", "invalid"), lang)
        return _again(request, services, viewer, lang, 422, [problem])
    except BadInput as exc:
        return _again(request, services, viewer, lang, 422, [exc.message])
    except IdempotencyMismatch:  # the same form sent again, changed: a new start needs a new form
        return _again(request, services, viewer, lang, 422, [translate(lang, "create.sent_twice")])
    except CommandRefused as exc:
        problems = [b.message(lang) for b in exc.blockers]
        return _again(request, services, viewer, lang, 409, problems)
    response = RedirectResponse(f"/initiatives/{result.initiative_id}", status_code=303)
    set_flash(request, response, "flash.created")
    return response


def _again(
    request: Request,
    services: Services,
    viewer: Viewer,
    lang: str,
    status: int,
    problems: Sequence[str],
) -> Response:
    return _show(
        request, services, viewer, lang, filters=Filters(), status=status, problems=problems
    )
