"""Loading valid workflow files: the model, its defaults, and folders of files."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from kosiflow.definition import (
    ChecklistItem,
    Definition,
    Requirements,
    Text,
    load_definition,
    load_definition_text,
    load_workflows,
)
from kosiflow.errors import DefinitionError

CASES = Path(__file__).parent / "definition_cases"
MINI = (CASES / "mini.yaml").read_text(encoding="utf-8")
EXAMPLE = CASES / "format-example.yaml"
WORKFLOWS = Path(__file__).parents[2] / "workflows"


def test_the_filled_in_format_example_loads() -> None:
    definition = load_definition(EXAMPLE)

    assert definition.key == ("kosi-lab", 1)
    assert definition.languages == ("de", "en")
    assert definition.title == Text({"de": "Kommunales Labor sozialer Innovation",
                                     "en": "Municipal social innovation lab"})  # fmt: skip
    assert definition.description == Text({"de": "...", "en": "..."})
    assert list(definition.roles) == [
        "coordinator",
        "administration",
        "business",
        "civil_society",
        "science",
    ]
    assert definition.initial == "initiation"
    assert [p.id for p in definition.phases] == [
        "initiation",
        "co_creation",
        "prototyping",
        "consolidation",
        "archived",
    ]
    initiation = definition.phase("initiation")
    assert initiation.max_days == 90
    assert initiation.checklist[0] == ChecklistItem(
        id="challenge_defined",
        title=Text({"de": "Fragestellung formuliert", "en": "Challenge statement agreed"}),
        roles=("coordinator", "administration"),
        evidence="required",
        waivable_by=("administration",),
    )
    assert definition.phase("archived").final
    start = definition.transition("start_co_creation", "initiation")
    assert start is not None
    assert start.requires == Requirements("complete", ("administration", "civil_society"), 3)


def test_items_get_their_defaults() -> None:
    press = load_definition(EXAMPLE).phase("initiation").item("press_contact")

    assert press is not None
    assert press.roles == ("coordinator",)
    assert press.evidence == "optional"
    assert press.optional is True
    assert press.waivable_by == ()
    assert press.description is None


def test_transitions_get_their_defaults() -> None:
    definition = load_definition(EXAMPLE)
    to_prototyping = definition.transition("start_prototyping", "co_creation")
    consolidate = definition.transition("consolidate", "prototyping")

    assert to_prototyping is not None
    assert to_prototyping.roles == ("coordinator",)
    assert to_prototyping.requires == Requirements(checklist="complete")
    assert to_prototyping.reason == "optional"
    assert to_prototyping.auto is False
    assert to_prototyping.title is None
    assert consolidate is not None
    assert consolidate.requires == Requirements("complete", ("administration",), 0)


def test_a_star_source_expands_to_every_non_final_phase_in_phase_order() -> None:
    definition = load_definition(EXAMPLE)
    archive = definition.transitions[-1]

    assert archive.trigger == "archive"
    assert archive.from_any is True
    assert archive.sources == ("initiation", "co_creation", "prototyping", "consolidation")
    assert archive.requires == Requirements(checklist="none")
    assert archive.reason == "required"


def test_a_single_source_becomes_a_one_tuple_and_a_list_stays_a_tuple() -> None:
    definition = load_definition(EXAMPLE)

    assert definition.transitions[0].sources == ("initiation",)
    assert definition.transitions[2].sources == ("prototyping",)
    assert definition.transitions[0].from_any is False


def test_source_text_hash_and_name_are_kept() -> None:
    definition = load_definition(EXAMPLE)
    text = EXAMPLE.read_text(encoding="utf-8")

    assert definition.source_text == text
    assert definition.content_hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert definition.source_name == str(EXAMPLE)


def test_loading_text_names_it_string_by_default() -> None:
    assert load_definition_text(MINI).source_name == "<string>"
    assert load_definition_text(MINI, "stored.yaml").source_name == "stored.yaml"


def test_optional_titles_and_descriptions_are_kept_in_declared_language_order() -> None:
    text = MINI.replace(
        "    to: done",
        "    to: done\n    title: {en: Finish, de: Abschließen}",
    ).replace(
        "        title: {de: Aufgabe, en: Task}",
        "        title: {de: Aufgabe, en: Task}\n        description: {de: Tun, en: Do}",
    )
    definition = load_definition_text(text)

    assert definition.transitions[0].title == Text({"de": "Abschließen", "en": "Finish"})
    assert list(definition.transitions[0].title.by_lang) == ["de", "en"]
    item = definition.phase("start").item("task")
    assert item is not None
    assert item.description == Text({"de": "Tun", "en": "Do"})


def test_yaml_1_1_booleans_stay_strings() -> None:
    text = (
        MINI.replace("id: mini", "id: no")
        .replace("languages: [de, en]", "languages: [no, on]")
        .replace("de:", "no:")
        .replace("en:", "on:")
        .replace("id: task", "id: yes")
        .replace("trigger: finish", "trigger: off")
    )
    definition = load_definition_text(text)

    assert definition.id == "no"
    assert definition.languages == ("no", "on")
    assert definition.phase("start").checklist[0].id == "yes"
    assert definition.triggers == ("off",)


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yaml")), ids=lambda p: p.name)
def test_the_shipped_workflows_load(path: Path) -> None:
    definition = load_definition(path)

    assert definition.source_name == str(path)


def test_the_shipped_workflow_folder_loads() -> None:
    definitions = load_workflows(WORKFLOWS)

    assert len(definitions) == len(list(WORKFLOWS.glob("*.y*ml")))
    assert all(isinstance(d, Definition) for d in definitions)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_workflows_reads_yaml_and_yml_files_sorted_by_name(tmp_path: Path) -> None:
    _write(tmp_path, "b.yml", MINI.replace("id: mini", "id: bee"))
    _write(tmp_path, "a.yaml", MINI.replace("id: mini", "id: ay"))
    _write(tmp_path, "notes.txt", "not a workflow")

    assert [d.id for d in load_workflows(tmp_path)] == ["ay", "bee"]


def test_load_workflows_reports_the_problems_of_every_bad_file(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", MINI.replace("version: 1", "version: one"))
    _write(tmp_path, "b.yaml", MINI)
    _write(tmp_path, "c.yaml", MINI.replace("to: done", "to: dne"))

    with pytest.raises(DefinitionError) as caught:
        load_workflows(tmp_path)

    assert [(Path(p.file).name, p.path) for p in caught.value.problems] == [
        ("a.yaml", "version"),
        ("c.yaml", "transitions[0].to"),
    ]


def test_load_workflows_refuses_two_files_with_the_same_id_and_version(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", MINI)
    second = _write(tmp_path, "b.yaml", MINI)
    _write(tmp_path, "c.yaml", MINI.replace("version: 1", "version: 2"))

    with pytest.raises(DefinitionError) as caught:
        load_workflows(tmp_path)

    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column, problem.path) == (str(second), 2, 5, "id")
    assert "workflow 'mini' version 1 is also in" in problem.message
    assert problem.message.endswith("a.yaml")


def test_load_workflows_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="not a folder"):
        load_workflows(tmp_path / "missing")


def test_load_definition_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot read the file"):
        load_definition(tmp_path / "missing.yaml")


def test_load_definition_accepts_a_path_or_a_string(tmp_path: Path) -> None:
    path = tmp_path / "copy.yaml"
    shutil.copy(EXAMPLE, path)

    assert load_definition(str(path)) == load_definition(path)
