"""The export formats of event histories: JSON Lines and CSV, written and read as they stream by.

Each event carries its payload as hashed and, in ``texts``, the texts kept outside it (schema 2:
evidence and notes) with their salts, so that an import can check each against its commitment;
a text removed under the retention policy comes as its category and removal time only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import orjson

from kosiflow.errors import BadInput
from kosiflow.store import EventRecord, EventText, StoredEvent
from kosiflow.store.chain import canonical_json
from kosiflow.store.columns import iso_utc

EXPORT_COLUMNS = (
    "initiative_id",
    "seq",
    "type",
    "schema_version",
    "actor",
    "at",
    "payload",
    "prev_hash",
    "hash",
    "texts",
)
"""The fields of an exported event, in this order (CSV header, JSON Lines keys); exports made
before ``texts`` existed (no texts outside the payloads) import as well."""
_REQUIRED = EXPORT_COLUMNS[:-1]

EXPORT_FORMATS = ("jsonl", "csv")
EXPORT_MEDIA_TYPES = {"jsonl": "application/jsonl", "csv": "text/csv; charset=utf-8"}
"""The media type of an export in each format."""


def _texts_json(texts: Mapping[str, EventText]) -> dict[str, dict[str, str]]:
    exported: dict[str, dict[str, str]] = {}
    for name, t in texts.items():
        if t.text is not None and t.salt is not None:
            exported[name] = {"category": t.category, "text": t.text, "salt": t.salt}
        elif t.removed_at is not None:
            exported[name] = {"category": t.category, "removed_at": t.removed_at.isoformat()}
    return exported


Exported = EventRecord | StoredEvent
"""What an export writes: events decoded, or as stored (written without decoding, faster)."""

_Fields = tuple[str, int, str, int, str, str, str, str, str]
"""An event's columns as exported: the seven of the chain in order, ``at`` and the payload as
text (``EXPORT_COLUMNS`` but ``texts``)."""


def _fields(event: Exported) -> _Fields:
    if isinstance(event, StoredEvent):
        r = event.row
        at = r[5] if isinstance(r[5], str) else iso_utc(r[5])
        # as datetime.isoformat() spells it: no fraction when it is zero
        return (r[0], r[1], r[2], r[3], r[4], at.replace(".000000+", "+"), r[6], r[7], r[8])
    return (
        event.initiative_id,
        event.seq,
        event.type,
        event.schema_version,
        event.actor,
        event.at.isoformat(),
        canonical_json(event.payload),
        event.prev_hash,
        event.hash,
    )


def jsonl_lines(events: Iterable[Exported]) -> Iterator[bytes]:
    """One JSON object per event and line (the payload as an object, as stored)."""
    for event in events:
        f = _fields(event)
        line = {  # the keys of EXPORT_COLUMNS, in its order
            "initiative_id": f[0],
            "seq": f[1],
            "type": f[2],
            "schema_version": f[3],
            "actor": f[4],
            "at": f[5],
            "payload": orjson.Fragment(f[6]),
            "prev_hash": f[7],
            "hash": f[8],
            "texts": _texts_json(event.texts) if event.texts else {},
        }
        yield orjson.dumps(line) + b"\n"


def csv_lines(events: Iterable[Exported]) -> Iterator[bytes]:
    """A header, then one row per event (the payload as JSON text), UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for event in events:
        texts = orjson.dumps(_texts_json(event.texts), option=orjson.OPT_SORT_KEYS).decode()
        writer.writerow((*_fields(event), texts))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def export_lines(events: Iterable[Exported], format: str) -> Iterator[bytes]:
    """The lines of ``events`` in ``format`` (one of :data:`EXPORT_FORMATS`)."""
    return jsonl_lines(events) if format == "jsonl" else csv_lines(events)


def read_export(lines: Iterable[str], format: str, *, source: str) -> Iterator[EventRecord]:
    """The events of an export, read line by line; a malformed line is named by its number."""
    rows: Iterable[tuple[int, Mapping[str, Any]]]
    if format == "csv":
        reader = csv.DictReader(lines)
        rows = ((reader.line_num, row) for row in reader)
    else:
        rows = ((n, _json_line(line, source, n)) for n, line in enumerate(lines, 1) if line.strip())
    for number, row in rows:
        yield _record(row, f"{source}:{number}")


def _json_line(line: str, source: str, number: int) -> Mapping[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BadInput(f"{source}:{number}", f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise BadInput(f"{source}:{number}", "each line must be one JSON object")
    return value


def _record(row: Mapping[str, Any], where: str) -> EventRecord:
    missing = [c for c in _REQUIRED if row.get(c) in (None, "")]
    if missing:
        raise BadInput(where, f"missing {', '.join(missing)}")
    try:
        payload = row["payload"]
        if isinstance(payload, str):
            payload = orjson.loads(payload)
        at = datetime.fromisoformat(str(row["at"]))
        if at.tzinfo is None or not isinstance(payload, dict):
            raise ValueError("a time with offset and a payload object are needed")
        return EventRecord(
            initiative_id=str(row["initiative_id"]),
            seq=int(row["seq"]),
            type=str(row["type"]),
            schema_version=int(row["schema_version"]),
            actor=str(row["actor"]),
            at=at,
            payload=payload,
            prev_hash=str(row["prev_hash"]),
            hash=str(row["hash"]),
            texts=_texts(row.get("texts") or {}),
        )
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError) as exc:
        raise BadInput(where, f"not an exported event ({exc})") from None


def _texts(value: object) -> dict[str, EventText]:
    """The texts of an exported event (``_texts_json``'s form, or its JSON text in CSV)."""
    if isinstance(value, str):
        value = orjson.loads(value)
    if not isinstance(value, dict):
        raise ValueError("texts must be an object")
    texts: dict[str, EventText] = {}
    for name, entry in value.items():
        category = str(entry["category"])
        if "removed_at" in entry:
            removed = datetime.fromisoformat(str(entry["removed_at"]))
            if removed.tzinfo is None:
                raise ValueError(f"the removal time of {name} needs its offset")
            texts[name] = EventText(category, None, None, removed)
            continue
        text, salt = entry["text"], entry["salt"]
        if not isinstance(text, str) or not isinstance(salt, str) or len(bytes.fromhex(salt)) < 16:
            raise ValueError(f"{name} needs a text and a salt of at least 16 bytes in hex")
        texts[name] = EventText(category, text, salt)
    return texts
