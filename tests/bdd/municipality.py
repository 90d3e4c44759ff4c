"""A municipality's own folder: a workflow of its own and German feature files, no Python.

Used by the tests that run ``pytest`` in such a folder as a process owner would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WORKFLOW = """\
format: kosiflow/v1
id: buergerhaushalt
version: 1
languages: [de, en]
title: {de: Bürgerhaushalt, en: Citizens' budget}
roles:
  coordinator: {de: Geschäftsstelle, en: Office}
  kaemmerei: {de: Kämmerei, en: Treasury}
  bezirksrat: {de: Bezirksrat, en: District council}
  buergerschaft: {de: Bürgerschaft, en: Citizens}
initial: einreichen
phases:
  - id: einreichen
    title: {de: Einreichen, en: Submit}
    checklist:
      - id: vorschlag_beschrieben
        title: {de: Vorschlag beschrieben, en: Proposal described}
        roles: [coordinator, buergerschaft]
        evidence: required
      - id: ort_benannt
        title: {de: Ort benannt, en: Place named}
        roles: [buergerschaft]
        optional: true
  - id: pruefen
    title: {de: Prüfen, en: Review}
    checklist:
      - id: kosten_geschaetzt
        title: {de: Kosten geschätzt, en: Costs estimated}
        roles: [kaemmerei]
        evidence: required
  - id: umsetzen
    title: {de: Umsetzen, en: Implement}
    checklist:
      - id: auftrag_vergeben
        title: {de: Auftrag vergeben, en: Contract awarded}
        roles: [coordinator]
  - id: umgesetzt
    title: {de: Umgesetzt, en: Done}
    final: true
  - id: abgelehnt
    title: {de: Abgelehnt, en: Declined}
    final: true
transitions:
  - trigger: pruefung_starten
    title: {de: Prüfung starten, en: Start review}
    from: einreichen
    to: pruefen
    requires: {checklist: complete, approvals: [kaemmerei]}
  - trigger: beschliessen
    title: {de: Beschließen, en: Decide}
    from: pruefen
    to: umsetzen
    roles: [bezirksrat]
    requires: {checklist: complete, approvals: [kaemmerei], sectors: 2}
  - trigger: abschliessen
    title: {de: Abschließen, en: Finish}
    from: umsetzen
    to: umgesetzt
    requires: {checklist: complete}
    auto: true
  - trigger: ablehnen
    title: {de: Ablehnen, en: Decline}
    from: "*"
    to: abgelehnt
    roles: [coordinator, bezirksrat]
    requires: {checklist: none}
    reason: required
"""

FEATURE = """\
# language: de
Funktionalität: Bürgerhaushalt
  Vorschläge aus der Bürgerschaft werden geprüft, beschlossen und umgesetzt.

  Grundlage:
    Angenommen der Ablauf "ablaeufe/buergerhaushalt.yaml"
    Und "Petra Schulz" mit der Rolle "Geschäftsstelle"
    Und "Klaus Weber" mit der Rolle "Kämmerei"
    Und "Eva Lang" mit den Rollen "bezirksrat, buergerschaft"
    Und "Petra Schulz" hat die Initiative "Spielplatz am Ölberg" angelegt

  Szenario: Die Prüfung beginnt erst mit der Freigabe der Kämmerei
    Wenn "Petra Schulz" "Vorschlag beschrieben" mit dem Nachweis "Formular 12" abhakt
    Und "Petra Schulz" "Prüfung starten" auslöst
    Dann wird es abgelehnt wegen "approval_missing" für "Kämmerei"
    Wenn "Klaus Weber" "pruefung_starten" freigibt
    Und "Petra Schulz" "pruefung_starten" auslöst
    Dann ist die Initiative in der Phase "Prüfen"
    Und kein Punkt der Phase ist erledigt

  Szenario: Der Bezirksrat beschließt mit Beteiligten aus zwei Sektoren
    Angenommen die Initiative hat die Phase "pruefen" erreicht
    Und alle Pflichtpunkte der Phase sind abgehakt
    Und "Klaus Weber" hat "beschliessen" freigegeben
    Wenn "Eva Lang" "beschliessen" auslöst
    Dann wird es abgelehnt mit genau diesen Gründen:
      | Code            | Betrifft |
      | sectors_missing | 2        |
    Wenn "Petra Schulz" Beteiligte aus den Sektoren "buergerschaft, bezirksrat" aufnimmt
    Und "Eva Lang" "beschliessen" auslöst
    Dann ist die Initiative in der Phase "umsetzen"

  Szenario: Die Umsetzung schließt sich selbst ab
    Angenommen die Initiative hat die Phase "umsetzen" erreicht
    Wenn "Petra Schulz" "auftrag_vergeben" abhakt
    Dann ist die Initiative in der Phase "Umgesetzt"
    Und das System hat "abschliessen" selbst ausgelöst

  Szenariogrundriss: Ablehnen geht aus jeder Phase, mit Begründung
    Angenommen die Initiative hat die Phase "<Phase>" erreicht
    Wenn "Eva Lang" "ablehnen" auslöst
    Dann wird es abgelehnt wegen "reason_required"
    Wenn "Eva Lang" "ablehnen" mit der Begründung "Nicht finanzierbar" auslöst
    Dann ist die Initiative in der Phase "abgelehnt"
    Und die Historie enthält in dieser Reihenfolge:
      | Ereignis     | von      | Schritt  | Grund              |
      | PhaseChanged | Eva Lang | ablehnen | Nicht finanzierbar |

    Beispiele:
      | Phase      |
      | einreichen |
      | pruefen    |
"""

WRONG_FEATURE = """\
# language: de
Funktionalität: Falsch verstandener Bürgerhaushalt

  Grundlage:
    Angenommen der Ablauf "ablaeufe/buergerhaushalt.yaml"
    Und "Petra Schulz" mit der Rolle "coordinator"
    Und "Klaus Weber" mit der Rolle "kaemmerei"
    Und "Petra Schulz" hat die Initiative "Spielplatz am Ölberg" angelegt

  Szenario: Die Prüfung beginnt ohne Freigabe
    Wenn "Petra Schulz" "vorschlag_beschrieben" mit dem Nachweis "Formular 12" abhakt
    Und "Petra Schulz" "pruefung_starten" auslöst
    Dann ist die Initiative in der Phase "pruefen"

  Szenario: Die Kämmerei hakt ab, was sie nicht darf
    Wenn "Klaus Weber" "vorschlag_beschrieben" mit dem Nachweis "Formular 12" abhakt
    Dann ist der Punkt "vorschlag_beschrieben" erledigt

  Szenario: Ein Tippfehler im Schritt
    Wenn "Petra Schulz" "vorschlag_beschrieben" abhackt
"""

INI = "[pytest]\nfilterwarnings =\n    error\n"


def make_folder(root: Path, *, wrong: bool) -> Path:
    """The municipality's folder: ``ablaeufe/`` with the workflow, ``specs/`` with features."""
    (root / "ablaeufe").mkdir()
    (root / "ablaeufe" / "buergerhaushalt.yaml").write_text(WORKFLOW, encoding="utf-8")
    (root / "specs").mkdir()
    (root / "specs" / "buergerhaushalt.feature").write_text(FEATURE, encoding="utf-8")
    if wrong:
        (root / "specs" / "falsch.feature").write_text(WRONG_FEATURE, encoding="utf-8")
    (root / "pytest.ini").write_text(INI, encoding="utf-8")
    return root


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pytest`` in ``folder`` with the installed kosiflow, as a process owner runs it: its own
    rootdir and ini, no cache, none of this repository's configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    command += ["--rootdir", str(folder), "-c", str(folder / "pytest.ini"), *args]
    return subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False
    )
