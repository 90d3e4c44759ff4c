"""Where the parts of a workflow diagram go: a column of boxes, straight arrows and side lanes.

The phases stand in one column, top to bottom, in the order of the file; ``diagram_routing``
decides which arrows run straight down the column and which in a lane beside it. Here everything
gets its size and place. Arrows in lanes enter and leave the boxes from the side, at ports spread
over the box's height. Each lane's label stands between its line and the next lane out, in a gap
between two boxes, where only vertical lane lines pass; so labels never meet boxes, lines or each
other. Every size comes from estimated text widths (``diagram_text``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kosiflow.definition.diagram_routing import (
    LEFT,
    RIGHT,
    Group,
    PortId,
    assign_lanes,
    label_gaps,
    order_ports,
    route,
)
from kosiflow.definition.diagram_text import text_width, wrap

Point = tuple[float, float]

TITLE_SIZE = 14
NOTE_SIZE = 12
LABEL_SIZE = 12
TITLE_LINE = 18
NOTE_LINE = 16
LABEL_LINE = 15

_MARGIN = 16
_PAD_X = 14
_PAD_Y = 10
_BOX_MIN_WIDTH = 180
_BOX_MIN_HEIGHT = 44
_TITLE_MAX_WIDTH = 250
_LABEL_MAX_WIDTH = 150
_LABEL_PAD = 6
_LABEL_DX = 8
"""Distance of a straight arrow's label from the arrow."""
_GAP_MIN = 48
_LANE_GAP = 24
"""Distance of the first lane from the column, and the room kept between two lanes' labels."""
_PORT_STEP = 14
_CORNER = 10
_HEAD_LENGTH = 9
_HEAD_HALF = 5
_START_RADIUS = 7
_START_LENGTH = 24


@dataclass(frozen=True, slots=True)
class Node:
    """A phase as drawn: its title, the marker of the current phase, and short notes."""

    id: str
    title: str
    marker: str | None = None
    """Shown below the title of the current phase (None for every other phase)."""
    notes: tuple[str, ...] = ()
    """Short lines below (not wrapped)."""
    final: bool = False


@dataclass(frozen=True, slots=True)
class Edge:
    """A transition as drawn."""

    trigger: str
    label: str
    sources: tuple[str, ...]
    target: str
    auto: bool = False


@dataclass(frozen=True, slots=True)
class Box:
    node: Node
    x: float
    y: float
    width: float
    height: float
    title: tuple[str, ...]
    """The title's lines."""


@dataclass(frozen=True, slots=True)
class Arrow:
    """The arrow of one transition from one source."""

    edge: Edge
    source: str
    path: str
    """SVG path data of the line."""
    head: tuple[Point, Point, Point]
    """The arrowhead: its tip, then the two corners of its base."""


@dataclass(frozen=True, slots=True)
class Label:
    edge: Edge
    x: float
    y: float
    """The baseline of the first line."""
    lines: tuple[str, ...]
    anchor: Literal["start", "end"]


@dataclass(frozen=True, slots=True)
class Start:
    """The start marker: a dot with an arrow into the initial phase."""

    center: Point
    radius: float
    path: str
    head: tuple[Point, Point, Point]


@dataclass(frozen=True, slots=True)
class Layout:
    width: float
    height: float
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    labels: tuple[Label, ...]
    start: Start


def num(value: float) -> str:
    """A coordinate as SVG text: at most one decimal, no trailing zero (stable output)."""
    text = f"{value:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def _label(text: str) -> tuple[str, ...]:
    return wrap(text, _LABEL_MAX_WIDTH, LABEL_SIZE)


def _lines_width(lines: Sequence[str], size: float, *, bold: bool = False) -> float:
    return max((text_width(line, size, bold=bold) for line in lines), default=0.0)


def _head(tip: Point, dx: float, dy: float) -> tuple[Point, Point, Point]:
    """An arrowhead at ``tip`` pointing along the axis direction (dx, dy)."""
    x, y = tip
    back_x, back_y = x - dx * _HEAD_LENGTH, y - dy * _HEAD_LENGTH
    side_x, side_y = dy * _HEAD_HALF, dx * _HEAD_HALF
    return tip, (back_x - side_x, back_y - side_y), (back_x + side_x, back_y + side_y)


def _lane_path(edge_x: float, lane_x: float, side: int, y_from: float, y_to: float) -> str:
    """From a box side out to the lane, along it, and back in to a box side."""
    way = 1 if y_to > y_from else -1
    r = min(_CORNER, abs(y_to - y_from) / 2)
    turn = lane_x - side * r
    end = edge_x + side * _HEAD_LENGTH
    return (
        f"M {num(edge_x)} {num(y_from)} H {num(turn)} "
        f"Q {num(lane_x)} {num(y_from)} {num(lane_x)} {num(y_from + way * r)} "
        f"V {num(y_to - way * r)} Q {num(lane_x)} {num(y_to)} {num(turn)} {num(y_to)} H {num(end)}"
    )


class _Geometry:
    """The sizes and positions, computed once from the nodes, edges and routing.

    Lane positions are offsets from the column edge of their side, negative on the left.
    """

    def __init__(self, nodes: Sequence[Node], edges: Sequence[Edge], initial: str) -> None:
        self.nodes = nodes
        self.edges = edges
        index = {node.id: i for i, node in enumerate(nodes)}
        ends = [([index[s] for s in edge.sources], index[edge.target]) for edge in edges]
        self.straight, self.groups = route(ends)
        self.initial = index[initial]
        lanes = assign_lanes(self.groups)
        self.ports = order_ports(self.groups, lanes, None if self.initial == 0 else self.initial)
        self.labels = [_label(edges[group.edge].label) for group in self.groups]
        """The lines of each group's label."""
        self.titles = [wrap(n.title, _TITLE_MAX_WIDTH, TITLE_SIZE, bold=True) for n in nodes]
        self.notes = [(*([n.marker] if n.marker else []), *n.notes) for n in nodes]
        """The lines below each title: the marker, then the notes."""
        self.straight_labels = [_label(edges[edge].label) for edge, _ in self.straight]
        self.width = self._column_width()
        self.gap = self._gap()
        self.offsets = _lane_offsets(self.groups, lanes, self.labels)
        self.label_gaps = label_gaps(self.groups, lanes, [source for _, source in self.straight])
        self.reach = {side: self._reach(side) for side in (LEFT, RIGHT)}
        """How far lanes and their labels reach out from each column edge."""
        if self.initial != 0:
            self.reach[LEFT] += _START_LENGTH + 2 * _START_RADIUS
        self.left = _MARGIN + self.reach[LEFT]
        """The column's left edge."""
        top = _MARGIN if self.initial else _MARGIN + 2 * _START_RADIUS + _START_LENGTH
        self.heights = [self._height(i) for i in range(len(nodes))]
        self.tops = [top + sum(self.heights[:i]) + i * self.gap for i in range(len(nodes))]

    def _column_width(self) -> float:
        title = max(_lines_width(t, TITLE_SIZE, bold=True) for t in self.titles)
        notes = max(_lines_width(n, NOTE_SIZE, bold=True) for n in self.notes)
        straight = max((_lines_width(s, LABEL_SIZE) for s in self.straight_labels), default=0)
        return max(
            _BOX_MIN_WIDTH, title + 2 * _PAD_X, notes + 2 * _PAD_X, 2 * (straight + _LABEL_DX + 8)
        )

    def _gap(self) -> float:
        labels = [*self.straight_labels, *self.labels]
        most = max((len(lines) for lines in labels), default=1)
        return max(_GAP_MIN, most * LABEL_LINE + 18)

    def _reach(self, side: int) -> float:
        ends = [
            abs(offset) + _LABEL_PAD + _lines_width(label, LABEL_SIZE)
            for group, offset, label in zip(self.groups, self.offsets, self.labels, strict=True)
            if group.side == side
        ]
        return max(ends, default=0.0)

    def _height(self, i: int) -> float:
        text = len(self.titles[i]) * TITLE_LINE + len(self.notes[i]) * NOTE_LINE + 2 * _PAD_Y
        ports = max(len(self.ports.get((i, side), ())) for side in (LEFT, RIGHT))
        return max(_BOX_MIN_HEIGHT, text, (ports + 1) * _PORT_STEP)

    @property
    def total_width(self) -> float:
        return self.left + self.width + self.reach[RIGHT] + _MARGIN

    def edge_x(self, side: int) -> float:
        return self.left + self.width if side == RIGHT else self.left

    def port_y(self, box: int, side: int, port: PortId) -> float:
        ports = self.ports[(box, side)]
        return self.tops[box] + self.heights[box] * (ports.index(port) + 1) / (len(ports) + 1)

    def gap_middle(self, box: int) -> float:
        """The middle of the gap below box ``box``."""
        return self.tops[box] + self.heights[box] + self.gap / 2


def _lane_offsets(
    groups: Sequence[Group], lanes: Sequence[int], labels: Sequence[tuple[str, ...]]
) -> list[float]:
    """Each group's lane line as an offset from its column edge (negative on the left), with
    room for the labels of every lane nearer the column."""
    widths: defaultdict[tuple[int, int], float] = defaultdict(float)
    for group, lane, label in zip(groups, lanes, labels, strict=True):
        key = (group.side, lane)
        widths[key] = max(widths[key], _lines_width(label, LABEL_SIZE))
    distance: dict[tuple[int, int], float] = {}
    for side, lane in sorted(widths):
        inner = (side, lane - 1)
        distance[(side, lane)] = (
            distance[inner] + widths[inner] + 2 * _LABEL_PAD + _LANE_GAP if lane else _LANE_GAP
        )
    return [
        group.side * distance[(group.side, lane)] for group, lane in zip(groups, lanes, strict=True)
    ]


def _label_at(edge: Edge, lines: tuple[str, ...], x: float, middle: float, side: int) -> Label:
    first = middle - (len(lines) - 1) * LABEL_LINE / 2 + LABEL_SIZE * 0.35
    return Label(edge, x, first, lines, "start" if side == RIGHT else "end")


def _straight(geo: _Geometry) -> tuple[list[Arrow], list[Label]]:
    center = geo.left + geo.width / 2
    arrows: list[Arrow] = []
    labels: list[Label] = []
    for (edge, source), lines in zip(geo.straight, geo.straight_labels, strict=True):
        y_from = geo.tops[source] + geo.heights[source]
        y_to = geo.tops[source + 1]
        path = f"M {num(center)} {num(y_from)} V {num(y_to - _HEAD_LENGTH)}"
        head = _head((center, y_to), 0, 1)
        arrows.append(Arrow(geo.edges[edge], geo.nodes[source].id, path, head))
        x = center + _LABEL_DX
        labels.append(_label_at(geo.edges[edge], lines, x, geo.gap_middle(source), RIGHT))
    return arrows, labels


def _laned(geo: _Geometry) -> tuple[list[Arrow], list[Label]]:
    arrows: list[Arrow] = []
    labels: list[Label] = []
    for i, (offset, group) in enumerate(zip(geo.offsets, geo.groups, strict=True)):
        edge, side = geo.edges[group.edge], group.side
        edge_x = geo.edge_x(side)
        lane_x = edge_x + offset
        y_to = geo.port_y(group.target, side, (i, group.target, True))
        head = _head((edge_x, y_to), -side, 0)
        for source in group.sources:
            y_from = geo.port_y(source, side, (i, source, False))
            path = _lane_path(edge_x, lane_x, side, y_from, y_to)
            arrows.append(Arrow(edge, geo.nodes[source].id, path, head))
        gap = geo.label_gaps[i]
        if gap is None:
            middle = geo.tops[group.low] + geo.heights[group.low] / 2
        else:
            middle = geo.gap_middle(gap)
        labels.append(_label_at(edge, geo.labels[i], lane_x + side * _LABEL_PAD, middle, side))
    return arrows, labels


def _start(geo: _Geometry) -> Start:
    if geo.initial == 0:
        x = geo.left + geo.width / 2
        y_to = geo.tops[0]
        path = f"M {num(x)} {_MARGIN + 2 * _START_RADIUS} V {num(y_to - _HEAD_LENGTH)}"
        return Start((x, _MARGIN + _START_RADIUS), _START_RADIUS, path, _head((x, y_to), 0, 1))
    x = geo.left - geo.reach[LEFT] + _START_RADIUS
    y = geo.port_y(geo.initial, LEFT, None)
    path = f"M {num(x + _START_RADIUS)} {num(y)} H {num(geo.left - _HEAD_LENGTH)}"
    return Start((x, y), _START_RADIUS, path, _head((geo.left, y), 1, 0))


def lay_out(nodes: Sequence[Node], edges: Sequence[Edge], initial: str) -> Layout:
    """The diagram of ``nodes`` (in order) joined by ``edges``, starting at ``initial``."""
    geo = _Geometry(nodes, edges, initial)
    straight_arrows, straight_labels = _straight(geo)
    laned_arrows, laned_labels = _laned(geo)
    boxes = tuple(
        Box(node, geo.left, top, geo.width, height, title)
        for node, top, height, title in zip(nodes, geo.tops, geo.heights, geo.titles, strict=True)
    )
    height = geo.tops[-1] + geo.heights[-1] + _MARGIN
    return Layout(
        width=geo.total_width,
        height=height,
        boxes=boxes,
        arrows=(*straight_arrows, *laned_arrows),
        labels=(*straight_labels, *laned_labels),
        start=_start(geo),
    )
