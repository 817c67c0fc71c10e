"""Plots a forum reader can read (matplotlib; no display needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from plausibly.models.scenario import Scenario

__all__ = ["forest_plot"]

COLOURS = ("#1b6ca8", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#495057", "#0b7285")


def forest_plot(scenario: Scenario, per_set: Sequence[Sequence[Any]], hdi_prob: float,
                fmt: str = "png") -> bytes:
    """Counterfactual mean and HDI per POD (rows, ranked by the last set: the pool).

    ``per_set`` holds, per prior set, the list of :class:`PodResult` from
    :func:`plausibly.models.estimate.summarize` (same POD order in each; the
    "history" baseline first). The baseline is drawn as a dashed line.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pooled = per_set[-1]
    rows = sorted(range(1, len(pooled)), key=lambda k: pooled[k].counterfactual.mean)
    height = max(3.0, 0.42 * len(rows) + 1.5)
    fig, ax = plt.subplots(figsize=(8.0, height))
    n = len(per_set)
    for j, results in enumerate(per_set):
        offset = (j - (n - 1) / 2) * (0.7 / max(n, 1))
        ys = [y + offset for y in range(len(rows))]
        means = [results[k].counterfactual.mean for k in rows]
        lo = [results[k].counterfactual.hdi[0] for k in rows]
        hi = [results[k].counterfactual.hdi[1] for k in rows]
        last = j == n - 1
        ax.hlines(ys, lo, hi, color=COLOURS[j % len(COLOURS)] if not last else "black",
                  lw=2.5 if last else 1.2)
        ax.plot(means, ys, "o" if not last else "D", ms=4 if not last else 5,
                color=COLOURS[j % len(COLOURS)] if not last else "black",
                label=results[0].priors)
    base = pooled[0].counterfactual.mean
    ax.axvline(base, ls="--", color="grey", lw=1, label=f"history ({base:.2f})")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([pooled[k].pod.replace("_", " ") for k in rows], fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(f"P({scenario.outcome}) had the POD happened, given real history "
                  f"(mean and {hdi_prob:.0%} HDI)")
    ax.set_title(scenario.title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else
                {"Software": "plausibly"})
    plt.close(fig)
    return buf.getvalue()
