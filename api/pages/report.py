"""``GET /initiatives/{id}/report``: the auditor's printable report of one initiative, and
``…/report.pdf``, the same report printed to PDF by headless Chromium (a 503 page when the
server has none). Auditors and coordinators may see them."""

import logging

from fastapi import APIRouter, Request, Response

from api.deps import ServicesDep
from api.pages.rendering import SECURITY_HEADERS, render
from api.pages.report_document import report_document
from api.pages.report_view import report_view
from api.pages.routing import PageRoute
from api.pages.session import LangDep, Viewer, ViewerDep
from api.pages.texts import translate
from kosiflow.render import PdfUnavailable, chromium_path, print_pdf

router = APIRouter(route_class=PageRoute, include_in_schema=False)

REPORT_ROLES = frozenset({"auditor", "coordinator"})
"""Roles that may see audit reports."""

_log = logging.getLogger(__name__)


def _refused(request: Request, viewer: Viewer, lang: str) -> Response | None:
    """A 403 page for a viewer none of whose roles may see reports; else None."""
    if REPORT_ROLES & set(viewer.roles):
        return None
    return render(
        request,
        "error.html",
        lang=lang,
        viewer=viewer,
        title=translate(lang, "status.403"),
        status=403,
        problems=[translate(lang, "report.forbidden")],
    )


@router.get("/initiatives/{initiative_id}/report")
def report(
    initiative_id: str, request: Request, services: ServicesDep, viewer: ViewerDep, lang: LangDep
) -> Response:
    """Header, decisions, sign-offs, evidence, phase visits, every event, the chain check."""
    refused = _refused(request, viewer, lang)
    if refused is not None:
        return refused
    view = report_view(services.timeline(initiative_id), lang)
    return render(
        request,
        "report.html",
        lang=lang,
        viewer=viewer,
        title=translate(lang, "report.title", title=view.title),
        view=view,
        current="report",
    )


@router.get("/initiatives/{initiative_id}/report.pdf")
def report_pdf(
    initiative_id: str, request: Request, services: ServicesDep, viewer: ViewerDep, lang: LangDep
) -> Response:
    """The report as a PDF document (to keep, to send, to file)."""
    refused = _refused(request, viewer, lang)
    if refused is not None:
        return refused
    view = report_view(services.timeline(initiative_id), lang)
    try:
        pdf = print_pdf(report_document(view, lang), chromium=chromium_path())
    except PdfUnavailable as exc:
        _log.error("no PDF of the report of %s: %s", initiative_id, exc)
        return render(
            request,
            "report_unavailable.html",
            lang=lang,
            viewer=viewer,
            title=translate(lang, "status.503"),
            status=503,
            problems=[translate(lang, f"report.pdf_{exc.reason}")],
            view=view,
        )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{initiative_id}-report.pdf"',
        },
    )
