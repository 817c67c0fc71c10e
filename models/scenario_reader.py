"""Reading a scenario file (version 1 or 2) into the frozen objects of :mod:`scenario`.

Every problem is collected, each with its key and fix, before one
:class:`ScenarioError` is raised. The state-aware validators (states,
history, POD settings, ``at_least``) and the rules across tables (gates
against history) live in :mod:`scenario_rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from plausibly.models.errors import ScenarioError
from plausibly.models.graph import find_cycle, topological_order
from plausibly.models.scenario import (
    HISTORY_ROW,
    YES_NO,
    DataRow,
    Edge,
    Interaction,
    Node,
    Outcome,
    Pod,
    Scenario,
)
from plausibly.models.scenario_rules import (
    Declared,
    declared_parents,
    gate_state,
    history_value,
    listed,
    node_ref,
    pod_value,
    read_states,
    state_ref,
    unopened_gates,
)
from plausibly.models.validate import Checker, show, suggest

__all__ = ["read_scenario"]

#: the top-level keys, in the order messages list them (version 2's at the end)
TOP_KEYS = ["id", "title", "outcome", "source", "nodes", "edges", "pods", "posts",
            "description", "data", "outcomes", "interactions"]
REQUIRED = ["id", "title", "outcome", "source", "nodes", "edges", "pods"]
KINDS = ("influences", "requires")
SCOPES = ("in", "out")


def read_scenario(data: Mapping[str, Any], file: str = "<dict>") -> Scenario:
    """Validate a scenario given as a mapping (the parsed TOML) and build it.

    See :func:`plausibly.models.scenario.parse_scenario`.
    """
    c = Checker(file)
    top = c.table(dict(data), "", [], TOP_KEYS)
    for name in REQUIRED:
        if name == "outcome":
            if "outcome" in top and "outcomes" in top:
                c.add("outcomes", "is given with 'outcome' as well",
                      "keep one: outcome = \"...\" (one yes/no event) or outcomes = [...]")
            elif "outcome" not in top and "outcomes" not in top and isinstance(data, dict):
                c.add("outcome", "is missing",
                      "add 'outcome = ...', or 'outcomes = [...]' for several outcomes")
        elif name not in top:
            c.add(name, "is missing", f"add '{name} = ...'")
    sid = c.string(top, "", "id", snake=True)
    title = c.string(top, "", "title")
    source = c.string(top, "", "source")
    outcome = c.string(top, "", "outcome", snake=True)
    description = c.string(top, "", "description") or ""
    posts = c.integer(top, "", "posts", low=1)

    nodes = _read_nodes(c, top["nodes"]) if "nodes" in top else []  # missing: told once
    # a node with problems of its own is still declared: a reference to it is not "unknown"
    raw_nodes = top.get("nodes")
    declared: Declared = {**dict.fromkeys(raw_nodes if isinstance(raw_nodes, dict) else ()),
                          **{n.id: n for n in nodes}}
    edges = _read_edges(c, top.get("edges", []), declared, posts)
    outcomes = _read_outcomes(c, top, outcome, declared)
    interactions = _read_interactions(c, top.get("interactions", []), declared, posts,
                                      top.get("edges", []))
    pods = _read_pods(c, top.get("pods", {}), declared, posts,
                      [o.event for o in outcomes] or ([outcome] if outcome else []),
                      several="outcomes" in top)

    parents: dict[str, list[str]] = {n.id: [] for n in nodes}
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
    influences, gates = declared_parents(top.get("edges", []), declared)
    data_rows = _read_data(c, top.get("data", []), influences, gates, declared)
    unopened_gates(c, edges, declared)
    if c.problems:
        raise ScenarioError(problems=c.problems)

    order = topological_order({k: tuple(v) for k, v in parents.items()},
                              {n.id: (n.year, n.id) for n in nodes})
    by_id = {n.id: n for n in nodes}
    headline = outcomes[0].event if outcomes else outcome
    assert sid and title and headline and source  # guaranteed when no problems
    return Scenario(id=sid, title=title, outcome=headline, source=source,
                    nodes=tuple(by_id[n] for n in order), edges=tuple(edges), pods=tuple(pods),
                    data=tuple(data_rows), posts=posts, description=description,
                    path=None if file == "<dict>" else file,
                    interactions=tuple(interactions), outcomes=tuple(outcomes))


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
        t = c.table(raw, key, ["label", "year"], ["history", "note", "states"])
        label = c.string(t, key, "label")
        year = c.integer(t, key, "year", low=1, high=3000)
        note = c.string(t, key, "note") or ""
        states = read_states(c, t["states"], f"{key}.states") if "states" in t else YES_NO
        history: Any = None
        if "history" in t and states is not None:
            history = history_value(c, t["history"], f"{key}.history", nid, states,
                                    declared="states" in t)
        if ok and label is not None and year is not None and states is not None \
                and (history is not None or "history" not in t):
            nodes.append(Node(nid, label, year, history, note, states=states,
                              declared_states="states" in t))
    return nodes


def _read_edges(c: Checker, array: object, nodes: Declared,
                posts: int | None) -> list[Edge]:
    edges: list[Edge] = []
    if not isinstance(array, list):
        c.add("edges", f"must be an array of tables ([[edges]]), got {show(array)}",
              "write each edge as an [[edges]] table")
        return edges
    for i, raw in enumerate(array):
        key = f"edges[{i}]"
        t = c.table(raw, key, ["cause", "effect", "claim", "by"],
                    ["disputed_by", "kind", "at_least", "qualified_by"])
        cause = node_ref(c, t["cause"], f"{key}.cause", nodes) if "cause" in t else None
        effect = node_ref(c, t["effect"], f"{key}.effect", nodes) if "effect" in t else None
        claim = c.string(t, key, "claim")
        by = c.citations(t, key, "by", posts, nonempty=True)
        disputed = c.citations(t, key, "disputed_by", posts, nonempty=False)
        qualified = c.citations(t, key, "qualified_by", posts, nonempty=False)
        kind = _kind(c, t, key)
        at_least: str | None = None
        if kind == "influences" and "at_least" in t:
            c.add(f"{key}.at_least", "is only for a necessary condition (kind = \"requires\")",
                  "remove at_least, or write kind = \"requires\" if the effect needs the cause")
            kind = None
        elif kind == "requires" and cause:
            at_least = gate_state(c, t, key, _node(nodes, cause))
            if at_least is None:
                kind = None
        if cause and effect:
            if cause == effect:
                c.add(key, f"the edge runs from '{cause}' to itself",
                      "remove it: an event cannot cause itself")
                continue
            year_c, year_e = _year(nodes, cause), _year(nodes, effect)
            if year_c > year_e:
                c.add(key, f"runs backwards in time: {cause} ({year_c}) -> "
                      f"{effect} ({year_e})",
                      "reverse the edge or correct the years")
        if cause and effect and claim and by and kind:
            edges.append(Edge(cause, effect, claim, by, disputed, kind=kind, at_least=at_least,
                              qualified_by=qualified))
    return edges


def _node(nodes: Declared, nid: str) -> Node:
    node = nodes[nid]
    assert node is not None  # node_ref returns only readable nodes
    return node


def _year(nodes: Declared, nid: str) -> int:
    return _node(nodes, nid).year


def _kind(c: Checker, t: Mapping[str, Any], key: str) -> str | None:
    kind = t.get("kind", "influences")
    if kind in KINDS:
        return str(kind)
    hint = suggest(kind, KINDS) if isinstance(kind, str) else ""
    c.add(f"{key}.kind", f"must be \"influences\" or \"requires\", got {show(kind)}{hint}",
          "write kind = \"requires\" for a necessary condition, or leave it out for an "
          "influence")
    return None


def _read_outcomes(c: Checker, top: Mapping[str, Any], outcome: str | None,
                   nodes: Declared) -> list[Outcome]:
    """Version 2's ``outcomes = [...]``, or version 1's ``outcome = "..."``."""
    if ("outcomes" in top) == ("outcome" in top):
        return []  # both or neither: said once, above
    if "outcome" in top:
        if outcome is None:
            return []
        if nodes and outcome not in nodes:
            c.add("outcome", f"'{outcome}' is not a node{suggest(outcome, listed(nodes))}",
                  "name one of the [nodes.*] tables")
            return []
        node = nodes.get(outcome)
        if node is not None and node.states != YES_NO:
            c.add("outcome", f"'{outcome}' has states ({', '.join(node.states)}): an outcome "
                  "of it says which count", f"write outcomes = [{{ event = \"{outcome}\", "
                  f"at_least = \"{node.states[-1]}\" }}]")
            return []
        return [Outcome(outcome)]
    array = top.get("outcomes")
    if not isinstance(array, list) or not array:
        c.add("outcomes", f"must be a non-empty array of events, got {show(array)}",
              'write e.g. outcomes = ["democratic_ussr_1930", '
              '{ event = "regime_1930", at_least = "open_party" }]')
        return []
    out: list[Outcome] = []
    bad = False
    for i, item in enumerate(array):
        key = f"outcomes[{i}]"
        written = isinstance(item, dict)
        if written:
            t = c.table(item, key, ["event"], ["at_least"])
            event = node_ref(c, t["event"], f"{key}.event", nodes) if "event" in t else None
        else:
            t = {}
            event = node_ref(c, item, key, nodes)
        node = nodes.get(event) if event else None
        if node is None:
            bad = True
            continue
        least: str | None = "yes"
        if node.states != YES_NO and not written:
            c.add(key, f"'{event}' has states ({', '.join(node.states)}): an outcome of it "
                  "says which count", f"write {{ event = \"{event}\", at_least = "
                  f"\"{node.states[-1]}\" }}")
            least = None
        elif node.states != YES_NO and "at_least" not in t:
            c.add(f"{key}.at_least", f"is missing: '{event}' has states "
                  f"({', '.join(node.states)})",
                  f"add at_least = \"...\", one of: {', '.join(node.states[1:])}")
            least = None
        elif "at_least" in t:
            least = state_ref(c, t["at_least"], f"{key}.at_least", node, above_first=True,
                              allow_bool=True)
        if least is None:
            bad = True
            continue
        o = Outcome(node.id, least, written=written)
        if o.name in {p.name for p in out}:
            c.add(key, f"repeats the outcome '{o.name}'", "remove one of the two")
            continue
        out.append(o)
    return [] if bad else out


def _read_interactions(c: Checker, array: object, nodes: Declared, posts: int | None,
                       raw_edges: object) -> list[Interaction]:
    out: list[Interaction] = []
    if not isinstance(array, list):
        c.add("interactions", f"must be an array of tables ([[interactions]]), got "
              f"{show(array)}", "write each interaction as an [[interactions]] table")
        return out
    influences, gates = declared_parents(raw_edges, nodes)
    seen: set[tuple[str, frozenset[str]]] = set()
    for i, raw in enumerate(array):
        key = f"interactions[{i}]"
        t = c.table(raw, key, ["effect", "causes", "claim", "by"],
                    ["disputed_by", "qualified_by"])
        effect = node_ref(c, t["effect"], f"{key}.effect", nodes) if "effect" in t else None
        claim = c.string(t, key, "claim")
        by = c.citations(t, key, "by", posts, nonempty=True)
        disputed = c.citations(t, key, "disputed_by", posts, nonempty=False)
        qualified = c.citations(t, key, "qualified_by", posts, nonempty=False)
        raw_causes = t.get("causes", {})
        if not isinstance(raw_causes, dict) or len(raw_causes) < 2:
            if "causes" in t:
                c.add(f"{key}.causes", f"must be a table of two or more causes, got "
                      f"{show(raw_causes)}", 'write e.g. causes = { lenin_returns = "yes", '
                      'centralist_leadership = "yes" }: each cause at least that state')
            continue
        causes: dict[str, str] = {}
        for name, value in raw_causes.items():
            where = f"{key}.causes.{name}"
            cause = node_ref(c, name, where, nodes)
            if cause is None or effect is None:
                continue
            if cause in gates.get(effect, ()):
                c.add(where, f"'{cause}' is a gate of '{effect}' (kind = \"requires\"), not "
                      "an influence", "an interaction combines influences: drop it from "
                      "causes, or make the edge an influence")
                continue
            if cause not in influences.get(effect, ()):
                named = ", ".join(influences.get(effect, ())) or "it has none"
                c.add(where, f"'{cause}' is not a cause of '{effect}'",
                      f"add an [[edges]] from {cause} to {effect}, or name one of its "
                      f"influences: {named}")
                continue
            node = nodes[cause]
            state = state_ref(c, value, where, node, above_first=True, allow_bool=True) \
                if node is not None else None
            if state is not None:
                causes[cause] = state
        if effect is None or len(causes) != len(raw_causes):
            continue
        pair = (effect, frozenset(causes))
        if pair in seen:
            c.add(key, f"repeats the interaction {' & '.join(causes)} on {effect}",
                  "merge the two claims into one interaction (cite all their posts)")
            continue
        seen.add(pair)
        if claim and by:
            out.append(Interaction(effect, MappingProxyType(causes), claim, by, disputed,
                                   qualified))
    return out


def _read_pods(c: Checker, table: object, nodes: Declared, posts: int | None,
               outcomes: list[str], *, several: bool) -> list[Pod]:
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
        t = c.table(raw, key, ["label", "do", "by"], ["why", "scope"])
        label = c.string(t, key, "label")
        by = c.citations(t, key, "by", posts, nonempty=True)
        why = c.string(t, key, "why") or ""
        scope = t.get("scope", "in")
        if scope not in SCOPES:
            c.add(f"{key}.scope", f"must be \"in\" or \"out\", got {show(scope)}",
                  "write scope = \"out\" for a POD that removes the question itself, or "
                  "leave it out")
            ok = False
        do: dict[str, Any] = {}
        raw_do = t.get("do", {})
        if not isinstance(raw_do, dict) or (not raw_do and "do" in t):
            c.add(f"{key}.do", f"must be a non-empty table of node = value, got {show(raw_do)}",
                  "write e.g. do = { civil_war_severe = false }")
        else:
            for name, value in raw_do.items():
                where = f"{key}.do.{name}"
                if node_ref(c, name, where, nodes) is None:
                    continue
                if name in outcomes:
                    if several:
                        c.add(where, f"a POD may not set an outcome: '{name}' is one",
                              "intervene on an earlier event")
                    else:
                        c.add(where, "a POD may not set the outcome itself",
                              "intervene on an earlier event")
                    continue
                setting = pod_value(c, value, where, _node(nodes, name))
                if setting is not None:
                    do[name] = setting
        if ok and label and by and do and len(do) == len(raw_do):
            pods.append(Pod(pid, label, MappingProxyType(do), by, why, scope=str(scope)))
    return pods


def _read_data(c: Checker, array: object, influences: Mapping[str, list[str]],
               gates: Mapping[str, list[str]], nodes: Declared) -> list[DataRow]:
    rows: list[DataRow] = []
    if not isinstance(array, list):
        c.add("data", f"must be an array of tables ([[data]]), got {show(array)}",
              "write each row as a [[data]] table")
        return rows
    for i, raw in enumerate(array):
        key = f"data[{i}]"
        t = c.table(raw, key, ["node", "trials", "note"], ["given", "successes", "at_most"])
        node = node_ref(c, t["node"], f"{key}.node", nodes) if "node" in t else None
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
        event = nodes.get(node) if node else None
        if event is not None and event.states != YES_NO:
            c.add(f"{key}.node", f"'{node}' has states ({', '.join(event.states)}): a data "
                  "row counts how often a yes/no event happened",
                  "count a yes/no event instead, or leave the row out")
            continue
        given: dict[str, bool | str] = {}
        raw_given = t.get("given", {})
        if not isinstance(raw_given, dict):
            c.add(f"{key}.given", f"must be a table of cause = true/false, got {show(raw_given)}",
                  "write e.g. given = { civil_war_severe = true } or given = {}")
            continue
        for cause, value in raw_given.items():
            where = f"{key}.given.{cause}"
            own = influences.get(node, []) if node is not None else []
            if node is not None and cause in gates.get(node, []):
                c.add(where, f"'{cause}' is a gate of '{node}' (kind = \"requires\"): the "
                      "count is read inside the gates", "remove it from given")
            elif node is not None and cause not in own:
                c.add(where, f"'{cause}' is not a cause of '{node}'",
                      f"name a cause of {node}: {', '.join(own) or 'it has none'}")
            else:
                setting = _given_value(c, value, where, nodes.get(cause))
                if setting is not None:
                    given[cause] = setting
        if node is not None and len(given) == len(raw_given):
            missing = [p for p in influences.get(node, []) if p not in given]
            if missing:
                c.add(f"{key}.given", f"does not set every cause of '{node}': missing "
                      f"{', '.join(missing)}", "give the value of each cause the count refers to")
                continue
        if node and len(counts) == 1 and successes is not None and trials is not None and note:
            rows.append(DataRow(node, MappingProxyType(given), successes, trials, note,
                                at_most=bound == "at_most"))
    return rows


def _given_value(c: Checker, value: object, where: str, cause: Node | None) -> bool | str | None:
    """A cause's state in a data row: true/false for a yes/no cause, else a state name."""
    if cause is None and isinstance(value, bool | str):
        return value  # the cause has problems of its own (reported at it)
    if cause is None or not cause.declared_states:
        if not isinstance(value, bool):
            c.add(where, f"must be true or false, got {show(value)}", "write true or false")
            return None
        return value
    state = state_ref(c, value, where, cause)
    if state is None:
        return None
    return state == "yes" if cause.states == YES_NO else state
