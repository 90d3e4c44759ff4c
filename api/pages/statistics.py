"""``GET /statistics``: per workflow and phase, how long initiatives stay and how many are there
now — as a table and as bar charts drawn on the server; ``/statistics.csv`` and
``/statistics.json`` are the API's phase-duration report for a signed-in page session."""

from dataclasses import dataclass
from itertools import groupby
from typing import Literal

from fastapi import APIRouter, Request, Response
from markupsafe import Markup

from api.deps import ServicesDep
from api.pages.rendering import download_headers, render
from api.pages.routing import PageRoute
from api.pages.session import LangDep, ViewerDep
from api.pages.texts import translate
from api.pages.wording import Wording
from api.routes.audit import phase_durations
from kosiflow.definition import Definition
from kosiflow.errors import NotFound
from kosiflow.render import Series, bar_chart
from kosiflow.services import PhaseStatistics, Services

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class RowView:
    phase: str
    final: bool
    count: int
    median: str
    p90: str
    current: int
    overdue: int
    rework: int
    bottleneck: str


@dataclass(frozen=True, slots=True)
class WorkflowStatisticsView:
    id: str
    title: str
    rows: tuple[RowView, ...]
    durations_chart: Markup
    load_chart: Markup


def _number(value: float, lang: str) -> str:
    """One decimal, with a decimal comma in German."""
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "de" else text


def _days(value: float | None, lang: str) -> str:
    return translate(lang, "statistics.no_value") if value is None else _number(value, lang)


def _bottleneck(found: PhaseStatistics, w: Wording) -> str:
    neck = found.bottleneck
    if neck is None:
        return w.text("statistics.no_value")
    days = _number(neck.median_days, w.lang)
    if neck.kind == "item":
        return w.text("statistics.bottleneck_item", item=w.item(found.phase, neck.id), days=days)
    trigger, _, role = neck.id.partition(":")
    return w.text(
        "statistics.bottleneck_approval", step=w.trigger(trigger), role=w.role(role), days=days
    )


def _row(found: PhaseStatistics, w: Wording) -> RowView:
    return RowView(
        phase=w.phase(found.phase),
        final=w.is_final(found.phase),
        count=found.count,
        median=_days(found.median_days, w.lang),
        p90=_days(found.p90_days, w.lang),
        current=found.current,
        overdue=found.overdue,
        rework=found.rework,
        bottleneck=_bottleneck(found, w),
    )


def _day_texts(values: list[float | None], w: Wording) -> list[str]:
    return [
        w.text("statistics.no_data")
        if v is None
        else w.text("statistics.days", n=_number(v, w.lang))
        for v in values
    ]


def _charts(title: str, found: list[PhaseStatistics], w: Wording) -> tuple[Markup, Markup]:
    """The durations chart and the chart of initiatives now (final phases left out)."""
    working = [s for s in found if not w.is_final(s.phase)]
    phases = [w.phase(s.phase) for s in working]
    medians = [s.median_days for s in working]
    p90s = [s.p90_days for s in working]
    durations = bar_chart(
        title=w.text("statistics.chart_durations", workflow=title),
        description=w.text("statistics.chart_durations_desc"),
        categories=phases,
        series=[
            Series(w.text("statistics.series_median"), medians, _day_texts(medians, w), "solid"),
            Series(w.text("statistics.series_p90"), p90s, _day_texts(p90s, w), "outline"),
        ],
        empty=w.text("statistics.chart_empty"),
    )
    now = [s.current for s in working]
    overdue = [s.overdue for s in working]
    load = bar_chart(
        title=w.text("statistics.chart_load", workflow=title),
        description=w.text("statistics.chart_load_desc"),
        categories=phases,
        series=[
            Series(w.text("statistics.series_now"), now, [str(n) for n in now], "solid"),
            Series(
                w.text("statistics.series_overdue"), overdue, [str(n) for n in overdue], "outline"
            ),
        ],
        empty=w.text("statistics.chart_empty"),
    )
    # Inserted as they are: bar_chart escapes every text it draws.
    return Markup(durations), Markup(load)  # noqa: S704


def _newest(services: Services, workflow_id: str) -> Definition | None:
    """The newest version from the files (None for a workflow only stored in the database)."""
    try:
        return services.catalog.newest(workflow_id)
    except NotFound:
        return None


def statistics_view(services: Services, lang: str) -> tuple[WorkflowStatisticsView, ...]:
    """Every workflow with initiatives: its phases' numbers, as rows and as two charts."""
    views = []
    for workflow_id, group in groupby(services.phase_statistics(), lambda s: s.workflow_id):
        found = list(group)
        definition = _newest(services, workflow_id)
        w = Wording(definition, lang)
        title = definition.title.in_(lang) if definition else workflow_id
        durations, load = _charts(title, found, w)
        rows = tuple(_row(s, w) for s in found)
        views.append(WorkflowStatisticsView(workflow_id, title, rows, durations, load))
    return tuple(views)


@router.get("/statistics")
def statistics(
    request: Request, services: ServicesDep, viewer: ViewerDep, lang: LangDep
) -> Response:
    """Phase durations (median, 90th percentile), initiatives now and overdue, per workflow."""
    return render(
        request,
        "statistics.html",
        lang=lang,
        viewer=viewer,
        title=translate(lang, "statistics.title"),
        workflows=statistics_view(services, lang),
        current="statistics",
    )


@router.get("/statistics.{format}")
def download(format: Literal["json", "csv"], services: ServicesDep, viewer: ViewerDep) -> Response:
    """The phase-duration report of ``/api/v1/reports/phase-durations``, for a page session."""
    report = phase_durations(services, viewer.actor, format)
    body = report if isinstance(report, Response) else Response(report.model_dump_json())
    return Response(
        body.body,
        media_type=_MEDIA_TYPES[format],
        headers=download_headers(f"phase-statistics.{format}"),
    )
