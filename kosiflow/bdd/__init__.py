"""Executable process specs: kosiflow's Gherkin step library, its pytest plugin, catalogue,
reports and coverage.

A process owner writes ``.feature`` files (German or English) against their workflow YAML files
and runs them with ``pytest``; :mod:`kosiflow.bdd.plugin` collects them and runs every step
against the real engine and store (a temporary SQLite database per scenario) or through the
HTTP API. Only :mod:`kosiflow.bdd.runner`, :mod:`kosiflow.bdd.collect` and
:mod:`kosiflow.bdd.coverage` need pytest-bdd.
"""

from __future__ import annotations

from kosiflow.bdd.catalogue import all_steps, catalogue_text, closest_steps
from kosiflow.bdd.failures import SpecFailure
from kosiflow.bdd.registry import StepSpec
from kosiflow.bdd.world import World

__all__ = ["SpecFailure", "StepSpec", "World", "all_steps", "catalogue_text", "closest_steps"]
