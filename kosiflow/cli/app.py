"""The typer app, its global options and settings, and how errors become exit codes.

Exit codes: 0 done, 1 refused or conflict (every reason printed), 2 bad input.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from kosiflow.catalog import WorkflowCatalog
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
from kosiflow.store import Database, open_database

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
audit_app = typer.Typer(help="Proofs for auditors: chain heads kept outside.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(participant_app, name="participant")
app.add_typer(audit_app, name="audit")

out = Console(highlight=False, markup=False)
err = Console(stderr=True, highlight=False, markup=False)
"""Markup is off: people's texts are printed as written; styles come from ``Text`` objects."""

_LABELS = {
    "en": {"refused": "Refused:", "conflict": "Conflict:", "error": "Error:"},
    "de": {"refused": "Abgelehnt:", "conflict": "Konflikt:", "error": "Fehler:"},
}


def _say(lang: str, label: str, text: str = "") -> None:
    err.print(Text.assemble((_LABELS[lang][label], "red"), f" {text}" if text else ""))


T = TypeVar("T")

IdArg = Annotated[str, typer.Argument(help="The initiative's id.")]
ExpectOpt = Annotated[
    int | None, typer.Option("--expect-version", help="Refuse if the version changed.")
]
KeyOpt = Annotated[
    str | None, typer.Option("--idempotency-key", help="Apply at most once under this key.")
]


@dataclass
class Settings:
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


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)  # noqa: S101 -- set by the callback
    return settings


@contextmanager
def errors(lang: str) -> Iterator[None]:
    """Turn kosiflow's errors into messages and exit codes."""
    try:
        yield
    except CommandRefused as exc:
        _say(lang, "refused")
        for b in exc.blockers:
            err.print(Text.assemble(f"  • {b.message(lang)} ", (f"({b.code})", "dim")))
        raise typer.Exit(1) from exc
    except ConcurrencyConflict as exc:
        _say(lang, "conflict", str(exc))
        raise typer.Exit(1) from exc
    except DefinitionError as exc:
        for problem in exc.problems:
            err.print(str(problem))
        raise typer.Exit(2) from exc
    except (BadInput, NotFound, IdempotencyMismatch) as exc:
        _say(lang, "error", str(exc))
        raise typer.Exit(2) from exc
    except KosiflowError as exc:
        _say(lang, "error", str(exc))
        raise typer.Exit(2) from exc


def run(ctx: typer.Context, work: Callable[[Settings], T]) -> T:
    settings = settings_of(ctx)
    with errors(settings.lang):
        return work(settings)


WriteCall = Callable[[Services, Actor, dict[str, Any]], CommandResult]
"""A write: (services, acting user, options for expected version and idempotency key)."""


def write(
    ctx: typer.Context, call: WriteCall, *, expect: int | None = None, key: str | None = None
) -> None:
    """Run one write command as the ``--as`` user and print what it recorded."""
    options: dict[str, Any] = {"expected_version": expect, "idempotency_key": key}
    acknowledge(run(ctx, lambda s: call(s.services(), s.actor(), options)))


def acknowledge(result: CommandResult) -> None:
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
    settings = Settings(database, workflows, lang, acting_as, sqlite_synchronous)
    ctx.obj = settings
    ctx.call_on_close(settings.close)
