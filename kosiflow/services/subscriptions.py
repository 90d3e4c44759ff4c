"""Webhook subscriptions and their deliveries, managed by admins (API and CLI).

A subscription receives the events that match all of its filters (workflows, event types,
phases; an empty filter takes any) from the moment ``kosiflow dispatch`` fans them out after it
was added. Its secret signs every request and is stored as given, because signing needs it: treat
the database as holding it, and replace a leaked secret by adding a new subscription and removing
the old one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from kosiflow.engine.events import EVENT_TYPES
from kosiflow.errors import BadInput, NotFound
from kosiflow.services.base import ServiceBase
from kosiflow.services.results import Page
from kosiflow.store import Delivery, DeliveryStatus, Subscription

MIN_SECRET_LENGTH = 16
MAX_URL_LENGTH = 2000


class SubscriptionServices(ServiceBase):
    def add_subscription(
        self,
        url: str,
        *,
        secret: str | None = None,
        workflows: Sequence[str] = (),
        event_types: Sequence[str] = (),
        phases: Sequence[str] = (),
    ) -> Subscription:
        """Subscribe ``url`` to the events matching the filters; a secret is made when none is
        given (the returned subscription carries it: show it to the admin once).

        Raises:
            BadInput: the URL is not http(s), the secret is shorter than 16 characters, or a
                filter names an unknown workflow, event type or phase.
        """
        _check_url(url)
        if secret is not None and len(secret) < MIN_SECRET_LENGTH:
            raise BadInput("secret", f"use at least {MIN_SECRET_LENGTH} characters")
        self._check_filters(workflows, event_types, phases)
        with self.database.write() as unit:
            return unit.outbox.add_subscription(
                url,
                secret if secret is not None else secrets.token_urlsafe(32),
                workflows=workflows,
                event_types=event_types,
                phases=phases,
                now=self._clock(),
            )

    def list_subscriptions(self) -> list[Subscription]:
        with self.database.read() as unit:
            return unit.outbox.subscriptions()

    def subscription(self, subscription_id: str) -> Subscription:
        """Raises: NotFound."""
        with self.database.read() as unit:
            found = unit.outbox.subscription(subscription_id)
        if found is None:
            raise NotFound("subscription", subscription_id)
        return found

    def remove_subscription(self, subscription_id: str) -> None:
        """Remove a subscription and its deliveries (an attempt under way still ends).

        Raises:
            NotFound: there is no such subscription.
        """
        with self.database.write() as unit:
            if not unit.outbox.remove_subscription(subscription_id):
                raise NotFound("subscription", subscription_id)

    def list_deliveries(
        self,
        *,
        status: DeliveryStatus | None = None,
        subscription_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[Delivery]:
        """Deliveries in the order they were made; ``status="dead"`` lists the dead letters."""
        with self.database.read() as unit:
            items = unit.outbox.deliveries(
                status=status, subscription_id=subscription_id, limit=limit, offset=offset
            )
            total = unit.outbox.count_deliveries(status=status, subscription_id=subscription_id)
        return Page(tuple(items), total)

    def delivery(self, delivery_id: int) -> Delivery:
        """Raises: NotFound."""
        with self.database.read() as unit:
            return _found(unit.outbox.delivery(delivery_id), delivery_id)

    def redeliver(self, delivery_id: int) -> Delivery:
        """Send a dead (or delivered, or skipped) event again, from the first attempt, now.

        It keeps its place: the initiative's later events for the subscription wait for it. A
        pending delivery is left as it is (it is going to be sent anyway).

        Raises:
            NotFound: there is no such delivery.
        """
        with self.database.write() as unit:
            unit.outbox.redeliver(delivery_id, now=self._clock())
            return _found(unit.outbox.delivery(delivery_id), delivery_id)

    def skip_delivery(self, delivery_id: int) -> Delivery:
        """Give up on a dead or pending delivery, so that the initiative's later events for the
        subscription may go; a delivered or skipped one is left as it is.

        Raises:
            NotFound: there is no such delivery.
        """
        with self.database.write() as unit:
            unit.outbox.skip(delivery_id)
            return _found(unit.outbox.delivery(delivery_id), delivery_id)

    def _check_filters(
        self, workflows: Sequence[str], event_types: Sequence[str], phases: Sequence[str]
    ) -> None:
        definitions = {d.id: d for d in self.catalog.current}
        _check_known("workflows", workflows, definitions)
        _check_known("event_types", event_types, EVENT_TYPES)
        chosen = [definitions[w] for w in workflows] or list(definitions.values())
        _check_known("phases", phases, {p.id for d in chosen for p in d.phases})


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a malformed host or port
        valid = False
    if not valid:
        raise BadInput("url", "give an http:// or https:// URL with a host")
    if len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        raise BadInput("url", f"give a URL without spaces, at most {MAX_URL_LENGTH} characters")


def _check_known(field: str, given: Iterable[str], known: Iterable[str]) -> None:
    names = set(known)
    unknown = [name for name in given if name not in names]
    if unknown:
        raise BadInput(
            field, f"unknown: {', '.join(unknown)}; known: {', '.join(sorted(names)) or 'none'}"
        )


def _found(delivery: Delivery | None, delivery_id: int) -> Delivery:
    if delivery is None:
        raise NotFound("delivery", str(delivery_id))
    return delivery
