"""The workflow diagram: SVG (structure, marking, escaping, a clean layout) and Mermaid text."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kosiflow.definition import (
    Definition,
    PhaseMark,
    Text,
    diagram_mermaid,
    diagram_svg,
    load_definition,
    load_definition_text,
)
from kosiflow.definition.diagram_text import text_width, wrap

WORKFLOWS = sorted((Path(__file__).parents[2] / "workflows").glob("*.yaml"))
NS = {"svg": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ("<script>alert(1)</script>", "{{7*7}} \"quoted\" & 'single' ]]> %%{init}%%")

# Ten phases: jumps ahead, loops back (also to the same phase), two triggers between the same
# phases, an automatic transition, a "*" source reaching a middle phase, a start that is not the
# first phase, and titles long enough to wrap.
BUSY = """
format: kosiflow/v1
id: busy
version: 3
languages: [de, en]
title: {de: Viel los, en: Busy}
roles:
  coordinator: {de: Koordination, en: Coordination}
initial: b
phases:
  - {id: a, title: {de: Ein sehr langer Titel für eine Vorlaufphase mit vielen Wörtern, en: A}}
  - {id: b, title: {de: B, en: B}, checklist: [{id: x, title: {de: X, en: X}}]}
  - {id: c, title: {de: Donaudampfschifffahrtsgesellschaftskapitänsmütze, en: C}}
  - {id: d, title: {de: D, en: D}}
  - {id: e, title: {de: E, en: E}}
  - {id: f, title: {de: F, en: F}}
  - {id: g, title: {de: G, en: G}}
  - {id: h, title: {de: H, en: H}}
  - {id: done, title: {de: Fertig, en: Done}, final: true}
  - {id: dropped, title: {de: Verworfen, en: Dropped}, final: true}
transitions:
  - {trigger: go_a, from: b, to: a}
  - {trigger: go_b, from: a, to: b, title: {de: Zurück zu B mit einer recht langen Beschriftung, en: B}}
  - {trigger: go_c, from: b, to: c}
  - {trigger: alt_c, from: b, to: c, title: {de: Alternative, en: Alternative}}
  - {trigger: again, from: c, to: c, title: {de: Nochmal, en: Again}}
  - {trigger: go_d, from: c, to: d, auto: true}
  - {trigger: go_e, from: d, to: e}
  - {trigger: go_f, from: e, to: f}
  - {trigger: jump_h, from: [c, d], to: h, title: {de: Springen, en: Jump}}
  - {trigger: go_g, from: f, to: g}
  - {trigger: go_h, from: g, to: h}
  - {trigger: restart, from: [f, g, h], to: b, title: {de: Neu beginnen, en: Restart}}
  - {trigger: finish, from: h, to: done}
  - {trigger: reset, from: "*", to: d, title: {de: Zurücksetzen, en: Reset}}
  - {trigger: drop, from: "*", to: dropped, title: {de: Verwerfen, en: Drop}}
"""  # noqa: E501


def _definitions() -> list[Definition]:
    return [*(load_definition(path) for path in WORKFLOWS), load_definition_text(BUSY, "busy")]


DEFINITIONS = {d.id: d for d in _definitions()}


def _kosi_lab() -> Definition:
    return DEFINITIONS["kosi-lab"]


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    assert root.tag == f"{SVG}svg"
    return root


def _groups(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if css_class in g.get("class", "").split()]


def _rect(box: ET.Element) -> ET.Element:
    """The outer rectangle of a phase's box."""
    rect = box.find("svg:rect", NS)
    assert rect is not None
    return rect


def _texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def _labels(root: ET.Element) -> dict[str, list[str]]:
    """Trigger → the texts of its labels, without whitespace (lines may break anywhere)."""
    labels: dict[str, list[str]] = {}
    for text in root.iter(f"{SVG}text"):
        trigger = text.get("data-trigger")
        if trigger is not None:
            labels.setdefault(trigger, []).append("".join("".join(text.itertext()).split()))
    return labels


def _hostile(definition: Definition) -> Definition:
    """``definition`` with hostile titles on its first phase, its workflow and a transition."""
    hostile = Text({"de": HOSTILE[0], "en": HOSTILE[1]})
    phases = (dataclasses.replace(definition.phases[0], title=hostile), *definition.phases[1:])
    transitions = (
        dataclasses.replace(definition.transitions[0], title=hostile),
        *definition.transitions[1:],
    )
    return dataclasses.replace(definition, title=hostile, phases=phases, transitions=transitions)


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("workflow", sorted(DEFINITIONS))
def test_every_workflow_draws_one_box_per_phase_and_one_arrow_per_source(
    workflow: str, lang: str
) -> None:
    definition = DEFINITIONS[workflow]
    root = _parse(diagram_svg(definition, lang))

    assert root.get("role") == "img"
    assert root.get("lang") == lang
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox", ""))
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert title is not None
    kind = "Ablaufdiagramm, Version" if lang == "de" else "state diagram, version"
    assert title.text == f"{definition.title.in_(lang)}: {kind} {definition.version}"
    assert desc is not None
    assert desc.text
    assert all(phase.title.in_(lang) in desc.text for phase in definition.phases)
    boxes = _groups(root, "kf-phase")
    assert [g.get("data-phase") for g in boxes] == [p.id for p in definition.phases]
    finals = {g.get("data-phase") for g in _groups(root, "kf-final")}
    assert finals == {p.id for p in definition.phases if p.final}
    arrows = [(g.get("data-trigger"), g.get("data-source")) for g in _groups(root, "kf-arrow")]
    expected = [(t.trigger, s) for t in definition.transitions for s in t.sources]
    assert sorted(arrows) == sorted(expected)
    labels = _labels(root)
    assert set(labels) == set(definition.triggers)
    for transition in definition.transitions:
        text = transition.title.in_(lang) if transition.title else transition.trigger
        assert all(label.startswith("".join(text.split())) for label in labels[transition.trigger])


def test_an_untitled_transition_is_labelled_with_its_trigger_and_auto_ones_say_so() -> None:
    root = _parse(diagram_svg(DEFINITIONS["busy"], "en"))
    labels = _labels(root)
    assert labels["go_a"] == ["go_a"]
    assert labels["go_d"] == ["go_d(automatic)"]
    auto = [g for g in _groups(root, "kf-arrow") if g.get("data-trigger") == "go_d"]
    assert "kf-auto" in auto[0].get("class", "")


@pytest.mark.parametrize(("lang", "marker", "progress"), [
    ("de", "● aktuell", "Checkliste 1/4"),
    ("en", "● current", "Checklist 1/4"),
])  # fmt: skip
def test_the_current_phase_is_marked_by_border_and_words_with_its_progress(
    lang: str, marker: str, progress: str
) -> None:
    definition = _kosi_lab()
    # prototyping: 4 required items and 2 optional ones; an optional one done does not count
    mark = PhaseMark.at(definition, "prototyping", {"field_test_run", "operating_model"})
    root = _parse(diagram_svg(definition, lang, mark))

    current = _groups(root, "kf-current")
    assert [g.get("data-phase") for g in current] == ["prototyping"]
    assert _texts(current[0])[1:] == [marker, progress]
    boxes = _groups(root, "kf-phase")
    others = [g for g in boxes if g not in current]
    assert not any(marker in text for g in others for text in _texts(g))
    widths = {g.get("data-phase"): _rect(g).get("stroke-width") for g in boxes}
    assert widths.pop("prototyping") == "4"
    assert set(widths.values()) == {"1.5"}
    desc = root.find("svg:desc", NS)
    assert desc is not None
    assert progress in (desc.text or "")


def test_a_mark_naming_an_unknown_phase_is_refused() -> None:
    with pytest.raises(ValueError, match="no phase 'nowhere'"):
        diagram_svg(_kosi_lab(), "en", PhaseMark("nowhere"))
    with pytest.raises(ValueError, match="no phase 'nowhere'"):
        diagram_mermaid(_kosi_lab(), "en", PhaseMark(None, {"nowhere": (1, 2)}))


def test_a_phase_without_required_items_shows_no_progress() -> None:
    assert PhaseMark.at(_kosi_lab(), "completed", set()) == PhaseMark("completed")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_hostile_titles_appear_literally_and_never_as_markup(lang: str) -> None:
    definition = _hostile(_kosi_lab())
    svg = diagram_svg(definition, lang, PhaseMark.at(definition, "initiation", set()))
    root = _parse(svg)
    hostile = HOSTILE[0] if lang == "de" else HOSTILE[1]

    assert "<script" not in svg
    assert not list(root.iter(f"{SVG}script"))
    allowed = {f"{SVG}{tag}" for tag in ("title", "desc", "style", "rect", "g", "text")}
    assert {child.tag for child in root} <= allowed
    first = _groups(root, "kf-phase")[0]
    assert " ".join(_texts(first)).startswith(hostile[:5])
    assert hostile in "".join(root.itertext()).replace("\n", "")
    title = root.find("svg:title", NS)
    assert title is not None
    assert (title.text or "").startswith(hostile)


def test_characters_xml_forbids_are_replaced() -> None:
    definition = _kosi_lab()
    bell = dataclasses.replace(definition.phases[0], title=Text({"en": "Ring\x07\x00ing"}))
    ringing = dataclasses.replace(definition, phases=(bell, *definition.phases[1:]))
    root = _parse(diagram_svg(ringing, "en"))
    assert "Ring\ufffd\ufffding" in _texts(_groups(root, "kf-phase")[0])


def test_the_svg_is_self_contained() -> None:
    svg = diagram_svg(_kosi_lab(), "en")
    assert not re.search(r"(href|url\(|@import|<script|<foreignObject|\bid=)", svg)
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_same_input_gives_the_same_bytes() -> None:
    mark = PhaseMark.at(_kosi_lab(), "co_creation", {"test_plan"})
    again = load_definition(Path(WORKFLOWS[0]).with_name("kosi-lab.yaml"))
    for draw in (diagram_svg, diagram_mermaid):
        first = draw(_kosi_lab(), "de", mark)
        assert draw(_kosi_lab(), "de", mark) == first
        assert draw(again, "de", mark) == first


# -- the layout: no text outside its box, no arrow through a box, no label on anything -------------

Rect = tuple[float, float, float, float]


def _segments(path: str) -> list[Rect]:
    """The straight pieces of our paths (M, H, V; a Q corner as the line between its ends)."""
    tokens = path.split()
    x = y = 0.0
    pieces: list[Rect] = []
    i = 0
    while i < len(tokens):
        command = tokens[i]
        if command == "M":
            x, y = float(tokens[i + 1]), float(tokens[i + 2])
            i += 3
            continue
        if command == "H":
            end = (float(tokens[i + 1]), y)
            i += 2
        elif command == "V":
            end = (x, float(tokens[i + 1]))
            i += 2
        else:
            assert command == "Q"
            end = (float(tokens[i + 3]), float(tokens[i + 4]))
            i += 5
        pieces.append((min(x, end[0]), min(y, end[1]), max(x, end[0]), max(y, end[1])))
        x, y = end
    return pieces


def _meets(a: Rect, b: Rect) -> bool:
    """Whether the rectangles overlap by more than touching."""
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def _label_rect(text: ET.Element) -> Rect:
    lines = ["".join(span.itertext()) for span in text.iter(f"{SVG}tspan")]
    width = max(text_width(line, 12) for line in lines)
    x, y = float(text.get("x", 0)), float(text.get("y", 0))
    left = x if text.get("text-anchor") == "start" else x - width
    return (left, y - 12, left + width, y + (len(lines) - 1) * 15 + 4)


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("workflow", sorted(DEFINITIONS))
def test_no_arrow_crosses_a_box_and_no_label_touches_a_box_a_line_or_a_label(
    workflow: str, lang: str
) -> None:
    definition = DEFINITIONS[workflow]
    root = _parse(diagram_svg(definition, lang, PhaseMark.at(definition, definition.initial, ())))
    boxes: list[Rect] = []
    for g in _groups(root, "kf-phase"):
        rect = _rect(g)
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        boxes.append((x, y, x + float(rect.get("width", 0)), y + float(rect.get("height", 0))))
    lines = [
        piece
        for g in _groups(root, "kf-arrow")
        for path in g.iter(f"{SVG}path")
        if path.get("class") == "kf-line"
        for piece in _segments(path.get("d", ""))
    ]
    labels = [_label_rect(t) for t in root.iter(f"{SVG}text") if t.get("class") == "kf-label"]
    width, height = (float(v) for v in root.get("viewBox", "").split()[2:])

    for piece in lines:
        assert not any(_meets(piece, box) for box in boxes), piece
    for i, label in enumerate(labels):
        assert label[0] >= 0, label
        assert label[2] <= width, label
        assert label[3] <= height, label
        assert not any(_meets(label, box) for box in boxes), label
        assert not any(_meets(label, piece) for piece in lines), label
        assert not any(_meets(label, other) for other in labels[i + 1 :]), label


@pytest.mark.parametrize("workflow", sorted(DEFINITIONS))
def test_every_line_of_text_fits_its_box(workflow: str) -> None:
    definition = DEFINITIONS[workflow]
    mark = PhaseMark.at(definition, definition.initial, ())
    root = _parse(diagram_svg(definition, "de", mark))
    for g in _groups(root, "kf-phase"):
        rect = _rect(g)
        top, bottom = (
            float(rect.get("y", 0)),
            float(rect.get("y", 0)) + float(rect.get("height", 0)),
        )
        for text in g.iter(f"{SVG}text"):
            bold = text.get("class") == "kf-title"
            size = 14 if bold else 12
            width = text_width("".join(text.itertext()), size, bold=bold)
            assert width <= float(rect.get("width", 0)) - 20
            assert top + size <= float(text.get("y", 0)) <= bottom - 4


def test_long_titles_wrap_at_spaces_and_slashes_and_only_then_inside_words() -> None:
    assert wrap("Prototyping/Erprobung im Feld", 100, 14) == (
        "Prototyping/",
        "Erprobung im",
        "Feld",
    )
    assert wrap("  Ko-Kreation  ", 500, 14) == ("Ko-Kreation",)
    long_word = wrap("Donaudampfschifffahrtsgesellschaft", 100, 14)
    assert len(long_word) > 1
    assert "".join(long_word) == "Donaudampfschifffahrtsgesellschaft"
    assert all(text_width(line, 14) <= 100 for line in long_word)
    assert wrap("", 100, 14) == ("",)


# -- Mermaid -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("workflow", sorted(DEFINITIONS))
def test_mermaid_lists_every_phase_and_every_transition_from_every_source(
    workflow: str, lang: str
) -> None:
    definition = DEFINITIONS[workflow]
    lines = diagram_mermaid(definition, lang).splitlines()

    assert lines[0] == "stateDiagram-v2"
    states = [line for line in lines if line.startswith("    state ")]
    assert len(states) == len(definition.phases)
    assert f"    [*] --> {definition.initial}" in lines
    for transition in definition.transitions:
        for source in transition.sources:
            arrow = f"    {source} --> {transition.target} : "
            assert any(line.startswith(arrow) for line in lines), arrow
    assert sum(" --> " in line and "[*]" not in line for line in lines) == sum(
        len(t.sources) for t in definition.transitions
    )
    finals = [p.id for p in definition.phases if p.final]
    assert [line.split()[0] for line in lines if line.endswith("--> [*]")] == finals


def test_mermaid_marks_the_current_phase_and_its_progress() -> None:
    definition = _kosi_lab()
    text = diagram_mermaid(definition, "de", PhaseMark.at(definition, "initiation", set()))
    assert "    initiation : #9679; aktuell\n" in text
    assert "    initiation : Checkliste 0/6\n" in text
    assert text.endswith("    class initiation current\n")


def test_mermaid_escapes_titles_and_keeps_ids_clear_of_keywords() -> None:
    definition = _hostile(_kosi_lab())
    end = dataclasses.replace(definition.phases[-1], id="end")
    transitions = tuple(
        dataclasses.replace(t, target="end") if t.target == "archived" else t
        for t in definition.transitions
    )
    definition = dataclasses.replace(
        definition, phases=(*definition.phases[:-1], end), transitions=transitions
    )
    text = diagram_mermaid(definition, "en")

    assert "<" not in text
    assert "{" not in text
    assert "%%{" not in text
    assert '    state "#123;#123;7#42;7#125;#125; #34;quoted#34; #38; ' in text
    assert "    initiation --> co_creation : #123;#123;7#42;7#125;#125;" in text
    assert '    state "Archived" as phase_end' in text
    assert "    prototyping --> phase_end : Archive" in text
    for line in text.splitlines()[1:]:
        assert line.startswith("    ")
        assert line.count('"') in (0, 2)
