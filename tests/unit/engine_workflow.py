"""A small workflow that exercises every guard of the engine, for the unit tests."""

from __future__ import annotations

from kosiflow.definition import Definition, load_definition_text

WORKFLOW = """\
format: kosiflow/v1
id: guard-test
version: 1
languages: [de, en]
title: {de: Prüfablauf, en: Guard test}
roles:
  coordinator: {de: Lab-Koordination, en: Lab coordination}
  administration: {de: Verwaltung, en: Public administration}
  civil_society: {de: Zivilgesellschaft, en: Civil society}
  science: {de: Wissenschaft, en: Science}
initial: start
phases:
  - id: start
    title: {de: Start, en: Start}
    checklist:
      - id: challenge
        title: {de: Fragestellung vereinbart, en: Challenge agreed}
        roles: [coordinator, administration]
        evidence: required
      - id: mandate
        title: {de: Mandat gesichert, en: Mandate secured}
        roles: [administration]
        waivable_by: [science]
      - id: press
        title: {de: Pressekontakt, en: Press contact}
        optional: true
  - id: work
    title: {de: Arbeit, en: Work}
    checklist:
      - id: result
        title: {de: Ergebnis, en: Result}
  - id: wrap_up
    title: {de: Abschluss, en: Wrap-up}
    checklist:
      - id: report
        title: {de: Bericht, en: Report}
  - id: done
    title: {de: Fertig, en: Done}
    final: true
  - id: archived
    title: {de: Archiviert, en: Archived}
    final: true
transitions:
  - trigger: begin
    from: start
    to: work
    title: {de: Arbeit beginnen, en: Begin work}
    requires:
      checklist: complete
      approvals: [administration, civil_society]
      sectors: 2
  - trigger: back
    from: work
    to: start
    requires: {checklist: none}
    reason: required
  - trigger: wrap
    from: work
    to: wrap_up
    roles: [coordinator, science]
    reason: none
  - trigger: finish
    from: wrap_up
    to: done
    auto: true
  - trigger: archive
    from: "*"
    to: archived
    requires: {checklist: none}
    reason: required
"""


def guard_workflow() -> Definition:
    return load_definition_text(WORKFLOW, "guard-test.yaml")
