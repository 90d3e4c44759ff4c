"""The part of the pytest plugin that needs pytest-bdd: steps, fixtures, collection, failures.

:mod:`kosiflow.bdd.plugin` registers this module when pytest-bdd is installed. Importing it
hands every step of the library to pytest-bdd (as fixtures of this module, so they are
visible everywhere) and defines:

- ``kosiflow_world``: the scenario's :class:`~kosiflow.bdd.world.World` on a fresh database;
- collection of ``*.feature`` files (:class:`~kosiflow.bdd.collect.FeatureFile`);
- a record of every step, which makes a failing scenario's report read as words (the reason
  first, then the steps) and feeds the cucumber JSON and HTML reports.
"""

from __future__ import annotations

import inspect
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import parsers
from pytest_bdd import step as bdd_step
from pytest_bdd.parser import Feature, Scenario, Step

from kosiflow.bdd.catalogue import all_steps, closest_steps
from kosiflow.bdd.collect import FeatureFile
from kosiflow.bdd.failures import SpecFailure
from kosiflow.bdd.records import FeatureInfo, ScenarioRecord, StepRecord
from kosiflow.bdd.registry import StepSpec
from kosiflow.bdd.reports import RunReport
from kosiflow.bdd.texts import language_of, say
from kosiflow.bdd.world import DefinitionCache, Via, World
from kosiflow.errors import KosiflowError

RECORD = pytest.StashKey[ScenarioRecord]()
SCENARIO = pytest.StashKey[Scenario]()
REPORT = pytest.StashKey[RunReport]()
VIA_OPTION = "kosiflow_via"
REPORT_OPTION = "kosiflow_report"

_SPEC_OF: dict[Callable[..., None], StepSpec] = {}
"""The function pytest-bdd calls for a step → the library's step (to tell our steps apart)."""


def _bound(spec: StepSpec) -> Callable[..., None]:
    """The step as pytest-bdd calls it: the world fixture plus the sentence's values."""

    def run(kosiflow_world: World, datatable: Any = None, **values: str | None) -> None:
        if spec.table:
            spec.run(kosiflow_world, table=datatable or [], **values)
        else:
            spec.run(kosiflow_world, **values)

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter("kosiflow_world", keyword)]
    parameters += [inspect.Parameter(n, keyword, default=None) for n in spec.names]
    if spec.table:
        parameters.append(inspect.Parameter("datatable", keyword, default=None))
    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined] # pytest-bdd reads it
    run.__name__ = f"kosiflow_step_{spec.key}"
    run.__doc__ = spec.run.__doc__
    _SPEC_OF[run] = spec
    return run


for _spec in all_steps():
    for _patterns in _spec.patterns.values():
        for _pattern in _patterns:
            # At module level, so pytest-bdd puts each step's fixture into this module.
            bdd_step(parsers.re(_pattern.regex.pattern))(_bound(_spec))


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kosiflow_definitions() -> DefinitionCache:
    """Workflow files parsed once per test session."""
    return DefinitionCache()


@pytest.fixture
def kosiflow_world(
    request: pytest.FixtureRequest, tmp_path: Path, kosiflow_definitions: DefinitionCache
) -> Iterator[World]:
    """The world of one scenario: a fresh SQLite database in ``tmp_path``; the engine, or the
    HTTP API with ``--kosiflow-via=api`` or the tag ``@api``."""
    scenario = request.node.stash.get(SCENARIO, None)
    feature_file = Path(scenario.feature.filename) if scenario else request.path
    world = World(
        feature_file=feature_file,
        lang=language_of(scenario.feature.language if scenario else "en"),
        via=via_of(request.node),
        workdir=tmp_path,
        definitions=kosiflow_definitions,
    )
    yield world
    world.close()


def via_of(item: pytest.Item) -> Via:
    """``api`` when the option says so or the scenario carries the tag ``@api``."""
    if item.config.getoption(VIA_OPTION, None) == "api" or item.get_closest_marker("api"):
        return "api"
    return "engine"


# -- collection ------------------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> FeatureFile | None:
    if file_path.suffix == ".feature":
        return FeatureFile.from_parent(parent, path=file_path)
    return None


# -- recording the steps ---------------------------------------------------------------------------


def _record(request: pytest.FixtureRequest) -> ScenarioRecord | None:
    record: ScenarioRecord | None = request.node.stash.get(RECORD, None)
    return record


def _index(scenario: Scenario, step: Step) -> int:
    return next(i for i, s in enumerate(scenario.steps) if s is step)


def _feature_info(feature: Feature, rootdir: Path) -> FeatureInfo:
    path = Path(feature.filename)
    uri = path.relative_to(rootdir).as_posix() if path.is_relative_to(rootdir) else path.as_posix()
    return FeatureInfo(
        uri=uri,
        keyword=feature.keyword,
        name=feature.name,
        line=feature.line_number,
        description=feature.description.strip(),
        tags=tuple(sorted(feature.tags)),
        language=feature.language,
    )


def pytest_bdd_before_scenario(
    request: pytest.FixtureRequest, feature: Feature, scenario: Scenario
) -> None:
    node = request.node
    node.stash[SCENARIO] = scenario
    if not isinstance(node, pytest.Item) or node.getparent(FeatureFile) is None:
        return  # a scenario bound in a Python module: its report stays pytest-bdd's own
    callspec = getattr(node, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example", {}) if callspec else {}
    node.stash[RECORD] = ScenarioRecord(
        feature=_feature_info(feature, node.config.rootpath),
        keyword=scenario.keyword,
        name=scenario.name,
        line=scenario.line_number,
        tags=tuple(sorted(scenario.tags)),
        steps=[
            StepRecord(
                s.keyword,
                s.name,
                s.line_number,
                tuple(tuple(str(c) for c in row) for row in s.datatable.raw())
                if s.datatable
                else (),
            )
            for s in scenario.steps
        ],
        example=tuple((str(k), str(v)) for k, v in example.items()),
        via=via_of(node),
    )


def pytest_bdd_before_step(
    request: pytest.FixtureRequest,
    feature: Feature,
    scenario: Scenario,
    step: Step,
    step_func: Callable[..., object],
) -> None:
    index = _index(scenario, step)
    if step_func in _SPEC_OF:
        following = scenario.steps[index + 1].name if index + 1 < len(scenario.steps) else None
        world: World = request.getfixturevalue("kosiflow_world")
        world.begin_step(following)
    record = _record(request)
    if record is not None:
        record.steps[index].duration_ns = -time.perf_counter_ns()


def pytest_bdd_after_step(
    request: pytest.FixtureRequest,
    feature: Feature,
    scenario: Scenario,
    step: Step,
    step_func: Callable[..., object],
    step_func_args: dict[str, object],
) -> None:
    record = _record(request)
    if record is not None:
        done = record.steps[_index(scenario, step)]
        done.status = "passed"
        done.duration_ns += time.perf_counter_ns()


def pytest_bdd_step_error(
    request: pytest.FixtureRequest,
    feature: Feature,
    scenario: Scenario,
    step: Step,
    step_func: Callable[..., object],
    step_func_args: dict[str, object],
    exception: Exception,
) -> None:
    record = _record(request)
    if record is None:
        return
    failed = record.steps[_index(scenario, step)]
    failed.status = "failed"
    failed.duration_ns += time.perf_counter_ns()
    failed.message = _words_of(exception, record.lang)
    if not isinstance(exception, SpecFailure | KosiflowError):
        record.extra = traceback.format_exception(exception)


def pytest_bdd_step_func_lookup_error(
    request: pytest.FixtureRequest,
    feature: Feature,
    scenario: Scenario,
    step: Step,
    exception: Exception,
) -> None:
    record = _record(request)
    if record is None:
        return
    unknown = record.steps[_index(scenario, step)]
    unknown.status = "undefined"
    unknown.duration_ns = 0
    unknown.message = _unknown_step_words(unknown, record.lang)


def _words_of(exception: BaseException, lang: str) -> str:
    if isinstance(exception, SpecFailure):
        return exception.message
    if isinstance(exception, KosiflowError):
        return str(exception)
    return f"{say(lang, 'error_in_step')}: {type(exception).__name__}: {exception}"


def _unknown_step_words(unknown: StepRecord, lang: str) -> str:
    lines = [say(lang, "unknown_step"), f"  {unknown.line_text}"]
    closest = closest_steps(unknown.text, lang)
    if closest:
        lines += [say(lang, "closest_steps"), *(f"  • {shown}" for shown in closest)]
    else:
        lines.append(say(lang, "no_close_step", language=lang))
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing scenario's report: its reason in words first, then where and its steps."""
    report = yield
    record = item.stash.get(RECORD, None)
    if record is None or report.when != "call":
        return report
    record.status = "failed" if report.failed else "passed"
    if report.failed:
        if record.failing is None:  # failed outside any step (e.g. after them)
            record.extra = [str(report.longrepr)]
        report.longrepr = record.failure_text()
    run = item.config.stash.get(REPORT, None)
    if run is not None:
        run.add(record)
    return report


def configure(config: pytest.Config) -> None:
    """Start recording the run for reports when ``--kosiflow-report DIR`` asks for them."""
    folder = config.getoption(REPORT_OPTION, None)
    if folder:
        config.stash[REPORT] = RunReport(Path(folder))


def pytest_sessionfinish(session: pytest.Session) -> None:
    run = session.config.stash.get(REPORT, None)
    if run is not None:
        run.write()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = config.stash.get(REPORT, None)
    if run is not None:
        terminalreporter.write_line(f"kosiflow report: {run.html_path} and {run.json_path}")
