"""Pictures of a scenario's graph: SVG/PNG drawn with matplotlib.

The layout reads left to right in time: one band per year, and within a
year one column per step of the causes that act inside that year, so that
every arrow points to the right. Within a column the events are ordered and
placed near the events they are linked to (barycentre sweeps), which keeps
crossings few. A saved run adds what the posterior says: the median effect
of each cause on its arrow, and under a chosen POD the probability that each
event turns out otherwise than in history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

from plausibly.models.errors import Problem, UsageError
from plausibly.models.plots._layout import (
    BOX_WIDTH,
    COLUMN,
    FONT,
    LINE,
    box_height,
    box_lines,
    columns,
    edge_route,
    layout_boxes,
)
from plausibly.models.plots._style import (
    DIFFERS_COLOUR,
    EDGE_COLOUR,
    HISTORY_COLOURS,
    LITERAL,
    POD_COLOUR,
    SOFT_COLOUR,
    STRENGTH_LIMIT,
    fill,
    least_text,
    pod_targets,
    states_text,
    strength_colour,
    strength_width,
)
from plausibly.models.plots.dot import to_dot
from plausibly.models.scenario import Scenario
from plausibly.models.validate import suggest

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from plausibly.models.results import Run

__all__ = ["Overlay", "draw_graph", "graph_figure", "render_graph", "run_overlay"]

GATE_COLOUR = "#555555"  # gates and interactions without an effect to show

Point = tuple[float, float]


def _entry(path: list[Point], box: tuple[float, float, float]) -> Point:
    """Where ``path`` enters ``box`` (``(x, y, height)``), from its last point outside."""
    (x0, y0), (x1, y1) = path[-2], path[-1]
    bx, by, bh = box
    t = 1.0
    for a0, a1, lo, hi in ((x0, x1, bx - BOX_WIDTH / 2, bx + BOX_WIDTH / 2),
                           (y0, y1, by - bh / 2, by + bh / 2)):
        side = lo if a0 < lo else hi if a0 > hi else None
        if side is not None and a1 != a0:
            t = min(t, max(0.0, (side - a0) / (a1 - a0)))
    return (x0 + t * (x1 - x0), y0 + t * (y1 - y0))


def _at_x(path: list[Point], x: float) -> Point:
    """The point of a left-to-right ``path`` at ``x`` (its first point, if it starts later)."""
    for (x0, y0), (x1, y1) in pairwise(path):
        if x0 <= x <= x1:
            t = (x - x0) / (x1 - x0) if x1 != x0 else 0.0
            return (x, y0 + t * (y1 - y0))
    return path[0] if x < path[0][0] else path[-1]


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
        An interaction's effect is keyed ``("A & B", effect)``.
    title, subtitle : str, optional
        Title (default: the scenario's) and a second line saying what is shown.

    Returns
    -------
    Figure
        One x tick per year; a legend for the colours. Version 2 adds an
        event's states under its label (``short < long < [long_and_brutal]``,
        the one that happened in brackets), gates (``requires``) as dashed
        grey lines ending in an open circle, labelled ``≥ state`` for a cause
        with states, and each interaction as dotted lines from its causes'
        arrows to a joint, with a dotted arrow on to its effect.
    """
    from matplotlib.artist import Artist
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
    from matplotlib.path import Path

    targets = pod_targets(s, pod)
    shown = {n: highlight.get(n, 0.0) for n in s.order} if highlight is not None else {}
    lines = {n.id: box_lines(n.label, f"differs {shown[n.id]:.2f}"
                             if shown.get(n.id, 0.0) >= 0.005 else "", states_text(n))
             for n in s.nodes}
    heights = {n: box_height(v) for n, v in lines.items()}
    pos, routes = layout_boxes(s, heights)
    _, span = columns(s)
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
        if n.id in s.outcome_events:
            lw += 1.2
        hh = heights[n.id]
        box = FancyBboxPatch((x - BOX_WIDTH / 2, y - hh / 2), BOX_WIDTH, hh,
                             boxstyle="round,pad=0,rounding_size=0.06", fc=fill(n.history),
                             ec=edge, lw=lw, zorder=3)
        ax.add_patch(box)
        states = states_text(n)
        if not states:
            ax.text(x, y, "\n".join(lines[n.id]), ha="center", va="center", fontsize=FONT,
                    linespacing=1.05, zorder=4, **LITERAL)
            continue
        # the label, then its states in a quieter hand, then what a run adds
        label_lines = box_lines(n.label)
        state_lines = box_lines("", states=states)[1:]
        extra_lines = lines[n.id][len(label_lines) + len(state_lines):]
        top = y + LINE * len(lines[n.id]) / 2
        for part, size, style, ink in ((label_lines, FONT, "normal", "black"),
                                       (state_lines, FONT - 0.5, "italic", "#3d3d3d"),
                                       (extra_lines, FONT, "normal", "black")):
            if part:
                ax.text(x, top - LINE * len(part) / 2, "\n".join(part), ha="center",
                        va="center", linespacing=1.05, zorder=4, fontsize=size, style=style,
                        color=ink, **LITERAL)
                top -= LINE * len(part)
    drawn: dict[tuple[str, str], list[Point]] = {}
    for e in s.edges:
        colour: tuple[float, ...] | str = EDGE_COLOUR
        lw = 0.8
        if strength is not None and (e.cause, e.effect) in strength and not e.gate:
            v = strength[(e.cause, e.effect)]
            colour, lw = strength_colour(v), strength_width(v)
        route = edge_route(routes[(e.cause, e.effect)], (*pos[e.cause], heights[e.cause]),
                       (*pos[e.effect], heights[e.effect]))
        drawn[(e.cause, e.effect)] = route
        if e.gate:
            _draw_gate(ax, s, e.cause, e.at_least, route, (*pos[e.effect], heights[e.effect]))
            continue
        ax.add_patch(FancyArrowPatch(path=Path(route), arrowstyle="-|>",
                                     mutation_scale=7 + 1.5 * lw, lw=lw, color=colour,
                                     zorder=2, shrinkA=0.0, shrinkB=0.0, alpha=0.9))
    joints: dict[str, int] = {}
    for i in s.interactions:
        k = joints[i.effect] = joints.get(i.effect, -1) + 1
        _draw_interaction(ax, [drawn[(c, i.effect)] for c in i.causes],
                          (*pos[i.effect], heights[i.effect]), k,
                          None if strength is None else strength.get((i.key, i.effect)))
    years = sorted(span)
    ax.set_xticks([(span[y][0] + span[y][1]) / 2 * COLUMN for y in years])
    ax.set_xticklabels([str(y) for y in years], fontsize=9)
    ax.tick_params(axis="x", length=0, pad=3)
    ax.set_yticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    # at the left, where a reader of a wide picture starts
    ax.set_title((title or s.title) + (f"\n{subtitle}" if subtitle else ""), fontsize=11,
                 loc="left", **LITERAL)
    handles: list[Artist] = [Patch(fc=HISTORY_COLOURS[1.0], ec="#555555", label="happened"),
               Patch(fc=HISTORY_COLOURS[0.0], ec="#555555", label="did not happen")]
    if any(n.history is None or n.history not in (0.0, 1.0) for n in s.nodes):
        handles.append(Patch(fc=SOFT_COLOUR, ec="#555555", label="disputed or unknown"))
    handles.append(Patch(fc="white", ec=POD_COLOUR, lw=2.2,
                         label=f"set by POD {pod}" if pod else "POD target"))
    if len(s.outcomes) == 1:
        outcomes = f"outcome ({s.outcomes[0].name})"
    else:
        outcomes = f"outcomes ({', '.join(o.name for o in s.outcomes)})"
    handles.append(Patch(fc="white", ec="#555555", lw=2.0, label=outcomes))
    if highlight is not None:
        handles.append(Patch(fc="white", ec=DIFFERS_COLOUR, lw=2.5,
                             label="differs from history (outline ∝ probability)"))
    if strength is None:
        handles.append(Line2D([], [], color=EDGE_COLOUR, lw=0.8, label="claimed cause"))
    if any(e.gate for e in s.edges):
        handles.append(Line2D([], [], color=GATE_COLOUR, lw=0.9, ls=(0, (4, 2)), marker="o",
                              ms=4.5, mfc="white", mec=GATE_COLOUR, label="requires (gate)"))
    if s.interactions:
        handles.append(Line2D([], [], color=GATE_COLOUR, lw=1.0, ls=":", marker="o", ms=3.0,
                              label="causes acting together (interaction)"))
    if any(n.declared_states for n in s.nodes):
        handles.append(Line2D([], [], ls="none",
                              label="a < b < [c]: states, least first; [c] happened"))
    rows = 1 if len(handles) <= 6 else 2
    legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.22 / height),
                       ncol=-(-len(handles) // rows), fontsize=8.5, frameon=False,
                       handlelength=1.6)
    for text in legend.get_texts():
        text.set_parse_math(False)
    if strength is not None:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import LinearSegmentedColormap

        samples = [strength_colour(STRENGTH_LIMIT * (2 * t / 63 - 1)) for t in range(64)]
        cmap = LinearSegmentedColormap.from_list("strength", samples)
        # under the legend, at the left as well
        below = 0.72 + 0.22 * (rows - 1)
        cax = ax.inset_axes((0.1 / width, -below / height, 3.5 / width, 0.09 / height))
        bar = fig.colorbar(ScalarMappable(Normalize(-STRENGTH_LIMIT, STRENGTH_LIMIT), cmap),
                           cax=cax, orientation="horizontal")
        bar.set_label("median log odds ratio of the cause (red promotes, blue inhibits)",
                      fontsize=8)
        bar.ax.tick_params(labelsize=7.5)
    return fig


def _draw_gate(ax: Axes, s: Scenario, cause: str, at_least: str | None, route: list[Point],
               box: tuple[float, float, float]) -> None:
    """A gate: a dashed grey line ending in an open circle on the box, ``≥ state`` by it."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    end = _entry(route, box)
    ax.add_patch(FancyArrowPatch(path=Path([*route[:-1], end]), arrowstyle="-", lw=0.9,
                                 ls=(0, (4, 2)), color=GATE_COLOUR, zorder=2, shrinkA=0.0,
                                 shrinkB=0.0, alpha=0.9))
    ax.plot([end[0]], [end[1]], marker="o", ms=4.5, mfc="white", mec=GATE_COLOUR, mew=0.9,
            zorder=5)
    node = s.node(cause)
    least = least_text(node, at_least or node.states[-1])
    if least:
        x, y = route[len(route) // 2]
        ax.text(x, y + 0.03, least.replace(">=", "≥"), fontsize=6.5, color=GATE_COLOUR,
                ha="center", va="bottom", zorder=5, **LITERAL)


def _draw_interaction(ax: Axes, routes: list[list[Point]], box: tuple[float, float, float],
                      k: int, v: float | None) -> None:
    """Dotted lines from the causes' arrows to a joint, and a dotted arrow on to the effect."""
    from matplotlib.patches import FancyArrowPatch

    bx, by, bh = box
    left = bx - BOX_WIDTH / 2
    starts = [_at_x(r, left - 0.38) for r in routes]
    jx = left - 0.2 - 0.08 * k
    jy = sum(y for _, y in starts) / len(starts)
    jy = max(by - bh / 2 + 0.04, min(by + bh / 2 - 0.04, jy + 0.05 * k))
    colour: tuple[float, ...] | str = GATE_COLOUR
    lw = 1.0
    if v is not None:
        colour, lw = strength_colour(v), strength_width(v)
    for x, y in starts:
        ax.plot([x, jx], [y, jy], ls=":", lw=1.0, color=GATE_COLOUR, zorder=2.5)
    ax.add_patch(FancyArrowPatch((jx, jy), (left, jy), arrowstyle="-|>", ls=":",
                                 mutation_scale=7 + 1.5 * lw, lw=lw, color=colour, zorder=2.5,
                                 shrinkA=0.0, shrinkB=0.0))
    ax.plot([jx], [jy], marker="o", ms=3.0, color=GATE_COLOUR, zorder=5)


def draw_graph(s: Scenario, fmt: str = "png", *,
               strength: Mapping[tuple[str, str], float] | None = None,
               highlight: Mapping[str, float] | None = None, pod: str | None = None,
               title: str | None = None, subtitle: str | None = None) -> bytes:
    """Draw the DAG (see :func:`graph_figure`) and return the file's bytes.

    Parameters
    ----------
    fmt : {"png", "svg"}
    """
    from plausibly.models.plots._render import figure_bytes

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
    from plausibly.models.results import edge_effects

    strength = edge_effects(run, file=file)
    words = (f"arrows: posterior median effect of each cause, prior set {run.priors} "
             f"({run.name})")
    if pod is None:
        return Overlay(strength, None, None, words)
    answered = [p for p in run.pods if p != "history"]
    if pod not in answered:
        raise UsageError(problems=[Problem(
            file or run.scenario.id, "pod", f"the run does not answer POD '{pod}'"
            f"{suggest(pod, answered)}", f"use one of: {', '.join(answered)}")])
    differs = run.draws["differs"].sel(pod=pod).mean(("chain", "draw"))
    highlight = {str(e): float(v) for e, v in zip(differs["event"].values, differs.values,
                                                  strict=True)}
    label = run.scenario.pod(pod).label
    return Overlay(strength, highlight, pod,
                   f"{words};\noutlines: the chance each event differs from history under "
                   f"POD {pod} ({label})")
