"""``GET /initiatives/{id}/history``: the auditor's timeline, phase visits with durations, the
hash-chain check, what changed between two moments (``?from=…&to=…``), and the history as a
download (JSON Lines or CSV)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import ServicesDep
from api.pages.events import Detail, describe_event
from api.pages.formats import When, duration, person, when
from api.pages.rendering import download_headers, render
from api.pages.routing import PageRoute
from api.pages.session import LangDep, ViewerDep
from api.pages.texts import translate
from kosiflow.services import Services, Timeline
from kosiflow.services.exports import EXPORT_MEDIA_TYPES, export_lines

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class EntryView:
    seq: int
    at: When
    who: str
    sentence: str
    details: tuple[Detail, ...]
    hash: str


@dataclass(frozen=True, slots=True)
class VisitView:
    phase: str
    visit: int
    entered: When
    left: When | None
    duration: str | None
    """None for the final phase an initiative ended in."""
    on_hold: str | None
    """None when it was never on hold during the visit."""


@dataclass(frozen=True, slots=True)
class ChainView:
    ok: bool
    events_checked: int
    first_bad_seq: int | None
    problem: str | None
    head_hash: str
    checked_at: When


@dataclass(frozen=True, slots=True)
class HistoryView:
    id: str
    title: str
    entries: tuple[EntryView, ...]
    visits: tuple[VisitView, ...]
    chain: ChainView


def _visits(timeline: Timeline, lang: str) -> tuple[VisitView, ...]:
    definition, now = timeline.definition, timeline.checked_at
    views = []
    for visit in timeline.visits:
        known = definition.has_phase(visit.phase)  # not if a migration left the phase behind
        title = definition.phase(visit.phase).title.in_(lang) if known else visit.phase
        ended_here = known and definition.phase(visit.phase).final and visit.left is None
        views.append(
            VisitView(
                phase=title,
                visit=visit.visit,
                entered=when(visit.entered.at, lang),
                left=None if visit.left is None else when(visit.left.at, lang),
                duration=None if ended_here else duration(visit.duration(now), lang),
                on_hold=duration(visit.held, lang) if visit.held and not ended_here else None,
            )
        )
    return tuple(views)


def history_view(timeline: Timeline, lang: str) -> HistoryView:
    """Every event of ``timeline`` in words, its phase visits and its chain check, in ``lang``."""
    entries = []
    for event in timeline.events:
        record = event.record
        described = describe_event(event.recorded.event, timeline.definition, timeline.names, lang)
        entries.append(
            EntryView(
                seq=record.seq,
                at=when(record.at, lang),
                who=person(timeline.names, record.actor, lang),
                sentence=described.sentence,
                details=described.details,
                hash=record.hash,
            )
        )
    chain = timeline.chain
    return HistoryView(
        id=timeline.initiative_id,
        title=timeline.title,
        entries=tuple(entries),
        visits=_visits(timeline, lang),
        chain=ChainView(
            ok=chain.ok,
            events_checked=chain.events_checked,
            first_bad_seq=chain.first_bad_seq,
            problem=chain.problem,
            head_hash=timeline.head_hash,
            checked_at=when(timeline.checked_at, lang),
        ),
    )


@dataclass(frozen=True, slots=True)
class ChangeLine:
    sentence: str
    seqs: tuple[int, ...]
    """The events that prove it (links to them in the timeline)."""


@dataclass(frozen=True, slots=True)
class CompareView:
    """The "compare two moments" form as filled in, and what it found (or what was wrong)."""

    since: str
    until: str
    problem: str | None = None
    problem_field: str | None = None
    heading: str | None = None
    changes: tuple[ChangeLine, ...] = ()


class _BadMoment(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _page_moment(field: str, text: str, lang: str) -> datetime:
    """A moment typed into the form: ISO 8601; without an offset it is UTC (the form says so)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _BadMoment(field, translate(lang, "compare.bad_moment", value=text)) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def compare_view(
    services: Services, initiative_id: str, since: str | None, until: str | None, lang: str
) -> CompareView | None:
    """The changes between the moments of the form (None when it was not sent)."""
    if since is None and until is None:
        return None
    since, until = since or "", until or ""
    try:
        first = _page_moment("from", since, lang)
        second = _page_moment("to", until, lang) if until.strip() else None
        if second is not None and first > second:
            raise _BadMoment("from", translate(lang, "compare.order"))
    except _BadMoment as bad:
        return CompareView(since, until, problem=bad.message, problem_field=bad.field)
    found = services.diff(initiative_id, first, second)
    heading = translate(
        lang,
        "compare.result",
        since=when(found.since, lang).text,
        until=when(found.until, lang).text,
    )
    changes = tuple(
        ChangeLine(said, change.seqs)
        for change, said in zip(found.changes, found.sentences(lang), strict=True)
    )
    return CompareView(since, until, heading=heading, changes=changes)


@router.get("/initiatives/{initiative_id}/history")
def history(
    initiative_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    lang: LangDep,
    since: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=64)] = None,
) -> Response:
    """Every event in words, phase visits with durations, whether the hash chain holds, and
    what changed between two moments (the form "compare two moments", sent by GET)."""
    view = history_view(services.timeline(initiative_id), lang)
    compare = compare_view(services, initiative_id, since, until, lang)
    return render(
        request,
        "history.html",
        lang=lang,
        viewer=viewer,
        title=translate(lang, "history.title", title=view.title),
        status=422 if compare is not None and compare.problem else 200,
        view=view,
        compare=compare,
        current="history",
    )


@router.get("/initiatives/{initiative_id}/history.{format}")
def download(
    initiative_id: str,
    format: Literal["jsonl", "csv"],
    services: ServicesDep,
    _: ViewerDep,
) -> Response:
    """The initiative's events with their hashes, to keep or to verify elsewhere."""
    records = list(services.history(initiative_id))
    return StreamingResponse(
        export_lines(records, format),
        media_type=EXPORT_MEDIA_TYPES[format],
        headers=download_headers(f"{initiative_id}-history.{format}"),
    )
