"""Where the boxes and bands of a paths picture go: pure geometry from the links, no drawing.

One column per step from the anchor, one box per page (the step's most common pages, then
"other pages"), and a band from each box to the boxes of the next step, as wide as the
sessions that took it; the sessions that stopped go to a box of their own in the next
column. Heights are shares of the anchor's sessions, so a band is as wide at both ends and
every column fits between 0 (top) and 1 (bottom).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import Enum

from footfall.reports.paths import Direction, Paths

GAP = 0.02  # between two boxes of a column, as a share of the picture's height


class Kind(str, Enum):
    page = "page"
    other = "other"
    stopped = "stopped"  # ended after the previous step (or, before a goal, began there)


@dataclass(frozen=True)
class Box:
    x: int  # the column, left to right
    label: str
    kind: Kind
    sessions: int
    top: float
    bottom: float


@dataclass(frozen=True)
class Band:
    source: int  # index in Layout.boxes
    target: int
    sessions: int
    source_top: float
    source_bottom: float
    target_top: float
    target_bottom: float


@dataclass(frozen=True)
class Layout:
    columns: int
    boxes: tuple[Box, ...]
    bands: tuple[Band, ...]


BoxKey = tuple[int, str | None, bool]  # (depth from the anchor, page or None for other, stopped)


def order(key: BoxKey, sessions: int) -> tuple[int, int, int, str]:
    """Pages by sessions, then other pages, then the stopped, at the bottom."""
    _, page, stopped = key
    return (int(stopped), int(page is None and not stopped), -sessions, page or "")


def box_sessions(paths: Paths) -> dict[BoxKey, int]:
    sessions: dict[BoxKey, int] = defaultdict(int)
    for link in paths.links:
        if link.step == 1:
            sessions[(0, link.page, False)] += link.sessions
        sessions[(link.step, None if link.ended else link.next, link.ended)] += link.sessions
    return sessions


def column_x(direction: Direction, depth: int, columns: int) -> int:
    """Before a goal the columns run towards it, left to right; else away from the anchor."""
    return columns - 1 - depth if direction is Direction.to else depth


def layout(paths: Paths, stopped_label: str = "ended") -> Layout:
    """The boxes and bands of `paths`; `stopped_label` names the sessions that stopped."""
    sessions = box_sessions(paths)
    columns = paths.ask.steps + 1
    by_depth: dict[int, list[BoxKey]] = defaultdict(list)
    for key in sorted(sessions, key=lambda key: order(key, sessions[key])):
        by_depth[key[0]].append(key)
    total = sum(sessions[key] for key in by_depth[0])
    tallest = max((len(keys) for keys in by_depth.values()), default=1)
    scale = (1 - GAP * (tallest - 1)) / total if total else 0.0

    boxes: list[Box] = []
    index: dict[BoxKey, int] = {}
    for depth in range(columns):
        y = 0.0
        for key in by_depth[depth]:
            height = sessions[key] * scale
            kind = Kind.stopped if key[2] else Kind.other if key[1] is None else Kind.page
            label = stopped_label if kind is Kind.stopped else "other pages" if kind is Kind.other else str(key[1])
            index[key] = len(boxes)
            boxes.append(Box(column_x(paths.ask.direction, depth, columns), label, kind, sessions[key], y, y + height))
            y += height + GAP

    # Bands leave a box in the order of the boxes they reach, and reach a box in the order
    # of the boxes they leave, so no two bands of a pair of columns cross at their ends.
    pairs = sorted(
        (index[(link.step - 1, link.page, False)], index[(link.step, None if link.ended else link.next, link.ended)], link.sessions)
        for link in paths.links
    )
    out_at = {i: box.top for i, box in enumerate(boxes)}
    in_at = dict(out_at)
    placed = []
    for source, target, count in pairs:
        height = count * scale
        placed.append([source, target, count, out_at[source], out_at[source] + height])
        out_at[source] += height
    bands = []
    for source, target, count, top, bottom in sorted(placed, key=lambda band: (band[1], band[0])):
        height = count * scale
        bands.append(Band(source, target, count, top, bottom, in_at[target], in_at[target] + height))
        in_at[target] += height
    return Layout(columns, tuple(boxes), tuple(bands))
