"""Pictures of a scenario's graph: DOT text, and SVG/PNG drawn with matplotlib.

The layout reads left to right in time: one band per year, and within a
year one column per step of the causes that act inside that year, so that
every arrow points to the right. Within a column the events are ordered and
placed near the events they are linked to (barycentre sweeps), which keeps
crossings few. A saved run adds what the posterior says: the median effect
of each cause on its arrow, and under a chosen POD the probability that each
event turns out otherwise than in history.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

from plausibly.models.errors import PlausiblyError, Problem
from plausibly.models.fields import suggest
from plausibly.models.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plausibly.models.estimate import Run

__all__ = [
    "Overlay",
    "draw_graph",
    "edge_effects",
    "graph_figure",
    "layout",
    "render_graph",
    "run_overlay",
    "to_dot",
]

HISTORY_COLOURS = {1.0: "#cfe8cf", 0.0: "#e6e6e6"}  # happened / did not
SOFT_COLOUR = "#fff2cc"  # disputed (a probability) or unknown
POD_COLOUR = "#d9480f"
DIFFERS_COLOUR = "#7b2cbf"
EDGE_COLOUR = "#8a8a8a"
STRENGTH_LIMIT = 4.0  # |log odds ratio| at which colour and width saturate

# geometry, in inches (the axes are drawn at one data unit per inch)
COLUMN = 1.12  # between columns
BOX_WIDTH = 0.9
LINE = 0.118  # height of a line of 6.5 pt text
GAP = 0.16  # vertical space between boxes
WRAP = 13  # characters per line in a box
FONT = 6.5


@dataclass(frozen=True)
class Overlay:
    """What a saved run adds to the picture of its scenario.

    Attributes
    ----------
    strength : mapping
        ``(cause, effect) -> posterior median log odds ratio b``.
    highlight : mapping or None
        ``event -> mean probability that it differs from history`` under ``pod``.
    pod : str or None
        The POD whose targets are marked (all PODs' targets when None).
    subtitle : str
        What the picture shows, in words.
    """

    strength: Mapping[tuple[str, str], float] = field(default_factory=dict)
    highlight: Mapping[str, float] | None = None
    pod: str | None = None
    subtitle: str = ""


def _pod_targets(s: Scenario, pod: str | None = None) -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {n: [] for n in s.order}
    for p in s.pods:
        if pod is None or p.id == pod:
            for node in p.do:
                targets[node].append(p.id)
    return targets


def _fill(history: float | None) -> str:
    return HISTORY_COLOURS.get(history if history is not None else -1.0, SOFT_COLOUR)


def _dot_colour(v: float) -> str:
    """A hex colour for a log odds ratio: red promotes, blue inhibits."""
    from matplotlib.colors import to_hex

    return str(to_hex(_strength_colour(v)))


def _strength_colour(v: float) -> tuple[float, float, float, float]:
    import matplotlib

    u = max(-1.0, min(1.0, v / STRENGTH_LIMIT))
    # from 0.1 to 0.5 away from the middle: the near-white middle of the map
    # would hide the weakest effects
    t = 0.5 + math.copysign(0.1 + 0.4 * abs(u), u) if u else 0.5
    r, g, b, a = matplotlib.colormaps["RdBu_r"](t)
    return (float(r), float(g), float(b), float(a))


def _strength_width(v: float) -> float:
    return 0.5 + 3.0 * min(abs(v), STRENGTH_LIMIT) / STRENGTH_LIMIT


def to_dot(s: Scenario, *, strength: Mapping[tuple[str, str], float] | None = None,
           highlight: Mapping[str, float] | None = None, pod: str | None = None) -> str:
    """The graph in Graphviz DOT, left to right in time; POD targets in orange.

    Parameters
    ----------
    s : Scenario
    strength : mapping, optional
        ``(cause, effect) -> log odds ratio``: edge colour, width and label.
    highlight : mapping, optional
        ``event -> probability that it differs from history``: a purple
        outline and a line in the label.
    pod : str, optional
        Mark only this POD's targets.
    """
    targets = _pod_targets(s, pod)
    lines = [f'digraph "{s.id}" {{', "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    for n in s.nodes:
        label = f"{n.label}\\n{n.year} · history: {n.history_text}"
        extra = ""
        if targets[n.id]:
            label += "\\nPOD: " + ", ".join(targets[n.id])
            extra = f', color="{POD_COLOUR}", penwidth=2.5'
        if highlight is not None and highlight.get(n.id, 0.0) >= 0.005:
            label += f"\\nP(differs from history) {highlight[n.id]:.2f}"
            if not targets[n.id]:
                extra = (f', color="{DIFFERS_COLOUR}", '
                         f"penwidth={1.0 + 5.0 * highlight[n.id]:.2f}")
        if n.id == s.outcome:
            extra += ", peripheries=2"
        label = label.replace('"', '\\"')
        lines.append(f'  {n.id} [label="{label}", fillcolor="{_fill(n.history)}"{extra}];')
    for year in sorted({n.year for n in s.nodes}):
        same = [n.id for n in s.nodes if n.year == year]
        if len(same) > 1:
            lines.append("  { rank=same; " + "; ".join(same) + "; }")
    for e in s.edges:
        claim = e.claim.replace('"', '\\"')
        extra = ""
        if strength is not None and (e.cause, e.effect) in strength:
            v = strength[(e.cause, e.effect)]
            extra = (f', color="{_dot_colour(v)}", penwidth={_strength_width(v):.2f}, '
                     f'label="{v:+.2f}"')
        lines.append(f'  {e.cause} -> {e.effect} [tooltip="{claim} ({", ".join(e.by)})"'
                     f"{extra}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- layout


def _columns(s: Scenario) -> tuple[dict[str, int], dict[int, tuple[int, int]]]:
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


def _box_lines(name: str, year: int, extra: str = "") -> list[str]:
    lines = [*textwrap.wrap(name.replace("_", " "), WRAP), str(year)]
    return [*lines, extra] if extra else lines


def _box_height(lines: Sequence[str]) -> float:
    return LINE * len(lines) + 0.1


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


def _layout(s: Scenario, heights: Mapping[str, float]
            ) -> tuple[dict[str, Point], dict[tuple[str, str], list[Point]]]:
    """Positions of the events and the route of every arrow (Sugiyama-style).

    An arrow spanning several columns gets a waypoint in each column it
    crosses; waypoints are ordered and placed with the events, so long
    arrows run between boxes, not through them.
    """
    column, _ = _columns(s)
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
    h = {n: (heights or {}).get(n, _box_height(_box_lines(n, 0))) for n in s.order}
    return _layout(s, h)[0]


def _route(points: Sequence[tuple[float, float]], start: tuple[float, float, float],
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


# --------------------------------------------------------------------------- figure


def graph_figure(s: Scenario, *, strength: Mapping[tuple[str, str], float] | None = None,
                 highlight: Mapping[str, float] | None = None, pod: str | None = None,
                 title: str | None = None, subtitle: str | None = None) -> Figure:
    """Draw the DAG with matplotlib: events laid out by year, arrows for the claims.

    Parameters
    ----------
    s : Scenario
    strength : mapping, optional
        ``(cause, effect) -> log odds ratio`` shown as arrow colour and width
        (red promotes, blue inhibits, with a colour bar); grey arrows without it.
    highlight : mapping, optional
        ``event -> probability that it differs from history`` under a POD:
        a purple outline as thick as the probability, and the number.
    pod : str, optional
        Mark only this POD's targets (orange outline); all PODs' otherwise.
    title, subtitle : str, optional
        Title (default: the scenario's) and a second line saying what is shown.

    Returns
    -------
    Figure
        One x tick per year; a legend for the colours.
    """
    from matplotlib.artist import Artist
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
    from matplotlib.path import Path

    targets = _pod_targets(s, pod)
    shown = {n: highlight.get(n, 0.0) for n in s.order} if highlight is not None else {}
    lines = {n.id: _box_lines(n.id, n.year, f"differs {shown[n.id]:.2f}"
                              if shown.get(n.id, 0.0) >= 0.005 else "")
             for n in s.nodes}
    heights = {n: _box_height(v) for n, v in lines.items()}
    pos, routes = _layout(s, heights)
    _, span = _columns(s)
    xs = [x for x, _ in pos.values()]
    ways = [y for route in routes.values() for _, y in route]
    top = max([y + heights[n] / 2 for n, (_, y) in pos.items()] + [w + 0.05 for w in ways])
    bottom = min([y - heights[n] / 2 for n, (_, y) in pos.items()] + [w - 0.05 for w in ways])
    left, right = min(xs) - BOX_WIDTH / 2 - 0.1, max(xs) + BOX_WIDTH / 2 + 0.1
    width, height = right - left, top - bottom + 0.3
    fig = Figure(figsize=(width, height), dpi=150)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(left, right)
    ax.set_ylim(bottom - 0.15, top + 0.15)
    for k, (_, (first, last)) in enumerate(sorted(span.items())):
        if k % 2:
            ax.axvspan(first * COLUMN - COLUMN / 2, last * COLUMN + COLUMN / 2,
                       color="#f4f4f4", lw=0, zorder=0)
    for n in s.nodes:
        x, y = pos[n.id]
        edge, lw = "#555555", 0.8
        if shown.get(n.id, 0.0) >= 0.005:
            edge, lw = DIFFERS_COLOUR, 0.8 + 4.0 * shown[n.id]
        if targets[n.id]:
            edge, lw = POD_COLOUR, 2.2
        if n.id == s.outcome:
            lw += 1.2
        hh = heights[n.id]
        box = FancyBboxPatch((x - BOX_WIDTH / 2, y - hh / 2), BOX_WIDTH, hh,
                             boxstyle="round,pad=0,rounding_size=0.06", fc=_fill(n.history),
                             ec=edge, lw=lw, zorder=3)
        ax.add_patch(box)
        ax.text(x, y, "\n".join(lines[n.id]), ha="center", va="center", fontsize=FONT,
                linespacing=1.05, zorder=4)
    for e in s.edges:
        colour: tuple[float, ...] | str = EDGE_COLOUR
        lw = 0.8
        if strength is not None and (e.cause, e.effect) in strength:
            v = strength[(e.cause, e.effect)]
            colour, lw = _strength_colour(v), _strength_width(v)
        route = _route(routes[(e.cause, e.effect)], (*pos[e.cause], heights[e.cause]),
                       (*pos[e.effect], heights[e.effect]))
        ax.add_patch(FancyArrowPatch(path=Path(route), arrowstyle="-|>",
                                     mutation_scale=7 + 1.5 * lw, lw=lw, color=colour,
                                     zorder=2, shrinkA=0.0, shrinkB=0.0, alpha=0.9))
    years = sorted(span)
    ax.set_xticks([(span[y][0] + span[y][1]) / 2 * COLUMN for y in years])
    ax.set_xticklabels([str(y) for y in years], fontsize=7)
    ax.tick_params(axis="x", length=0, pad=3)
    ax.set_yticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title((title or s.title) + (f"\n{subtitle}" if subtitle else ""), fontsize=9)
    handles: list[Artist] = [Patch(fc=HISTORY_COLOURS[1.0], ec="#555555", label="happened"),
               Patch(fc=HISTORY_COLOURS[0.0], ec="#555555", label="did not happen")]
    if any(n.history is None or n.history not in (0.0, 1.0) for n in s.nodes):
        handles.append(Patch(fc=SOFT_COLOUR, ec="#555555", label="disputed or unknown"))
    handles.append(Patch(fc="white", ec=POD_COLOUR, lw=2.2,
                         label=f"set by POD {pod}" if pod else "POD target"))
    handles.append(Patch(fc="white", ec="#555555", lw=2.0, label=f"outcome ({s.outcome})"))
    if highlight is not None:
        handles.append(Patch(fc="white", ec=DIFFERS_COLOUR, lw=2.5,
                             label="differs from history (outline ∝ probability)"))
    if strength is None:
        handles.append(Line2D([], [], color=EDGE_COLOUR, lw=0.8, label="claimed cause"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.22 / height),
              ncol=len(handles), fontsize=7, frameon=False, handlelength=1.6)
    if strength is not None:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import LinearSegmentedColormap

        samples = [_strength_colour(STRENGTH_LIMIT * (2 * t / 63 - 1)) for t in range(64)]
        cmap = LinearSegmentedColormap.from_list("strength", samples)
        cax = ax.inset_axes((1.0 - 3.0 / width, -0.62 / height, 3.0 / width, 0.07 / height))
        bar = fig.colorbar(ScalarMappable(Normalize(-STRENGTH_LIMIT, STRENGTH_LIMIT), cmap),
                           cax=cax, orientation="horizontal")
        bar.set_label("median log odds ratio of the cause (red promotes, blue inhibits)",
                      fontsize=6.5)
        bar.ax.tick_params(labelsize=6)
    return fig


def draw_graph(s: Scenario, fmt: str = "png", *,
               strength: Mapping[tuple[str, str], float] | None = None,
               highlight: Mapping[str, float] | None = None, pod: str | None = None,
               title: str | None = None, subtitle: str | None = None) -> bytes:
    """Draw the DAG (see :func:`graph_figure`) and return the file's bytes.

    Parameters
    ----------
    fmt : {"png", "svg"}
    """
    from plausibly.models.plots import figure_bytes

    return figure_bytes(graph_figure(s, strength=strength, highlight=highlight, pod=pod,
                                     title=title, subtitle=subtitle), fmt)


def render_graph(s: Scenario, fmt: str, overlay: Overlay | None = None) -> bytes:
    """The graph as DOT (``fmt`` "dot" or "gv"), SVG or PNG, with what a run adds.

    Parameters
    ----------
    s : Scenario
    fmt : {"dot", "gv", "svg", "png"}
    overlay : Overlay, optional
        From :func:`run_overlay`, or just a POD to mark.
    """
    overlay = overlay or Overlay()
    strength = dict(overlay.strength) or None
    if fmt.lower() in ("dot", "gv"):
        return to_dot(s, strength=strength, highlight=overlay.highlight,
                      pod=overlay.pod).encode()
    return draw_graph(s, fmt.lower(), strength=strength, highlight=overlay.highlight,
                      pod=overlay.pod, subtitle=overlay.subtitle or None)


# --------------------------------------------------------------------------- from a run


def edge_effects(run: Run, *, file: str = "") -> dict[tuple[str, str], float]:
    """The posterior median log odds ratio ``b`` of every edge of a run.

    Raises
    ------
    PlausiblyError
        When the run holds no per-draw mechanism (saved by an older version).
    """
    import numpy as np

    draws = run.draws
    if "b" not in draws or "cause" not in draws.coords:
        raise PlausiblyError(problems=[Problem(
            file or run.scenario.id, "", "the run holds no per-draw effects of the causes "
            "(variables 'a' and 'b'): it was saved by an older plausibly",
            "re-run 'plausibly estimate -o' to save it again")])
    b = draws["b"].values  # (chain, draw, event, slot)
    median = np.median(b.reshape(-1, *b.shape[2:]), axis=0)
    causes = draws["cause"].values
    index = {str(e): i for i, e in enumerate(draws["event"].values)}
    out: dict[tuple[str, str], float] = {}
    for e in run.scenario.edges:
        i = index[e.effect]
        slot = [str(c) for c in causes[i]].index(e.cause)
        out[(e.cause, e.effect)] = float(median[i, slot])
    return out


def run_overlay(run: Run, pod: str | None = None, *, file: str = "") -> Overlay:
    """What a run adds to its graph: edge effects, and under ``pod`` what differs.

    Parameters
    ----------
    run : Run
    pod : str, optional
        A POD answered in the run; its targets are marked and each event is
        outlined by its mean probability of differing from history.
    file : str, optional
        The run's file, for messages.

    Raises
    ------
    PlausiblyError
        For a POD the run does not answer, or a run without per-draw effects.
    """
    strength = edge_effects(run, file=file)
    words = (f"arrows: posterior median effect of each cause, prior set {run.priors} "
             f"({run.name})")
    if pod is None:
        return Overlay(strength, None, None, words)
    answered = [p for p in run.pods if p != "history"]
    if pod not in answered:
        raise PlausiblyError(problems=[Problem(
            file or run.scenario.id, "pod", f"the run does not answer POD '{pod}'"
            f"{suggest(pod, answered)}", f"use one of: {', '.join(answered)}")])
    differs = run.draws["differs"].sel(pod=pod).mean(("chain", "draw"))
    highlight = {str(e): float(v) for e, v in zip(differs["event"].values, differs.values,
                                                  strict=True)}
    label = run.scenario.pod(pod).label
    return Overlay(strength, highlight, pod,
                   f"{words};\noutlines: the chance each event differs from history under "
                   f"POD {pod} ({label})")
