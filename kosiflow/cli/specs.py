"""Commands for process specs: the step catalogue and what the features leave untouched."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated

import typer

from kosiflow.bdd.catalogue import catalogue_text
from kosiflow.cli.app import app, err, errors, out, settings_of
from kosiflow.definition import Definition, load_definition

_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "summary": "{workflow} v{version}: {scenarios} scenarios in {files} feature files",
        "transitions": "steps (transitions)",
        "requirements": "gate requirements",
        "items": "checklist items",
        "of": "{touched} of {total} touched",
        "untouched": "Not touched by any scenario:",
        "all": "Every step, gate requirement and checklist item is touched.",
        "transition": "step",
        "requirement": "gate requirement",
        "item": "checklist item",
        "checklist": "checklist complete",
        "approval": "sign-off by {role}",
        "sectors": "participants from {count} sectors",
        "reason": "a reason",
        "needs_bdd": "spec-coverage reads feature files with pytest-bdd: "
        "pip install 'kosiflow[specs]'",
        "bad_lang": "--lang: {lang!r} is not one of: de, en",
    },
    "de": {
        "summary": "{workflow} v{version}: {scenarios} Szenarien in {files} Feature-Dateien",
        "transitions": "Schritte (Übergänge)",
        "requirements": "Gate-Bedingungen",
        "items": "Checklistenpunkte",
        "of": "{touched} von {total} berührt",
        "untouched": "Von keinem Szenario berührt:",
        "all": "Jeder Schritt, jede Gate-Bedingung und jeder Checklistenpunkt ist berührt.",
        "transition": "Schritt",
        "requirement": "Gate-Bedingung",
        "item": "Checklistenpunkt",
        "checklist": "Checkliste vollständig",
        "approval": "Freigabe durch {role}",
        "sectors": "Beteiligte aus {count} Sektoren",
        "reason": "eine Begründung",
        "needs_bdd": "spec-coverage liest Feature-Dateien mit pytest-bdd: "
        "pip install 'kosiflow[specs]'",
        "bad_lang": "--lang: {lang!r} ist nicht de oder en",
    },
}

LangOpt = Annotated[
    str | None, typer.Option("--lang", help="de or en (default: the global --lang).")
]


def _language(ctx: typer.Context, lang: str | None) -> str:
    chosen = lang or settings_of(ctx).lang
    if chosen not in _WORDS:
        err.print(_WORDS["en"]["bad_lang"].format(lang=chosen))
        raise typer.Exit(2)
    return chosen


@app.command("steps")
def steps(ctx: typer.Context, lang: LangOpt = None) -> None:
    """Print every step of the step library for .feature files, with an example (Markdown)."""
    sys.stdout.write(catalogue_text(_language(ctx, lang)) + "\n")


def _feature_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob("*.feature"))
        else:
            yield path


@app.command("spec-coverage")
def spec_coverage(
    ctx: typer.Context,
    workflow: Annotated[Path, typer.Argument(help="The workflow YAML file.")],
    features: Annotated[list[Path], typer.Argument(help="Feature files or folders of them.")],
    lang: LangOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when anything is left untouched.")
    ] = False,
) -> None:
    """Which transitions, gate requirements and checklist items no scenario touches."""
    chosen = _language(ctx, lang)
    words = _WORDS[chosen]
    try:
        from kosiflow.bdd.coverage import spec_coverage as measure
    except ImportError as exc:  # pytest-bdd is an extra: kosiflow[specs]
        err.print(words["needs_bdd"])
        raise typer.Exit(2) from exc
    with errors(chosen):
        definition = load_definition(workflow)
    files = list(_feature_files(features))
    coverage = measure(definition, files)
    summary = words["summary"].format(
        workflow=definition.id,
        version=definition.version,
        scenarios=coverage.scenarios,
        files=len(files),
    )
    out.print(summary)
    counts = (
        ("transitions", coverage.transitions, coverage.untouched_transitions),
        ("requirements", coverage.requirements, coverage.untouched_requirements),
        ("items", coverage.items, coverage.untouched_items),
    )
    for key, everything, untouched in counts:
        touched = words["of"].format(
            touched=len(everything) - len(untouched), total=len(everything)
        )
        out.print(f"  {words[key]:<22} {touched}")
    if coverage.is_complete:
        out.print(words["all"])
        return
    out.print(words["untouched"])
    for trigger in coverage.untouched_transitions:
        out.print(f"  {words['transition']}: {trigger}")
    for requirement in coverage.untouched_requirements:
        said = _requirement_words(definition, words, requirement.kind, requirement.detail, chosen)
        out.print(f"  {words['requirement']}: {requirement.trigger}: {said}")
    for phase, item in coverage.untouched_items:
        out.print(f"  {words['item']}: {phase}.{item}")
    if strict:
        raise typer.Exit(1)


def _requirement_words(
    definition: Definition, words: Mapping[str, str], kind: str, detail: str, lang: str
) -> str:
    role = definition.roles[detail].in_(lang) if detail in definition.roles else detail
    return words[kind].format(role=role, count=detail)
