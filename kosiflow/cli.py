"""The ``kosiflow`` command line: a thin front over :mod:`kosiflow.services`.

Exit codes: 0 done, 1 refused or conflict (every reason printed), 2 bad input.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress as ProgressBar

from kosiflow import console as show
from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import json_schema, load_definition
from kosiflow.engine import Actor
from kosiflow.errors import (
    BadInput,
    CommandRefused,
    ConcurrencyConflict,
    DefinitionError,
    IdempotencyMismatch,
    KosiflowError,
    NotFound,
)
from kosiflow.services import CommandResult, Services
from kosiflow.store import Database, open_database, upgrade

DEFAULT_DATABASE = "sqlite:///kosiflow.db"
PIPE_WIDTH = 160

app = typer.Typer(
    name="kosiflow",
    help="Workflow engine for municipal social-innovation labs (KoSI-Labs).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
users_app = typer.Typer(help="Users and their API tokens.", no_args_is_help=True)
participant_app = typer.Typer(help="Participants of an initiative.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(participant_app, name="participant")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

T = TypeVar("T")


@dataclass
class _Settings:
    database_url: str
    workflows: Path
    lang: str
    acting_as: str | None
    sqlite_synchronous: str
    _services: Services | None = field(default=None, repr=False)

    def services(self) -> Services:
        if self._services is None:
            catalog = WorkflowCatalog.from_folder(self.workflows)
            database = open_database(self.database_url, sqlite_synchronous=self.sqlite_synchronous)
            catalog.register(database)
            self._services = Services(database, catalog)
        return self._services

    def database(self) -> Database:
        return self.services().database

    def actor(self) -> Actor:
        if not self.acting_as:
            raise BadInput("--as", "name the user you act as (or set KOSIFLOW_AS)")
        user = self.database().user_by_name(self.acting_as)
        if user is None:
            raise NotFound("user", self.acting_as)
        return Actor(user.person_id, frozenset(user.roles))

    def close(self) -> None:
        if self._services is not None:
            self._services.database.close()


def _settings(ctx: typer.Context) -> _Settings:
    settings = ctx.obj
    assert isinstance(settings, _Settings)  # noqa: S101 -- set by the callback
    return settings


@contextmanager
def _errors(lang: str) -> Iterator[None]:
    """Turn kosiflow's errors into messages and exit codes."""
    try:
        yield
    except CommandRefused as exc:
        err.print("[red]Refused:[/red]" if lang == "en" else "[red]Abgelehnt:[/red]")
        for b in exc.blockers:
            err.print(f"  • {b.message(lang)} [dim]({b.code})[/dim]")
        raise typer.Exit(1) from exc
    except ConcurrencyConflict as exc:
        err.print(f"[red]Conflict:[/red] {exc}")
        raise typer.Exit(1) from exc
    except DefinitionError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False)
        raise typer.Exit(2) from exc
    except (BadInput, NotFound, IdempotencyMismatch) as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(2) from exc
    except KosiflowError as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _run(ctx: typer.Context, work: Callable[[_Settings], T]) -> T:
    settings = _settings(ctx)
    with _errors(settings.lang):
        return work(settings)


WriteCall = Callable[[Services, Actor, dict[str, Any]], CommandResult]
"""A write: (services, acting user, options for expected version and idempotency key)."""


def _write(
    ctx: typer.Context, call: WriteCall, *, expect: int | None = None, key: str | None = None
) -> None:
    """Run one write command as the ``--as`` user and print what it recorded."""
    options: dict[str, Any] = {"expected_version": expect, "idempotency_key": key}
    _acknowledge(_run(ctx, lambda s: call(s.services(), s.actor(), options)))


def _acknowledge(result: CommandResult) -> None:
    events = ", ".join(result.events)
    replay = " (replayed)" if result.replayed else ""
    out.print(f"{result.initiative_id} v{result.version}: {events}{replay}")


@app.callback()
def main_options(
    ctx: typer.Context,
    database: Annotated[
        str,
        typer.Option(
            "--database",
            envvar="KOSIFLOW_DATABASE_URL",
            help="sqlite:///FILE (default) or postgresql+psycopg://…",
        ),
    ] = DEFAULT_DATABASE,
    workflows: Annotated[
        Path, typer.Option("--workflows", envvar="KOSIFLOW_WORKFLOWS", help="Workflow folder.")
    ] = Path("workflows"),
    lang: Annotated[str, typer.Option("--lang", envvar="KOSIFLOW_LANG", help="de or en")] = "en",
    acting_as: Annotated[
        str | None, typer.Option("--as", envvar="KOSIFLOW_AS", help="The user you act as.")
    ] = None,
    sqlite_synchronous: Annotated[
        str,
        typer.Option(
            "--sqlite-synchronous",
            envvar="KOSIFLOW_SQLITE_SYNCHRONOUS",
            help="FULL (default: acknowledged means durable) or NORMAL (faster; a power cut "
            "may lose the last commits, never corrupt).",
        ),
    ] = "FULL",
) -> None:
    if lang not in ("de", "en"):
        err.print(f"--lang: {lang!r} is not one of: de, en")
        raise typer.Exit(2)
    for console in (out, err):
        if not console.is_terminal and "COLUMNS" not in os.environ:
            console.width = PIPE_WIDTH  # files and pipes get whole lines, not 80 columns
    settings = _Settings(database, workflows, lang, acting_as, sqlite_synchronous)
    ctx.obj = settings
    ctx.call_on_close(settings.close)


# -- workflows -------------------------------------------------------------------------------------


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="Workflow YAML files.")]) -> None:
    """Validate workflow files; every problem as file:line:column: path: message (exit 2)."""
    problems = 0
    for path in files:
        try:
            definition = load_definition(path)
        except DefinitionError as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False)
            problems += len(exc.problems)
        else:
            out.print(f"{path}: ok ({definition.id} v{definition.version})")
    if problems:
        raise typer.Exit(2)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the workflow format (for editors)."""
    sys.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")


@app.command("workflows")
def list_workflows(ctx: typer.Context) -> None:
    """List the workflows of the workflow folder."""
    settings = _settings(ctx)
    with _errors(settings.lang):
        catalog = WorkflowCatalog.from_folder(settings.workflows)
    for d in catalog.current:
        phases = " → ".join(p.id for p in d.phases)
        out.print(f"[bold]{d.id}[/bold] v{d.version} — {d.title.in_(settings.lang)}\n  {phases}")


# -- database and users ----------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every pending schema migration."""
    settings = _settings(ctx)
    with _errors(settings.lang):
        revision = upgrade(settings.database_url)
    out.print(f"database at revision {revision}")


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: str,
    role: Annotated[list[str], typer.Option("--role", help="A role; repeat for several.")],
) -> None:
    """Add a user; prints the new API token as the last line, once."""

    def work(s: _Settings) -> str:
        known = {r for d in s.services().catalog.current for r in d.roles} | {"auditor", "admin"}
        for r in role:
            if r not in known:
                raise BadInput("--role", f"unknown role {r!r}; known: {', '.join(sorted(known))}")
        return s.database().add_user(name, role)[1]

    token = _run(ctx, work)
    out.print(f"user {name} added with roles {', '.join(role)}; token (shown once):")
    sys.stdout.write(token + "\n")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """List users and their roles (never their tokens)."""
    for user in _run(ctx, lambda s: s.database().list_users()):
        out.print(f"{user.name}: {', '.join(user.roles)}")


# -- initiatives -----------------------------------------------------------------------------------

IdArg = Annotated[str, typer.Argument(help="The initiative's id.")]
ExpectOpt = Annotated[
    int | None, typer.Option("--expect-version", help="Refuse if the version changed.")
]
KeyOpt = Annotated[
    str | None, typer.Option("--idempotency-key", help="Apply at most once under this key.")
]


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

    def work(s: _Settings) -> CommandResult:
        return s.services().create(
            workflow,
            title,
            s.actor(),
            parent_id=parent,
            description=description,
            idempotency_key=idempotency_key,
        )

    _acknowledge(_run(ctx, work))


@app.command()
def status(
    ctx: typer.Context,
    workflow: Annotated[str | None, typer.Option(help="Only this workflow.")] = None,
    phase: Annotated[str | None, typer.Option(help="Only this phase.")] = None,
) -> None:
    """Every initiative with its phase and a progress bar across the phases."""

    def work(s: _Settings) -> None:
        services = s.services()
        projections = services.list_initiatives(workflow_id=workflow, phase=phase, limit=10_000)
        definitions = {
            (p.workflow_id, p.workflow_version): services.catalog.pinned(
                services.database, p.workflow_id, p.workflow_version
            )
            for p in projections
        }
        out.print(show.status_table(projections, definitions, s.lang))

    _run(ctx, work)


@app.command("show")
def show_initiative(ctx: typer.Context, initiative: IdArg) -> None:
    """The checklist with who/when/evidence, and what blocks each step."""

    def work(s: _Settings) -> None:
        actor = s.actor() if s.acting_as else None
        out.print(show.progress_view(s.services().progress(initiative, actor), s.lang))

    _run(ctx, work)


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
    _write(
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
    _write(
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
    _write(
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
    _write(
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
    idempotency_key: KeyOpt = None,
) -> None:
    """Add a participant (their name and contact stay outside the history)."""
    _write(
        ctx,
        lambda svc, actor, options: svc.add_participant(
            initiative, name, role, actor, contact=contact, **options
        ),
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
    _write(
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
) -> None:
    """Put an initiative on hold (its phase stays; the clock stops)."""
    _write(
        ctx,
        lambda svc, actor, options: svc.hold(initiative, reason, actor, **options),
        expect=expect_version,
    )


@app.command()
def resume(
    ctx: typer.Context,
    initiative: IdArg,
    reason: Annotated[str | None, typer.Option()] = None,
    expect_version: ExpectOpt = None,
) -> None:
    """Resume an initiative that is on hold."""
    _write(
        ctx,
        lambda svc, actor, options: svc.resume(initiative, actor, reason=reason, **options),
        expect=expect_version,
    )


@app.command()
def note(ctx: typer.Context, initiative: IdArg, text: str) -> None:
    """Add a note to the history."""
    _write(ctx, lambda svc, actor, options: svc.note(initiative, text, actor, **options))


@app.command()
def history(
    ctx: typer.Context,
    initiative: IdArg,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
) -> None:
    """The initiative's events in order, with actor, time and hash."""

    def work(s: _Settings) -> None:
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
                    "payload": dict(r.payload),
                    "prev_hash": r.prev_hash,
                    "hash": r.hash,
                }
                sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            return
        names = services.person_names(sorted({r.actor for r in records}))
        out.print(show.history_table(records, names, s.lang))

    _run(ctx, work)


@app.command()
def verify(
    ctx: typer.Context,
    initiative: Annotated[str | None, typer.Argument(help="One initiative; default all.")] = None,
) -> None:
    """Check the hash chains; names the first bad event (exit 1 when any chain is broken)."""

    def work(s: _Settings) -> int:
        services = s.services()
        ids = [initiative] if initiative else services.initiative_ids()
        broken = 0
        for initiative_id in ids:
            result = services.verify(initiative_id)
            if result.ok:
                out.print(f"{initiative_id}: ok ({result.events_checked} events)")
            else:
                broken += 1
                out.print(
                    f"[red]{initiative_id}: broken at event {result.first_bad_seq}:[/red] "
                    f"{result.problem}"
                )
        return broken

    if _run(ctx, work):
        raise typer.Exit(1)


@app.command()
def rebuild(ctx: typer.Context) -> None:
    """Fold every history again and check that it reproduces every projection."""

    def work(s: _Settings) -> None:
        services = s.services()
        total = len(services.initiative_ids())
        with ProgressBar(console=err, transient=True) as bar:
            task = bar.add_task("rebuild", total=total)
            report = services.rebuild(lambda n: bar.advance(task, n))
        out.print(f"{report.initiatives} initiatives folded; {len(report.differing)} differed")
        for initiative_id in report.differing:
            out.print(f"  replaced projection of {initiative_id}")

    _run(ctx, work)


@app.command()
def demo(ctx: typer.Context) -> None:
    """Load the example initiatives (Wuppertal, Dortmund) with their histories and show them."""
    from kosiflow.demo import load_demo

    def work(s: _Settings) -> None:
        services = s.services()
        created = load_demo(services)
        out.print(f"demo: {created} initiatives created" if created else "demo data already loaded")
        projections = services.list_initiatives(limit=10_000)
        definitions = {
            (p.workflow_id, p.workflow_version): services.catalog.pinned(
                services.database, p.workflow_id, p.workflow_version
            )
            for p in projections
        }
        out.print(show.status_table(projections, definitions, s.lang))

    _run(ctx, work)


def main() -> None:
    """Entry point of the ``kosiflow`` script."""
    app()
