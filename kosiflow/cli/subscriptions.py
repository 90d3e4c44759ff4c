"""Webhooks from the command line: ``kosiflow subscriptions …`` and ``kosiflow dispatch``."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.text import Text

from kosiflow.cli.app import Settings, app, err, out, run
from kosiflow.errors import StoreError
from kosiflow.services import Dispatcher, DispatchRound, DispatchSettings
from kosiflow.store import Delivery, Subscription

subscriptions_app = typer.Typer(
    help="Webhook subscriptions and their deliveries (run `kosiflow dispatch` to send them).",
    no_args_is_help=True,
)
app.add_typer(subscriptions_app, name="subscriptions")

DEFAULTS = DispatchSettings()
SubscriptionArg = Annotated[str, typer.Argument(help="The subscription's id (s-…).")]
DeliveryArg = Annotated[int, typer.Argument(help="The delivery's number.")]


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "any"


def _show_subscription(s: Subscription) -> None:
    out.print(Text.assemble((s.id, "bold"), f" {s.url}"))
    out.print(
        f"  workflows: {_names(s.workflows)}; events: {_names(s.event_types)}; "
        f"phases: {_names(s.phases)}; since {s.created_at.isoformat(timespec='seconds')}"
    )


def _show_delivery(d: Delivery) -> None:
    when = d.next_attempt_at.isoformat(timespec="seconds")
    state = f"next attempt {when}" if d.status == "pending" else d.status
    out.print(
        Text.assemble(
            (f"#{d.id}", "bold"),
            f" {d.status:<9} {d.initiative_id}:{d.seq} {d.type} → {d.subscription_id}",
        )
    )
    error = f"; last error: {d.last_error}" if d.last_error else ""
    out.print(f"  {d.attempts} attempt(s), {state}{error}")


@subscriptions_app.command("add")
def add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Where to POST the events (http or https).")],
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="KOSIFLOW_WEBHOOK_SECRET",
            help="Signs each request (at least 16 characters); made and shown once if not given.",
        ),
    ] = None,
    workflow: Annotated[
        list[str] | None, typer.Option("--workflow", help="Only this workflow; repeatable.")
    ] = None,
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="Only this event type (e.g. PhaseChanged); repeatable."),
    ] = None,
    phase: Annotated[
        list[str] | None, typer.Option("--phase", help="Only in this phase; repeatable.")
    ] = None,
) -> None:
    """Subscribe a URL to the events (all of them, or those matching every filter given)."""

    def work(s: Settings) -> Subscription:
        return s.services().add_subscription(
            url,
            secret=secret,
            workflows=workflow or (),
            event_types=event or (),
            phases=phase or (),
        )

    added = run(ctx, work)
    _show_subscription(added)
    if secret is None:
        out.print("signing secret (shown once):")
        sys.stdout.write(added.secret + "\n")


@subscriptions_app.command("list")
def list_subscriptions(ctx: typer.Context) -> None:
    """List the subscriptions with their filters (never their secrets)."""
    found = run(ctx, lambda s: s.services().list_subscriptions())
    for subscription in found:
        _show_subscription(subscription)
    if not found:
        out.print("no subscriptions")


@subscriptions_app.command("remove")
def remove(ctx: typer.Context, subscription: SubscriptionArg) -> None:
    """Remove a subscription and its deliveries."""
    run(ctx, lambda s: s.services().remove_subscription(subscription))
    out.print(f"subscription {subscription} removed")


@subscriptions_app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    dead: Annotated[bool, typer.Option("--dead", help="Only the dead letters.")] = False,
    subscription: Annotated[
        str | None, typer.Option("--subscription", help="Only those of this subscription.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 100,
) -> None:
    """List deliveries, the oldest first: status, event, attempts, next attempt, last error."""
    page = run(
        ctx,
        lambda s: s.services().list_deliveries(
            status="dead" if dead else None, subscription_id=subscription, limit=limit
        ),
    )
    for delivery in page.items:
        _show_delivery(delivery)
    out.print(f"{len(page.items)} of {page.total} deliveries")


@subscriptions_app.command("redeliver")
def redeliver(ctx: typer.Context, delivery: DeliveryArg) -> None:
    """Send a dead (or delivered) event again, from the first attempt; it keeps its place in
    its initiative's order."""
    _show_delivery(run(ctx, lambda s: s.services().redeliver(delivery)))


@subscriptions_app.command("skip")
def skip(ctx: typer.Context, delivery: DeliveryArg) -> None:
    """Give up on a dead or pending delivery, so that the initiative's later events may go."""
    _show_delivery(run(ctx, lambda s: s.services().skip_delivery(delivery)))


def _report(done: DispatchRound | StoreError) -> None:
    if isinstance(done, StoreError):
        err.print(Text.assemble(("Error:", "red"), f" {done} (trying again)"))
    elif not done.is_idle:
        out.print(
            f"fanned out {done.fanned_out}, delivered {done.delivered}, "
            f"retrying {done.retrying}, dead {done.dead}"
        )


@app.command()
def dispatch(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Send what is due now, then stop (no waiting).")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, help="Events per round.")] = DEFAULTS.batch,
    poll: Annotated[
        float, typer.Option(min=0.01, help="Seconds to wait when there is nothing to do.")
    ] = DEFAULTS.poll,
    max_attempts: Annotated[
        int, typer.Option(min=1, help="Failed attempts before a delivery is dead.")
    ] = DEFAULTS.max_attempts,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds per request step.")
    ] = DEFAULTS.timeout,
    backoff_base: Annotated[
        float, typer.Option(min=0.0, help="Seconds before the first retry (then doubling).")
    ] = DEFAULTS.backoff_base,
    backoff_cap: Annotated[
        float, typer.Option(min=0.0, help="Longest wait between tries.")
    ] = DEFAULTS.backoff_cap,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Requests at the same time.")
    ] = DEFAULTS.concurrency,
) -> None:
    """Deliver events to the webhook subscriptions until stopped (Ctrl-C, SIGTERM). Several
    may run at once on PostgreSQL; on SQLite one is enough."""
    settings = DispatchSettings(
        batch=batch,
        poll=poll,
        max_attempts=max_attempts,
        timeout=timeout,
        backoff_base=backoff_base,
        backoff_cap=backoff_cap,
        concurrency=concurrency,
    )
    stop = threading.Event()

    def work(s: Settings) -> None:
        with Dispatcher(s.database(), settings) as dispatcher:
            dispatcher.run(stop, once=once, report=_report)

    stopping = (signal.SIGINT, signal.SIGTERM)
    before = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in stopping}
    try:
        run(ctx, work)
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
