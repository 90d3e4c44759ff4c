"""``GET /workflows/{id}``: a workflow as a readable process description with its diagram, in
the newest version or ``?version=``; ``?initiative=`` marks where that initiative stands."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import ServicesDep
from api.pages.rendering import render, style_hashes
from api.pages.routing import PageRoute
from api.pages.session import LangDep, ViewerDep
from api.pages.texts import translate
from api.pages.workflow_view import workflow_view
from kosiflow.definition import Definition
from kosiflow.engine import InitiativeState
from kosiflow.errors import BadInput, NotFound
from kosiflow.services import Services

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _chosen(
    services: Services, workflow_id: str, version: int | None, initiative: str | None
) -> tuple[Definition, InitiativeState | None]:
    """The version to describe, and the initiative to mark on it; an initiative under another
    workflow or version has no such page (404)."""
    try:
        return services.workflow_shown(workflow_id, version=version, initiative=initiative)
    except BadInput as exc:
        raise NotFound("workflow", f"{workflow_id} for initiative {initiative}") from exc


@router.get("/workflows/{workflow_id}")
def workflow(
    workflow_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    lang: LangDep,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    initiative: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Title, description, roles; each phase with its checklist and ways out; the diagram."""
    definition, state = _chosen(services, workflow_id, version, initiative)
    view = workflow_view(definition, state, lang)
    return render(
        request,
        "workflow.html",
        lang=lang,
        viewer=viewer,
        title=translate(lang, "workflow.title", title=view.title),
        style_hashes=style_hashes(view.diagram),
        view=view,
        current="workflow",
    )
