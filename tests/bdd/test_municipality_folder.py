"""A municipality's folder with only workflow YAML and German ``.feature`` files runs with plain
``pytest`` against the installed kosiflow: through the engine and through the HTTP API, with
failures in the lab's words and the cucumber JSON and HTML reports of the run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.bdd.municipality import make_folder, run_pytest


@pytest.fixture(scope="module")
def engine_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The folder with a right and a deliberately wrong feature, run through the engine."""
    folder = make_folder(tmp_path_factory.mktemp("gemeinde"), wrong=True)
    return folder, run_pytest(folder, "-q", "--kosiflow-report", "bericht")


@pytest.fixture(scope="module")
def api_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The folder with the right feature only, run through the HTTP API."""
    folder = make_folder(tmp_path_factory.mktemp("gemeinde_api"), wrong=False)
    return folder, run_pytest(folder, "-q", "--kosiflow-via=api", "--kosiflow-report", "bericht")


def _failure(output: str, test: str) -> list[str]:
    """The lines pytest prints for the failure of ``test`` (below its ``___ test ___`` header)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if f" {test} " in line and "___" in line)
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith(("___", "==="))),
        len(lines),
    )
    return lines[start + 1 : end]


def test_the_german_features_of_a_municipality_pass_through_the_engine(
    engine_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, result = engine_run
    assert "3 failed, 5 passed" in result.stdout, result.stdout + result.stderr
    assert "buergerhaushalt.feature" not in result.stdout.split("short test summary")[-1]


def test_the_same_features_pass_through_the_http_api(
    api_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, result = api_run
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
    page = (folder / "bericht" / "report.html").read_text(encoding="utf-8")
    assert page.count("über die HTTP-API") == 5


def test_a_scenario_that_contradicts_the_workflow_fails_with_the_blocker_in_the_labs_words(
    engine_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, result = engine_run
    assert result.returncode == 1
    failure = _failure(result.stdout, "test_die_prüfung_beginnt_ohne_freigabe")
    assert failure[0] == (
        "Gate 'pruefung_starten' ist geschlossen: Freigabe durch Kämmerei fehlt. (approval_missing)"
    )
    assert '  ✗ Und "Petra Schulz" "pruefung_starten" auslöst' in failure
    assert '  ○ Dann ist die Initiative in der Phase "pruefen"' in failure
    assert "Traceback" not in result.stdout


def test_a_person_acting_outside_their_roles_fails_naming_who_may(
    engine_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, result = engine_run
    failure = _failure(result.stdout, "test_die_kämmerei_hakt_ab_was_sie_nicht_darf")
    assert failure[0] == (
        "\"Klaus Weber\" darf 'vorschlag_beschrieben' nicht abhaken: Nur Geschäftsstelle oder "
        "Bürgerschaft darf 'Vorschlag beschrieben' abhaken. (role_missing)"
    )


def test_an_unknown_step_names_the_closest_known_steps(
    engine_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, result = engine_run
    failure = _failure(result.stdout, "test_ein_tippfehler_im_schritt")
    assert failure[:4] == [
        "Diesen Schritt kennt die Schrittbibliothek von kosiflow nicht:",
        '  Wenn "Petra Schulz" "vorschlag_beschrieben" abhackt',
        "Die ähnlichsten bekannten Schritte:",
        '  • "<Person>" "<Punkt>" [mit dem Nachweis "<Nachweis>"] abhakt',
    ]


def _scenario(report: list[dict[str, Any]], name: str) -> dict[str, Any]:
    scenarios = [s for feature in report for s in feature["elements"]]
    return next(s for s in scenarios if s["name"] == name)


def test_the_cucumber_json_holds_every_step_with_its_result_and_the_reason_in_words(
    engine_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, _ = engine_run
    report = json.loads((folder / "bericht" / "cucumber.json").read_text(encoding="utf-8"))
    assert {f["uri"] for f in report} == {"specs/buergerhaushalt.feature", "specs/falsch.feature"}
    assert all(f["language"] == "de" for f in report)
    refused = _scenario(report, "Die Prüfung beginnt ohne Freigabe")
    assert [s["result"]["status"] for s in refused["steps"]] == [
        "passed",
        "passed",
        "passed",
        "passed",
        "passed",
        "failed",
        "skipped",
    ]
    failed = refused["steps"][5]
    assert failed["keyword"] == "Und "
    assert failed["result"]["error_message"].startswith("Gate 'pruefung_starten' ist geschlossen")
    typo = _scenario(report, "Ein Tippfehler im Schritt")
    assert typo["steps"][-1]["result"]["status"] == "undefined"
    outline = _scenario(report, "Ablehnen geht aus jeder Phase, mit Begründung (Phase=pruefen)")
    assert outline["steps"][-1]["rows"][1]["cells"] == [
        "PhaseChanged",
        "Eva Lang",
        "ablehnen",
        "Nicht finanzierbar",
    ]


def test_the_html_page_shows_each_scenario_and_the_failing_reason_in_words(
    engine_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, _ = engine_run
    page = (folder / "bericht" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="de">' in page
    assert "5 bestanden" in page
    assert "3 fehlgeschlagen" in page
    assert "Die Umsetzung schließt sich selbst ab" in page
    assert "Freigabe durch Kämmerei fehlt." in page
    assert "<script" not in page
