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
from typing import TYPE_CHECKING

from plausibly.models.errors import Problem, UsageError
from plausibly.models.plots._layout import (
    BOX_WIDTH,
    COLUMN,
    FONT,
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
    pod_targets,
    strength_colour,
    strength_width,
)
from plausibly.models.plots.dot import to_dot
from plausibly.models.scenario import Scenario
from plausibly.models.validate import suggest

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plausibly.models.results import Run

__all__ = ["Overlay", "draw_graph", "graph_figure", "render_graph", "run_overlay"]


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

    targets = pod_targets(s, pod)
    shown = {n: highlight.get(n, 0.0) for n in s.order} if highlight is not None else {}
    lines = {n.id: box_lines(n.label, f"differs {shown[n.id]:.2f}"
                             if shown.get(n.id, 0.0) >= 0.005 else "")
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
        if n.id == s.outcome:
            lw += 1.2
        hh = heights[n.id]
        box = FancyBboxPatch((x - BOX_WIDTH / 2, y - hh / 2), BOX_WIDTH, hh,
                             boxstyle="round,pad=0,rounding_size=0.06", fc=fill(n.history),
                             ec=edge, lw=lw, zorder=3)
        ax.add_patch(box)
        ax.text(x, y, "\n".join(lines[n.id]), ha="center", va="center", fontsize=FONT,
                linespacing=1.05, zorder=4, **LITERAL)
    for e in s.edges:
        colour: tuple[float, ...] | str = EDGE_COLOUR
        lw = 0.8
        if strength is not None and (e.cause, e.effect) in strength:
            v = strength[(e.cause, e.effect)]
            colour, lw = strength_colour(v), strength_width(v)
        route = edge_route(routes[(e.cause, e.effect)], (*pos[e.cause], heights[e.cause]),
                       (*pos[e.effect], heights[e.effect]))
        ax.add_patch(FancyArrowPatch(path=Path(route), arrowstyle="-|>",
                                     mutation_scale=7 + 1.5 * lw, lw=lw, color=colour,
                                     zorder=2, shrinkA=0.0, shrinkB=0.0, alpha=0.9))
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
    handles.append(Patch(fc="white", ec="#555555", lw=2.0, label=f"outcome ({s.outcome})"))
    if highlight is not None:
        handles.append(Patch(fc="white", ec=DIFFERS_COLOUR, lw=2.5,
                             label="differs from history (outline ∝ probability)"))
    if strength is None:
        handles.append(Line2D([], [], color=EDGE_COLOUR, lw=0.8, label="claimed cause"))
    legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.22 / height),
                       ncol=len(handles), fontsize=8.5, frameon=False, handlelength=1.6)
    for text in legend.get_texts():
        text.set_parse_math(False)
    if strength is not None:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import LinearSegmentedColormap

        samples = [strength_colour(STRENGTH_LIMIT * (2 * t / 63 - 1)) for t in range(64)]
        cmap = LinearSegmentedColormap.from_list("strength", samples)
        # under the legend, at the left as well
        cax = ax.inset_axes((0.1 / width, -0.72 / height, 3.5 / width, 0.09 / height))
        bar = fig.colorbar(ScalarMappable(Normalize(-STRENGTH_LIMIT, STRENGTH_LIMIT), cmap),
                           cax=cax, orientation="horizontal")
        bar.set_label("median log odds ratio of the cause (red promotes, blue inhibits)",
                      fontsize=8)
        bar.ax.tick_params(labelsize=7.5)
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
