"""Commands for histories: show, verify, rebuild; and the demo data."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.progress import Progress as ProgressBar
from rich.text import Text

from kosiflow import console as show
from kosiflow.cli.app import (
    IdArg,
    Settings,
    app,
    audit_app,
    err,
    out,
    run,
)
from kosiflow.cli.initiatives import print_status
from kosiflow.errors import BadInput
from kosiflow.services import utc_now
from kosiflow.services.exports import EXPORT_FORMATS, export_lines, read_export
from kosiflow.services.heads import heads_document, read_heads_document
from kosiflow.store.texts import readable_payload


@app.command()
def history(
    ctx: typer.Context,
    initiative: IdArg,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
) -> None:
    """The initiative's events in order, with actor, time and hash."""

    def work(s: Settings) -> None:
        services = s.services()
        records = list(services.history(initiative))
        if as_json:
            for r in records:
                line = {
                    "seq": r.seq,
                    "type": r.type,
                    "schema_version": r.schema_version,
                    "actor": r.actor,
                    "at": r.at.isoformat(),
                    "payload": readable_payload(r),
                    "prev_hash": r.prev_hash,
                    "hash": r.hash,
                }
                sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            return
        names = services.person_names(sorted({r.actor for r in records}))
        out.print(show.history_table(records, names, s.lang))

    run(ctx, work)


@app.command()
def verify(
    ctx: typer.Context,
    initiative: Annotated[str | None, typer.Argument(help="One initiative; default all.")] = None,
) -> None:
    """Check the hash chains; names the first bad event (exit 1 when any chain is broken)."""

    def work(s: Settings) -> int:
        services = s.services()
        results = (
            [(initiative, services.verify(initiative))] if initiative else services.verify_all()
        )
        broken = 0
        for initiative_id, result in results:
            if result.ok:
                out.print(f"{initiative_id}: ok ({result.events_checked} events)")
            else:
                broken += 1
                broken_at = f"{initiative_id}: broken at event {result.first_bad_seq}:"
                out.print(Text.assemble((broken_at, "red"), f" {result.problem}"))
        return broken

    if run(ctx, work):
        raise typer.Exit(1)


@app.command()
def rebuild(ctx: typer.Context) -> None:
    """Fold every history again and check that it reproduces every projection (exit 1 when a
    history's hash chain is broken: it is reported and left as it is)."""

    def work(s: Settings) -> int:
        services = s.services()
        total = len(services.initiative_ids())
        with ProgressBar(console=err, transient=True) as bar:
            task = bar.add_task("rebuild", total=total)
            report = services.rebuild(lambda n: bar.advance(task, n))
        out.print(f"{report.initiatives} initiatives folded; {len(report.differing)} differed")
        for initiative_id in report.differing:
            out.print(f"  replaced projection of {initiative_id}")
        for corrupted in report.corrupted:
            out.print(Text(f"  not rebuilt: {corrupted}", style="red"))
        return len(report.corrupted)

    if run(ctx, work):
        raise typer.Exit(1)


def _since_until(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(name, f"{text!r} is no ISO 8601 time, e.g. 2026-05-01T00:00:00Z") from None
    if moment.tzinfo is None:
        raise BadInput(name, "give the time with its offset, e.g. 2026-05-01T00:00:00Z")
    return moment


@app.command()
def export(
    ctx: typer.Context,
    format: Annotated[str, typer.Option(help="jsonl (JSON Lines) or csv.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of to stdout.")
    ] = None,
    workflow: Annotated[str | None, typer.Option(help="Only this workflow.")] = None,
    initiative: Annotated[str | None, typer.Option(help="Only this initiative.")] = None,
    since: Annotated[str | None, typer.Option(help="From this time on (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (ISO 8601).")] = None,
) -> None:
    """Every event with its hashes, streamed (constant memory), with a progress count."""

    def work(s: Settings) -> None:
        if format not in EXPORT_FORMATS:
            raise BadInput("--format", f"{format!r} is none of {', '.join(EXPORT_FORMATS)}")
        records = s.services().export_stored(
            workflow_id=workflow,
            initiative_id=initiative,
            since=_since_until("--since", since),
            until=_since_until("--until", until),
        )
        with contextlib.ExitStack() as stack:
            sink = (
                stack.enter_context(output.open("wb")) if output is not None else sys.stdout.buffer
            )
            bar = stack.enter_context(ProgressBar(console=err, transient=True))
            task = bar.add_task("export", total=None)
            for line in export_lines(_counted(records, lambda: bar.advance(task)), format):
                sink.write(line)
            sink.flush()

    run(ctx, work)


@app.command("import")
def import_(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A file from `kosiflow export`.")],
    format: Annotated[
        str | None, typer.Option(help="jsonl or csv (default: by the file's extension).")
    ] = None,
) -> None:
    """Load an export into an empty database: every history verified and folded, all or
    nothing (exit 2 naming the file and line of the first bad event)."""

    def work(s: Settings) -> None:
        kind = format or ("csv" if source.suffix.lower() == ".csv" else "jsonl")
        if kind not in EXPORT_FORMATS:
            raise BadInput("--format", f"{kind!r} is none of {', '.join(EXPORT_FORMATS)}")
        try:
            handle = source.open(encoding="utf-8", newline="")
        except OSError as exc:
            raise BadInput(str(source), exc.strerror or "cannot be read") from None
        with handle, ProgressBar(console=err, transient=True) as bar:
            task = bar.add_task("import", total=None)
            records = read_export(handle, kind, source=str(source))
            report = s.services().import_history(_counted(records, lambda: bar.advance(task)))
        out.print(f"imported {report.events} events of {report.initiatives} initiatives")

    run(ctx, work)


T = TypeVar("T")


def _counted(records: Iterator[T], tick: Callable[[], None]) -> Iterator[T]:
    for record in records:
        tick()
        yield record


@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Per workflow and phase: visits, median and 90th-percentile days, initiatives there now
    and overdue (hold not counted), rework, and the requirement met last."""

    def work(s: Settings) -> None:
        found = s.services().phase_statistics()
        if as_json:
            sys.stdout.write(json.dumps([asdict(f) for f in found], indent=2) + "\n")
        else:
            out.print(show.statistics_table(found, s.lang))

    run(ctx, work)


AUDIT_KEY_VARIABLE = "KOSIFLOW_AUDIT_KEY"
"""The environment variable holding the key that signs chain-head documents (HMAC-SHA256)."""


def _audit_key() -> bytes | None:
    key = os.environ.get(AUDIT_KEY_VARIABLE)
    return key.encode("utf-8") if key else None


@audit_app.command("heads")
def audit_heads(ctx: typer.Context) -> None:
    """Print every chain head as JSON (signed with KOSIFLOW_AUDIT_KEY when set): keep it outside
    the database, e.g. `kosiflow audit heads > heads.json`, and check it later."""

    def work(s: Settings) -> None:
        services = s.services()
        sys.stdout.write(heads_document(services.chain_heads(), utc_now(), _audit_key()))

    run(ctx, work)


@audit_app.command("check")
def audit_check(
    ctx: typer.Context,
    heads_file: Annotated[Path, typer.Argument(help="A document from `kosiflow audit heads`.")],
) -> None:
    """Check that every history still passes through the heads of HEADS_FILE (exit 1 naming each
    that does not; exit 2 when the file is unreadable or its signature does not match)."""

    def work(s: Settings) -> int:
        try:
            text = heads_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise BadInput(str(heads_file), exc.strerror or "cannot be read") from None
        heads = read_heads_document(text, _audit_key(), source=str(heads_file))
        findings = s.services().check_heads(heads)
        for finding in findings:
            out.print(Text.assemble((f"{finding.initiative_id}:", "red"), f" {finding.problem}"))
        signed = " (signature verified)" if _audit_key() else ""
        out.print(f"{len(heads) - len(findings)} of {len(heads)} heads confirmed{signed}")
        return len(findings)

    if run(ctx, work):
        raise typer.Exit(1)


@app.command()
def demo(ctx: typer.Context) -> None:
    """Load the example initiatives (Wuppertal, Dortmund) with their histories and show them."""
    from kosiflow.demo import load_demo

    def work(s: Settings) -> None:
        services = s.services()
        created = load_demo(services)
        out.print(f"demo: {created} initiatives created" if created else "demo data already loaded")
        print_status(s)

    run(ctx, work)
