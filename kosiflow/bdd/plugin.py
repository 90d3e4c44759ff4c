"""kosiflow's pytest plugin (entry point ``pytest11: kosiflow``): process specs in Gherkin.

With kosiflow and pytest-bdd installed, a folder of workflow YAML files and ``.feature`` files
runs with plain ``pytest``: every ``*.feature`` file is collected and its steps are kosiflow's
step library (``kosiflow steps`` lists them). Options:

``--kosiflow-via=engine|api``
    Run the steps against the engine and store directly (default) or through the HTTP API; a
    scenario or feature tagged ``@api`` always goes through the API.
``--kosiflow-report=DIR``
    Write ``DIR/cucumber.json`` and ``DIR/report.html`` of the run.

Without pytest-bdd the plugin only registers its options, so installing kosiflow never breaks
anybody's pytest.
"""

from __future__ import annotations

import importlib.util

import pytest

from kosiflow.bdd.world import VIAS

HAS_PYTEST_BDD = importlib.util.find_spec("pytest_bdd") is not None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kosiflow", "kosiflow process specs (.feature files)")
    group.addoption(
        "--kosiflow-via",
        dest="kosiflow_via",
        choices=VIAS,
        default="engine",
        help="run the steps against the engine (default) or through the HTTP API",
    )
    group.addoption(
        "--kosiflow-report",
        dest="kosiflow_report",
        metavar="DIR",
        default=None,
        help="write cucumber.json and report.html of the run into DIR",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "api: run the scenario through kosiflow's HTTP API")
    if HAS_PYTEST_BDD:
        from kosiflow.bdd import runner

        config.pluginmanager.register(runner, "kosiflow-specs")
        runner.configure(config)
