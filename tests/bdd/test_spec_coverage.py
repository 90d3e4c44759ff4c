"""``kosiflow spec-coverage``: which steps, gate requirements and checklist items of a workflow
no scenario touches."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kosiflow.bdd.coverage import Requirement, spec_coverage
from kosiflow.cli import app
from kosiflow.definition import load_definition
from tests.bdd.municipality import FEATURE, WORKFLOW

ROOT = Path(__file__).resolve().parents[2]

PARTIAL = """\
# language: de
Funktionalität: Nur der Anfang
  Szenario: Die Prüfung braucht die Kämmerei
    Angenommen der Ablauf "buergerhaushalt.yaml"
    Und "Petra Schulz" mit der Rolle "coordinator"
    Und "Petra Schulz" hat die Initiative "Spielplatz" angelegt
    Wenn "Petra Schulz" "Vorschlag beschrieben" mit dem Nachweis "Formular" abhakt
    Und "Petra Schulz" "pruefung_starten" auslöst
    Dann wird es abgelehnt wegen "approval_missing" für "Kämmerei"

  Szenario: Ein anderer Ablauf zählt nicht
    Angenommen der Ablauf "anderer.yaml"
    Und "Petra Schulz" mit der Rolle "coordinator"
    Wenn "Petra Schulz" "beschliessen" auslöst
"""


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "buergerhaushalt.yaml").write_text(WORKFLOW, encoding="utf-8")
    other = WORKFLOW.replace("id: buergerhaushalt", "id: anderer")
    (tmp_path / "anderer.yaml").write_text(other, encoding="utf-8")
    (tmp_path / "anfang.feature").write_text(PARTIAL, encoding="utf-8")
    return tmp_path


def test_coverage_lists_what_no_scenario_of_the_workflow_touches(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    definition = load_definition(folder / "buergerhaushalt.yaml")
    coverage = spec_coverage(definition, [folder / "anfang.feature"])
    assert coverage.scenarios == 1
    assert coverage.untouched_transitions == ["beschliessen", "abschliessen", "ablehnen"]
    assert coverage.untouched_requirements == [
        Requirement("pruefung_starten", "checklist"),
        Requirement("beschliessen", "checklist"),
        Requirement("beschliessen", "approval", "kaemmerei"),
        Requirement("beschliessen", "sectors", "2"),
        Requirement("abschliessen", "checklist"),
        Requirement("ablehnen", "reason"),
    ]
    assert coverage.untouched_items == [
        ("einreichen", "ort_benannt"),
        ("pruefen", "kosten_geschaetzt"),
        ("umsetzen", "auftrag_vergeben"),
    ]
    assert not coverage.is_complete


def test_the_command_prints_the_untouched_parts_and_fails_only_when_strict(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    args = ["spec-coverage", str(folder / "buergerhaushalt.yaml"), str(folder)]
    result = CliRunner().invoke(app, [*args, "--lang", "de"])
    assert result.exit_code == 0, result.output
    assert "buergerhaushalt v1: 1 Szenarien in 1 Feature-Dateien" in result.output
    assert "Gate-Bedingung: beschliessen: Freigabe durch Kämmerei" in result.output
    assert "Gate-Bedingung: beschliessen: Beteiligte aus 2 Sektoren" in result.output
    assert "Checklistenpunkt: pruefen.kosten_geschaetzt" in result.output
    assert CliRunner().invoke(app, [*args, "--strict"]).exit_code == 1


def test_the_municipality_features_touch_every_step_and_the_requirements_they_show(
    tmp_path: Path,
) -> None:
    (tmp_path / "buergerhaushalt.yaml").write_text(WORKFLOW, encoding="utf-8")
    (tmp_path / "ablaeufe").mkdir()
    (tmp_path / "ablaeufe" / "buergerhaushalt.yaml").write_text(WORKFLOW, encoding="utf-8")
    (tmp_path / "b.feature").write_text(FEATURE, encoding="utf-8")
    definition = load_definition(tmp_path / "buergerhaushalt.yaml")
    coverage = spec_coverage(definition, [tmp_path / "b.feature"])
    assert coverage.scenarios == 5
    assert coverage.untouched_transitions == []
    assert coverage.untouched_requirements == [
        Requirement("pruefung_starten", "checklist"),
        Requirement("beschliessen", "checklist"),
        Requirement("beschliessen", "approval", "kaemmerei"),
        Requirement("abschliessen", "checklist"),
    ]


def test_the_kosi_lab_specs_touch_every_step_and_item_of_the_process() -> None:
    definition = load_definition(ROOT / "workflows" / "kosi-lab.yaml")
    coverage = spec_coverage(definition, sorted((ROOT / "features").rglob("*.feature")))
    assert coverage.untouched_transitions == []
    assert coverage.untouched_items == []
    # consolidate asks for three sectors, but the first gate already needs them and
    # participants stay: no scenario can show that requirement keeping its gate shut.
    assert coverage.untouched_requirements == [Requirement("consolidate", "sectors", "3")]


def test_coverage_of_an_invalid_workflow_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "kaputt.yaml").write_text("format: kosiflow/v1\nid: [\n", encoding="utf-8")
    args = ["spec-coverage", str(tmp_path / "kaputt.yaml"), str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
