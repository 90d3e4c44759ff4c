"""An export re-imported into an empty database verifies and rebuilds to the same projections;
a damaged export is refused whole, naming the line, and leaves the database empty."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kosiflow.catalog import WorkflowCatalog
from kosiflow.cli import app
from kosiflow.demo import load_demo
from kosiflow.errors import BadInput, HistoryCorrupted
from kosiflow.services import Services
from kosiflow.services.exports import export_lines, read_export
from kosiflow.store import open_database

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def _services(url: str) -> Services:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(url)
    catalog.register(database)
    return Services(database, catalog)


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Services]:
    services = _services(f"sqlite:///{tmp_path / 'source.db'}")
    load_demo(services)
    yield services
    services.database.close()


@pytest.fixture
def target(database_url: str) -> Iterator[Services]:
    services = _services(database_url)
    yield services
    services.database.close()


def _exported(services: Services, format: str) -> str:
    return b"".join(export_lines(services.export(), format)).decode("utf-8")


def _projections(services: Services) -> dict[str, object]:
    return {p.initiative_id: p for p in services.list_initiatives(limit=1000)}


@pytest.mark.parametrize("format", ["jsonl", "csv"])
def test_an_export_imports_into_an_empty_database_and_rebuilds_the_same(
    source: Services, target: Services, format: str
) -> None:
    text = _exported(source, format)
    report = target.import_history(read_export(io.StringIO(text), format, source="export"))
    assert report.initiatives == 6
    assert report.events == sum(1 for _ in source.export())
    assert _projections(target) == _projections(source)
    for initiative_id in target.initiative_ids():
        assert target.verify(initiative_id).ok
    assert target.rebuild().differing == ()
    assert _exported(target, format) == text


def test_a_bad_last_event_refuses_the_whole_import(source: Services, target: Services) -> None:
    lines = _exported(source, "jsonl").splitlines(keepends=True)
    lines[-1] = lines[-1].replace('"hash":"', '"hash":"0', 1)
    with pytest.raises(HistoryCorrupted):
        target.import_history(read_export(io.StringIO("".join(lines)), "jsonl", source="x"))
    assert target.initiative_ids() == []  # the five sound histories before it are gone too


def test_a_tampered_payload_breaks_the_chain_on_import(source: Services, target: Services) -> None:
    text = _exported(source, "jsonl")
    first_title = next(source.export()).payload["title"]
    tampered = text.replace(str(first_title), "Umbenannt", 1)
    with pytest.raises(HistoryCorrupted, match="event 1"):
        target.import_history(read_export(io.StringIO(tampered), "jsonl", source="export"))
    assert target.initiative_ids() == []


def test_an_import_needs_an_empty_database(source: Services) -> None:
    text = _exported(source, "jsonl")
    with pytest.raises(BadInput, match="empty database"):
        source.import_history(read_export(io.StringIO(text), "jsonl", source="export"))


def test_malformed_lines_are_named_by_file_and_line() -> None:
    with pytest.raises(BadInput, match=r"events\.jsonl:2: not JSON"):
        list(read_export(io.StringIO("\n{oops\n"), "jsonl", source="events.jsonl"))
    with pytest.raises(BadInput, match=r"events\.jsonl:1: each line must be one JSON object"):
        list(read_export(io.StringIO("[1, 2]\n"), "jsonl", source="events.jsonl"))
    with pytest.raises(BadInput, match=r"events\.jsonl:1: missing initiative_id, seq"):
        list(read_export(io.StringIO('{"type": "X"}\n'), "jsonl", source="events.jsonl"))


def test_the_cli_exports_and_imports_with_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()

    def kosiflow(db: str, *args: str) -> tuple[int, str]:
        url = ["--database", f"sqlite:///{tmp_path / db}", "--workflows", str(WORKFLOWS)]
        result = runner.invoke(app, [*url, *args])
        return result.exit_code, result.output

    assert kosiflow("a.db", "demo")[0] == 0
    exported = tmp_path / "events.csv"
    assert kosiflow("a.db", "export", "--format", "csv", "-o", str(exported))[0] == 0
    code, output = kosiflow("b.db", "import", str(exported))
    assert code == 0, output
    assert "of 6 initiatives" in output
    assert kosiflow("b.db", "verify")[0] == 0
    code, output = kosiflow("b.db", "import", str(exported))
    assert (code, "empty database" in output) == (2, True)
    code, output = kosiflow("c.db", "import", str(tmp_path / "missing.jsonl"))
    assert (code, "missing.jsonl" in output) == (2, True)
