"""The scenario graph as Graphviz DOT text."""

from __future__ import annotations

from collections.abc import Mapping

from plausibly.models.plots._style import (
    DIFFERS_COLOUR,
    POD_COLOUR,
    fill,
    least_text,
    pod_targets,
    states_text,
    strength_colour,
    strength_width,
)
from plausibly.models.scenario import Scenario

__all__ = ["interaction_id", "quoted", "to_dot"]


def _dot_colour(v: float) -> str:
    """A hex colour for a log odds ratio: red promotes, blue inhibits."""
    from matplotlib.colors import to_hex

    return str(to_hex(strength_colour(v)))


def interaction_id(k: int, key: str) -> str:
    """The DOT id of the point that joins interaction ``k``: never an event's (snake_case) id."""
    return f"interaction {k + 1}: {key}"


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

    Version 2 adds: the states of an event with states (the one that
    happened in brackets), gates (``requires`` edges) dashed with an open
    circle for a head and labelled ``>= state``, and each interaction as a
    small point with dotted lines from its causes and a dotted arrow to its
    effect, labelled ``A & B``. Every outcome has a double outline.

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
        if n.declared_states:
            label.insert(1, states_text(n))
        extra = ""
        if targets[n.id]:
            label.append("POD: " + ", ".join(targets[n.id]))
            extra = f', color="{POD_COLOUR}", penwidth=2.5'
        if highlight is not None and highlight.get(n.id, 0.0) >= 0.005:
            label.append(f"P(differs from history) {highlight[n.id]:.2f}")
            if not targets[n.id]:
                extra = (f', color="{DIFFERS_COLOUR}", '
                         f"penwidth={1.0 + 5.0 * highlight[n.id]:.2f}")
        written = [o.name for o in s.outcomes if o.event == n.id and o.written]
        if written:
            label.append("outcome: " + ", ".join(written))
        if n.id in s.outcome_events:
            extra += ", peripheries=2"
        lines.append(f"  {quoted(n.id)} [label={quoted(chr(10).join(label))}, "
                     f'fillcolor="{fill(n.history)}"{extra}];')
    for year in sorted({n.year for n in s.nodes}):
        same = [quoted(n.id) for n in s.nodes if n.year == year]
        if len(same) > 1:
            lines.append("  { rank=same; " + "; ".join(same) + "; }")
    for e in s.edges:
        extra = ""
        if e.gate:  # a necessary condition: no effect to colour, whatever the run
            least = least_text(s.node(e.cause), e.at_least or s.node(e.cause).states[-1])
            extra = ', style=dashed, arrowhead=odot, color="#555555"' + (
                f", label={quoted(least)}" if least else "")
        elif strength is not None and (e.cause, e.effect) in strength:
            v = strength[(e.cause, e.effect)]
            extra = (f', color="{_dot_colour(v)}", penwidth={strength_width(v):.2f}, '
                     f'label="{v:+.2f}"')
        tooltip = quoted(f"{e.claim} ({', '.join(e.by)})")
        lines.append(f"  {quoted(e.cause)} -> {quoted(e.effect)} [tooltip={tooltip}{extra}];")
    for k, i in enumerate(s.interactions):
        joint = quoted(interaction_id(k, i.key))
        tooltip = quoted(f"{i.claim} ({', '.join(i.by)})")
        lines.append(f'  {joint} [shape=point, width=0.08, color="#555555", '
                     f"tooltip={tooltip}];")
        for cause, least in i.causes.items():
            at = least_text(s.node(cause), least)
            lines.append(f"  {quoted(cause)} -> {joint} [style=dotted, arrowhead=none, "
                         f'color="#555555"' + (f", label={quoted(at)}" if at else "") + "];")
        text = i.key
        colour = ', color="#555555"'
        if strength is not None and (i.key, i.effect) in strength:
            v = strength[(i.key, i.effect)]
            text += f" {v:+.2f}"
            colour = f', color="{_dot_colour(v)}", penwidth={strength_width(v):.2f}'
        lines.append(f"  {joint} -> {quoted(i.effect)} [style=dotted{colour}, "
                     f"label={quoted(text)}, tooltip={tooltip}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
