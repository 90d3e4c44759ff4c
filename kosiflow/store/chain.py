"""The hash chain over an initiative's events: how a hash is computed, and how to verify one.

Each event's ``hash`` is the SHA-256 of a canonical JSON encoding of its content *and* the
previous event's hash (``GENESIS_HASH`` before the first). Changing, deleting, reordering or
inserting a stored row therefore breaks the chain at the first row touched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from kosiflow.store.columns import iso_utc
from kosiflow.store.records import GENESIS_HASH, EventRecord, JsonObject


def compact_encoder(*, sort_keys: bool) -> Callable[[object], str]:
    """A compact, non-ASCII-escaping JSON encoder function, built once.

    ``json.dumps`` with options builds a new encoder per call, which costs as much as the
    encoding of a small object; this calls the C encoder it would build directly.
    """
    encoder = json.JSONEncoder(sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)
    if c_make_encoder is None:  # pragma: no cover - CPython always has the C encoder
        return encoder.encode
    chunks = c_make_encoder(
        None, encoder.default, encode_basestring, None, ":", ",", sort_keys, False, True
    )
    return lambda value: "".join(chunks(value, 0))


_string = encode_basestring
"""A str as canonical JSON spells it (non-ASCII kept, as ``ensure_ascii=False``)."""

canonical_json = compact_encoder(sort_keys=True)
"""The one JSON spelling used for hashing and storing payloads: equal to ``json.dumps(value,
sort_keys=True, separators=(",", ":"), ensure_ascii=False)``."""


def compute_hash(
    *,
    initiative_id: str,
    seq: int,
    type: str,
    schema_version: int,
    actor: str,
    at: datetime,
    payload: JsonObject,
    prev_hash: str,
) -> str:
    """SHA-256 hex of the canonical encoding of one event and its predecessor's hash.

    The encoding is ``canonical_json([initiative_id, seq, type, schema_version, actor,
    at as ISO-8601 UTC with microseconds, payload, prev_hash])``.
    """
    head = [initiative_id, seq, type, schema_version, actor, iso_utc(at)]
    return digest(head, canonical_json(payload), prev_hash)


def digest(head: list[object], payload_json: str, prev_hash: str) -> str:
    """:func:`compute_hash` from parts: the six leading fields, the payload already encoded.

    Lets the store encode a payload once for both hashing and storing; the text hashed is
    byte for byte ``canonical_json([*head, payload, prev_hash])``.
    """
    text = f"{canonical_json(head)[:-1]},{payload_json},{canonical_json(prev_hash)}]"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(record: EventRecord) -> str:
    """The hash ``record`` should carry, recomputed from its content and ``prev_hash``."""
    return compute_hash(
        initiative_id=record.initiative_id,
        seq=record.seq,
        type=record.type,
        schema_version=record.schema_version,
        actor=record.actor,
        at=record.at,
        payload=record.payload,
        prev_hash=record.prev_hash,
    )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of :func:`verify_chain`; ``first_bad_seq`` and ``problem`` when not ok."""

    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


Link = tuple[int, str, str, str]
"""What the chain check needs of one event: seq, prev_hash, hash, and the hash recomputed."""


def _problem(link: Link, expected_seq: int, expected_prev: str) -> tuple[int, str] | None:
    """What is wrong with the event at position ``expected_seq``, or None when it fits."""
    seq, prev_hash, stored, recomputed = link
    if seq != expected_seq:
        if seq > expected_seq:
            return expected_seq, f"event {expected_seq} is missing (next stored is {seq})"
        return seq, f"event {seq} appears again after event {expected_seq - 1}"
    if stored != recomputed:
        return seq, f"event {seq} was changed (its hash does not match)"
    if prev_hash != expected_prev:
        return seq, f"event {seq} does not follow event {seq - 1}"
    return None


def verify_chain(
    records: Iterable[EventRecord], *, head_hash: str | None = None, version: int | None = None
) -> VerifyResult:
    """Check that ``records`` (in seq order) form an intact chain from seq 1.

    Detects changed rows (hash mismatch), deletions and gaps (seq not contiguous from 1),
    reorders and insertions (``prev_hash`` not the previous row's hash). Given the projection's
    ``head_hash`` and ``version``, it also detects rows cut from or forged onto the end.
    """
    links = ((r.seq, r.prev_hash, r.hash, record_hash(r)) for r in records)
    return _verify_links(links, head_hash, version)


def verify_stored(
    rows: Iterable[Sequence[Any]], *, head_hash: str | None = None, version: int | None = None
) -> VerifyResult:
    """:func:`verify_chain` on stored rows as they come from the database (columns of
    ``select_events``), hashing the stored payload text as it is: no decoding and re-encoding,
    so about twice as fast. A payload respelled in the database counts as changed."""
    return _verify_links(((r[1], r[7], r[8], _row_hash(r)) for r in rows), head_hash, version)


def _row_hash(row: Sequence[Any]) -> str:
    at = row[5] if isinstance(row[5], str) else iso_utc(row[5])
    head = f"[{_string(row[0])},{row[1]},{_string(row[2])},{row[3]},{_string(row[4])},"
    text = f"{head}{_string(at)},{row[6]},{_string(row[7])}]"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _verify_links(
    links: Iterable[Link], head_hash: str | None, version: int | None
) -> VerifyResult:
    expected_prev = GENESIS_HASH
    checked = 0
    for link in links:
        found = _problem(link, checked + 1, expected_prev)
        if found is not None:
            return VerifyResult(False, checked, *found)
        checked += 1
        expected_prev = link[2]
    if version is not None and version != checked:
        bad = min(version, checked) + 1
        return VerifyResult(
            False, checked, bad, f"history has {checked} events, expected {version}"
        )
    if head_hash is not None and checked and head_hash != expected_prev:
        return VerifyResult(False, checked, checked, f"event {checked} is not the recorded head")
    return VerifyResult(True, checked)
