"""Where each event of the graph goes, and how arrows run between them.

The layout reads left to right in time: one band per year, and within a
year one column per step of the causes that act inside that year, so that
every arrow points to the right. Within a column the events are ordered and
placed near the events they are linked to (barycentre sweeps), which keeps
crossings few.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from itertools import pairwise

from plausibly.models.plots._style import states_text
from plausibly.models.scenario import Scenario

__all__ = ["BOX_WIDTH", "COLUMN", "FONT", "GAP", "LINE", "WRAP", "box_height", "box_lines",
           "columns", "edge_route", "layout", "layout_boxes"]


# geometry, in inches (the axes are drawn at one data unit per inch); a box holds an
# event's label at 8 pt, which is 10.7 px at the picture's natural size (1 pt = 4/3 px)
COLUMN = 1.95  # between columns


BOX_WIDTH = 1.55


LINE = 0.144  # height of a line of 8 pt text


GAP = 0.16  # vertical space between boxes


WRAP = 22  # characters per line in a box


FONT = 8.0


def columns(s: Scenario) -> tuple[dict[str, int], dict[int, tuple[int, int]]]:
    """Column of each event, and the first and last column of each year.

    Within a year, an event caused by another event of the same year sits
    one column to the right of it.
    """
    column: dict[str, int] = {}
    span: dict[int, tuple[int, int]] = {}
    start = 0
    for year in sorted({n.year for n in s.nodes}):
        depth: dict[str, int] = {}
        for n in s.nodes:  # time (and topological) order
            if n.year == year:
                depth[n.id] = max((depth[p] + 1 for p in s.parents[n.id] if p in depth),
                                  default=0)
        for nid, d in depth.items():
            column[nid] = start + d
        width = max(depth.values()) + 1
        span[year] = (start, start + width - 1)
        start += width
    return column, span


def box_lines(label: str, extra: str = "", states: str = "") -> list[str]:
    """An event's label wrapped to fit its box, its states, and an extra line (what a run adds).

    The year is not repeated: the axis under the graph names each year's band.
    ``states`` (``short < long < [long_and_brutal]``) is wrapped too, after the label.
    """
    lines = (textwrap.wrap(label, WRAP) or [""]) + textwrap.wrap(states, WRAP)
    return [*lines, extra] if extra else lines


def box_height(lines: Sequence[str]) -> float:
    return LINE * len(lines) + 0.12


def _separate(desired: list[float], heights: list[float]) -> list[float]:
    """Positions closest to ``desired`` (top to bottom) with boxes not overlapping.

    Least squares under ``y[k] - y[k+1] >= (h[k] + h[k+1]) / 2 + GAP``: with
    ``u[k] = y[k] + offset[k]`` the constraint is ``u`` non-increasing, an
    isotonic regression solved by pooling adjacent violators.
    """
    offsets = [0.0]
    for k in range(1, len(desired)):
        offsets.append(offsets[-1] + (heights[k - 1] + heights[k]) / 2 + GAP)
    target = [d + o for d, o in zip(desired, offsets, strict=True)]
    blocks: list[list[float]] = []  # [mean, count]
    for t in target:
        blocks.append([t, 1.0])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    u = [m for m, c in blocks for _ in range(int(c))]
    return [uk - o for uk, o in zip(u, offsets, strict=True)]


DUMMY = 0.04  # height of the point where a long arrow crosses a column


Point = tuple[float, float]


def layout_boxes(s: Scenario, heights: Mapping[str, float]
            ) -> tuple[dict[str, Point], dict[tuple[str, str], list[Point]]]:
    """Positions of the events and the route of every arrow (Sugiyama-style).

    An arrow spanning several columns gets a waypoint in each column it
    crosses; waypoints are ordered and placed with the events, so long
    arrows run between boxes, not through them.
    """
    column, _ = columns(s)
    ncol = max(column.values()) + 1
    cols: list[list[str]] = [[] for _ in range(ncol)]
    h = dict(heights)
    up: dict[str, list[str]] = {n: [] for n in s.order}
    down: dict[str, list[str]] = {n: [] for n in s.order}
    for nid in s.order:
        cols[column[nid]].append(nid)
    chains: dict[tuple[str, str], list[str]] = {}
    for e in s.edges:
        chain = [e.cause]
        for c in range(column[e.cause] + 1, column[e.effect]):
            way = f"{e.cause}->{e.effect}#{c}"
            cols[c].append(way)
            h[way], up[way], down[way] = DUMMY, [], []
            chain.append(way)
        chain.append(e.effect)
        for a, b in pairwise(chain):
            down[a].append(b)
            up[b].append(a)
        chains[(e.cause, e.effect)] = chain
    y: dict[str, float] = {}
    for members in cols:  # start: stacked in file order, centred
        placed = _separate([0.0] * len(members), [h[m] for m in members])
        mid = (placed[0] + placed[-1]) / 2
        y.update({m: p - mid for m, p in zip(members, placed, strict=True)})

    def sweep(indices: Sequence[int], neighbours: Mapping[str, Sequence[str]]) -> None:
        for c in indices:
            members = cols[c]
            want = {m: (sum(y[v] for v in neighbours[m]) / len(neighbours[m])
                        if neighbours[m] else y[m]) for m in members}
            members.sort(key=lambda m: -want[m])
            placed = _separate([want[m] for m in members], [h[m] for m in members])
            y.update(dict(zip(members, placed, strict=True)))

    both = {n: (*up[n], *down[n]) for n in y}
    for _ in range(8):
        sweep(range(1, ncol), up)
        sweep(range(ncol - 2, -1, -1), down)
    for _ in range(2):
        sweep(range(ncol), both)
    mid = (max(y.values()) + min(y.values())) / 2

    def at(v: str) -> tuple[float, float]:
        c = column[v] if v in column else int(v.rsplit("#", 1)[1])
        return c * COLUMN, y[v] - mid

    pos = {n: at(n) for n in s.order}
    return pos, {k: [at(v) for v in chain] for k, chain in chains.items()}


def layout(s: Scenario, heights: Mapping[str, float] | None = None
           ) -> dict[str, tuple[float, float]]:
    """Positions in inches: x by year (and by cause within a year), y near linked events.

    Parameters
    ----------
    s : Scenario
    heights : mapping, optional
        Height of each event's box (inches), so that boxes never overlap.
    """
    h = {n.id: (heights or {}).get(n.id, box_height(box_lines(n.label, states=states_text(n))))
         for n in s.nodes}
    return layout_boxes(s, h)[0]


def edge_route(points: Sequence[tuple[float, float]], start: tuple[float, float, float],
           end: tuple[float, float, float]) -> list[tuple[float, float]]:
    """A smooth path through ``points`` (horizontal at each), cut at the two boxes.

    ``start`` and ``end`` are ``(x, y, height)`` of the boxes the path leaves
    and enters.
    """
    path: list[tuple[float, float]] = []
    for (x0, y0), (x1, y1) in pairwise(points):
        dx = (x1 - x0) / 2
        for k in range(25):  # cubic Bezier with horizontal tangents
            t = k / 24
            u = 1 - t
            x = u**3 * x0 + 3 * u * u * t * (x0 + dx) + 3 * u * t * t * (x1 - dx) + t**3 * x1
            yy = u**3 * y0 + 3 * u * u * t * y0 + 3 * u * t * t * y1 + t**3 * y1
            if not path or (x, yy) != path[-1]:
                path.append((x, yy))

    def inside(p: tuple[float, float], box: tuple[float, float, float]) -> bool:
        return abs(p[0] - box[0]) <= BOX_WIDTH / 2 and abs(p[1] - box[1]) <= box[2] / 2

    while len(path) > 2 and inside(path[1], start):
        path.pop(0)
    while len(path) > 2 and inside(path[-2], end):
        path.pop()
    return path
