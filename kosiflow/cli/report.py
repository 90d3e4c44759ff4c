"""``kosiflow report``: the auditor's report of one initiative as HTML or PDF, the same document
the report page prints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kosiflow.cli.app import IdArg, Settings, app, out, run
from kosiflow.render import CHROMIUM_VARIABLE, DEFAULT_CHROMIUM, print_pdf


@app.command()
def report(
    ctx: typer.Context,
    initiative: IdArg,
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Write the report as PDF to this file.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the report as HTML to this file.")
    ] = None,
    chromium: Annotated[
        Path,
        typer.Option(
            "--chromium", envvar=CHROMIUM_VARIABLE, help="The Chromium that prints the PDF."
        ),
    ] = DEFAULT_CHROMIUM,
) -> None:
    """The audit report: decisions, sign-offs, evidence, phase visits, every event and the
    hash-chain check (without --pdf or --html: the HTML on standard output)."""

    def work(s: Settings) -> None:
        # The report's words and templates are the pages' own: loaded only for this command.
        from api.pages.report_document import report_document
        from api.pages.report_view import report_view

        document = report_document(report_view(s.services().timeline(initiative), s.lang), s.lang)
        if pdf is None and html is None:
            sys.stdout.write(document)
        if html is not None:
            html.write_text(document, encoding="utf-8")
            out.print(f"{html}: HTML, {len(document.encode()):,} bytes")
        if pdf is not None:
            printed = print_pdf(document, chromium=chromium)
            pdf.write_bytes(printed)
            out.print(f"{pdf}: PDF, {len(printed):,} bytes")

    run(ctx, work)
