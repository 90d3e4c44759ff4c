"""A webhook request: an event as JSON, signed with the subscription's secret, sent with httpx.

The body is ``{"id": "<initiative_id>:<seq>", "type", "initiative_id", "seq", "workflow_id",
"phase", "at", "actor", "schema_version", "payload"}``; ``id`` is the same on every attempt, so a
receiver drops what it has seen (delivery is at least once). Headers:

- ``X-Kosiflow-Event-Id``: the ``id``;
- ``X-Kosiflow-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the body's exact bytes, keyed
  with the subscription's secret (compare in constant time, e.g. ``hmac.compare_digest``);
- ``X-Kosiflow-Timestamp``: when the attempt was made, in Unix seconds.

Any 2xx answer is a delivery; anything else, a redirect included, or no answer within the timeout
is a failed attempt.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import httpx
import orjson

from kosiflow.store import ClaimedDelivery

EVENT_ID_HEADER = "X-Kosiflow-Event-Id"
SIGNATURE_HEADER = "X-Kosiflow-Signature"
TIMESTAMP_HEADER = "X-Kosiflow-Timestamp"
USER_AGENT = "kosiflow-webhooks/1"
MAX_ANSWER_BYTES = 64 * 1024
"""How much of an answer's body is read (so that its connection can be reused); the rest is
dropped with the connection."""
MAX_ERROR_CHARS = 300


def event_id(initiative_id: str, seq: int) -> str:
    """The id a receiver deduplicates by: the same for every attempt of one event."""
    return f"{initiative_id}:{seq}"


def webhook_body(delivery: ClaimedDelivery) -> bytes:
    """The JSON body of a delivery (the stored payload is embedded as stored)."""
    return orjson.dumps(
        {
            "id": event_id(delivery.initiative_id, delivery.seq),
            "type": delivery.type,
            "initiative_id": delivery.initiative_id,
            "seq": delivery.seq,
            "workflow_id": delivery.workflow_id,
            "phase": delivery.phase,
            "at": delivery.at.isoformat(timespec="microseconds"),
            "actor": delivery.actor,
            "schema_version": delivery.schema_version,
            "payload": orjson.Fragment(delivery.payload_json),
        }
    )


def signature(secret: str, body: bytes) -> str:
    """The ``X-Kosiflow-Signature`` value of ``body`` under ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookSender:
    """Sends deliveries over pooled, kept-alive connections (safe to use from several threads).

    Args:
        timeout: seconds allowed for connecting, for sending the body, and between bytes of the
            answer, each.
        connections: how many connections may be open at once.
    """

    def __init__(self, *, timeout: float, connections: int) -> None:
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=connections),
            headers={"User-Agent": USER_AGENT},
        )

    def send(self, delivery: ClaimedDelivery, *, now: datetime) -> str | None:
        """Make one attempt; None when the receiver answered 2xx, else what went wrong."""
        body = webhook_body(delivery)
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: event_id(delivery.initiative_id, delivery.seq),
            SIGNATURE_HEADER: signature(delivery.secret, body),
            TIMESTAMP_HEADER: str(int(now.timestamp())),
        }
        try:
            with self._client.stream("POST", delivery.url, content=body, headers=headers) as answer:
                _read_some(answer)
                status = answer.status_code
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        if 200 <= status < 300:
            return None
        return f"HTTP {status}"

    def close(self) -> None:
        self._client.close()


def _read_some(answer: httpx.Response) -> None:
    """Read the answer's body up to :data:`MAX_ANSWER_BYTES`."""
    read = 0
    for chunk in answer.iter_raw():
        read += len(chunk)
        if read > MAX_ANSWER_BYTES:
            return
