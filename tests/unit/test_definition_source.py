"""Reading YAML safely: syntax, YAML 1.2 only, core tags only, one document, and limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosiflow.definition import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    load_definition,
    load_definition_text,
    source,
)
from kosiflow.errors import DefinitionError, Problem

MINI = (Path(__file__).parent / "definition_cases" / "mini.yaml").read_text(encoding="utf-8")


def only_problem(text: str) -> Problem:
    with pytest.raises(DefinitionError) as caught:
        load_definition_text(text, "bad.yaml")
    (problem,) = caught.value.problems
    return problem


def where(problem: Problem) -> tuple[int, int, str]:
    return problem.line, problem.column, problem.path


def test_a_yaml_syntax_error_is_reported_with_its_position() -> None:
    problem = only_problem(MINI.replace("version: 1", "version: [1"))

    assert where(problem) == (4, 10, "<document>")
    assert problem.message.startswith("YAML syntax error: expected ',' or ']'")


def test_a_tab_indent_is_a_syntax_error() -> None:
    problem = only_problem(MINI.replace("version: 1", "version: 1\n\tfoo: 1"))

    assert where(problem) == (4, 1, "<document>")
    assert "YAML syntax error" in problem.message


def test_duplicate_keys_are_refused_and_every_one_is_reported() -> None:
    text = MINI.replace("version: 1", "version: 1\nversion: 2").replace(
        "    to: done", "    to: done\n    to: start"
    )

    with pytest.raises(DefinitionError) as caught:
        load_definition_text(text, "bad.yaml")

    assert [(*where(p), p.message) for p in caught.value.problems] == [
        (4, 1, "version", "duplicate key 'version' (first at line 3)"),
        (24, 5, "transitions[0].to", "duplicate key 'to' (first at line 23)"),
    ]


def test_a_python_tag_is_refused_by_name() -> None:
    problem = only_problem(
        MINI.replace("version: 1", "version: !!python/object/apply:os.system [ls]")
    )

    assert where(problem) == (3, 10, "version")
    assert problem.message == "tag '!!python/object/apply:os.system' is not allowed"


def test_a_python_tag_on_a_key_is_refused() -> None:
    problem = only_problem(MINI.replace("version: 1", "version: 1\n!!python/name:os.system x: 1"))

    assert where(problem) == (4, 1, "<document>")
    assert problem.message == "tag '!!python/name:os.system' is not allowed"


def test_a_local_tag_is_refused() -> None:
    problem = only_problem(MINI.replace("id: mini", "id: !include other.yaml"))

    assert where(problem) == (2, 5, "id")
    assert problem.message == "tag '!include' is not allowed"


def test_explicit_core_tags_are_allowed() -> None:
    text = MINI.replace("id: mini", "id: !!str mini").replace("version: 1", "version: !!int 1")

    assert load_definition_text(text).key == ("mini", 1)


def test_an_explicit_core_tag_must_fit_its_value() -> None:
    problem = only_problem(MINI.replace("version: 1", "version: !!int one"))

    assert where(problem) == (3, 10, "version")
    assert problem.message == "'one' is not a valid !!int"


def test_merge_keys_are_refused() -> None:
    problem = only_problem(MINI.replace("version: 1", "version: 1\n<<: {x: 1}"))

    assert where(problem) == (4, 1, "<document>")
    assert problem.message == "merge keys ('<<') are not supported"


def test_a_complex_key_is_refused() -> None:
    problem = only_problem(MINI.replace("version: 1", "version: 1\n? [a]\n: 1"))

    assert (problem.line, problem.column) == (4, 3)
    assert problem.message == "a key must be a plain text"


def test_a_second_document_is_refused() -> None:
    problem = only_problem(MINI + "---\nid: other\n")

    assert where(problem) == (23, 1, "<document>")
    assert "exactly one YAML document" in problem.message


def test_a_yaml_1_1_directive_is_refused() -> None:
    problem = only_problem("%YAML 1.1\n---\n" + MINI)

    assert where(problem) == (2, 1, "<document>")
    assert problem.message == "only YAML 1.2 is supported (the file says %YAML 1.1)"


def test_an_anchor_defined_twice_is_refused() -> None:
    problem = only_problem(
        MINI.replace("id: mini", "id: &x mini").replace("version: 1", "version: &x 1")
    )

    assert where(problem) == (3, 10, "<document>")
    assert problem.message == "the anchor '&x' is defined twice"


def test_an_undefined_alias_is_a_syntax_error() -> None:
    problem = only_problem(MINI.replace("version: 1", "version: *nothing"))

    assert where(problem) == (3, 10, "<document>")
    assert "found undefined alias 'nothing'" in problem.message


def test_aliases_within_the_limits_are_expanded() -> None:
    text = MINI.replace("title: {de: Mini, en: Mini}", "title: &t {de: Mini, en: Mini}").replace(
        "    title: {de: Start, en: Start}", "    title: *t"
    )

    assert load_definition_text(text).phase("start").title.in_("de") == "Mini"


def _billion_laughs(levels: int = 10) -> str:
    lines = ["format: kosiflow/v1", "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        aliases = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"l{level}: &l{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_document_is_refused_by_its_expanded_node_count() -> None:
    problem = only_problem(_billion_laughs())

    assert problem.path == "<document>"
    assert problem.message == (
        f"the document expands to more than {MAX_NODES} nodes (through aliases)"
    )


def test_a_self_referencing_alias_is_refused_by_depth() -> None:
    problem = only_problem("format: kosiflow/v1\nloop: &loop [*loop]\n")

    assert where(problem) == (2, 7, "<document>")
    assert problem.message == (
        f"the document is nested deeper than {MAX_DEPTH} levels (through aliases)"
    )


def test_deep_nesting_is_refused_before_composing() -> None:
    depth = 10 * MAX_DEPTH
    problem = only_problem("a: " + "[" * depth + "]" * depth + "\n")

    # the root mapping is the first level, the first "[" (column 4) the second
    assert where(problem) == (1, 3 + MAX_DEPTH, "<document>")
    assert problem.message == f"the document is nested deeper than {MAX_DEPTH} levels"


def test_a_too_large_text_is_refused_before_parsing() -> None:
    problem = only_problem("# " + "x" * MAX_BYTES + "\n")

    assert where(problem) == (1, 1, "<document>")
    assert problem.message == f"the file is larger than {MAX_BYTES} bytes"


def test_a_too_large_file_is_refused_before_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 10))

    with pytest.raises(DefinitionError, match="larger than"):
        load_definition(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(MINI.replace("Mini", "Müni").encode("latin-1"))

    with pytest.raises(DefinitionError) as caught:
        load_definition(path)

    (problem,) = caught.value.problems
    assert problem.file == str(path)
    assert problem.message.startswith("the file is not UTF-8")


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n"], ids=["empty", "comment"])
def test_an_empty_document_is_refused(text: str) -> None:
    problem = only_problem(text)

    assert where(problem) == (1, 1, "<document>")
    assert problem.message == "the document is empty"


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    problem = only_problem("- format\n- id\n")

    assert where(problem) == (1, 1, "<document>")
    assert problem.message == "expected a mapping, got a list"


def test_problem_text_is_file_line_column_path_message() -> None:
    problem = only_problem(MINI.replace("version: 1", "version: one"))

    assert str(problem) == "bad.yaml:3:10: version: expected an integer, got the text 'one'"


def test_too_many_nodes_are_refused_while_scanning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_NODES", 100)
    problem = only_problem("big: [" + ", ".join(["1"] * 200) + "]\n")

    # nodes: the root mapping, "big", the list, then the items: the 101st node is item [97]
    assert where(problem) == (1, 1 + len("big: [") + 3 * 97, "<document>")
    assert problem.message == "the document has more than 100 nodes"


def test_folded_and_literal_texts_read_as_written() -> None:
    """Folded lines join with one space (no marker characters of the YAML library remain);
    literal blocks keep their line breaks."""
    for path in sorted((Path(__file__).parents[2] / "workflows").glob("*.yaml")):
        definition = load_definition(path)
        texts = [definition.description] + [p.description for p in definition.phases]
        for text in texts:
            for lang in definition.languages:
                assert text is None or "\a" not in text.in_(lang), path.name
    light = load_definition(Path(__file__).parents[2] / "workflows" / "light-track.yaml")
    assert light.description is not None
    assert "Ko-Kreation und keine Erprobung" in light.description.in_("de")
