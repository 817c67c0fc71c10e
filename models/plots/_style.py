"""Colours and marks shared by the DOT text and the drawn graph."""

from __future__ import annotations

import math
from typing import TypedDict

from plausibly.models.scenario import YES_NO, Node, Scenario

__all__ = ["DIFFERS_COLOUR", "EDGE_COLOUR", "HISTORY_COLOURS", "LITERAL", "POD_COLOUR",
           "SOFT_COLOUR", "STRENGTH_LIMIT", "fill", "least_text", "pod_targets", "states_text",
           "strength_colour", "strength_width"]


class _Literal(TypedDict):
    parse_math: bool
    usetex: bool


#: Keyword arguments for a matplotlib text that comes from a file (a title, a label): drawn
#: as written, a "$" never starting mathematics and no TeX whatever the rc settings say.
LITERAL: _Literal = {"parse_math": False, "usetex": False}


HISTORY_COLOURS = {1.0: "#cfe8cf", 0.0: "#e6e6e6"}  # happened / did not


SOFT_COLOUR = "#fff2cc"  # disputed (a probability) or unknown


POD_COLOUR = "#d9480f"


DIFFERS_COLOUR = "#7b2cbf"


EDGE_COLOUR = "#8a8a8a"


STRENGTH_LIMIT = 4.0  # |log odds ratio| at which colour and width saturate


def pod_targets(s: Scenario, pod: str | None = None) -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {n: [] for n in s.order}
    for p in s.pods:
        if pod is None or p.id == pod:
            for node in p.do:
                targets[node].append(p.id)
    return targets


def states_text(n: Node) -> str:
    """An event's states, least first, the one that happened in brackets.

    ``short < long < [long_and_brutal]``; no brackets when history is
    disputed or unknown (the fill says so, the history line gives weights).
    Empty for a yes/no event written without ``states``.
    """
    if not n.declared_states:
        return ""
    known = n.hard
    return " < ".join(f"[{st}]" if k == known else st for k, st in enumerate(n.states))


def least_text(cause: Node, least: str) -> str:
    """``>= state`` for a cause with states (or a yes/no cause at "no"); empty at "yes"."""
    return "" if cause.states == YES_NO and least == "yes" else f">= {least}"


def fill(history: object) -> str:
    """A node's colour: what happened (a yes/no fact, a state), disputed, or unknown."""
    if isinstance(history, str):  # a state that happened: known
        return HISTORY_COLOURS[1.0]
    if history is None or isinstance(history, float | int):
        return HISTORY_COLOURS.get(history if history is not None else -1.0, SOFT_COLOUR)
    return SOFT_COLOUR


def strength_colour(v: float) -> tuple[float, float, float, float]:
    import matplotlib

    u = max(-1.0, min(1.0, v / STRENGTH_LIMIT))
    # from 0.1 to 0.5 away from the middle: the near-white middle of the map
    # would hide the weakest effects
    t = 0.5 + math.copysign(0.1 + 0.4 * abs(u), u) if u else 0.5
    r, g, b, a = matplotlib.colormaps["RdBu_r"](t)
    return (float(r), float(g), float(b), float(a))


def strength_width(v: float) -> float:
    return 0.5 + 3.0 * min(abs(v), STRENGTH_LIMIT) / STRENGTH_LIMIT
