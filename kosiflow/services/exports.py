"""The export formats of event histories: JSON Lines and CSV, written and read as they stream by."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import orjson

from kosiflow.errors import BadInput
from kosiflow.store import EventRecord

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
)
"""The fields of an exported event, in this order (CSV header, JSON Lines keys)."""

EXPORT_FORMATS = ("jsonl", "csv")
EXPORT_MEDIA_TYPES = {"jsonl": "application/jsonl", "csv": "text/csv; charset=utf-8"}
"""The media type of an export in each format."""


def _row(record: EventRecord) -> tuple[str | int, ...]:
    return (
        record.initiative_id,
        record.seq,
        record.type,
        record.schema_version,
        record.actor,
        record.at.isoformat(),
        orjson.dumps(record.payload, option=orjson.OPT_SORT_KEYS).decode(),
        record.prev_hash,
        record.hash,
    )


def jsonl_lines(records: Iterable[EventRecord]) -> Iterator[bytes]:
    """One JSON object per event and line (the payload as an object)."""
    for record in records:
        line: dict[str, object] = dict(zip(EXPORT_COLUMNS, _row(record), strict=True))
        line["payload"] = record.payload
        yield orjson.dumps(line) + b"\n"


def csv_lines(records: Iterable[EventRecord]) -> Iterator[bytes]:
    """A header, then one row per event (the payload as JSON text), UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for record in records:
        writer.writerow(_row(record))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def export_lines(records: Iterable[EventRecord], format: str) -> Iterator[bytes]:
    """The lines of ``records`` in ``format`` (one of :data:`EXPORT_FORMATS`)."""
    return jsonl_lines(records) if format == "jsonl" else csv_lines(records)


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
    missing = [c for c in EXPORT_COLUMNS if row.get(c) in (None, "")]
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
        )
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadInput(where, f"not an exported event ({exc})") from None
