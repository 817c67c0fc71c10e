"""The forest plot: each POD's plausibility under each prior set and the pool."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from plausibly.models.plots._render import figure_bytes
from plausibly.models.plots._style import LITERAL
from plausibly.models.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plausibly.models.results import PodResult

__all__ = ["COLOURS", "forest_figure", "forest_plot", "pod_label", "x_limit"]


COLOURS = ("#1b6ca8", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#495057", "#0b7285")


POOL_COLOUR = "black"


BAND_COLOUR = "#f3f3f3"


NICE_LIMITS = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def x_limit(values: Sequence[float]) -> float:
    """The smallest round upper limit (at most 1) that shows every value."""
    top = max([0.0, *values]) * 1.04
    return next((lim for lim in NICE_LIMITS if lim >= top), 1.0)


def pod_label(pod: str) -> str:
    """A POD id as words, for axis labels."""
    return pod.replace("_", " ")


def forest_figure(scenario: Scenario, per_set: Sequence[Sequence[PodResult]], hdi_prob: float,
                  *, labels: Sequence[str] | None = None) -> Figure:
    """Counterfactual mean and HDI per POD, one row per POD ranked by the last set (the pool).

    Of one outcome: the one the results are of (give each set one outcome's
    rows, e.g. the headline's). PODs out of scope are left out: never ranked.

    Parameters
    ----------
    scenario : Scenario
    per_set : sequence of sequences of PodResult
        Per prior set, the results of :func:`plausibly.models.estimate.summarize`
        in the same POD order, the "history" baseline first; the last entry
        is the pool, drawn in black and used for the ranking.
    hdi_prob : float
        The mass of the HDIs (for the axis label).
    labels : sequence of str, optional
        Legend entry per set (default: the prior-set ids; the pool's gets
        "(pool)" appended).

    Returns
    -------
    Figure
        One y tick per POD (highest pooled counterfactual at the top), one
        legend entry per set plus one for the history baseline.
    """
    from matplotlib.figure import Figure

    from plausibly.models.results import rank

    pooled = per_set[-1]
    rows = list(rank(pooled)[0][1:])[::-1]  # the highest at the top
    outcome = pooled[0].outcome or scenario.outcome
    n = len(per_set)
    if labels is None:
        pool = pooled[0].priors.replace("_", " ")
        labels = [r[0].priors for r in per_set[:-1]] + [
            pool if "pool" in pool else f"{pool} (pool)"]
    height = max(3.2, (0.15 + 0.05 * n) * len(rows) + 1.8)
    fig = Figure(figsize=(8.0, height), dpi=110, layout="constrained")
    ax = fig.subplots()
    for y in range(0, len(rows), 2):
        ax.axhspan(y - 0.5, y + 0.5, color=BAND_COLOUR, zorder=0, lw=0)
    spread = 0.75 / max(n, 1)
    highs = []
    for j, results in enumerate(per_set):
        last = j == n - 1
        colour = POOL_COLOUR if last else COLOURS[j % len(COLOURS)]
        offset = ((j - (n - 1) / 2) * spread) if n > 1 else 0.0
        ys = [y + offset for y in range(len(rows))]
        lo = [results[k].counterfactual.hdi[0] for k in rows]
        hi = [results[k].counterfactual.hdi[1] for k in rows]
        highs.extend(hi)
        ax.hlines(ys, lo, hi, color=colour, lw=2.6 if last else 1.3, zorder=2 + last)
        ax.plot([results[k].counterfactual.mean for k in rows], ys, "D" if last else "o",
                ms=5.5 if last else 4, color=colour, mec="white" if last else colour, mew=0.6,
                zorder=3 + last, label=labels[j], ls="none")
    base = pooled[0].counterfactual.mean
    ax.axvline(base, ls="--", color="#666666", lw=1, zorder=1,
               label=f"history, no POD ({base:.2f})")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([pod_label(pooled[k].pod) for k in rows], fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    right = x_limit([*highs, base])
    ax.set_xlim(-0.015 * right, right)  # a baseline at 0 stays visible
    ax.set_xlabel(f"P({outcome}) had the POD happened, given real history\n"
                  f"(dot: posterior mean; bar: {hdi_prob:.0%} highest-density interval)",
                  fontsize=9)
    ax.set_title(f"{scenario.title}\ncounterfactual plausibility of each POD, ranked by the pool",
                 fontsize=10, **LITERAL)
    ax.grid(axis="x", alpha=0.35, zorder=0)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles, names = ax.get_legend_handles_labels()  # top row first, history last
    legend = ax.legend([*handles[-2::-1], handles[-1]], [*names[-2::-1], names[-1]],
                       fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                       title="prior set", title_fontsize=8, alignment="left")
    for text in legend.get_texts():  # the callers' labels, drawn as written
        text.set_parse_math(False)
    return fig


def forest_plot(scenario: Scenario, per_set: Sequence[Sequence[PodResult]], hdi_prob: float,
                fmt: str = "png", *, labels: Sequence[str] | None = None) -> bytes:
    """The bytes (PNG or SVG) of :func:`forest_figure`."""
    return figure_bytes(forest_figure(scenario, per_set, hdi_prob, labels=labels), fmt)
