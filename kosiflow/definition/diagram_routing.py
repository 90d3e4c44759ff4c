"""Which way each arrow of a workflow diagram goes, before any size is known.

Phases stand in one column, by index. A transition to the next phase is a straight arrow down the
column; every other arrow (a jump ahead, a loop back, a second trigger between the same two
phases) runs in a lane beside the column, forward ones on the right and backward ones on the left.
A transition's arrows on one side share one lane (a bus) and one label. Lanes whose spans meet get
different lines, shorter spans nearer the column.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

LEFT = -1
RIGHT = 1


@dataclass(frozen=True, slots=True)
class Group:
    """The arrows of one transition on one side of the column, in one lane."""

    edge: int
    """The transition's index."""
    side: int
    sources: tuple[int, ...]
    target: int

    @property
    def low(self) -> int:
        return min(self.target, *self.sources)

    @property
    def high(self) -> int:
        return max(self.target, *self.sources)


PortId = tuple[int, int, bool] | None
"""A port on a box side: (group, box, is_target), or None for the start arrow."""


def route(ends: Sequence[tuple[Sequence[int], int]]) -> tuple[list[tuple[int, int]], list[Group]]:
    """The straight arrows as (transition, source) and the groups of arrows that need a lane,
    from each transition's (sources, target)."""
    taken: set[tuple[int, int]] = set()
    straight: list[tuple[int, int]] = []
    groups: list[Group] = []
    for edge, (sources, target) in enumerate(ends):
        sides: dict[int, list[int]] = {LEFT: [], RIGHT: []}
        for source in sources:
            if target == source + 1 and (source, target) not in taken:
                taken.add((source, target))
                straight.append((edge, source))
            else:
                sides[RIGHT if target > source else LEFT].append(source)
        groups += [
            Group(edge, side, tuple(found), target) for side, found in sides.items() if found
        ]
    return straight, groups


def assign_lanes(groups: Sequence[Group]) -> list[int]:
    """Each group's lane (0 next to the column): groups whose spans meet never share one."""
    lanes: list[int] = [0] * len(groups)
    for side in (LEFT, RIGHT):
        taken: list[list[Group]] = []
        order = sorted(
            (i for i, g in enumerate(groups) if g.side == side),
            key=lambda i: (groups[i].high - groups[i].low, groups[i].low, i),
        )
        for i in order:
            group = groups[i]
            for lane, members in enumerate(taken):
                if all(group.high < o.low or o.high < group.low for o in members):
                    members.append(group)
                    lanes[i] = lane
                    break
            else:
                lanes[i] = len(taken)
                taken.append([group])
    return lanes


def order_ports(
    groups: Sequence[Group], lanes: Sequence[int], start_box: int | None
) -> dict[tuple[int, int], list[PortId]]:
    """The ports of each (box, side), top to bottom, ordered so few lines cross."""
    keyed: defaultdict[tuple[int, int], list[tuple[tuple[int, int, int], PortId]]]
    keyed = defaultdict(list)
    if start_box is not None:
        keyed[(start_box, LEFT)].append(((-2, 0, 0), None))
    for i, group in enumerate(groups):
        ends = [(source, False) for source in group.sources] + [(group.target, True)]
        for box, is_target in ends:
            if group.low == group.high:  # a loop back to the same phase
                way = 1 if is_target else -1
            else:
                way = 0 if group.low < box < group.high else (1 if box == group.low else -1)
            # Lines from above enter at the top, inner lanes first; lines going down leave at
            # the bottom, inner lanes last: so a stub crosses only lanes that pass the box by.
            lane = lanes[i] if way <= 0 else -lanes[i]
            keyed[(box, group.side)].append(((way, lane, i), (i, box, is_target)))
    return {key: [port for _, port in sorted(found)] for key, found in keyed.items()}


def label_gaps(
    groups: Sequence[Group], lanes: Sequence[int], straight: Sequence[int]
) -> list[int | None]:
    """The gap (by the box above it) where each group's label goes, None beside a loop to the
    same phase: a gap of its span with the fewest labels on the same side (a straight arrow's
    label counts on the right), nearest the middle; so labels side by side are rare."""
    used: defaultdict[tuple[int, int], int] = defaultdict(int)
    for source in straight:
        used[(source, RIGHT)] += 1
    gaps: list[int | None] = [None] * len(groups)
    for i in sorted(range(len(groups)), key=lambda i: (lanes[i], i)):
        group = groups[i]
        if group.low == group.high:
            continue
        middle = group.low + group.high - 1
        gap = min(
            range(group.low, group.high),
            key=lambda g: (used[(g, group.side)], abs(2 * g - middle), g),
        )
        used[(gap, group.side)] += 1
        gaps[i] = gap
    return gaps
