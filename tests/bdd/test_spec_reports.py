"""The reports of a run, built from its records: cucumber JSON and the HTML page."""

from __future__ import annotations

from datetime import UTC, datetime

from kosiflow.bdd.html_report import report_html
from kosiflow.bdd.records import FeatureInfo, ScenarioRecord, StepRecord
from kosiflow.bdd.reports import cucumber_json

FEATURE = FeatureInfo(
    uri="specs/<gates>.feature",
    keyword="Feature",
    name="Gates <b>bold</b>",
    line=2,
    description="What opens a gate",
    tags=("api",),
    language="en",
)


def _record(name: str, message: str | None = None) -> ScenarioRecord:
    steps = [
        StepRecord("Given ", 'the workflow "kosi-lab.yaml"', 3, status="passed", duration_ns=5),
        StepRecord("When ", '"Jana" fires "x"', 4, status="failed" if message else "passed"),
        StepRecord("Then ", "it is refused", 5, table=(("code",), ("item_open",))),
    ]
    steps[1].message = message
    return ScenarioRecord(
        FEATURE,
        "Scenario Outline",
        name,
        7,
        ("slow",),
        steps,
        example=(("phase", "initiation"),),
        status="failed" if message else "passed",
    )


def test_the_cucumber_json_names_outline_rows_tags_tables_and_failures() -> None:
    [feature] = cucumber_json([_record("A", "Gate 'x' is shut"), _record("B")])
    assert feature["uri"] == "specs/<gates>.feature"
    assert feature["tags"] == [{"name": "@api", "line": 1}]
    first, second = feature["elements"]
    assert first["name"] == "A (phase=initiation)"
    assert first["tags"] == [{"name": "@slow", "line": 6}]
    assert first["steps"][1]["result"] == {
        "status": "failed",
        "duration": 0,
        "error_message": "Gate 'x' is shut",
    }
    assert first["steps"][2]["rows"] == [{"cells": ["code"]}, {"cells": ["item_open"]}]
    assert second["steps"][1]["result"] == {"status": "passed", "duration": 0}


def test_the_html_page_escapes_every_text_it_shows() -> None:
    page = report_html(
        [_record("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")],
        "en",
        datetime(2026, 5, 1, 12, tzinfo=UTC),
    )
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Gates &lt;b&gt;bold&lt;/b&gt;" in page
    assert "Run of 2026-05-01 12:00 UTC" in page
    assert "0 passed" in page
    assert "1 failed" in page
