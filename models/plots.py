"""Plots a forum reader can read (matplotlib; no display needed).

Each picture has a ``*_figure`` function that returns the matplotlib
:class:`~matplotlib.figure.Figure` (for tests, notebooks and further styling)
and a function that returns the file's bytes. Figures are built without
:mod:`matplotlib.pyplot`: no global state, no backend switch, nothing to close.
The bytes are reproducible: the same numbers give the same file.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from plausibly.models.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plausibly.models.estimate import PodResult, Run

__all__ = [
    "COLOURS",
    "density_figure",
    "density_plot",
    "figure_bytes",
    "forest_figure",
    "forest_plot",
]

COLOURS = ("#1b6ca8", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#495057", "#0b7285")
POOL_COLOUR = "black"
BAND_COLOUR = "#f3f3f3"
NICE_LIMITS = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def figure_bytes(fig: Figure, fmt: str, dpi: float | None = None) -> bytes:
    """Render a figure to PNG or SVG bytes, trimmed to its content.

    Parameters
    ----------
    fig : Figure
    fmt : {"png", "svg"}
    dpi : float, optional
        Resolution of a PNG (the figure's own by default).

    Returns
    -------
    bytes
        The same figure always gives the same bytes (fixed metadata, fixed
        SVG id salt).
    """
    import matplotlib

    buf = io.BytesIO()
    metadata: dict[str, str | None] = {"Date": None} if fmt == "svg" else {
        "Software": "plausibly"}
    with matplotlib.rc_context({"svg.hashsalt": "plausibly", "svg.fonttype": "path"}):
        fig.savefig(buf, format=fmt, bbox_inches="tight", metadata=metadata,
                    dpi="figure" if dpi is None else dpi, facecolor="white")
    return buf.getvalue()


def _x_limit(values: Sequence[float]) -> float:
    """The smallest round upper limit (at most 1) that shows every value."""
    top = max([0.0, *values]) * 1.04
    return next((lim for lim in NICE_LIMITS if lim >= top), 1.0)


def _pod_label(pod: str) -> str:
    return pod.replace("_", " ")


def forest_figure(scenario: Scenario, per_set: Sequence[Sequence[PodResult]], hdi_prob: float,
                  *, labels: Sequence[str] | None = None) -> Figure:
    """Counterfactual mean and HDI per POD, one row per POD ranked by the last set (the pool).

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

    pooled = per_set[-1]
    rows = sorted(range(1, len(pooled)), key=lambda k: pooled[k].counterfactual.mean)
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
    ax.set_yticklabels([_pod_label(pooled[k].pod) for k in rows], fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    right = _x_limit([*highs, base])
    ax.set_xlim(-0.015 * right, right)  # a baseline at 0 stays visible
    ax.set_xlabel(f"P({scenario.outcome}) had the POD happened, given real history\n"
                  f"(dot: posterior mean; bar: {hdi_prob:.0%} highest-density interval)",
                  fontsize=9)
    ax.set_title(f"{scenario.title}\ncounterfactual plausibility of each POD, ranked by the pool",
                 fontsize=10)
    ax.grid(axis="x", alpha=0.35, zorder=0)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles, names = ax.get_legend_handles_labels()  # top row first, history last
    ax.legend([*handles[-2::-1], handles[-1]], [*names[-2::-1], names[-1]], fontsize=8,
              loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="prior set",
              title_fontsize=8, alignment="left")
    return fig


def forest_plot(scenario: Scenario, per_set: Sequence[Sequence[PodResult]], hdi_prob: float,
                fmt: str = "png", *, labels: Sequence[str] | None = None) -> bytes:
    """The bytes (PNG or SVG) of :func:`forest_figure`."""
    return figure_bytes(forest_figure(scenario, per_set, hdi_prob, labels=labels), fmt)


def _density(x: Any) -> tuple[Any, Any] | None:
    """A boundary-corrected KDE of draws in [0, 1]; None for (near) constant draws."""
    import numpy as np

    x = np.asarray(x, dtype=float).ravel()
    if x.size < 2 or float(np.ptp(x)) < 1e-9:
        return None
    from plausibly.models.estimate import arviz

    grid, pdf = arviz().kde(x, bound_correction=True)
    return grid, pdf


def density_figure(run: Run, hdi_prob: float, pods: Sequence[str] | None = None) -> Figure:
    """Posterior density of each POD's counterfactual plausibility (a ridgeline plot).

    Parameters
    ----------
    run : Run
        One prior set's run (:func:`plausibly.models.estimate.estimate` or
        :func:`plausibly.models.store.load_run`).
    hdi_prob : float
        Mass of the HDI drawn under each density.
    pods : sequence of str, optional
        The PODs to draw (all in the run by default); the "history" baseline
        is drawn as a dashed line, not a row.

    Returns
    -------
    Figure
        One row (y tick) per POD, highest posterior mean at the top. Each
        density is scaled to its own peak; a POD whose answer is the same in
        every draw (fixed priors) is a spike.
    """
    import numpy as np
    from matplotlib.figure import Figure

    from plausibly.models.estimate import Summary

    cf = run.draws["plausibility"].sel(query="counterfactual")
    chosen = [p for p in run.pods if p != "history" and (pods is None or p in pods)]
    summaries = {p: Summary.of(cf.sel(pod=p).values, hdi_prob) for p in chosen}
    rows = sorted(chosen, key=lambda p: summaries[p].mean)
    base = float(cf.sel(pod="history").mean()) if "history" in run.pods else None
    fig = Figure(figsize=(8.0, max(3.2, 0.42 * len(rows) + 1.8)), dpi=110,
                 layout="constrained")
    ax = fig.subplots()
    colour = COLOURS[0]
    tops = []
    for y, pod in enumerate(rows):
        draws = cf.sel(pod=pod).values
        s = summaries[pod]
        tops.append(float(np.quantile(draws, 0.995)))
        curve = _density(draws)
        if curve is None:
            ax.vlines(s.mean, y, y + 0.85, color=colour, lw=2, zorder=3)
        else:
            grid, pdf = curve
            height = 0.85 * pdf / pdf.max()
            ax.fill_between(grid, y, y + height, color=colour, alpha=0.35, lw=0,
                            zorder=2 + 0.01 * y)
            ax.plot(grid, y + height, color=colour, lw=1, zorder=2 + 0.01 * y)
        ax.hlines(y, *s.hdi, color="black", lw=2.2, zorder=4)
        ax.plot([s.mean], [y], "o", color="white", mec="black", ms=4.5, zorder=5)
        ax.annotate(str(s), (1.0, y + 0.1), xycoords=("axes fraction", "data"),
                    xytext=(4, 0), textcoords="offset points", fontsize=7, va="bottom",
                    family="monospace", annotation_clip=False)
    if base is not None:
        ax.axvline(base, ls="--", color="#666666", lw=1, zorder=1,
                   label=f"history, no POD ({base:.2f})")
    ax.plot([], [], "o", color="white", mec="black", ms=4.5, label="posterior mean")
    ax.plot([], [], color="black", lw=2.2, label=f"{hdi_prob:.0%} HDI")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([_pod_label(p) for p in rows], fontsize=8, va="bottom")
    ax.set_ylim(-0.3, len(rows) + 0.1)
    right = _x_limit([*tops, *(s.hdi[1] for s in summaries.values()),
                      base if base is not None else 0.0])
    ax.set_xlim(-0.015 * right, right)
    ax.set_xlabel(f"P({run.scenario.outcome}) had the POD happened, given real history "
                  "\n(posterior density, each row scaled to its peak; mean [HDI] on the right)",
                  fontsize=9)
    ax.set_title(f"{run.scenario.title}\nprior set {run.priors} ({run.name}): "
                 "counterfactual plausibility of each POD", fontsize=10)
    ax.grid(axis="x", alpha=0.35, zorder=0)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=8, loc="lower right", frameon=True, framealpha=0.9)
    return fig


def density_plot(run: Run, hdi_prob: float, fmt: str = "png",
                 pods: Sequence[str] | None = None) -> bytes:
    """The bytes (PNG or SVG) of :func:`density_figure`."""
    return figure_bytes(density_figure(run, hdi_prob, pods), fmt)
