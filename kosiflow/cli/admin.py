"""Commands for workflows, the database and users."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from kosiflow.catalog import WorkflowCatalog
from kosiflow.cli.app import (
    Settings,
    app,
    db_app,
    err,
    errors,
    out,
    run,
    settings_of,
    users_app,
)
from kosiflow.definition import json_schema, load_definition
from kosiflow.errors import BadInput, DefinitionError, NotFound
from kosiflow.store import upgrade

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
                err.print(str(problem))
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
    settings = settings_of(ctx)
    with errors(settings.lang):
        catalog = WorkflowCatalog.from_folder(settings.workflows)
    for d in catalog.current:
        phases = " → ".join(p.id for p in d.phases)
        out.print(Text.assemble((d.id, "bold"), f" v{d.version} — {d.title.in_(settings.lang)}"))
        out.print(f"  {phases}")


# -- database and users ----------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every pending schema migration."""
    settings = settings_of(ctx)
    with errors(settings.lang):
        revision = upgrade(settings.database_url)
    out.print(f"database at revision {revision}")


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: str,
    role: Annotated[list[str], typer.Option("--role", help="A role; repeat for several.")],
) -> None:
    """Add a user; prints the new API token as the last line, once."""

    def work(s: Settings) -> str:
        known = {r for d in s.services().catalog.current for r in d.roles} | {"auditor", "admin"}
        for r in role:
            if r not in known:
                raise BadInput("--role", f"unknown role {r!r}; known: {', '.join(sorted(known))}")
        return s.database().add_user(name, role)[1]

    token = run(ctx, work)
    out.print(f"user {name} added with roles {', '.join(role)}; token (shown once):")
    sys.stdout.write(token + "\n")


@users_app.command("token")
def users_token(ctx: typer.Context, name: str) -> None:
    """Give a user a new API token (printed as the last line, once); the old one stops working."""

    def work(s: Settings) -> str:
        user = s.database().user_by_name(name)
        if user is None:
            raise NotFound("user", name)
        return s.database().renew_token(user)

    token = run(ctx, work)
    out.print(f"new token for {name} (shown once; the old one no longer works):")
    sys.stdout.write(token + "\n")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """List users and their roles (never their tokens)."""
    for user in run(ctx, lambda s: s.database().list_users()):
        out.print(f"{user.name}: {', '.join(user.roles)}")


@app.command()
def erase(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="A person's id (p-…) or name.")],
    every: Annotated[
        bool, typer.Option("--all", help="Erase everyone with this name (users, participants).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a person's name and contact on request (GDPR Art. 17). The histories keep only the
    pseudonymous id and still verify; an erased user's token stops working. Cannot be undone."""

    def work(s: Settings) -> None:
        services = s.services()
        found = [p for p in services.find_people(person) if p.erased_at is None]
        names = ", ".join(f"{p.name} ({p.id})" for p in found)
        if found and not yes and not typer.confirm(f"Erase {names} for good?"):
            raise typer.Exit(1)
        for erased in services.erase_people(person, every=every):
            out.print(f"erased {erased.id}: name and contact removed, the history keeps the id")

    run(ctx, work)
