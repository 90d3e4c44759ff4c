"""The export formats of event histories: JSON Lines and CSV, written as they stream by."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

import orjson

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
