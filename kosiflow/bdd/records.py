"""What a run of scenarios did, step by step: the material of failures and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from kosiflow.bdd.texts import language_of, say

StepStatus = Literal["passed", "failed", "skipped", "undefined"]
_MARKS = {"passed": "✓", "failed": "✗", "undefined": "?", "skipped": "○"}


@dataclass(frozen=True, slots=True)
class FeatureInfo:
    """The feature file a scenario comes from."""

    uri: str
    """Its path relative to the folder pytest runs in."""
    keyword: str
    name: str
    line: int
    description: str
    tags: tuple[str, ...]
    language: str


@dataclass(slots=True)
class StepRecord:
    keyword: str
    text: str
    line: int
    table: tuple[tuple[str, ...], ...] = ()
    status: StepStatus = "skipped"
    duration_ns: int = 0
    message: str | None = None
    """Why it failed, in words."""

    @property
    def line_text(self) -> str:
        return f"{self.keyword.strip()} {self.text}"


@dataclass(slots=True)
class ScenarioRecord:
    feature: FeatureInfo
    keyword: str
    name: str
    line: int
    tags: tuple[str, ...]
    steps: list[StepRecord]
    example: tuple[tuple[str, str], ...] = ()
    """The row of a Scenario Outline's examples this run used (parameter, value)."""
    status: Literal["passed", "failed"] = "passed"
    via: str = "engine"
    extra: list[str] = field(default_factory=list)
    """More about a failure that is not the process's fault (an unexpected error's traceback)."""

    @property
    def lang(self) -> str:
        return language_of(self.feature.language)

    @property
    def failing(self) -> StepRecord | None:
        return next((s for s in self.steps if s.status in ("failed", "undefined")), None)

    def failure_text(self) -> str:
        """The failure as a reader should meet it: the reason first, then where and the steps."""
        failing = self.failing
        reason = failing.message if failing is not None and failing.message else ""
        where = f"{self.feature.uri}:{self.line}"
        lines = [reason, "", say(self.lang, "scenario_failed", scenario=self.name, where=where)]
        lines += [f"  {_MARKS[s.status]} {s.line_text}" for s in self.steps]
        if self.extra:
            lines += ["", *self.extra]
        return "\n".join(lines).strip()
