"""Collecting ``.feature`` files without any Python next to them.

pytest-bdd runs scenarios as test functions made by its ``scenario()`` decorator. A feature file
becomes a test module of its own here: :class:`FeatureFile` is a ``pytest.Module`` whose module
object is built from the file instead of imported, holding one such function per scenario. So
pytest treats it like any test module (Scenario Outlines become parametrized tests, tags become
marks, fixtures work) and a folder of ``.feature`` files runs with plain ``pytest``.
"""

from __future__ import annotations

import re
import types
from functools import cached_property

import pytest
from pytest_bdd import scenario
from pytest_bdd.feature import get_feature

_NOT_A_WORD = re.compile(r"\W+")


def _after_the_steps() -> None:
    """What a scenario does after its steps: nothing (the steps are the test)."""


def _test_name(scenario_name: str, taken: set[str]) -> str:
    base = "test_" + (_NOT_A_WORD.sub("_", scenario_name).strip("_").lower() or "scenario")
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}_{number}"
    taken.add(name)
    return name


class FeatureFile(pytest.Module):
    """A ``.feature`` file collected as a module of scenario tests."""

    @cached_property
    def _scenarios(self) -> types.ModuleType:
        folder, name = str(self.path.parent), self.path.name
        module = types.ModuleType(f"kosiflow_feature.{self.path.stem}")
        module.__file__ = str(self.path)
        taken: set[str] = set()
        for scenario_name in get_feature(folder, name).scenarios:
            test = scenario(name, scenario_name, features_base_dir=folder)(_after_the_steps)
            test.__module__ = module.__name__
            setattr(module, _test_name(scenario_name, taken), test)
        return module

    def _getobj(self) -> types.ModuleType:
        return self._scenarios

    def istestfunction(self, obj: object, name: str) -> bool:
        return name.startswith("test_") and callable(obj)
