"""``kosiflow diff ID --from T1 [--to T2] [--lang de|en] [--json]`` on a SQLite file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kosiflow.cli import app

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


@pytest.fixture
def ticked(kosiflow: Run) -> tuple[str, list[str]]:
    """An initiative, then Thomas ticks an item; the moments of its two events."""
    kosiflow("users", "add", "Jana", "--role", "coordinator")
    kosiflow("users", "add", "Thomas", "--role", "administration")
    initiative = kosiflow("--as", "Jana", "create", "kosi-lab", "Fahrradgaragen").split()[0]
    kosiflow("--as", "Thomas", "tick", initiative, "mandate_secured", "--evidence", "Beschluss")
    lines = kosiflow("history", initiative, "--json").strip().splitlines()
    return initiative, [json.loads(line)["at"] for line in lines]


def test_diff_says_what_changed_with_the_evidence(
    kosiflow: Run, ticked: tuple[str, list[str]]
) -> None:
    initiative, (created, _) = ticked
    output = kosiflow("diff", initiative, "--from", created)
    assert "version 1 → 2" in output
    assert "Thomas ticked “Mandate or sponsor secured” (Initiation).  (#2)" in output
    german = kosiflow("diff", initiative, "--from", created, "--lang", "de")
    assert "Thomas hat „Auftrag/Mandat gesichert“ (Initiierung) abgehakt." in german
    assert "Nothing changed." in kosiflow("diff", initiative, "--from", created, "--to", created)


def test_diff_as_json_is_the_apis_answer(kosiflow: Run, ticked: tuple[str, list[str]]) -> None:
    initiative, (created, ticked_at) = ticked
    found = json.loads(kosiflow("diff", initiative, "--from", created, "--to", ticked_at, "--json"))
    assert (found["version_from"], found["version_to"]) == (1, 2)
    assert [(c["code"], c["seqs"]) for c in found["changes"]] == [("item.ticked", [2])]
    assert [e["type"] for e in found["events"]] == ["ItemTicked"]
    early = json.loads(kosiflow("diff", initiative, "--from", "2000-01-01T00:00Z", "--json"))
    assert early["version_from"] == 0
    assert early["changes"][0]["code"] == "created"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "gestern"], "--from: 'gestern' is no ISO 8601 time"),
        (["--from", "2026-01-01T00:00:00"], "--from: give a time with its offset"),
        (["--from", "2026-01-01T00:00Z", "--to", "2026-01-02T00:00"], "--to: give a time"),
        (["--from", "2026-01-02T00:00Z", "--to", "2026-01-01T00:00Z"], "--from: must not be"),
        (["--from", "2026-01-01T00:00Z", "--lang", "fr"], "--lang: 'fr' is not one of"),
    ],
)
def test_bad_moments_exit_2_naming_the_option(
    kosiflow: Run, ticked: tuple[str, list[str]], args: list[str], message: str
) -> None:
    assert message in kosiflow("diff", ticked[0], *args, expect=2)


def test_an_unknown_initiative_exits_2(kosiflow: Run) -> None:
    assert "nope" in kosiflow("diff", "nope", "--from", "2026-01-01T00:00Z", expect=2)
