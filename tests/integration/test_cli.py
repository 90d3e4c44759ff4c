"""The kosiflow command line, end to end on a SQLite file: output and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kosiflow.cli import app
from kosiflow.store import head_revision

Run = Callable[..., str]
WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture
def kosiflow(tmp_path: Path) -> Run:
    runner = CliRunner()
    base = ["--database", f"sqlite:///{tmp_path / 'lab.db'}", "--workflows", str(WORKFLOWS)]

    def run(*args: str, expect: int = 0) -> str:
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == expect, result.output
        return result.output

    return run


def _token_and_ids(kosiflow: Run) -> str:
    kosiflow("users", "add", "Jana", "--role", "coordinator")
    kosiflow("users", "add", "Thomas", "--role", "administration")
    created = kosiflow("--as", "Jana", "create", "kosi-lab", "Fahrradgaragen")
    return created.split()[0]


def test_users_add_prints_the_token_as_its_last_line_once(kosiflow: Run) -> None:
    output = kosiflow("users", "add", "Jana", "--role", "coordinator")
    token = output.strip().splitlines()[-1]
    assert len(token) >= 40
    assert token not in kosiflow("users", "list")


def test_an_unknown_role_is_bad_input(kosiflow: Run) -> None:
    output = kosiflow("users", "add", "Jana", "--role", "coordinater", expect=2)
    assert "unknown role 'coordinater'" in output


def test_a_refused_command_exits_1_and_lists_every_blocker(kosiflow: Run) -> None:
    initiative = _token_and_ids(kosiflow)
    output = kosiflow("--as", "Jana", "fire", initiative, "start_co_creation", expect=1)
    assert "Challenge statement agreed" in output
    assert "approval_missing" in output
    assert "sectors_missing" in output
    german = kosiflow(
        "--lang", "de", "--as", "Jana", "fire", initiative, "start_co_creation", expect=1
    )
    assert "Abgelehnt" in german
    assert "Freigabe durch Verwaltung fehlt" in german


def test_tick_show_and_history(kosiflow: Run) -> None:
    initiative = _token_and_ids(kosiflow)
    kosiflow("--as", "Thomas", "tick", initiative, "mandate_secured", "--evidence", "Ratsbeschluss")
    shown = kosiflow("show", initiative)
    assert "Ratsbeschluss" in shown
    assert "Thomas" in shown
    lines = kosiflow("history", initiative, "--json").strip().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["type"] for e in events] == ["InitiativeCreated", "ItemTicked"]
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert "Thomas" not in lines[1]  # people appear by pseudonymous id only


def test_a_stale_expected_version_is_a_conflict(kosiflow: Run) -> None:
    initiative = _token_and_ids(kosiflow)
    kosiflow("--as", "Jana", "note", initiative, "first")
    output = kosiflow(
        "--as",
        "Thomas",
        "tick",
        initiative,
        "mandate_secured",
        "--evidence",
        "x",
        "--expect-version",
        "1",
        expect=1,
    )
    assert "Conflict" in output


def test_an_idempotency_key_applies_a_command_once(kosiflow: Run) -> None:
    initiative = _token_and_ids(kosiflow)
    args = ("--as", "Thomas", "tick", initiative, "mandate_secured", "--evidence", "Beschluss")
    args = (*args, "--idempotency-key", "k1")
    first = kosiflow(*args)
    again = kosiflow(*args)
    assert "(replayed)" in again
    assert first.split(":")[0] == again.split(":")[0]
    assert len(kosiflow("history", initiative, "--json").strip().splitlines()) == 2


def test_unknown_initiative_and_missing_actor_are_bad_input(kosiflow: Run) -> None:
    kosiflow("show", "nope", expect=2)
    assert "--as" in kosiflow("create", "kosi-lab", "x", expect=2)


def test_validate_reports_locations_and_exits_2(kosiflow: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: kosiflow/v1\nid: Bad Id\n")
    output = kosiflow("validate", str(bad), expect=2)
    assert f"{bad}:2:5: id:" in output
    assert "ok" in kosiflow("validate", str(WORKFLOWS / "kosi-lab.yaml"))


def test_schema_is_json(kosiflow: Run) -> None:
    schema = json.loads(kosiflow("schema"))
    assert "phases" in schema["properties"]


def test_demo_loads_once_verifies_and_rebuilds_exactly(kosiflow: Run) -> None:
    first = kosiflow("demo")
    assert "Fahrradgaragen im Quartier" in first
    assert "Social Innovation Center Dortmund" in first
    assert "already loaded" in kosiflow("demo")
    verified = kosiflow("verify")
    assert verified.count(": ok") == 6
    assert "6 initiatives folded; 0 differed" in kosiflow("rebuild")
    status = kosiflow("--lang", "de", "status")
    assert "Verstetigung" in status


def test_db_upgrade_reports_the_revision(kosiflow: Run) -> None:
    assert f"database at revision {head_revision()}" in kosiflow("db", "upgrade")


def test_a_bad_synchronous_setting_is_bad_input(kosiflow: Run) -> None:
    output = kosiflow("--sqlite-synchronous", "OFF", "status", expect=2)
    assert "sqlite_synchronous" in output


def test_texts_that_look_like_markup_print_as_written(kosiflow: Run) -> None:
    kosiflow("users", "add", "[bold]Jana[/]", "--role", "coordinator")
    kosiflow("users", "add", "Thomas", "--role", "administration")
    created = kosiflow("--as", "[bold]Jana[/]", "create", "kosi-lab", "Test [/bold] title")
    initiative = created.split()[0]
    kosiflow("--as", "Thomas", "tick", initiative, "mandate_secured", "--evidence", "[/x] ev")
    kosiflow("--as", "[bold]Jana[/]", "note", initiative, "[/x] note")
    kosiflow("--as", "[bold]Jana[/]", "hold", initiative, "--reason", "[red]x[/red] [/]")
    assert "Test [/bold] title" in kosiflow("status")
    shown = kosiflow("show", initiative)
    assert "[/x] ev" in shown
    assert "[red]x[/red] [/]" in shown
    assert "[/x] note" in kosiflow("history", initiative)
    refused = kosiflow("--as", "Thomas", "tick", initiative, "[/x]", expect=1)
    assert "[red]x[/red] [/]" in refused
    assert "[bold]Jana[/]" in kosiflow("users", "list")


def test_users_token_replaces_the_token(kosiflow: Run) -> None:
    first = kosiflow("users", "add", "Jana", "--role", "coordinator").strip().splitlines()[-1]
    second = kosiflow("users", "token", "Jana").strip().splitlines()[-1]
    assert second != first
    assert len(second) >= 40
    kosiflow("users", "token", "Nobody", expect=2)


def test_show_at_a_moment_shows_the_initiative_as_it_was(kosiflow: Run) -> None:
    initiative = _token_and_ids(kosiflow)
    lines = kosiflow("history", initiative, "--json").strip().splitlines()
    created_at = json.loads(lines[0])["at"]
    kosiflow("--as", "Thomas", "tick", initiative, "mandate_secured", "--evidence", "Ratsbeschluss")
    assert "Ratsbeschluss" in kosiflow("show", initiative)
    assert "Ratsbeschluss" not in kosiflow("show", initiative, "--at", created_at)
    assert "no ISO 8601 time" in kosiflow("show", initiative, "--at", "gestern", expect=2)
    assert "offset" in kosiflow("show", initiative, "--at", "2026-01-01T00:00:00", expect=2)


def test_export_streams_every_event_to_stdout_or_a_file(kosiflow: Run, tmp_path: Path) -> None:
    kosiflow("demo")
    lines = [json.loads(line) for line in kosiflow("export").splitlines() if line.startswith("{")]
    ids = {line["initiative_id"] for line in lines}
    assert len(ids) == 6
    assert all(line["hash"] and line["prev_hash"] for line in lines)
    first = sorted(ids)[0]
    target = tmp_path / "events.csv"
    kosiflow("export", "--format", "csv", "--initiative", first, "--output", str(target))
    rows = target.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("initiative_id,seq,type")
    assert len(rows) - 1 == sum(1 for line in lines if line["initiative_id"] == first)
    assert "is no ISO 8601 time" in kosiflow("export", "--since", "gestern", expect=2)
    assert "'xml' is none of jsonl, csv" in kosiflow("export", "--format", "xml", expect=2)


def test_stats_as_table_and_json(kosiflow: Run) -> None:
    kosiflow("demo")
    rows = json.loads(kosiflow("stats", "--json"))
    phases = {(r["workflow_id"], r["phase"]) for r in rows}
    assert ("kosi-lab", "initiation") in phases
    assert sum(r["current"] for r in rows) == 6
    table = kosiflow("--lang", "de", "stats")
    assert "Überfällig" in table
    assert "initiation" in table
