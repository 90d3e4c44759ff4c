"""Phase statistics across initiatives, folded from their histories.

Per workflow and phase: completed visits with median and 90th-percentile days, initiatives in
the phase now and how many of them are overdue (time on hold not counted), rework (visits after
the first), and the gate requirement that took longest to meet: the checklist item or sign-off
whose median time from entering the phase to being done is the largest.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kosiflow.definition import Definition
from kosiflow.engine import Recorded
from kosiflow.engine.events import GateApproved, ItemTicked, ItemWaived
from kosiflow.engine.visits import phase_visits

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Bottleneck:
    """The requirement of a phase that took longest to meet (median over visits)."""

    kind: str
    """``item`` (a checklist item ticked or waived) or ``approval`` (a role's sign-off)."""
    id: str
    """The item id, or ``trigger:role`` for a sign-off."""
    median_days: float
    visits: int


@dataclass(frozen=True, slots=True)
class PhaseStatistics:
    workflow_id: str
    phase: str
    count: int
    """Completed visits (the initiative has left the phase)."""
    current: int
    """Initiatives in this phase now."""
    overdue: int
    """Of those, how many are past the phase's ``max_days`` (time on hold not counted)."""
    rework: int
    """Visits after the first (an initiative came back to the phase)."""
    median_days: float | None
    p90_days: float | None
    bottleneck: Bottleneck | None


def percentile(sorted_values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values (share in (0, 1])."""
    return sorted_values[max(1, math.ceil(len(sorted_values) * share)) - 1]


def days(duration: timedelta) -> float:
    return duration.total_seconds() / SECONDS_PER_DAY


@dataclass
class _Tally:
    durations: list[float] = field(default_factory=list)
    current: int = 0
    overdue: int = 0
    rework: int = 0
    waits: defaultdict[tuple[str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )


class PhaseStatisticsBuilder:
    """Feed it one history at a time (constant memory per history); then :meth:`result`."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._tallies: defaultdict[tuple[str, str], _Tally] = defaultdict(_Tally)
        self._phases: defaultdict[str, dict[int, tuple[str, ...]]] = defaultdict(dict)
        """Workflow id → version → its phase ids in order, for each version seen."""

    def add(self, definition: Definition, history: Iterable[Recorded]) -> None:
        records = list(history)
        self._phases[definition.id][definition.version] = tuple(p.id for p in definition.phases)
        entered: dict[tuple[str, int], datetime] = {}
        for visit in phase_visits(records, self._now):
            tally = self._tallies[(definition.id, visit.phase)]
            entered[(visit.phase, visit.visit)] = visit.entered.at
            if visit.visit > 1:
                tally.rework += 1
            if visit.left is not None:
                tally.durations.append(days(visit.duration(self._now)))
                continue
            tally.current += 1
            max_days = definition.phase(visit.phase).max_days
            final = definition.phase(visit.phase).final
            if not final and max_days is not None and visit.active(self._now) > timedelta(max_days):
                tally.overdue += 1
        for record in records:
            self._wait(definition.id, record, entered)

    def _wait(
        self, workflow_id: str, record: Recorded, entered: dict[tuple[str, int], datetime]
    ) -> None:
        event = record.event
        if isinstance(event, ItemTicked | ItemWaived):
            key = ("item", event.item)
        elif isinstance(event, GateApproved):
            key = ("approval", f"{event.trigger}:{event.role}")
        else:
            return
        start = entered.get((event.phase, event.visit))
        if start is not None:
            tally = self._tallies[(workflow_id, event.phase)]
            tally.waits[key].append(days(record.at - start))

    def result(self) -> list[PhaseStatistics]:
        """Workflows by id, their phases in the order the newest version defines them (then
        those only older versions have)."""
        found = []
        for workflow_id in sorted(self._phases):
            for phase in self._order(workflow_id):
                tally = self._tallies.get((workflow_id, phase))
                if tally is not None:
                    found.append(self._statistics(workflow_id, phase, tally))
        return found

    def _order(self, workflow_id: str) -> list[str]:
        versions = self._phases[workflow_id]
        newest_first = (versions[v] for v in sorted(versions, reverse=True))
        return list(dict.fromkeys(phase for phases in newest_first for phase in phases))

    @staticmethod
    def _statistics(workflow_id: str, phase: str, tally: _Tally) -> PhaseStatistics:
        durations = sorted(tally.durations)
        slowest = max(
            (
                Bottleneck(kind, key, statistics.median(waits), len(waits))
                for (kind, key), waits in tally.waits.items()
            ),
            key=lambda b: (b.median_days, b.kind, b.id),
            default=None,
        )
        return PhaseStatistics(
            workflow_id=workflow_id,
            phase=phase,
            count=len(durations),
            current=tally.current,
            overdue=tally.overdue,
            rework=tally.rework,
            median_days=statistics.median(durations) if durations else None,
            p90_days=percentile(durations, 0.9) if durations else None,
            bottleneck=slowest,
        )
