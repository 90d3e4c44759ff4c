"""Reports of a run: the standard cucumber JSON and a readable HTML page of the last run.

``pytest --kosiflow-report DIR`` writes ``DIR/cucumber.json`` (the Cucumber JSON format that CI
tools and dashboards read) and ``DIR/report.html`` (for a meeting: features, scenarios, steps,
pass or fail, and the failing step's reason in words).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kosiflow.bdd.html_report import report_html
from kosiflow.bdd.records import ScenarioRecord, StepRecord

_SLUG = re.compile(r"[^\w]+")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")


def _tags(tags: Sequence[str], line: int) -> list[dict[str, Any]]:
    return [{"name": f"@{tag}", "line": line} for tag in tags]


def _step(step: StepRecord) -> dict[str, Any]:
    result: dict[str, Any] = {"status": step.status, "duration": max(step.duration_ns, 0)}
    if step.message:
        result["error_message"] = step.message
    found: dict[str, Any] = {
        "keyword": f"{step.keyword.strip()} ",
        "name": step.text,
        "line": step.line,
        "match": {"location": "kosiflow.bdd"},
        "result": result,
    }
    if step.table:
        found["rows"] = [{"cells": list(row)} for row in step.table]
    return found


def cucumber_json(records: Sequence[ScenarioRecord]) -> list[dict[str, Any]]:
    """The run in Cucumber's JSON format: features, their scenarios, their steps' results."""
    features: dict[str, dict[str, Any]] = {}
    for record in records:
        info = record.feature
        feature = features.setdefault(
            info.uri,
            {
                "uri": info.uri,
                "id": _slug(info.name or info.uri),
                "keyword": info.keyword,
                "name": info.name,
                "description": info.description,
                "line": info.line,
                "language": info.language,
                "tags": _tags(info.tags, max(info.line - 1, 1)),
                "elements": [],
            },
        )
        name = record.name
        if record.example:
            name += " (" + ", ".join(f"{k}={v}" for k, v in record.example) + ")"
        feature["elements"].append(
            {
                "id": f"{feature['id']};{_slug(name)}",
                "keyword": record.keyword,
                "type": "scenario",
                "name": name,
                "description": "",
                "line": record.line,
                "tags": _tags(record.tags, max(record.line - 1, 1)),
                "steps": [_step(s) for s in record.steps],
            }
        )
    return list(features.values())


class RunReport:
    """Collects the scenarios of a run and writes both reports at its end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.records: list[ScenarioRecord] = []

    @property
    def json_path(self) -> Path:
        return self.folder / "cucumber.json"

    @property
    def html_path(self) -> Path:
        return self.folder / "report.html"

    def add(self, record: ScenarioRecord) -> None:
        self.records.append(record)

    @property
    def lang(self) -> str:
        """The language most of the run's scenarios are written in (English on a tie)."""
        counts = Counter(r.lang for r in self.records)
        return "de" if counts["de"] > counts["en"] else "en"

    def write(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        document = json.dumps(cucumber_json(self.records), ensure_ascii=False, indent=2)
        self.json_path.write_text(document + "\n", encoding="utf-8")
        page = report_html(self.records, self.lang, datetime.now(UTC))
        self.html_path.write_text(page, encoding="utf-8")
