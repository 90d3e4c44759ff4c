"""Chain heads kept outside the database: proof against a history rewritten wholesale.

Verifying a hash chain finds a changed, deleted, reordered or inserted row — unless someone with
write access recomputed every hash after their change. The answer is to keep each chain's head
(version and hash) somewhere else: a later check finds any history whose event at that version no
longer carries that hash. With a key (``KOSIFLOW_AUDIT_KEY``) the heads document is signed with
HMAC-SHA256, so the document itself cannot be rewritten to match either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kosiflow.errors import BadInput
from kosiflow.store import canonical_json

FORMAT = "kosiflow/chain-heads/v1"


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last event of one initiative's history when the heads were taken."""

    initiative_id: str
    version: int
    hash: str


@dataclass(frozen=True, slots=True)
class HeadFinding:
    """An initiative whose history no longer leads through its recorded head."""

    initiative_id: str
    problem: str


def _signature(heads: Sequence[ChainHead], generated_at: str, key: bytes) -> str:
    content = canonical_json(
        [FORMAT, generated_at, [[h.initiative_id, h.version, h.hash] for h in heads]]
    )
    return hmac.new(key, content.encode("utf-8"), hashlib.sha256).hexdigest()


def heads_document(heads: Sequence[ChainHead], generated_at: datetime, key: bytes | None) -> str:
    """The heads as a JSON document, signed when a key is given."""
    when = generated_at.isoformat()
    document: dict[str, object] = {
        "format": FORMAT,
        "generated_at": when,
        "heads": [
            {"initiative_id": h.initiative_id, "version": h.version, "hash": h.hash} for h in heads
        ],
        "signature": None if key is None else _signature(heads, when, key),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def read_heads_document(text: str, key: bytes | None, *, source: str) -> list[ChainHead]:
    """The heads of a document from :func:`heads_document`; with a key, its signature must match
    (an unsigned document is refused then, too)."""
    try:
        document = json.loads(text)
        if document.get("format") != FORMAT:
            raise BadInput(source, f"not a heads document (format {FORMAT!r} expected)")
        heads = [
            ChainHead(str(h["initiative_id"]), int(h["version"]), str(h["hash"]))
            for h in document["heads"]
        ]
        generated_at = str(document["generated_at"])
        signature = document.get("signature")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(source, f"not a readable heads document ({exc})") from None
    if key is not None:
        if not isinstance(signature, str):
            raise BadInput(source, "the document is not signed, but an audit key is set")
        if not hmac.compare_digest(signature, _signature(heads, generated_at, key)):
            raise BadInput(source, "the signature does not match: the document was altered")
    return heads
