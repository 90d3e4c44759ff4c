"""The deadline sweep on the demo data, on SQLite and PostgreSQL: one ``PhaseOverdue`` per
overdue visit, time on hold not counted, however often and however many sweeps run."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kosiflow.catalog import WorkflowCatalog
from kosiflow.cli import app
from kosiflow.demo import load_demo
from kosiflow.engine import SYSTEM_ACTOR, Actor
from kosiflow.services import Services, SweepReport
from kosiflow.store import open_database

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
CATALOG = WorkflowCatalog.from_folder(WORKFLOWS)
NEW_YEAR_2020 = datetime(2020, 1, 1, tzinfo=UTC)
"""Of the demo's running initiatives, only the shops are overdue then: 180 days of prototyping
ran out on 2018-10-09; the bicycle garages' 365 days of consolidation run until 2020-06-04; the
cups were put on hold after 21 of 120 days of co-creation."""
SHOPS = "Belebung leerstehender Ladenlokale"
GARAGES = "Fahrradgaragen im Quartier"
CUPS = "Einwegbecherfreies Wuppertal"


def _services(url: str) -> Services:
    return Services(open_database(url), CATALOG)


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    services = _services(database_url)
    CATALOG.register(services.database)
    load_demo(services)
    yield services
    services.database.close()


def _id(services: Services, title: str) -> str:
    (found,) = [p.initiative_id for p in services.list_initiatives() if p.title == title]
    return found


def _overdue_events(services: Services) -> list[tuple[str, str, dict[str, object]]]:
    """Every recorded PhaseOverdue: (initiative title, actor, payload)."""
    return [
        (p.title, r.actor, dict(r.payload))
        for p in services.list_initiatives()
        for r in services.history(p.initiative_id)
        if r.type == "PhaseOverdue"
    ]


def test_the_sweep_records_each_overdue_visit_of_the_demo_once(services: Services) -> None:
    report = services.sweep(now=NEW_YEAR_2020)
    assert report.initiatives == 3  # the running ones: garages, shops, cups
    assert [(r.title, r.phase, r.visit, r.max_days) for r in report.recorded] == [
        (SHOPS, "prototyping", 1, 180)
    ]
    assert report.recorded[0].overdue_since == datetime(2018, 10, 9, 10, tzinfo=UTC)
    payload = {
        "phase": "prototyping",
        "visit": 1,
        "max_days": 180,
        "overdue_since": "2018-10-09T10:00:00+00:00",
    }
    assert _overdue_events(services) == [(SHOPS, SYSTEM_ACTOR, payload)]
    assert services.state(_id(services, SHOPS)).overdue_since == report.recorded[0].overdue_since

    assert services.sweep(now=NEW_YEAR_2020).recorded == ()
    later = services.sweep(now=datetime(2021, 1, 1, tzinfo=UTC))
    assert [r.title for r in later.recorded] == [GARAGES]
    assert len(_overdue_events(services)) == 2
    assert services.rebuild().differing == ()


def test_time_on_hold_does_not_count(services: Services) -> None:
    cups = _id(services, CUPS)  # 21 days into co-creation (120 allowed) when put on hold
    swept = services.sweep(now=datetime(2030, 1, 1, tzinfo=UTC))
    assert sorted(r.title for r in swept.recorded) == sorted([GARAGES, SHOPS])
    user, _ = services.database.add_user("Jana", ["coordinator"])
    jana = Actor(user.person_id, frozenset(user.roles))
    resumed = datetime(2030, 1, 1, tzinfo=UTC)
    services.resume(cups, jana, reason="Ratsbeschluss liegt vor", at=resumed)
    assert services.sweep(now=datetime(2030, 4, 9, 23, tzinfo=UTC)).recorded == ()
    report = services.sweep(now=datetime(2030, 5, 1, tzinfo=UTC))
    (found,) = report.recorded
    assert (found.title, found.phase) == (CUPS, "co_creation")
    assert found.overdue_since == datetime(2030, 4, 10, tzinfo=UTC)  # 21 + 99 days not on hold


def test_two_sweeps_racing_record_each_visit_once(database_url: str, services: Services) -> None:
    sweepers = [_services(database_url), _services(database_url)]
    start = threading.Barrier(len(sweepers))
    reports: list[SweepReport] = []

    def sweep(sweeper: Services) -> None:
        start.wait()
        reports.append(sweeper.sweep(now=datetime(2021, 1, 1, tzinfo=UTC)))

    threads = [threading.Thread(target=sweep, args=(s,)) for s in sweepers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for sweeper in sweepers:
            sweeper.database.close()
    assert len(reports) == 2
    recorded = sorted(r.title for report in reports for r in report.recorded)
    assert recorded == sorted([GARAGES, SHOPS])
    assert sorted(title for title, _, _ in _overdue_events(services)) == sorted([GARAGES, SHOPS])
    for initiative_id in services.initiative_ids():
        assert services.verify(initiative_id).ok


def test_the_sweep_command_judges_as_of_now_and_is_idempotent(database_url: str) -> None:
    runner = CliRunner()
    base = ["--database", database_url, "--workflows", str(WORKFLOWS)]
    assert runner.invoke(app, [*base, "demo"]).exit_code == 0
    first = runner.invoke(app, [*base, "sweep", "--now", "2020-01-01T00:00:00Z"])
    assert first.exit_code == 0, first.output
    assert SHOPS in first.output
    assert "1 overdue visit(s) recorded; 3 running initiative(s) looked at" in first.output
    again = runner.invoke(app, [*base, "--lang", "de", "sweep", "--now", "2020-01-01T00:00Z"])
    assert again.exit_code == 0, again.output
    assert "0 überfällige(r) Durchlauf/Durchläufe erfasst" in again.output
    naive = runner.invoke(app, [*base, "sweep", "--now", "2020-01-01T00:00"])
    assert naive.exit_code == 2
    assert "time zone" in naive.output
    assert runner.invoke(app, [*base, "sweep", "--now", "soon"]).exit_code == 2
