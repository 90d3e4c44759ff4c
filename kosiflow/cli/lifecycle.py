"""Commands that keep running initiatives in order: the deadline sweep and version migrations.

``sweep`` acts as kosiflow itself (no ``--as``); ``migrate`` as an admin or the lab coordination.
Exit codes: 0 done (or a dry run that would go through), 1 refused (nothing changed), 2 bad input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from kosiflow import console as show
from kosiflow.cli.app import Settings, app, out, run, settings_of
from kosiflow.errors import BadInput
from kosiflow.services import MigrationPlan, SweepReport


def _moment(text: str) -> datetime:
    """An ISO 8601 time with its offset (``2026-05-01T12:00:00Z``)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            "--now", f"{text!r} is no ISO 8601 time, e.g. 2026-05-01T12:00:00Z"
        ) from None


def _phase_map(pairs: list[str]) -> dict[str, str]:
    """``old=new`` pairs as a mapping; each old phase named once."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = (part.strip() for part in pair.partition("="))
        if not sep or not old or not new:
            raise BadInput("--map", f"{pair!r} is not OLD_PHASE=NEW_PHASE")
        if old in mapping:
            raise BadInput("--map", f"phase {old!r} is mapped twice")
        mapping[old] = new
    return mapping


@app.command()
def sweep(
    ctx: typer.Context,
    now: Annotated[
        str | None,
        typer.Option(help="Judge as of this moment (ISO 8601 with offset); default: now."),
    ] = None,
) -> None:
    """Record each phase visit past its phase's max_days (time on hold not counted) as overdue,
    once per visit. Idempotent: safe to run from cron, also on several machines at once."""

    def work(s: Settings) -> SweepReport:
        return s.services().sweep(now=None if now is None else _moment(now))

    report = run(ctx, work)
    out.print(show.sweep_report(report, settings_of(ctx).lang))


@app.command()
def migrate(
    ctx: typer.Context,
    workflow: Annotated[str, typer.Option(help="The workflow whose initiatives move.")],
    to: Annotated[int, typer.Option(help="The version they move to.")],
    initiative: Annotated[
        str | None, typer.Argument(help="One initiative's id (or --all).", show_default=False)
    ] = None,
    every: Annotated[
        bool,
        typer.Option("--all", help="Every initiative of the workflow that has not ended."),
    ] = False,
    phase_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="OLD=NEW",
            help="Land initiatives of phase OLD in phase NEW; repeat for several. "
            "Unmapped phases keep their id.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would happen; change nothing.")
    ] = False,
) -> None:
    """Move running initiatives to another version of their workflow (recorded as an event).

    Prints, per initiative, where it lands and which checklist items are new or vanish. If any
    initiative would be refused (say it would land in a phase the version does not have),
    none moves (exit 1).
    """

    def work(s: Settings) -> MigrationPlan:
        if every == (initiative is not None):
            raise BadInput("INITIATIVE", "name one initiative or give --all (not both)")
        return s.services().migrate(
            workflow,
            to,
            s.actor(),
            initiative_ids=None if every else [str(initiative)],
            phase_map=_phase_map(phase_map or []),
            dry_run=dry_run,
        )

    plan = run(ctx, work)
    out.print(show.migration_report(plan, settings_of(ctx).lang))
    if plan.refused:
        raise typer.Exit(1)
