"""Retention of evidence links and notes: ``kosiflow retention show|set|apply``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.text import Text

from kosiflow.cli.app import Settings, app, out, run
from kosiflow.errors import BadInput
from kosiflow.services import RetentionReport, RetentionSetting
from kosiflow.services.retention import parse_days

retention_app = typer.Typer(
    help="How long evidence links and notes are kept (reasons of decisions are kept for good).",
    no_args_is_help=True,
)
app.add_typer(retention_app, name="retention")


def _show_settings(settings: tuple[RetentionSetting, ...]) -> None:
    for s in settings:
        kept = "forever" if s.days is None else f"{s.days} days from the event"
        changed = (
            ""
            if s.changed_at is None
            else f" (set {s.changed_at.isoformat(timespec='seconds')} by {s.changed_by})"
        )
        out.print(Text.assemble((f"{s.category:<9}", "bold"), f" kept {kept}{changed}"))


def _show_report(report: RetentionReport) -> None:
    verb = "would remove" if report.dry_run else "removed"
    for found in report.removed:
        by_field: dict[str, list[str]] = {}
        for seq, name, _ in found.texts:
            by_field.setdefault(name, []).append(str(seq))
        listed = "; ".join(f"{name} of events {', '.join(s)}" for name, s in by_field.items())
        recorded = (
            "" if found.recorded_seq is None else f" (recorded as event {found.recorded_seq})"
        )
        out.print(Text.assemble((found.initiative_id, "bold"), f" {found.title}"))
        out.print(f"  {verb} {len(found.texts)} text(s){recorded}: {listed}")
    total = sum(len(found.texts) for found in report.removed)
    out.print(
        f"{verb} {total} text(s) of {len(report.removed)} initiative(s), judged at "
        f"{report.now.isoformat(timespec='seconds')}"
    )


@retention_app.command("show")
def show(ctx: typer.Context) -> None:
    """How long evidence links and notes are kept (forever unless an admin set days)."""
    _show_settings(run(ctx, lambda s: s.services().retention_settings()))


@retention_app.command("set")
def set_(
    ctx: typer.Context,
    evidence_days: Annotated[
        str | None,
        typer.Option(
            "--evidence-days",
            metavar="N|forever",
            help="Keep the evidence of ticked items N days from the event (0 or more), or forever.",
        ),
    ] = None,
    notes_days: Annotated[
        str | None,
        typer.Option(
            "--notes-days",
            metavar="N|forever",
            help="Keep notes (of ticks, of sign-offs, added notes) N days, or forever.",
        ),
    ] = None,
) -> None:
    """Change the retention settings (admins, with --as). `retention apply` enforces them."""

    def work(s: Settings) -> tuple[RetentionSetting, ...]:
        days: dict[str, int | None] = {}
        if evidence_days is not None:
            days["evidence"] = parse_days("--evidence-days", evidence_days)
        if notes_days is not None:
            days["notes"] = parse_days("--notes-days", notes_days)
        if not days:
            raise BadInput("retention set", "give --evidence-days and/or --notes-days")
        return s.services().set_retention(days, s.actor())

    _show_settings(run(ctx, work))


@retention_app.command("apply")
def apply(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be removed; change nothing.")
    ] = False,
    now: Annotated[
        str | None, typer.Option(help="Judge as at this time (ISO 8601 with offset).")
    ] = None,
) -> None:
    """Remove the evidence links and notes older than the settings, per initiative recorded as
    one TextsRemoved event (actor: the system); idempotent, safe from cron in several places."""

    def work(s: Settings) -> RetentionReport:
        moment = None
        if now is not None:
            try:
                moment = datetime.fromisoformat(now)
            except ValueError:
                raise BadInput("--now", f"{now!r} is no ISO 8601 time") from None
        return s.services().apply_retention(now=moment, dry_run=dry_run)

    _show_report(run(ctx, work))
