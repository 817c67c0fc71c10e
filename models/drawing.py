"""Pictures of a scenario's graph: DOT text, and SVG/PNG drawn with matplotlib."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping

from plausibly.models.scenario import Scenario

__all__ = ["draw_graph", "layout", "to_dot"]

HISTORY_COLOURS = {1.0: "#cfe8cf", 0.0: "#e6e6e6"}  # happened / did not
SOFT_COLOUR = "#fff2cc"
POD_COLOUR = "#d9480f"


def _pod_targets(s: Scenario) -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {n: [] for n in s.order}
    for p in s.pods:
        for node in p.do:
            targets[node].append(p.id)
    return targets


def to_dot(s: Scenario) -> str:
    """The graph in Graphviz DOT, left to right in time; POD targets in orange."""
    targets = _pod_targets(s)
    lines = [f'digraph "{s.id}" {{', "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    for n in s.nodes:
        colour = HISTORY_COLOURS.get(n.history if n.history is not None else -1, SOFT_COLOUR)
        label = f"{n.label}\\n{n.year} · history: {n.history_text}"
        extra = ""
        if targets[n.id]:
            label += "\\nPOD: " + ", ".join(targets[n.id])
            extra = f', color="{POD_COLOUR}", penwidth=2.5'
        if n.id == s.outcome:
            extra += ", peripheries=2"
        label = label.replace('"', '\\"')
        lines.append(f'  {n.id} [label="{label}", fillcolor="{colour}"{extra}];')
    for year in sorted({n.year for n in s.nodes}):
        same = [n.id for n in s.nodes if n.year == year]
        if len(same) > 1:
            lines.append("  { rank=same; " + "; ".join(same) + "; }")
    for e in s.edges:
        claim = e.claim.replace('"', '\\"')
        lines.append(f'  {e.cause} -> {e.effect} [tooltip="{claim} ({", ".join(e.by)})"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def layout(s: Scenario) -> dict[str, tuple[float, float]]:
    """Positions: x by the rank of the event's year, y spread within a year."""
    years = sorted({n.year for n in s.nodes})
    column = {y: k for k, y in enumerate(years)}
    pos: dict[str, tuple[float, float]] = {}
    for y in years:
        same = [n.id for n in s.nodes if n.year == y]
        for k, nid in enumerate(same):
            offset = (k - (len(same) - 1) / 2) * 1.6
            stagger = 0.45 * (column[y] % 2)
            pos[nid] = (float(column[y]) * 1.9, offset + stagger)
    return pos


def draw_graph(s: Scenario, fmt: str = "png", *,
               strength: Mapping[tuple[str, str], float] | None = None,
               highlight: Mapping[str, float] | None = None, title: str | None = None) -> bytes:
    """Draw the DAG with matplotlib and return the file's bytes.

    Parameters
    ----------
    fmt : {"png", "svg"}
    strength : mapping, optional
        ``(cause, effect) -> log odds ratio`` to show as edge width and colour
        (red promotes, blue inhibits); plain grey edges without it.
    highlight : mapping, optional
        ``event -> probability that it differs from history`` under a POD,
        drawn as a thick outline.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    pos = layout(s)
    targets = _pod_targets(s)
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    fig, ax = plt.subplots(figsize=(max(8.0, 1.25 * (max(xs) - min(xs) + 3)),
                                    max(5.0, 1.0 * (max(ys) - min(ys) + 3))))
    boxes = {}
    for n in s.nodes:
        x, y = pos[n.id]
        colour = HISTORY_COLOURS.get(n.history if n.history is not None else -1, SOFT_COLOUR)
        edge, width = "#555555", 1.0
        if targets[n.id]:
            edge, width = POD_COLOUR, 2.5
        if highlight and highlight.get(n.id, 0.0) > 0.05:
            width = 1.0 + 6.0 * highlight[n.id]
            edge = "#7b2cbf"
        text = "\n".join(textwrap.wrap(n.id.replace("_", " "), 14)) + f"\n{n.year}"
        boxes[n.id] = ax.text(x, y, text, ha="center", va="center", fontsize=7, zorder=3,
                              bbox={"boxstyle": "round,pad=0.35", "fc": colour, "ec": edge,
                                    "lw": width + (1.5 if n.id == s.outcome else 0.0)})
    for e in s.edges:
        colour, lw = "#999999", 1.0
        if strength is not None:
            v = strength.get((e.cause, e.effect), 0.0)
            colour = "#c92a2a" if v > 0 else "#1c7ed6"
            lw = 0.5 + min(4.0, abs(v))
        ax.add_patch(FancyArrowPatch(pos[e.cause], pos[e.effect], arrowstyle="-|>",
                                     mutation_scale=9, lw=lw, color=colour, zorder=1,
                                     connectionstyle="arc3,rad=0.12", shrinkA=18, shrinkB=18))
    ax.set_xlim(min(xs) - 1.2, max(xs) + 1.2)
    ax.set_ylim(min(ys) - 1.2, max(ys) + 1.2)
    years = sorted({n.year for n in s.nodes})
    ax.set_xticks([pos[next(n.id for n in s.nodes if n.year == y)][0] for y in years])
    ax.set_xticklabels([str(y) for y in years], fontsize=7, rotation=45)
    ax.set_yticks([])
    ax.set_xlabel("year (columns in time order, not to scale)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or f"{s.title}: green happened, grey did not, orange outline = POD "
                 "target, double outline = outcome", fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, bbox_inches="tight", metadata=_metadata(fmt))
    plt.close(fig)
    return buf.getvalue()


def _metadata(fmt: str) -> dict[str, str | None]:
    # fixed metadata: the same scenario gives the same bytes
    if fmt == "svg":
        return {"Date": None}
    if fmt == "png":
        return {"Software": "plausibly"}
    return {}
