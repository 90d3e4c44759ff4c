"""Phase statistics on a hand-built data set with known medians, percentiles and bottlenecks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kosiflow.definition import Definition, load_definition, load_definition_text
from kosiflow.engine import Recorded
from kosiflow.engine.events import (
    GateApproved,
    InitiativeCreated,
    InitiativeHeld,
    InitiativeResumed,
    ItemTicked,
    PhaseChanged,
)
from kosiflow.services.statistics import Bottleneck, PhaseStatisticsBuilder, percentile
from tests.unit.engine_workflow import WORKFLOW, guard_workflow

KOSI_LAB = load_definition(Path(__file__).resolve().parents[2] / "workflows" / "kosi-lab.yaml")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=400)


class History:
    """Events of one initiative, at days after T0."""

    def __init__(self, definition: Definition = KOSI_LAB, phase: str = "initiation") -> None:
        self.records: list[Recorded] = []
        self.phase = phase
        self.visits = {phase: 1}
        d = definition
        self._add(0, InitiativeCreated(d.id, d.version, d.content_hash, "T", phase))

    def _add(self, day: float, event: object) -> History:
        at = T0 + timedelta(days=day)
        self.records.append(Recorded(len(self.records) + 1, "p-1", at, event))  # type: ignore[arg-type]
        return self

    def tick(self, day: float, item: str) -> History:
        return self._add(day, ItemTicked(self.phase, self.visits[self.phase], item))

    def approve(self, day: float, trigger: str, role: str) -> History:
        return self._add(day, GateApproved(self.phase, self.visits[self.phase], trigger, role))

    def move(self, day: float, trigger: str, target: str) -> History:
        self.visits[target] = self.visits.get(target, 0) + 1
        source, self.phase = self.phase, target
        return self._add(day, PhaseChanged(trigger, source, target, self.visits[target]))

    def hold(self, day: float) -> History:
        return self._add(day, InitiativeHeld("Haushaltssperre"))

    def resume(self, day: float) -> History:
        return self._add(day, InitiativeResumed())


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert (percentile(values, 0.9), percentile(values, 0.5), percentile([7.0], 0.9)) == (
        9.0,
        5.0,
        7.0,
    )


def test_statistics_of_a_hand_built_data_set() -> None:
    builder = PhaseStatisticsBuilder(NOW)
    # Initiation lasts 10, 20, 30 and 40 days; the sign-off by administration comes last.
    for length in (10, 20, 30, 40):
        history = (
            History()
            .tick(1, "challenge_defined")
            .approve(length - 1, "start_co_creation", "administration")
        )
        history.move(length, "start_co_creation", "co_creation")
        builder.add(KOSI_LAB, history.records)
    # One initiative goes on to prototyping and back (rework) and stays in co-creation since.
    reworked = History().move(10, "start_co_creation", "co_creation")
    reworked.move(20, "start_prototyping", "prototyping").move(26, "rework", "co_creation")
    builder.add(KOSI_LAB, reworked.records)
    # One sits in initiation for 400 days, 390 of them on hold: not overdue (max_days 90).
    builder.add(KOSI_LAB, History().hold(5).resume(395).records)
    # One sits there for 400 days without a hold: overdue.
    builder.add(KOSI_LAB, History().records)

    stats = {s.phase: s for s in builder.result()}
    assert [s.phase for s in builder.result()] == ["initiation", "co_creation", "prototyping"]
    initiation = stats["initiation"]
    assert (initiation.count, initiation.current, initiation.overdue) == (5, 2, 1)
    assert (initiation.median_days, initiation.p90_days) == (20.0, 40.0)
    assert initiation.bottleneck == Bottleneck(
        "approval", "start_co_creation:administration", 24.0, 4
    )
    co_creation = stats["co_creation"]
    assert (co_creation.count, co_creation.current, co_creation.rework) == (1, 5, 1)
    assert co_creation.median_days == 10.0
    prototyping = stats["prototyping"]
    assert (prototyping.count, prototyping.median_days, prototyping.bottleneck) == (1, 6.0, None)


def test_phases_of_every_workflow_version_are_counted_in_the_newest_order() -> None:
    """A phase that only a later version has is reported too (not only the first version's)."""
    first = guard_workflow()
    second = load_definition_text(
        WORKFLOW.replace("version: 1", "version: 2")
        .replace(
            "  - id: wrap_up\n",
            "  - id: review\n    title: {de: Prüfung, en: Review}\n  - id: wrap_up\n",
        )
        .replace(
            "  - trigger: finish\n",
            "  - trigger: review\n    from: work\n    to: review\n    requires: {checklist: none}\n"
            "  - trigger: reviewed\n    from: review\n    to: wrap_up\n"
            "  - trigger: finish\n",
        ),
        "guard-test-2.yaml",
    )
    builder = PhaseStatisticsBuilder(NOW)
    builder.add(first, History(first, "start").records)
    new = History(second, "start")
    new.move(3, "begin", "work").move(5, "review", "review")
    builder.add(second, new.records)

    assert [s.phase for s in builder.result()] == ["start", "work", "review"]
    assert {s.phase: s.current for s in builder.result()} == {"start": 1, "work": 0, "review": 1}
