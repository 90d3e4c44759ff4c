"""The state diagram of a workflow: a self-contained SVG, or Mermaid ``stateDiagram-v2`` text.

Both show the phases in file order with their titles, every transition from every source with
its title (or trigger), automatic transitions, the start and the final phases; and, given a
:class:`PhaseMark`, an initiative's current phase and checklist progress. Titles come from
workflow files and are treated as untrusted text: escaped for XML in the SVG, and written as
Mermaid's ``#code;`` entities where a character could mean something to Mermaid. Same input, same
bytes: the output can be cached and compared.

The SVG needs nothing from outside (no fonts, scripts, links or ids) and can be inlined into a
page: its look is in presentation attributes, which no Content-Security-Policy blocks, and its
elements carry classes starting with ``kf-`` for a page's CSS to restyle.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from kosiflow.definition.diagram_layout import (
    LABEL_LINE,
    LABEL_SIZE,
    NOTE_LINE,
    NOTE_SIZE,
    TITLE_LINE,
    TITLE_SIZE,
    Arrow,
    Box,
    Edge,
    Label,
    Layout,
    Node,
    Point,
    lay_out,
    num,
)
from kosiflow.definition.model import Definition, Transition
from kosiflow.svg_text import one_line, xml_text

__all__ = ["PhaseMark", "diagram_mermaid", "diagram_svg"]


@dataclass(frozen=True, slots=True)
class PhaseMark:
    """What an initiative's state adds to its workflow's diagram."""

    current: str | None = None
    """The phase to highlight."""
    checklist: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Phase id → (items done, items in all), shown in the phase's box."""

    @classmethod
    def at(cls, definition: Definition, phase: str, done: Collection[str]) -> PhaseMark:
        """The mark of an initiative in ``phase`` whose items ``done`` are done or waived: the
        phase highlighted, with how many of its required items are done (when it has any)."""
        required = [item.id for item in definition.phase(phase).checklist if not item.optional]
        if not required:
            return cls(phase)
        return cls(phase, {phase: (sum(1 for item in required if item in done), len(required))})


_WORDS = {
    "de": {
        "current": "● aktuell",
        "current_phase": "Aktuelle Phase",
        "checklist": "Checkliste {done}/{total}",
        "auto": "automatisch",
        "diagram": "{title}: Ablaufdiagramm, Version {version}",
        "phases": "Phasen von oben nach unten",
        "transitions": "Übergänge",
        "start": "Start",
        "final": "Endphase",
    },
    "en": {
        "current": "● current",
        "current_phase": "Current phase",
        "checklist": "Checklist {done}/{total}",
        "auto": "automatic",
        "diagram": "{title}: state diagram, version {version}",
        "phases": "Phases from top to bottom",
        "transitions": "Transitions",
        "start": "start",
        "final": "final phase",
    },
}


def _words(lang: str) -> Mapping[str, str]:
    return _WORDS.get(lang, _WORDS["en"])


def _checked(definition: Definition, mark: PhaseMark | None) -> PhaseMark:
    """``mark`` (or no mark); ValueError when it names a phase the workflow does not have."""
    if mark is None:
        return PhaseMark()
    named = [*mark.checklist, *([] if mark.current is None else [mark.current])]
    unknown = [phase for phase in named if not definition.has_phase(phase)]
    if unknown:
        raise ValueError(f"workflow {definition.id!r} has no phase {unknown[0]!r}")
    return mark


def _label(transition: Transition, lang: str) -> str:
    label = transition.title.in_(lang) if transition.title else transition.trigger
    return f"{label} ({_words(lang)['auto']})" if transition.auto else label


def _notes(phase: str, mark: PhaseMark, lang: str) -> tuple[str, ...]:
    progress = mark.checklist.get(phase)
    if progress is None:
        return ()
    done, total = progress
    return (_words(lang)["checklist"].format(done=done, total=total),)


# -- SVG -----------------------------------------------------------------------------------------

_INK = "#1f2328"
_MUTED = "#424a53"
_HIGHLIGHT = "#0a3069"
_LOOKS = {
    "kf-background": 'fill="#ffffff"',
    "kf-box": 'fill="#f6f8fa" stroke="#57606a" stroke-width="1.5"',
    "kf-inner": 'fill="none" stroke="#57606a" stroke-width="1.5"',
    "kf-title": f'font-size="{TITLE_SIZE}" font-weight="700" fill="{_INK}" text-anchor="middle"',
    "kf-marker": f'font-size="{NOTE_SIZE}" font-weight="700" fill="{_HIGHLIGHT}" '
    'text-anchor="middle"',
    "kf-note": f'font-size="{NOTE_SIZE}" fill="{_MUTED}" text-anchor="middle"',
    "kf-line": f'fill="none" stroke="{_MUTED}" stroke-width="1.5"',
    "kf-head": f'fill="{_MUTED}"',
    "kf-label": f'font-size="{LABEL_SIZE}" fill="{_INK}" stroke="#ffffff" stroke-width="4" '
    'stroke-linejoin="round" paint-order="stroke"',
}
"""Each class's look, as presentation attributes: a page's CSS may restyle them by class, and a
page whose Content-Security-Policy blocks inline ``<style>`` still shows the diagram right.
Text on its background has a contrast of at least 7.9:1, lines and borders at least 6.4:1."""
_CURRENT_BOX = f'fill="#ddf4ff" stroke="{_HIGHLIGHT}" stroke-width="4"'
_AUTO_LINE = ' stroke-dasharray="6 4"'
_FONTS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"
_STYLE = ".kf-diagram{max-width:100%;height:auto}"
"""What attributes cannot say: the diagram shrinks to fit a narrow page."""


def _look(css_class: str) -> str:
    return f'class="{css_class}" {_LOOKS[css_class]}'


def _head(head: tuple[Point, Point, Point]) -> str:
    tip, left, right = head
    corners = " L ".join(f"{num(x)} {num(y)}" for x, y in (left, right))
    return f'<path {_look("kf-head")} d="M {num(tip[0])} {num(tip[1])} L {corners} Z"/>'


def _svg_box(box: Box) -> list[str]:
    node = box.node
    classes = (
        "kf-phase" + (" kf-final" if node.final else "") + (" kf-current" if node.marker else "")
    )
    x, y, w, h = box.x, box.y, box.width, box.height
    parts = [
        f'<g class="{classes}" data-phase="{xml_text(node.id)}">',
        f'<rect class="kf-box" {_CURRENT_BOX if node.marker else _LOOKS["kf-box"]} x="{num(x)}" '
        f'y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="10"/>',
    ]
    if node.final:  # a double border, as state diagrams draw final states
        parts.append(
            f'<rect {_look("kf-inner")} x="{num(x + 4)}" y="{num(y + 4)}" width="{num(w - 8)}" '
            f'height="{num(h - 8)}" rx="7"/>'
        )
    lines = [("kf-title", line) for line in box.title]
    lines += [("kf-marker", node.marker)] if node.marker else []
    lines += [("kf-note", note) for note in node.notes]
    heights = [TITLE_LINE if kind == "kf-title" else NOTE_LINE for kind, _ in lines]
    line_top = y + (h - sum(heights)) / 2
    center = num(x + w / 2)
    for (kind, text), height in zip(lines, heights, strict=True):
        size = TITLE_SIZE if kind == "kf-title" else NOTE_SIZE
        baseline = line_top + height / 2 + size * 0.35
        parts.append(
            f'<text {_look(kind)} x="{center}" y="{num(baseline)}">{xml_text(text)}</text>'
        )
        line_top += height
    parts.append("</g>")
    return parts


def _svg_arrow(arrow: Arrow) -> str:
    edge = arrow.edge
    classes = "kf-arrow" + (" kf-auto" if edge.auto else "")
    return (
        f'<g class="{classes}" data-trigger="{xml_text(edge.trigger)}" '
        f'data-source="{xml_text(arrow.source)}" data-target="{xml_text(edge.target)}">'
        f'<path {_look("kf-line")}{_AUTO_LINE if edge.auto else ""} d="{arrow.path}"/>'
        f"{_head(arrow.head)}</g>"
    )


def _svg_label(label: Label) -> str:
    x = num(label.x)
    spans = "".join(
        f'<tspan x="{x}" dy="{0 if i == 0 else LABEL_LINE}">{xml_text(line)}</tspan>'
        for i, line in enumerate(label.lines)
    )
    return (
        f'<text {_look("kf-label")} x="{x}" y="{num(label.y)}" text-anchor="{label.anchor}" '
        f'data-trigger="{xml_text(label.edge.trigger)}">{spans}</text>'
    )


def _description(definition: Definition, lang: str, mark: PhaseMark) -> str:
    """The diagram in words, for screen readers."""
    words = _words(lang)
    titles = {phase.id: one_line(phase.title.in_(lang)) for phase in definition.phases}
    phases = []
    for phase in definition.phases:
        tags = [words["start"]] if phase.id == definition.initial else []
        tags += [words["final"]] if phase.final else []
        phases.append(titles[phase.id] + (f" ({', '.join(tags)})" if tags else ""))
    steps = [
        f"{one_line(_label(t, lang))}: {', '.join(titles[s] for s in t.sources)} → "
        f"{titles[t.target]}"
        for t in definition.transitions
    ]
    text = f"{words['phases']}: {', '.join(phases)}. {words['transitions']}: {'; '.join(steps)}."
    if mark.current is not None:
        notes = _notes(mark.current, mark, lang)
        current = titles[mark.current] + (f" ({notes[0]})" if notes else "")
        text += f" {words['current_phase']}: {current}."
    return text


def _svg(definition: Definition, lang: str, mark: PhaseMark, layout: Layout) -> str:
    title = _words(lang)["diagram"].format(
        title=one_line(definition.title.in_(lang)), version=definition.version
    )
    width, height = num(layout.width), num(layout.height)
    start = layout.start
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kf-diagram" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" role="img" lang="{xml_text(lang)}" '
        f'font-family="{_FONTS}" '
        f'data-workflow="{xml_text(definition.id)}" data-version="{definition.version}">',
        f"<title>{xml_text(title)}</title>",
        f"<desc>{xml_text(_description(definition, lang, mark))}</desc>",
        f"<style>{_STYLE}</style>",
        f'<rect {_look("kf-background")} width="{width}" height="{height}"/>',
        f'<g class="kf-start"><circle {_LOOKS["kf-head"]} cx="{num(start.center[0])}" '
        f'cy="{num(start.center[1])}" r="{num(start.radius)}"/>'
        f'<path {_look("kf-line")} d="{start.path}"/>{_head(start.head)}</g>',
        *(_svg_arrow(arrow) for arrow in layout.arrows),
        *(part for box in layout.boxes for part in _svg_box(box)),
        *(_svg_label(label) for label in layout.labels),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def diagram_svg(definition: Definition, lang: str, mark: PhaseMark | None = None) -> str:
    """The workflow's state diagram as a self-contained SVG document, in ``lang``.

    Phases are boxes in file order, top to bottom; a step to the next phase is a straight arrow,
    every other step runs in a lane beside the boxes (forward on the right, back on the left).
    ``mark`` highlights the current phase (thicker border and a "● current" line, not colour
    alone) and shows checklist progress; a mark naming an unknown phase is a ValueError.
    """
    mark = _checked(definition, mark)
    nodes = [
        Node(
            id=phase.id,
            title=one_line(phase.title.in_(lang)) or phase.id,
            marker=_words(lang)["current"] if phase.id == mark.current else None,
            notes=_notes(phase.id, mark, lang),
            final=phase.final,
        )
        for phase in definition.phases
    ]
    edges = [
        Edge(t.trigger, one_line(_label(t, lang)), t.sources, t.target, t.auto)
        for t in definition.transitions
    ]
    return _svg(definition, lang, mark, lay_out(nodes, edges, definition.initial))


# -- Mermaid -------------------------------------------------------------------------------------

_MERMAID_PLAIN = frozenset(" .,-_/()'!?+")
_MERMAID_WORDS = frozenset(
    [
        "accdescr",
        "acctitle",
        "as",
        "choice",
        "class",
        "classdef",
        "click",
        "default",
        "direction",
        "end",
        "fork",
        "hide",
        "join",
        "left",
        "note",
        "of",
        "over",
        "right",
        "scale",
        "state",
        "style",
    ]
)
"""Words of Mermaid's state diagrams that a state id must not be."""


def _mermaid_text(text: str) -> str:
    """``text`` on one line, every character Mermaid could read as syntax written ``#code;``."""
    return "".join(
        char if char.isalnum() or char in _MERMAID_PLAIN else f"#{ord(char)};"
        for char in one_line(text)
    )


def _mermaid_ids(definition: Definition) -> dict[str, str]:
    """A Mermaid state id per phase: ASCII word characters, no keyword, all distinct."""
    ids: dict[str, str] = {}
    for phase in definition.phases:
        base = re.sub(r"\W", "_", phase.id, flags=re.ASCII)
        if not base[:1].isalpha() or base.lower() in _MERMAID_WORDS:
            base = f"phase_{base}"
        candidate, n = base, 1
        while candidate in ids.values():
            n += 1
            candidate = f"{base}_{n}"
        ids[phase.id] = candidate
    return ids


def diagram_mermaid(definition: Definition, lang: str, mark: PhaseMark | None = None) -> str:
    """The same diagram as :func:`diagram_svg`, as Mermaid ``stateDiagram-v2`` text: one line
    per state, one per transition from each source, the current phase as class ``current``."""
    mark = _checked(definition, mark)
    ids = _mermaid_ids(definition)
    title = _mermaid_text(definition.title.in_(lang))
    lines = [
        "stateDiagram-v2",
        "    direction TB",
        f"    %% {_mermaid_text(definition.id)} {definition.version}: {title}",
    ]
    for phase in definition.phases:
        name = _mermaid_text(phase.title.in_(lang)) or ids[phase.id]
        lines.append(f'    state "{name}" as {ids[phase.id]}')
    for phase in definition.phases:
        marker = [_words(lang)["current"]] if phase.id == mark.current else []
        for note in (*marker, *_notes(phase.id, mark, lang)):
            lines.append(f"    {ids[phase.id]} : {_mermaid_text(note)}")
    lines.append(f"    [*] --> {ids[definition.initial]}")
    for t in definition.transitions:
        label = _mermaid_text(_label(t, lang))
        lines += [f"    {ids[source]} --> {ids[t.target]} : {label}" for source in t.sources]
    lines += [f"    {ids[phase.id]} --> [*]" for phase in definition.phases if phase.final]
    if mark.current is not None:
        lines.append("    classDef current font-weight:bold,stroke-width:4px")
        lines.append(f"    class {ids[mark.current]} current")
    return "\n".join(lines) + "\n"
