"""Posterior densities of each POD's counterfactual plausibility."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from plausibly.models.plots._render import figure_bytes
from plausibly.models.plots._style import LITERAL
from plausibly.models.plots.forest import COLOURS, pod_label, x_limit

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plausibly.models.results import Run

__all__ = ["density_figure", "density_plot"]


def _density(x: Any) -> tuple[Any, Any] | None:
    """A boundary-corrected KDE of draws in [0, 1]; None for (near) constant draws."""
    import numpy as np

    x = np.asarray(x, dtype=float).ravel()
    if x.size < 2 or float(np.ptp(x)) < 1e-9:
        return None
    from plausibly.models._arviz import arviz

    grid, pdf = arviz().kde(x, bound_correction=True)
    return grid, pdf


def density_figure(run: Run, hdi_prob: float, pods: Sequence[str] | None = None,
                   outcome: str | None = None) -> Figure:
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
    outcome : str, optional
        The outcome whose probability is drawn (as the outputs name it); the
        headline by default.

    Returns
    -------
    Figure
        One row (y tick) per POD, highest posterior mean at the top. Each
        density is scaled to its own peak; a POD whose answer is the same in
        every draw (fixed priors) is a spike.
    """
    import numpy as np
    from matplotlib.figure import Figure

    from plausibly.models.results import Summary

    outcome = outcome or run.outcomes[0]
    cf = run.draws["plausibility"].sel(query="counterfactual", outcome=outcome)
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
    ax.set_yticklabels([pod_label(p) for p in rows], fontsize=8, va="bottom")
    ax.set_ylim(-0.3, len(rows) + 0.1)
    right = x_limit([*tops, *(s.hdi[1] for s in summaries.values()),
                      base if base is not None else 0.0])
    ax.set_xlim(-0.015 * right, right)
    ax.set_xlabel(f"P({outcome}) had the POD happened, given real history "
                  "\n(posterior density, each row scaled to its peak; mean [HDI] on the right)",
                  fontsize=9)
    ax.set_title(f"{run.scenario.title}\nprior set {run.priors} ({run.name}): "
                 "counterfactual plausibility of each POD", fontsize=10, **LITERAL)
    ax.grid(axis="x", alpha=0.35, zorder=0)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=8, loc="lower right", frameon=True, framealpha=0.9)
    return fig


def density_plot(run: Run, hdi_prob: float, fmt: str = "png",
                 pods: Sequence[str] | None = None, outcome: str | None = None) -> bytes:
    """The bytes (PNG or SVG) of :func:`density_figure`."""
    return figure_bytes(density_figure(run, hdi_prob, pods, outcome), fmt)
