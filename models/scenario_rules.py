"""The state-aware rules of a scenario file: states, history, POD settings, gates.

Small named validators in the manner of :mod:`validate`: each normalises one
value or records a problem (quoting what it got) and returns ``None``. They
know a node's states, so the reader in :mod:`scenario_reader` stays about the
file's structure.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from plausibly.models.validate import Checker, show, suggest

if TYPE_CHECKING:
    from plausibly.models.scenario import Edge, Node

__all__ = [
    "Declared",
    "declared_parents",
    "gate_state",
    "history_value",
    "listed",
    "node_ref",
    "pod_value",
    "read_states",
    "state_ref",
    "unopened_gates",
]

YES_NO = ("no", "yes")
SUM_TOLERANCE = 1e-9  # a soft POD's weights sum to 1 within this

#: every node the file declares: its object, or ``None`` when it has problems of its
#: own (reported at the node), so that a reference to it is not called unknown
Declared = Mapping[str, "Node | None"]

Setting = float | str | Mapping[str, float]


class Stated(Protocol):
    """What the state validators need of an event: its id and states."""

    @property
    def id(self) -> str: ...

    @property
    def states(self) -> tuple[str, ...]: ...


class _Event(NamedTuple):
    """An event's id and states, before its :class:`Node` is built."""

    id: str
    states: tuple[str, ...]


def listed(nodes: Declared) -> list[str]:
    """The ids of the nodes that could be read."""
    return [k for k, v in nodes.items() if v is not None]


def node_ref(c: Checker, value: object, where: str, nodes: Declared) -> str | None:
    """A reference to a readable node; ``None`` (said once) if it is not one."""
    if not isinstance(value, str):
        c.add(where, f"must be a node id, got {show(value)}", "write the id in double quotes")
        return None
    if value not in nodes:
        if nodes:  # with no readable nodes every reference would be noise
            c.add(where, f"unknown node '{value}'{suggest(value, nodes)}",
                  "name one of the [nodes.*] tables, or add the node")
        return None
    return value if nodes[value] is not None else None


def read_states(c: Checker, value: object, where: str) -> tuple[str, ...] | None:
    """``states = [...]``: two or more distinct snake_case names, least first."""
    example = 'write them least first, e.g. states = ["short", "long", "long_and_brutal"]'
    if not isinstance(value, list):
        c.add(where, f"must be an array of state names, got {show(value)}", example)
        return None
    ok = True
    for i, s in enumerate(value):
        if not isinstance(s, str):
            c.add(f"{where}[{i}]", f"must be a state name, got {show(s)}",
                  "write the name in double quotes")
            ok = False
        elif not c.snake_id(s, f"{where}[{i}]"):
            ok = False
        elif s in value[:i]:
            c.add(f"{where}[{i}]", f"names the state '{s}' twice", "list each state once")
            ok = False
    if ok and len(value) < 2:
        c.add(where, f"needs at least two states, got {show(value)}",
              f"{example}; a yes/no event is written without states")
        ok = False
    return tuple(value) if ok else None


def _states_text(states: tuple[str, ...]) -> str:
    return ", ".join(states)


def state_ref(c: Checker, value: object, where: str, node: Stated, *, above_first: bool = False,
              allow_bool: bool = False) -> str | None:
    """A state of ``node`` by name (``true``/``false`` for yes/no when ``allow_bool``).

    With ``above_first`` the first state is refused: "at least the first state"
    always holds.
    """
    states = node.states
    if isinstance(value, bool) and allow_bool and states == YES_NO:
        value = "yes" if value else "no"
    if not isinstance(value, str):
        c.add(where, f"must be a state of '{node.id}' ({_states_text(states)}), got "
              f"{show(value)}", "write the state's name in double quotes")
        return None
    if value not in states:
        c.add(where, f"unknown state '{value}' of '{node.id}'{suggest(value, states)}",
              f"use one of: {_states_text(states)}")
        return None
    if above_first and value == states[0]:
        c.add(where, f"'{value}' is the first state of '{node.id}': at least it always holds",
              f"name a higher state: {_states_text(states[1:])}")
        return None
    return value


def _weights(c: Checker, value: Mapping[str, Any], where: str, node: Stated, *,
             total: bool) -> dict[str, float] | None:
    """A table of state = weight; with ``total`` the weights must sum to 1."""
    out: dict[str, float] = {}
    ok = True
    for s, w in value.items():
        at = f"{where}.{s}"
        if state_ref(c, s, at, node) is None:
            ok = False
        elif isinstance(w, bool) or not isinstance(w, int | float) or not 0.0 <= w <= 1.0:
            c.add(at, f"must be a weight in [0, 1], got {show(w)}", "write a number such as 0.3")
            ok = False
        else:
            out[s] = float(w)
    if not ok:
        return None
    if not any(out.values()):
        c.add(where, "gives every state weight 0", "give at least one state a weight above 0")
        return None
    if total and abs(sum(out.values()) - 1.0) > SUM_TOLERANCE:
        c.add(where, f"weights sum to {sum(out.values()):.12g}, not 1",
              "make the weights add up to 1 (the chance of each state)")
        return None
    return {s: out[s] for s in node.states if s in out}


def _name_a_state(c: Checker, value: object, where: str, node: Stated, what: str) -> None:
    c.add(where, f"must name a state of '{node.id}' ({_states_text(node.states)}), got "
          f"{show(value)}", f'write a state, e.g. "{node.states[-1]}", or {what}, e.g. '
          f'{{ {node.states[0]} = 0.3, {node.states[-1]} = 0.7 }}')


def history_value(c: Checker, value: object, where: str, nid: str, states: tuple[str, ...],
                  *, declared: bool) -> float | str | Mapping[str, float] | None:
    """History: true/false/P(yes) for a yes/no event; a state or weights otherwise.

    An event written with ``states = ["no", "yes"]`` gets the yes/no form
    (1.0, 0.0 or the probability of "yes"), so it builds the same network.
    """
    if not declared:
        return c.probability(value, where)
    node = _Event(nid, states)
    if isinstance(value, str):
        state = state_ref(c, value, where, node)
        if state is None or states != YES_NO:
            return state
        return float(state == "yes")
    if isinstance(value, dict):
        w = _weights(c, value, where, node, total=False)
        if w is None or states != YES_NO:
            return None if w is None else MappingProxyType(w)
        return w.get("yes", 0.0) / (w.get("no", 0.0) + w.get("yes", 0.0))
    _name_a_state(c, value, where, node, "weights for a disputed record")
    return None


def pod_value(c: Checker, value: object, where: str, node: Node) -> Setting | None:
    """What a POD sets: P(yes) for a yes/no event; a state or weights summing to 1 otherwise."""
    if not node.declared_states:
        if isinstance(value, str):
            c.add(where, f"'{value}' names a state, but '{node.id}' is a yes/no event",
                  "write true or false (a number in [0, 1] for a soft POD)")
            return None
        return c.probability(value, where)
    if isinstance(value, str):
        state = state_ref(c, value, where, node)
        if state is None or node.states != YES_NO:
            return state
        return float(state == "yes")
    if isinstance(value, dict):
        w = _weights(c, value, where, node, total=True)
        if w is None or node.states != YES_NO:
            return None if w is None else MappingProxyType(w)
        return w.get("yes", 0.0)
    _name_a_state(c, value, where, node, "weights for a soft POD")
    return None


def gate_state(c: Checker, t: Mapping[str, Any], key: str, cause: Node) -> str | None:
    """A gate's ``at_least``: "yes" for a yes/no cause unless written; required otherwise."""
    if "at_least" not in t:
        if cause.states == YES_NO:
            return "yes"
        c.add(f"{key}.at_least", f"is missing: '{cause.id}' has states "
              f"({_states_text(cause.states)})",
              "add at_least = \"...\", the lowest state that opens the gate, one of: "
              f"{_states_text(cause.states[1:])}")
        return None
    return state_ref(c, t["at_least"], f"{key}.at_least", cause, above_first=True,
                     allow_bool=True)


def declared_parents(raw_edges: object, nodes: Declared
                     ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each event's influences and gates as the file declares them, problems or not.

    Rules that refer to the edges (data rows, interactions) are checked against
    these, so that an edge with a problem of its own (reported at the edge)
    does not also make them wrong.
    """
    influences: dict[str, list[str]] = {n: [] for n in nodes}
    gates: dict[str, list[str]] = {n: [] for n in nodes}
    for raw in raw_edges if isinstance(raw_edges, list) else []:
        if not isinstance(raw, dict):
            continue
        cause, effect = raw.get("cause"), raw.get("effect")
        if isinstance(cause, str) and isinstance(effect, str) and effect in nodes:
            into = gates if raw.get("kind") == "requires" else influences
            if cause not in into[effect]:
                into[effect].append(cause)
    return influences, gates


def unopened_gates(c: Checker, edges: list[Edge], nodes: Declared) -> None:
    """History may not have an event above its first state while one of its gates was closed."""
    for e in edges:
        effect, cause = nodes.get(e.effect), nodes.get(e.cause)
        if not e.gate or effect is None or cause is None or e.at_least is None:
            continue
        happened, opened = effect.hard, cause.hard
        if happened is None or opened is None or happened == 0:
            continue
        if opened < cause.states.index(e.at_least):
            c.add(f"nodes.{e.effect}.history",
                  f"history says {e.effect} is '{effect.states[happened]}' but its gate "
                  f"{e.cause} >= {e.at_least} is closed ({e.cause} is "
                  f"'{cause.states[opened]}')",
                  f"correct one of the two histories, or make the edge from {e.cause} an "
                  "influence (remove kind = \"requires\")")
