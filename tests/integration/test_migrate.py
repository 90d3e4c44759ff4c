"""Moving the demo's running initiatives to kosi-lab v2, on SQLite and PostgreSQL: a dry run, the
run itself, and a refused migration that changes nothing.

Version 2 (tests/data/kosi-lab-v2.yaml) renames "prototyping" to "piloting", drops its item
"learnings_shared" and adds "safety_checked". The demo runs under version 1; of its six
initiatives three are still running: the bicycle garages (consolidation), the shops
(prototyping) and the cups (co-creation, on hold).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.pages.history import history_view
from kosiflow.catalog import WorkflowCatalog
from kosiflow.cli import app
from kosiflow.definition import load_definition, load_workflows
from kosiflow.demo import load_demo
from kosiflow.engine import Actor
from kosiflow.services import MigrationPlan, Services
from kosiflow.store import canonical_json, open_database

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
V2_FILE = ROOT / "tests" / "data" / "kosi-lab-v2.yaml"
TO_PILOTING = {"prototyping": "piloting"}
GARAGES = "Fahrradgaragen im Quartier"
SHOPS = "Belebung leerstehender Ladenlokale"
CUPS = "Einwegbecherfreies Wuppertal"


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    """The demo, loaded under version 1; then version 2 is added to the workflows."""
    database = open_database(database_url)
    before = WorkflowCatalog.from_folder(WORKFLOWS)
    before.register(database)
    load_demo(Services(database, before))
    catalog = WorkflowCatalog([*load_workflows(WORKFLOWS), load_definition(V2_FILE)])
    catalog.register(database)
    yield Services(database, catalog)
    database.close()


@pytest.fixture
def admin(services: Services) -> Actor:
    user, _ = services.database.add_user("Admin", ["admin"])
    return Actor(user.person_id, frozenset(user.roles))


def _snapshot(services: Services) -> list[tuple[str, int, int, str, str]]:
    """Every projection as stored, with the head of its history."""
    return [
        (p.title, p.workflow_version, p.version, p.head_hash, canonical_json(p.state))
        for p in services.list_initiatives()
    ]


def _id(services: Services, title: str) -> str:
    (found,) = [p.initiative_id for p in services.list_initiatives() if p.title == title]
    return found


def _landings(plan: MigrationPlan) -> list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]]:
    return [(s.title, s.phase, s.landing, s.new_items, s.vanished_items) for s in plan.steps]


EXPECTED_LANDINGS = [
    (GARAGES, "consolidation", "consolidation", (), ()),
    (SHOPS, "prototyping", "piloting", ("safety_checked",), ("learnings_shared",)),
    (CUPS, "co_creation", "co_creation", (), ()),
]


def test_a_dry_run_reports_where_each_initiative_lands_and_changes_nothing(
    services: Services, admin: Actor
) -> None:
    before = _snapshot(services)
    plan = services.migrate("kosi-lab", 2, admin, phase_map=TO_PILOTING, dry_run=True)
    assert _landings(plan) == EXPECTED_LANDINGS
    assert (plan.refused, plan.applied) == ((), False)
    assert _snapshot(services) == before


def test_the_migration_moves_every_running_initiative_and_records_it(
    services: Services, admin: Actor
) -> None:
    shops = _id(services, SHOPS)
    before = services.state(shops)
    plan = services.migrate("kosi-lab", 2, admin, phase_map=TO_PILOTING)
    assert plan.applied
    assert _landings(plan) == EXPECTED_LANDINGS
    versions = {p.title: p.workflow_version for p in services.list_initiatives()}
    assert [versions[t] for t in (GARAGES, SHOPS, CUPS)] == [2, 2, 2]
    assert [v for t, v in versions.items() if t not in (GARAGES, SHOPS, CUPS)] == [1, 1, 1]

    last = list(services.history(shops))[-1]
    assert (last.type, last.actor) == ("WorkflowMigrated", admin.id)
    assert last.payload["phase_map"] == TO_PILOTING
    assert last.payload["dropped_items"] == []  # "learnings_shared" was not done
    after = services.state(shops)
    assert (after.definition.version, after.phase, after.visit) == (2, "piloting", 1)
    assert after.phase_entered_at == before.phase_entered_at
    consolidate = next(
        t for t in services.progress(shops).triggers if t.transition.trigger == "consolidate"
    )
    assert ("item_open", "safety_checked") in [
        (b.code, b.params.get("item")) for b in consolidate.blockers
    ]

    assert services.rebuild().differing == ()
    assert services.verify(shops).ok
    then = services.state_at(shops, datetime(2019, 1, 1, tzinfo=UTC))
    assert (then.definition.version, then.phase) == (1, "prototyping")
    assert services.migrate("kosi-lab", 2, admin, phase_map=TO_PILOTING).steps == ()


def test_a_refused_migration_changes_nothing(services: Services, admin: Actor) -> None:
    before = _snapshot(services)
    plan = services.migrate("kosi-lab", 2, admin)  # nothing says where "prototyping" goes
    (refused,) = plan.refused
    assert (refused.title, refused.landing) == (SHOPS, "prototyping")
    assert [b.code for b in refused.blockers] == ["phase_missing"]
    assert not plan.applied
    assert _snapshot(services) == before


def test_one_initiative_moves_alone(services: Services, admin: Actor) -> None:
    garages = _id(services, GARAGES)
    plan = services.migrate("kosi-lab", 2, admin, initiative_ids=[garages])
    assert [s.title for s in plan.steps] == [GARAGES]
    versions = {p.title: p.workflow_version for p in services.list_initiatives()}
    assert (versions[GARAGES], versions[SHOPS]) == (2, 1)
    ended = _id(services, "Social Innovation Center Dortmund")
    refused = services.migrate("kosi-lab", 2, admin, initiative_ids=[ended])
    assert [b.code for s in refused.refused for b in s.blockers] == ["ended"]


def test_an_overdue_mark_survives_the_migration_and_the_history_still_reads(
    services: Services, admin: Actor
) -> None:
    garages = _id(services, GARAGES)  # went through prototyping twice, a phase v2 renamed
    assert services.sweep(now=datetime(2021, 1, 1, tzinfo=UTC)).recorded != ()
    services.migrate("kosi-lab", 2, admin, phase_map=TO_PILOTING)
    assert services.sweep(now=datetime(2022, 1, 1, tzinfo=UTC)).recorded == ()
    view = history_view(services.timeline(garages), "en")
    assert [v.phase for v in view.visits].count("prototyping") == 2  # shown by its old id
    assert "Moved to version 2 of the workflow" in view.entries[-1].sentence


@pytest.fixture
def kosiflow(database_url: str, tmp_path: Path) -> CliRunner:
    """The command line on the demo data, with version 2 in its workflow folder."""
    runner = CliRunner()
    base = ["--database", database_url, "--workflows", str(WORKFLOWS)]
    assert runner.invoke(app, [*base, "demo"]).exit_code == 0
    assert runner.invoke(app, [*base, "users", "add", "Admin", "--role", "admin"]).exit_code == 0
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    shutil.copy(V2_FILE, folder)
    runner.base = ["--database", database_url, "--workflows", str(folder), "--as", "Admin"]  # type: ignore[attr-defined]
    return runner


def _cli(runner: CliRunner, *args: str, expect: int) -> str:
    result = runner.invoke(app, [*runner.base, *args])  # type: ignore[attr-defined]
    assert result.exit_code == expect, result.output
    return result.output


def test_the_migrate_command_reports_refuses_and_moves(kosiflow: CliRunner) -> None:
    move = ["migrate", "--all", "--workflow", "kosi-lab", "--to", "2"]
    refused = _cli(kosiflow, *move, expect=1)
    assert "Refused: 1 of 3 initiative(s) cannot move to kosi-lab v2; nothing changed." in refused
    dry = _cli(kosiflow, *move, "--map", "prototyping=piloting", "--dry-run", expect=0)
    assert "Safety and" in dry  # new in piloting (rich wraps the table's cells)
    assert "Learnings shared" in dry  # gone from it
    assert "Dry run: 3 initiative(s) would move" in dry
    german = _cli(kosiflow, "--lang", "de", *move, "--map", "prototyping=piloting", expect=0)
    assert "3 Initiative(n) in kosi-lab v2 überführt." in german
    assert "No running initiative of kosi-lab" in _cli(kosiflow, *move, expect=0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "--map", "prototyping"], "not OLD_PHASE=NEW_PHASE"),
        (["--all", "--map", "prototyping=pilot"], "'pilot' is not a phase of kosi-lab v2"),
        (["--all", "--map", "prototping=piloting"], "'prototping' is not a phase"),
        ([], "name one initiative or give --all"),
        (["--all", "--to", "7"], "kosi-lab v7"),
    ],
)
def test_bad_input_to_migrate_exits_2(kosiflow: CliRunner, args: list[str], message: str) -> None:
    output = _cli(kosiflow, "migrate", "--workflow", "kosi-lab", "--to", "2", *args, expect=2)
    assert message in output
