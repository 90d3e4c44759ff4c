"""``GET /initiatives/{id}/report``: the auditor's printable report of one initiative, and
``…/report.pdf``, the same report printed to PDF by headless Chromium (a 503 page when the
server has none). Auditors and coordinators may see them."""

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.deps import ServicesDep
from api.pages.errors import ReportsForbidden
from api.pages.rendering import download_headers, render
from api.pages.report_document import report_document
from api.pages.report_view import report_view
from api.pages.routing import PageRoute
from api.pages.session import LangDep, Viewer, ViewerDep
from api.pages.texts import translate
from kosiflow.render import PdfUnavailable, chromium_path, print_pdf

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_log = logging.getLogger(__name__)


def get_report_reader(viewer: ViewerDep) -> Viewer:
    """The viewer, if one of their roles may see audit reports (else a 403 page)."""
    if not viewer.can_see_reports:
        raise ReportsForbidden()
    return viewer


ReportReaderDep = Annotated[Viewer, Depends(get_report_reader)]


@router.get("/initiatives/{initiative_id}/report")
def report(
    initiative_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ReportReaderDep,
    lang: LangDep,
) -> Response:
    """Header, decisions, sign-offs, evidence, phase visits, every event, the chain check."""
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
    initiative_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ReportReaderDep,
    lang: LangDep,
) -> Response:
    """The report as a PDF document (to keep, to send, to file)."""
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
        headers=download_headers(f"{initiative_id}-report.pdf"),
    )
