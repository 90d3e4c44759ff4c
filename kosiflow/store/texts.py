"""Texts kept outside the hashed event payloads: commitments, reading them back, checking them.

From event schema 2 on, each text the engine names redactable (evidence links, notes) is stored
in ``event_texts`` with a random salt, and the hashed payload holds in its place
``{"sha256": sha256(salt || text)}`` (the salt's bytes, then the text's UTF-8). The chain hashes
the commitment, so removing a text (``text`` and ``salt`` set to NULL, ``removed_at`` set)
leaves every chain intact, while a text changed in the table no longer matches its commitment.
Without its salt a removed text cannot be recovered by guessing it against the commitment.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from kosiflow.store.chain import VerifyResult, verify_chain, verify_stored
from kosiflow.store.columns import from_db_time
from kosiflow.store.executor import Executor, Row
from kosiflow.store.records import NO_TEXTS, EventRecord, EventText, JsonObject

SALT_BYTES = 16
COMMITMENT_KEY = "sha256"
REMOVED_SUFFIX = "_removed_at"
"""``<field>_removed_at`` beside a null ``<field>`` in a readable payload (``engine.events``)."""
REMOVAL_EVENT = "TextsRemoved"
"""The event type that records removals: its payload's ``removed`` lists [seq, field] pairs."""

Texts = dict[int, dict[str, EventText]]
"""An initiative's texts: seq → field → text."""


def commitment(salt: str, text: str) -> str:
    """SHA-256 hex of the salt's bytes followed by the text's UTF-8 bytes."""
    return hashlib.sha256(bytes.fromhex(salt) + text.encode("utf-8")).hexdigest()


def seal(
    payload: JsonObject, fields: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, EventText]]:
    """The payload to hash, with each text of ``fields`` (field → category) replaced by its
    commitment, and those texts with their fresh salts. Absent texts (None) stay None."""
    sealed = dict(payload)
    texts: dict[str, EventText] = {}
    for name, category in fields.items():
        text = payload.get(name)
        if text is None:
            continue
        if not isinstance(text, str):
            raise ValueError(f"{name} must be a text to be sealed, not {type(text).__name__}")
        salt = os.urandom(SALT_BYTES)  # what secrets.token_hex uses, without its detours
        digest = hashlib.sha256(salt + text.encode("utf-8")).hexdigest()
        sealed[name] = {COMMITMENT_KEY: digest}
        texts[name] = EventText(category, text, salt.hex())
    return sealed, texts


def _committed(value: object) -> str | None:
    """The digest a payload value commits to, or None when it is no commitment."""
    if type(value) is dict and len(value) == 1:
        digest = value.get(COMMITMENT_KEY)
        return digest if type(digest) is str else None
    return None


def commitments(payload: JsonObject) -> dict[str, str]:
    """Field → digest of each commitment in a decoded payload."""
    found = {}
    for name, value in payload.items():
        digest = _committed(value)
        if digest is not None:
            found[name] = digest
    return found


_STORED_COMMITMENT = re.compile(r'"([^"\\]+)":\{"sha256":"([^"\\]*)"\}')
"""A commitment in stored (canonical) payload text: a quote inside a JSON string is escaped, so
an unescaped ``"sha256":`` is always a key; a payload is flat, so its key is the field's."""
_MARK = f'"{COMMITMENT_KEY}":'


def readable_payload(record: EventRecord) -> dict[str, Any]:
    """The payload with its texts put back: a kept text in place of its commitment; a removed
    one as null with ``<field>_removed_at`` (the removal time; null when the text is missing
    without a recorded removal, which ``verify`` names). Schema-1 payloads come back as stored.
    """
    payload = dict(record.payload)
    if record.schema_version < 2:
        return payload
    for name, value in record.payload.items():
        if _committed(value) is None:
            continue
        found = record.texts.get(name)
        if found is not None and found.text is not None:
            payload[name] = found.text
        else:
            payload[name] = None
            removed = None if found is None else found.removed_at
            payload[name + REMOVED_SUFFIX] = None if removed is None else removed.isoformat()
    return payload


def removed_by_events(records: Iterable[tuple[str, JsonObject]]) -> set[tuple[int, str]]:
    """The (seq, field) pairs the removal events among ``records`` (type, payload) name."""
    named: set[tuple[int, str]] = set()
    for type_name, payload in records:
        if type_name == REMOVAL_EVENT:
            named.update((int(seq), str(field)) for seq, field in payload.get("removed", ()))
    return named


def _matches(salt: str, text: str, digest: str) -> bool:
    try:
        return commitment(salt, text) == digest  # nothing secret to time: both are stored
    except ValueError:  # a salt that is no hex any more was changed too
        return False


def text_problem(
    seq: int,
    committed: Mapping[str, str],
    texts: Mapping[str, EventText],
    removed: set[tuple[int, str]],
) -> str | None:
    """What is wrong with the texts of event ``seq`` given its payload's commitments (field →
    digest), or None: each commitment needs its text, matching it, or a removal a removal
    event records; and no text may stand beside a payload that does not commit to it."""
    if not texts.keys() <= committed.keys():
        uncommitted = min(texts.keys() - committed.keys())
        return f"event {seq} has a stored {uncommitted} text its payload does not commit to"
    for name, digest in committed.items():
        found = texts.get(name)
        if found is None:
            return f"the {name} text of event {seq} is missing (not removed by the policy)"
        if found.text is None or found.salt is None:
            if found.removed_at is None or (seq, name) not in removed:
                return f"the {name} text of event {seq} is gone, but no removal records it"
        elif not _matches(found.salt, found.text, digest):
            return f"the {name} text of event {seq} was changed (it does not match its commitment)"
    return None


def texts_problem(
    committed: Iterable[tuple[int, Mapping[str, str]]],
    texts: Texts,
    removed: set[tuple[int, str]],
) -> tuple[int, str] | None:
    """The first event (seq, problem) whose texts do not fit its commitments, given the
    commitments of every event that has any, the initiative's texts, and the removals its
    removal events record."""
    seen: set[int] = set()
    for seq, digests in committed:
        seen.add(seq)
        problem = text_problem(seq, digests, texts.get(seq, NO_TEXTS), removed)
        if problem is not None:
            return seq, problem
    strays = sorted(texts.keys() - seen)
    if strays:
        return strays[0], f"texts are stored for event {strays[0]}, which has no commitment to them"
    return None


def _with_texts(
    chain: VerifyResult,
    committed: Iterable[tuple[int, Mapping[str, str]]],
    texts: Texts,
    removed: set[tuple[int, str]],
) -> VerifyResult:
    """``chain`` (an intact chain's result), unless the texts do not fit their commitments."""
    if not chain.ok:
        return chain
    found = texts_problem(committed, texts, removed)
    if found is None:
        return chain
    return VerifyResult(False, chain.events_checked, *found)


def verify_history(
    records: Sequence[EventRecord], *, head_hash: str | None = None, version: int | None = None
) -> VerifyResult:
    """:func:`verify_chain` on records read with their texts, and then every text checked
    against its commitment (:func:`texts_problem`)."""
    chain = verify_chain(records, head_hash=head_hash, version=version)
    committed = [(r.seq, c) for r in records if (c := commitments(r.payload)) or r.texts]
    removed = removed_by_events((r.type, r.payload) for r in records)
    texts = {r.seq: dict(r.texts) for r in records if r.texts}
    return _with_texts(chain, committed, texts, removed)


def verify_stored_history(
    rows: Iterable[Row], texts: Texts, *, head_hash: str | None = None, version: int | None = None
) -> VerifyResult:
    """:func:`verify_stored` on stored rows, and then ``texts`` (the initiative's, from
    :func:`texts_of`) checked against the commitments. The commitments are read from the
    stored payload text as it streams by (only removal events are decoded), so the chain
    check keeps most of its speed."""
    committed: list[tuple[int, dict[str, str]]] = []
    removals: list[tuple[str, JsonObject]] = []

    def watched() -> Iterator[Row]:
        for row in rows:
            if _MARK in row[6]:
                committed.append((row[1], dict(_STORED_COMMITMENT.findall(row[6]))))
            elif row[2] == REMOVAL_EVENT:
                removals.append((row[2], orjson.loads(row[6])))
            elif row[1] in texts:
                committed.append((row[1], {}))
            yield row

    chain = verify_stored(watched(), head_hash=head_hash, version=version)
    return _with_texts(chain, committed, texts, removed_by_events(removals))


# -- the table ---------------------------------------------------------------------------------


def texts_of(db: Executor, initiative_id: str) -> Texts:
    """Every stored text of an initiative, by seq and field."""
    found: Texts = {}
    for seq, field, category, text, salt, removed_at in db.all(
        db.sql.texts.select_of_initiative, {"id": initiative_id}
    ):
        removed = None if removed_at is None else from_db_time(removed_at)
        found.setdefault(seq, {})[field] = EventText(category, text, salt, removed)
    return found


class TextsInOrder:
    """Initiative id → its texts, read from one stream of every initiative's text rows
    (initiative id, then the columns of :func:`texts_of`) in the order the initiatives will be
    asked for; an initiative without texts is simply not in the stream."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self._rows = iter(rows)
        self._next: Row | None = next(self._rows, None)

    def __call__(self, initiative_id: str) -> Texts:
        found: Texts = {}
        while self._next is not None and self._next[0] == initiative_id:
            _, seq, field, category, text, salt, removed_at = self._next
            removed = None if removed_at is None else from_db_time(removed_at)
            found.setdefault(seq, {})[field] = EventText(category, text, salt, removed)
            self._next = next(self._rows, None)
        return found


def insert_texts(db: Executor, records: Iterable[EventRecord]) -> None:
    """Store the texts of ``records`` (appended or imported) beside them."""
    rows = [
        {
            "initiative_id": r.initiative_id,
            "seq": r.seq,
            "field": name,
            "category": t.category,
            "at": db.db_time(r.at),
            "text": t.text,
            "salt": t.salt,
            "removed_at": None if t.removed_at is None else db.db_time(t.removed_at),
        }
        for r in records
        for name, t in r.texts.items()
    ]
    if len(rows) == 1:
        db.run(db.sql.texts.insert, rows[0])
    elif rows:
        db.run_many(db.sql.texts.insert, rows)


def due_params(db: Executor, limits: Mapping[str, datetime | None]) -> dict[str, Any]:
    """The bound values of the ``select_due`` statements: category → recorded at or before."""
    return {
        f"{category}_before": None if moment is None else db.db_time(moment)
        for category, moment in limits.items()
    }


def remove_text(db: Executor, initiative_id: str, seq: int, field: str, at: datetime) -> bool:
    """Blank one text (and its salt); False when it was removed already."""
    params = {
        "b_id": initiative_id,
        "b_seq": seq,
        "b_field": field,
        "text": None,
        "salt": None,
        "removed_at": db.db_time(at),
    }
    return db.count(db.sql.texts.remove, params) == 1
