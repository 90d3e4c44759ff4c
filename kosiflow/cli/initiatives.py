"""Commands that create, show and change initiatives."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated

import typer
from rich.text import Text

from kosiflow import console as show
from kosiflow.cli.app import (
    ExpectOpt,
    IdArg,
    KeyOpt,
    Settings,
    acknowledge,
    app,
    out,
    participant_app,
    run,
    write,
)
from kosiflow.engine import InitiativeState
from kosiflow.errors import BadInput
from kosiflow.services import CommandResult, Diff

# -- initiatives -----------------------------------------------------------------------------------


@app.command()
def create(
    ctx: typer.Context,
    workflow: str,
    title: str,
    parent: Annotated[str | None, typer.Option(help="Parent initiative id.")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    idempotency_key: KeyOpt = None,
) -> None:
    """Start an initiative under WORKFLOW (prints its id)."""

    def work(s: Settings) -> CommandResult:
        return s.services().create(
            workflow,
            title,
            s.actor(),
            parent_id=parent,
            description=description,
            idempotency_key=idempotency_key,
        )

    acknowledge(run(ctx, work))


@app.command()
def status(
    ctx: typer.Context,
    workflow: Annotated[str | None, typer.Option(help="Only this workflow.")] = None,
    phase: Annotated[str | None, typer.Option(help="Only this phase.")] = None,
    parent: Annotated[str | None, typer.Option(help="Only the children of this one.")] = None,
) -> None:
    """Every initiative with its phase and a progress bar across the phases."""
    run(ctx, lambda s: print_status(s, workflow=workflow, phase=phase, parent=parent))


def print_status(
    settings: Settings,
    *,
    workflow: str | None = None,
    phase: str | None = None,
    parent: str | None = None,
) -> None:
    """Print the status table of the initiatives that match the filters."""
    services = settings.services()
    projections = services.list_initiatives(
        workflow_id=workflow, phase=phase, parent_id=parent, limit=10_000
    )
    definitions = {
        (p.workflow_id, p.workflow_version): services.catalog.pinned(
            services.database, p.workflow_id, p.workflow_version
        )
        for p in projections
    }
    out.print(show.status_table(projections, definitions, settings.lang))


def _moment(text: str, option: str = "--at") -> datetime:
    """An ISO 8601 time with its offset (``2026-05-01T12:00:00Z``)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(option, f"{text!r} is no ISO 8601 time, e.g. 2026-05-01T12:00:00Z") from None


@app.command("show")
def show_initiative(
    ctx: typer.Context,
    initiative: IdArg,
    at: Annotated[
        str | None,
        typer.Option(help="Show it as it was then (ISO 8601 with offset, e.g. 2026-05-01T12:00Z)."),
    ] = None,
) -> None:
    """The checklist with who/when/evidence, and what blocks each step."""

    def work(s: Settings) -> None:
        services = s.services()
        if at is not None:
            out.print(show.progress_view(services.progress_at(initiative, _moment(at)), s.lang))
            return
        actor = s.actor() if s.acting_as else None
        out.print(show.progress_view(services.progress(initiative, actor), s.lang))

    run(ctx, work)


@app.command("diff")
def diff_moments(
    ctx: typer.Context,
    initiative: IdArg,
    since: Annotated[str, typer.Option("--from", help="The first moment (ISO 8601 with offset).")],
    until: Annotated[
        str | None, typer.Option("--to", help="The second moment (default: now).")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="de or en (default: the global --lang).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of sentences.")] = False,
) -> None:
    """What changed between two moments, in sentences, each with the events that prove it."""

    def work(s: Settings) -> None:
        language = s.lang if lang is None else lang
        if language not in ("de", "en"):
            raise BadInput("--lang", f"{language!r} is not one of: de, en")
        found = s.services().diff(
            initiative,
            _moment(since, "--from"),
            None if until is None else _moment(until, "--to"),
            fields=("--from", "--to"),
        )
        if as_json:
            sys.stdout.write(json.dumps(found.as_json(language), ensure_ascii=False) + "\n")
        else:
            _print_diff(found, language)

    run(ctx, work)


_DIFF_WORDS = {
    "en": {"versions": "version {a} → {b}", "none": "not yet"},
    "de": {"versions": "Version {a} → {b}", "none": "noch nicht"},
}


def _print_diff(found: Diff, lang: str) -> None:
    """Title, both moments with version and phase, then each change with its evidence (the
    seq numbers of the events that make it up)."""
    words = _DIFF_WORDS[lang]

    def phase(state: InitiativeState) -> str:
        if not state.is_created:
            return words["none"]
        d = state.definition
        return d.phase(state.phase).title.in_(lang) if d.has_phase(state.phase) else state.phase

    head = Text.assemble((found.title, "bold"), f"  [{found.initiative_id}]\n")
    head.append(f"{found.since.isoformat()} → {found.until.isoformat()}: ")
    head.append(words["versions"].format(a=found.before.version, b=found.after.version))
    head.append(f", {phase(found.before)} → {phase(found.after)}")
    out.print(head)
    for change, said in zip(found.changes, found.sentences(lang), strict=True):
        seqs = ", ".join(f"#{seq}" for seq in change.seqs)
        out.print(Text.assemble(f"  • {said}", (f"  ({seqs})" if seqs else "", "dim")))


@app.command()
def tick(
    ctx: typer.Context,
    initiative: IdArg,
    item: str,
    evidence: Annotated[str | None, typer.Option(help="Link or document reference.")] = None,
    note: Annotated[str | None, typer.Option()] = None,
    expect_version: ExpectOpt = None,
    idempotency_key: KeyOpt = None,
) -> None:
    """Tick a checklist item of the current phase."""
    write(
        ctx,
        lambda svc, actor, options: svc.tick(
            initiative, item, actor, evidence=evidence, note=note, **options
        ),
        expect=expect_version,
        key=idempotency_key,
    )


@app.command()
def reopen(
    ctx: typer.Context,
    initiative: IdArg,
    item: str,
    reason: Annotated[str, typer.Option(help="Why it is open again.")],
    expect_version: ExpectOpt = None,
    idempotency_key: KeyOpt = None,
) -> None:
    """Reopen a done item (voids the sign-offs of its gates)."""
    write(
        ctx,
        lambda svc, actor, options: svc.reopen(initiative, item, reason, actor, **options),
        expect=expect_version,
        key=idempotency_key,
    )


@app.command()
def waive(
    ctx: typer.Context,
    initiative: IdArg,
    item: str,
    reason: Annotated[str, typer.Option(help="Why it is not needed.")],
    expect_version: ExpectOpt = None,
    idempotency_key: KeyOpt = None,
) -> None:
    """Waive a checklist item (it then counts as done at its gate)."""
    write(
        ctx,
        lambda svc, actor, options: svc.waive(initiative, item, reason, actor, **options),
        expect=expect_version,
        key=idempotency_key,
    )


@app.command()
def approve(
    ctx: typer.Context,
    initiative: IdArg,
    trigger: str,
    role: Annotated[str | None, typer.Option(help="The role you sign for.")] = None,
    note: Annotated[str | None, typer.Option()] = None,
    expect_version: ExpectOpt = None,
    idempotency_key: KeyOpt = None,
) -> None:
    """Sign off the gate of TRIGGER for one of your roles."""
    write(
        ctx,
        lambda svc, actor, options: svc.approve(
            initiative, trigger, actor, role=role, note=note, **options
        ),
        expect=expect_version,
        key=idempotency_key,
    )


@participant_app.command("add")
def participant_add(
    ctx: typer.Context,
    initiative: IdArg,
    name: str,
    role: Annotated[str, typer.Option(help="The sector they bring (a workflow role).")],
    contact: Annotated[str | None, typer.Option()] = None,
    expect_version: ExpectOpt = None,
    idempotency_key: KeyOpt = None,
) -> None:
    """Add a participant (their name and contact stay outside the history)."""
    write(
        ctx,
        lambda svc, actor, options: svc.add_participant(
            initiative, name, role, actor, contact=contact, **options
        ),
        expect=expect_version,
        key=idempotency_key,
    )


@app.command()
def fire(
    ctx: typer.Context,
    initiative: IdArg,
    trigger: str,
    reason: Annotated[str | None, typer.Option()] = None,
    expect_version: ExpectOpt = None,
    idempotency_key: KeyOpt = None,
) -> None:
    """Move to the next phase through TRIGGER (refused with every blocker)."""
    write(
        ctx,
        lambda svc, actor, options: svc.fire(initiative, trigger, actor, reason=reason, **options),
        expect=expect_version,
        key=idempotency_key,
    )


@app.command()
def hold(
    ctx: typer.Context,
    initiative: IdArg,
    reason: Annotated[str, typer.Option()],
    expect_version: ExpectOpt = None,
    idempotency_key: KeyOpt = None,
) -> None:
    """Put an initiative on hold (its phase stays; the clock stops)."""
    write(
        ctx,
        lambda svc, actor, options: svc.hold(initiative, reason, actor, **options),
        expect=expect_version,
        key=idempotency_key,
    )


@app.command()
def resume(
    ctx: typer.Context,
    initiative: IdArg,
    reason: Annotated[str | None, typer.Option()] = None,
    expect_version: ExpectOpt = None,
    idempotency_key: KeyOpt = None,
) -> None:
    """Resume an initiative that is on hold."""
    write(
        ctx,
        lambda svc, actor, options: svc.resume(initiative, actor, reason=reason, **options),
        expect=expect_version,
        key=idempotency_key,
    )


@app.command()
def note(
    ctx: typer.Context,
    initiative: IdArg,
    text: str,
    expect_version: ExpectOpt = None,
    idempotency_key: KeyOpt = None,
) -> None:
    """Add a note to the history."""
    write(
        ctx,
        lambda svc, actor, options: svc.note(initiative, text, actor, **options),
        expect=expect_version,
        key=idempotency_key,
    )
