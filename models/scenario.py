"""Scenario files: a causal DAG of historical events, read into frozen objects.

A scenario is plain Python: reading one imports neither numpy nor pymc.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from plausibly.models.errors import PlausiblyError, Problem, ScenarioError
from plausibly.models.files import bundled_files, bundled_path, read_toml
from plausibly.models.graph import descendants, find_cycle, topological_order
from plausibly.models.validate import Checker, show, suggest

__all__ = [
    "DataRow",
    "Edge",
    "Interaction",
    "Node",
    "Outcome",
    "Pod",
    "Scenario",
    "bundled_scenarios",
    "load_scenario",
    "parse_scenario",
    "resolve_scenario_path",
]

HISTORY_ROW = "history"  # the pod id of the baseline row; reserved
YES_NO = ("no", "yes")  # the states of a yes/no event


@dataclass(frozen=True)
class Node:
    """One event: yes/no, or with ordered states (least first).

    ``history`` is what happened, as normalised from the file: for a yes/no
    event 1.0 or 0.0 for a known fact, a probability of "yes" for a disputed
    one (virtual evidence); for an event with states a state name, or a
    mapping of state names to weights for a disputed record. ``None`` when
    unknown.
    """

    id: str
    label: str
    year: int
    history: float | str | Mapping[str, float] | None
    note: str = ""
    states: tuple[str, ...] = YES_NO
    declared_states: bool = False  # written with ``states = [...]`` (else yes/no)

    @property
    def binary(self) -> bool:
        """A yes/no event (two states)."""
        return len(self.states) == 2

    @property
    def record(self) -> tuple[float, ...] | None:
        """History as weights over the states: one-hot when known; ``None`` when unknown."""
        h = self.history
        if h is None:
            return None
        if isinstance(h, str):
            return tuple(float(s == h) for s in self.states)
        if isinstance(h, Mapping):
            return tuple(float(h.get(s, 0.0)) for s in self.states)
        return (1.0 - float(h), float(h))

    @property
    def hard(self) -> int | None:
        """The state that happened, when known for certain; else ``None``."""
        r = self.record
        if r is None or sorted(r) != [0.0] * (len(r) - 1) + [1.0]:
            return None
        return r.index(1.0)

    @property
    def history_text(self) -> str:
        """``true``/``false``/``P=0.8``, a state, ``long=0.3, ...``, or ``unknown``."""
        h = self.history
        if h is None:
            return "unknown"
        if isinstance(h, str):
            return h
        if isinstance(h, Mapping):
            return ", ".join(f"{s}={w:g}" for s, w in h.items())
        if self.declared_states:
            return self.states[int(h)] if h in (0.0, 1.0) else f"P({self.states[1]})={h:g}"
        if h in (0.0, 1.0):
            return "true" if h else "false"
        return f"P={h:g}"


@dataclass(frozen=True)
class Edge:
    """A causal claim: ``cause`` moves the odds of ``effect``, or ``effect`` needs it.

    ``kind="influences"`` (the default) or ``"requires"``: a gate, open while
    ``cause`` is at least at state ``at_least``.
    """

    cause: str
    effect: str
    claim: str
    by: tuple[str, ...]
    disputed_by: tuple[str, ...] = ()
    kind: str = "influences"
    at_least: str | None = None  # for a gate: the lowest state of the cause that opens it
    qualified_by: tuple[str, ...] = ()

    @property
    def gate(self) -> bool:
        """Whether this is a necessary condition (``kind = "requires"``)."""
        return self.kind == "requires"


@dataclass(frozen=True)
class Interaction:
    """A claim that causes act together on ``effect``.

    One more term of the effect's mechanism, active when every cause is at
    least its state.
    """

    effect: str
    causes: Mapping[str, str]  # cause -> the lowest of its states that counts
    claim: str
    by: tuple[str, ...]
    disputed_by: tuple[str, ...] = ()
    qualified_by: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """How a prior set names its judgement: ``"A & B"``."""
        return " & ".join(self.causes)


@dataclass(frozen=True)
class Outcome:
    """An outcome: an event at least at a state (``yes`` for a yes/no event)."""

    event: str
    at_least: str = "yes"
    written: bool = False  # given as ``{ event, at_least }`` (else a yes/no event id)

    @property
    def name(self) -> str:
        """``EVENT``, or ``EVENT>=STATE`` for an outcome written with ``at_least``."""
        return f"{self.event}>={self.at_least}" if self.written else self.event


@dataclass(frozen=True)
class Pod:
    """A point of divergence: an intervention on one or more events.

    ``do`` maps node ids to what the POD sets: for a yes/no event the
    probability of "yes" (1.0/0.0 for a hard intervention); for an event with
    states a state name, or a mapping of state names to weights (a soft POD).
    ``scope = "out"`` marks a POD that removes the question itself.
    """

    id: str
    label: str
    do: Mapping[str, float | str | Mapping[str, float]]
    by: tuple[str, ...]
    why: str = ""
    scope: str = "in"

    @property
    def soft(self) -> bool:
        """Whether any of its settings is uncertain (a probability or weights)."""
        return any((isinstance(v, float) and 0.0 < v < 1.0)
                   or (isinstance(v, Mapping) and max(v.values(), default=1.0) < 1.0)
                   for v in self.do.values())


@dataclass(frozen=True)
class DataRow:
    """Reference-class evidence: ``successes`` of ``trials`` with causes set to ``given``.

    ``given`` names the state of every influencing cause (true/false for a
    yes/no cause); the count is read inside the event's gates. With
    ``at_most`` the count is an upper bound (the source gives "no more than
    k"), and the evidence is P(K <= k), not P(K = k).
    """

    node: str
    given: Mapping[str, bool | str]
    successes: int
    trials: int
    note: str = ""
    at_most: bool = False


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Nodes are in time (and topological) order.

    ``outcome`` is the headline outcome's event; ``outcomes`` all of them,
    the headline first.
    """

    id: str
    title: str
    outcome: str
    source: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    pods: tuple[Pod, ...]
    data: tuple[DataRow, ...] = ()
    posts: int | None = None
    description: str = ""
    path: str | None = None
    interactions: tuple[Interaction, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    parents: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        parents: dict[str, list[str]] = {n.id: [] for n in self.nodes}
        for e in self.edges:
            parents[e.effect].append(e.cause)
        object.__setattr__(self, "parents",
                           MappingProxyType({k: tuple(v) for k, v in parents.items()}))
        if not self.outcomes:
            object.__setattr__(self, "outcomes", (Outcome(self.outcome),))

    @property
    def order(self) -> tuple[str, ...]:
        """Node ids in time order."""
        return tuple(n.id for n in self.nodes)

    @property
    def influences(self) -> Mapping[str, tuple[str, ...]]:
        """The influencing causes of each event (its judged causes), in edge order."""
        return {n: tuple(e.cause for e in self.edges if e.effect == n and not e.gate)
                for n in self.order}

    @property
    def gates(self) -> Mapping[str, tuple[tuple[str, str], ...]]:
        """Each event's necessary conditions: ``(cause, lowest state that opens it)``."""
        out: dict[str, list[tuple[str, str]]] = {n: [] for n in self.order}
        for e in self.edges:
            if e.gate:
                cause = self.node(e.cause)
                out[e.effect].append((e.cause, e.at_least or cause.states[-1]))
        return {k: tuple(v) for k, v in out.items()}

    def interactions_of(self, effect: str) -> tuple[Interaction, ...]:
        """The interactions acting on ``effect``, in file order."""
        return tuple(i for i in self.interactions if i.effect == effect)

    @property
    def outcome_events(self) -> tuple[str, ...]:
        """The events that are outcomes (a POD may not set them)."""
        return tuple(dict.fromkeys(o.event for o in self.outcomes))

    def node(self, node_id: str) -> Node:
        """The node with this id."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def pod(self, pod_id: str) -> Pod:
        """The POD with this id; a :class:`ScenarioError` naming the choices otherwise."""
        for p in self.pods:
            if p.id == pod_id:
                return p
        ids = [p.id for p in self.pods]
        raise ScenarioError(problems=[Problem(
            self.path or self.id, f"pods.{pod_id}",
            f"unknown POD '{pod_id}'{suggest(pod_id, ids)}",
            f"use one of: {', '.join(ids)}")])

    @property
    def children(self) -> Mapping[str, tuple[str, ...]]:
        """Direct effects of each node."""
        kids: dict[str, list[str]] = {n: [] for n in self.order}
        for e in self.edges:
            kids[e.cause].append(e.effect)
        return {k: tuple(v) for k, v in kids.items()}

    def downstream(self, node_ids: list[str] | tuple[str, ...]) -> set[str]:
        """The nodes an intervention on ``node_ids`` can change (themselves included)."""
        return set(node_ids) | descendants(self.children, node_ids)

    def edge(self, cause: str, effect: str) -> Edge:
        """The edge from ``cause`` to ``effect``."""
        for e in self.edges:
            if e.cause == cause and e.effect == effect:
                return e
        raise KeyError((cause, effect))


# --------------------------------------------------------------------------- reading


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario ids and their files."""
    return bundled_files("plausibly.models")


def resolve_scenario_path(name: str | Path) -> Path:
    """A path as given, or the file of a bundled scenario id."""
    try:
        return bundled_path(name, bundled_scenarios(), "scenario")
    except PlausiblyError as err:
        raise ScenarioError(problems=err.problems) from None


def load_scenario(name: str | Path) -> Scenario:
    """Read and validate a scenario file (or a bundled scenario by id).

    Raises
    ------
    ScenarioError
        With every problem in the file, each naming the key and the fix.
    """
    path = resolve_scenario_path(name)
    data, problems = read_toml(path, "scenario")
    if data is None:
        raise ScenarioError(problems=problems)
    return parse_scenario(data, file=str(path))


def parse_scenario(data: Mapping[str, Any], file: str = "<dict>") -> Scenario:
    """Validate a scenario given as a mapping (the parsed TOML) and build it.

    Parameters
    ----------
    data : Mapping
        Keys and values exactly as in a scenario TOML file.
    file : str
        Where the mapping came from, for messages.
    """
    c = Checker(file)
    top = c.table(dict(data), "", ["id", "title", "outcome", "source", "nodes", "edges", "pods"],
                  ["posts", "description", "data"])
    sid = c.string(top, "", "id", snake=True)
    title = c.string(top, "", "title")
    source = c.string(top, "", "source")
    outcome = c.string(top, "", "outcome", snake=True)
    description = c.string(top, "", "description") or ""
    posts = c.integer(top, "", "posts", low=1)

    nodes = _read_nodes(c, top["nodes"]) if "nodes" in top else []  # missing: told once
    years = {n.id: n.year for n in nodes}
    # a node with problems of its own is still declared: a reference to it is not "unknown"
    raw_nodes = top.get("nodes")
    declared: dict[str, int | None] = {
        **dict.fromkeys(raw_nodes if isinstance(raw_nodes, dict) else ()), **years}
    edges = _read_edges(c, top.get("edges", []), declared, posts)
    pods = _read_pods(c, top.get("pods", {}), declared, posts, outcome)
    node_ids = list(years)
    if outcome is not None and declared and outcome not in declared:
        c.add("outcome", f"'{outcome}' is not a node{suggest(outcome, node_ids)}",
              "name one of the [nodes.*] tables")

    parents: dict[str, list[str]] = {n: [] for n in years}
    seen_pairs: set[tuple[str, str]] = set()
    for i, e in enumerate(edges):
        if (e.cause, e.effect) in seen_pairs:
            c.add(f"edges[{i}]", f"repeats the edge {e.cause} -> {e.effect}",
                  "merge the two claims into one edge (cite all their posts)")
        seen_pairs.add((e.cause, e.effect))
        parents[e.effect].append(e.cause)
    cycle = find_cycle(parents)
    if cycle is not None:
        c.add("edges", f"the graph has a cycle: {' -> '.join(cycle)}",
              "remove or reverse one of these edges; causes must come before effects")
    # data rows are checked against every edge the file declares, so that an edge
    # with a problem of its own (reported above) does not also make them wrong
    declared_parents: dict[str, list[str]] = {n: list(ps) for n, ps in parents.items()}
    for raw in top.get("edges", []) if isinstance(top.get("edges"), list) else []:
        if isinstance(raw, dict) and isinstance(raw.get("effect"), str) and \
                raw["effect"] in declared_parents and isinstance(raw.get("cause"), str) and \
                raw["cause"] not in declared_parents[raw["effect"]]:
            declared_parents[raw["effect"]].append(raw["cause"])
    data_rows = _read_data(c, top.get("data", []), declared_parents, declared)
    if c.problems:
        raise ScenarioError(problems=c.problems)

    order = topological_order({k: tuple(v) for k, v in parents.items()},
                              {n.id: (n.year, n.id) for n in nodes})
    by_id = {n.id: n for n in nodes}
    assert sid and title and outcome and source  # guaranteed when no problems
    return Scenario(id=sid, title=title, outcome=outcome, source=source,
                    nodes=tuple(by_id[n] for n in order), edges=tuple(edges), pods=tuple(pods),
                    data=tuple(data_rows), posts=posts, description=description,
                    path=None if file == "<dict>" else file)


def _read_nodes(c: Checker, table: object) -> list[Node]:
    nodes: list[Node] = []
    if not isinstance(table, dict):
        c.table(table, "nodes", [])
        return nodes
    if not table:
        c.add("nodes", "the scenario has no nodes", "add [nodes.<id>] tables")
    for nid, raw in table.items():
        key = f"nodes.{nid}"
        ok = c.snake_id(nid, key)
        t = c.table(raw, key, ["label", "year"], ["history", "note"])
        label = c.string(t, key, "label")
        year = c.integer(t, key, "year", low=1, high=3000)
        note = c.string(t, key, "note") or ""
        history: float | None = None
        if "history" in t:
            history = c.probability(t["history"], f"{key}.history")
        if ok and label is not None and year is not None:
            nodes.append(Node(nid, label, year, history, note))
    return nodes


def _node_ref(c: Checker, value: object, where: str,
              years: Mapping[str, int | None]) -> str | None:
    """A reference to a declared node; ``None`` (said once) if it is not one.

    ``years[x]`` is ``None`` for a node that has problems of its own (they are
    reported at the node), so that a reference to it is not called unknown.
    """
    if not isinstance(value, str):
        c.add(where, f"must be a node id, got {show(value)}", "write the id in double quotes")
        return None
    if value not in years:
        if years:  # with no readable nodes every reference would be noise
            c.add(where, f"unknown node '{value}'{suggest(value, years)}",
                  "name one of the [nodes.*] tables, or add the node")
        return None
    return value if years[value] is not None else None


def _read_edges(c: Checker, array: object, years: Mapping[str, int | None],
                posts: int | None) -> list[Edge]:
    edges: list[Edge] = []
    if not isinstance(array, list):
        c.add("edges", f"must be an array of tables ([[edges]]), got {show(array)}",
              "write each edge as an [[edges]] table")
        return edges
    for i, raw in enumerate(array):
        key = f"edges[{i}]"
        t = c.table(raw, key, ["cause", "effect", "claim", "by"], ["disputed_by"])
        cause = _node_ref(c, t["cause"], f"{key}.cause", years) if "cause" in t else None
        effect = _node_ref(c, t["effect"], f"{key}.effect", years) if "effect" in t else None
        claim = c.string(t, key, "claim")
        by = c.citations(t, key, "by", posts, nonempty=True)
        disputed = c.citations(t, key, "disputed_by", posts, nonempty=False)
        if cause and effect:
            if cause == effect:
                c.add(key, f"the edge runs from '{cause}' to itself",
                      "remove it: an event cannot cause itself")
                continue
            year_c, year_e = years[cause], years[effect]  # never None: see _node_ref
            if year_c is not None and year_e is not None and year_c > year_e:
                c.add(key, f"runs backwards in time: {cause} ({year_c}) -> "
                      f"{effect} ({year_e})",
                      "reverse the edge or correct the years")
        if cause and effect and claim and by:
            edges.append(Edge(cause, effect, claim, by, disputed))
    return edges


def _read_pods(c: Checker, table: object, years: Mapping[str, int | None], posts: int | None,
               outcome: str | None) -> list[Pod]:
    pods: list[Pod] = []
    if not isinstance(table, dict):
        c.table(table, "pods", [])
        return pods
    for pid, raw in table.items():
        key = f"pods.{pid}"
        ok = c.snake_id(pid, key)
        if pid == HISTORY_ROW:
            c.add(key, "'history' is the name of the baseline row", "choose another POD id")
            ok = False
        t = c.table(raw, key, ["label", "do", "by"], ["why"])
        label = c.string(t, key, "label")
        by = c.citations(t, key, "by", posts, nonempty=True)
        why = c.string(t, key, "why") or ""
        do: dict[str, float] = {}
        raw_do = t.get("do", {})
        if not isinstance(raw_do, dict) or (not raw_do and "do" in t):
            c.add(f"{key}.do", f"must be a non-empty table of node = value, got {show(raw_do)}",
                  "write e.g. do = { civil_war_severe = false }")
        else:
            for node, value in raw_do.items():
                where = f"{key}.do.{node}"
                if _node_ref(c, node, where, years) is None:
                    continue
                if node == outcome:
                    c.add(where, "a POD may not set the outcome itself",
                          "intervene on an earlier event")
                    continue
                p = c.probability(value, where)
                if p is not None:
                    do[node] = p
        if ok and label and by and do and len(do) == len(raw_do):
            pods.append(Pod(pid, label, MappingProxyType(do), by, why))
    return pods


def _read_data(c: Checker, array: object, parents: Mapping[str, list[str]],
               years: Mapping[str, int | None]) -> list[DataRow]:
    rows: list[DataRow] = []
    if not isinstance(array, list):
        c.add("data", f"must be an array of tables ([[data]]), got {show(array)}",
              "write each row as a [[data]] table")
        return rows
    for i, raw in enumerate(array):
        key = f"data[{i}]"
        t = c.table(raw, key, ["node", "trials", "note"], ["given", "successes", "at_most"])
        node = _node_ref(c, t["node"], f"{key}.node", years) if "node" in t else None
        counts = [name for name in ("successes", "at_most") if name in t]
        if len(counts) != 1 and isinstance(raw, dict):
            c.add(key, "gives both successes and at_most" if counts else
                  "gives neither successes nor at_most",
                  "write successes = N for a count, or at_most = N when the source only "
                  "bounds it (no more than N)")
        bound = counts[0] if len(counts) == 1 else "successes"
        successes = c.integer(t, key, bound, low=0)
        trials = c.integer(t, key, "trials", low=1, high=10**9)  # lgamma needs a float
        note = c.string(t, key, "note")
        if successes is not None and trials is not None and successes > trials:
            at_most = "at most " if bound == "at_most" else ""
            c.add(f"{key}.{bound}", f"{at_most}{successes} successes in {trials} trials",
                  f"{bound} must not exceed trials")
            continue
        given: dict[str, bool] = {}
        raw_given = t.get("given", {})
        if not isinstance(raw_given, dict):
            c.add(f"{key}.given", f"must be a table of cause = true/false, got {show(raw_given)}",
                  "write e.g. given = { civil_war_severe = true } or given = {}")
            continue
        for cause, value in raw_given.items():
            where = f"{key}.given.{cause}"
            if node is not None and cause not in parents[node]:
                c.add(where, f"'{cause}' is not a cause of '{node}'",
                      f"name a cause of {node}: {', '.join(parents[node]) or 'it has none'}")
            elif not isinstance(value, bool):
                c.add(where, f"must be true or false, got {show(value)}", "write true or false")
            else:
                given[cause] = value
        if node is not None and len(given) == len(raw_given):
            missing = [p for p in parents[node] if p not in given]
            if missing:
                c.add(f"{key}.given", f"does not set every cause of '{node}': missing "
                      f"{', '.join(missing)}", "give the value of each cause the count refers to")
                continue
        if node and len(counts) == 1 and successes is not None and trials is not None and note:
            rows.append(DataRow(node, MappingProxyType(given), successes, trials, note,
                                at_most=bound == "at_most"))
    return rows

