"""Where an initiative stands, as the pages draw it: the progress bar across the phases (one
segment per phase, each with a symbol and a word for its status, never colour alone, and a
sentence summing it up) and the marks for on hold, ended and overdue."""

from collections.abc import Sequence
from dataclasses import dataclass

from api.pages.formats import duration
from api.pages.texts import translate
from kosiflow.services import Standing, TrackStep

_SYMBOLS = {"passed": "✓", "current": "●", "ahead": "○", "skipped": "—"}


@dataclass(frozen=True, slots=True)
class StepView:
    title: str
    status: str
    """passed, current, ahead or skipped (also the segment's CSS class)."""
    status_text: str
    symbol: str


@dataclass(frozen=True, slots=True)
class TrackView:
    steps: tuple[StepView, ...]
    summary: str
    """E.g. "Phase 2 of 4: Co-creation" or "Ended in Completed"."""


def _step(step: TrackStep, lang: str) -> StepView:
    return StepView(
        title=step.phase.title.in_(lang),
        status=step.status,
        status_text=translate(lang, f"track.{step.status}"),
        symbol=_SYMBOLS[step.status],
    )


def _summary(standing: Standing, steps: Sequence[TrackStep], lang: str) -> str:
    phase = standing.phase.title.in_(lang)
    if standing.phase.final:
        return translate(lang, "track.summary_ended", phase=phase)
    position = next(i for i, s in enumerate(steps) if s.status == "current") + 1
    return translate(lang, "track.summary", n=position, of=len(steps), phase=phase)


def track_view(standing: Standing, lang: str) -> TrackView:
    steps = standing.track
    return TrackView(tuple(_step(s, lang) for s in steps), _summary(standing, steps, lang))


@dataclass(frozen=True, slots=True)
class Mark:
    kind: str
    """on_hold, ended or overdue (also the mark's CSS class)."""
    text: str


def marks(standing: Standing, lang: str) -> tuple[Mark, ...]:
    """The marks an initiative carries: on hold, ended, overdue (by how long)."""
    found = []
    if standing.state.hold is not None and not standing.state.has_ended:
        found.append(Mark("on_hold", translate(lang, "mark.on_hold")))
    if standing.state.has_ended:
        found.append(Mark("ended", translate(lang, "mark.ended")))
    if standing.overdue_by is not None:
        late = duration(standing.overdue_by, lang, precise=False)
        found.append(Mark("overdue", translate(lang, "mark.overdue", by=late)))
    return tuple(found)
