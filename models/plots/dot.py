"""The scenario graph as Graphviz DOT text."""

from __future__ import annotations

from collections.abc import Mapping

from plausibly.models.plots._style import (
    DIFFERS_COLOUR,
    POD_COLOUR,
    fill,
    pod_targets,
    strength_colour,
    strength_width,
)
from plausibly.models.scenario import Scenario

__all__ = ["quoted", "to_dot"]


def _dot_colour(v: float) -> str:
    """A hex colour for a log odds ratio: red promotes, blue inhibits."""
    from matplotlib.colors import to_hex

    return str(to_hex(strength_colour(v)))


def quoted(text: str) -> str:
    r"""A DOT quoted string: every id and text is one, so no keyword or character breaks it.

    Unquoted, an event named ``node``, ``edge`` or ``graph`` (DOT keywords,
    in any case) made invalid DOT. Inside the quotes a backslash is doubled
    (a final one would escape the closing quote, and ``\N`` or ``\G``
    would be expanded by Graphviz), a quote escaped, and a line break
    written as DOT's ``\n``.
    """
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n") + '"'


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
    targets = pod_targets(s, pod)
    lines = [f"digraph {quoted(s.id)} {{", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    for n in s.nodes:
        label = [n.label, f"{n.year} · history: {n.history_text}"]
        extra = ""
        if targets[n.id]:
            label.append("POD: " + ", ".join(targets[n.id]))
            extra = f', color="{POD_COLOUR}", penwidth=2.5'
        if highlight is not None and highlight.get(n.id, 0.0) >= 0.005:
            label.append(f"P(differs from history) {highlight[n.id]:.2f}")
            if not targets[n.id]:
                extra = (f', color="{DIFFERS_COLOUR}", '
                         f"penwidth={1.0 + 5.0 * highlight[n.id]:.2f}")
        if n.id == s.outcome:
            extra += ", peripheries=2"
        lines.append(f"  {quoted(n.id)} [label={quoted(chr(10).join(label))}, "
                     f'fillcolor="{fill(n.history)}"{extra}];')
    for year in sorted({n.year for n in s.nodes}):
        same = [quoted(n.id) for n in s.nodes if n.year == year]
        if len(same) > 1:
            lines.append("  { rank=same; " + "; ".join(same) + "; }")
    for e in s.edges:
        extra = ""
        if strength is not None and (e.cause, e.effect) in strength:
            v = strength[(e.cause, e.effect)]
            extra = (f', color="{_dot_colour(v)}", penwidth={strength_width(v):.2f}, '
                     f'label="{v:+.2f}"')
        tooltip = quoted(f"{e.claim} ({', '.join(e.by)})")
        lines.append(f"  {quoted(e.cause)} -> {quoted(e.effect)} [tooltip={tooltip}{extra}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
