"""Properties over generated inputs (hypothesis): readers, queries and pooling.

* valid scenarios (2-6 events, a DAG by construction, random hard/soft/missing
  history, hard and soft PODs) always load, from a dict and from TOML text,
  and round-trip;
* broken ones (a key dropped, an unknown key, a wrong type, a dangling
  reference, a cycle, ...) and arbitrary values anywhere raise a
  PlausiblyError naming the key, and never any other exception; the same for
  prior sets, whose accepted values always fit to finite priors;
* every query answer is a probability for any parameters; a POD that sets
  events to what (hard) history says they were changes nothing;
* pooled posterior weights sum to one.

Examples are derandomized (the same in CI every run) and sized so that the
file runs in well under 20 seconds.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plausibly.models.errors import ElicitationError, PlausiblyError, ScenarioError
from plausibly.models.network import Network
from plausibly.models.queries import answer_pods, counterfactual, differs, interventional
from plausibly.models.scenario import Scenario, load_scenario, parse_scenario
from plausibly.priors.elicitation import parse_prior_set
from plausibly.priors.fit import fit_prior_set
from plausibly.priors.pool import Evidence, posterior_weights

SQUAD = load_scenario(Path(__file__).parents[1] / "data" / "firing_squad.toml")


def fast(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --------------------------------------------------------------------------- strategies

IDS = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
               max_size=12).filter(lambda t: bool(t.strip()))
MISSING = "zz_not_a_node"  # longer than any generated id: never one of them


@st.composite
def scenarios(draw: Any) -> dict[str, Any]:
    """A valid scenario as the dict a TOML file reads into."""
    n = draw(st.integers(2, 6))
    ids = draw(st.lists(IDS, min_size=n, max_size=n, unique=True))
    years = sorted(draw(st.lists(st.integers(1, 3000), min_size=n, max_size=n)))
    posts = draw(st.integers(1, 120))
    cite = st.builds("#{} {}".format, st.integers(1, posts),
                     st.from_regex(r"[A-Z][a-z]{0,6}", fullmatch=True))
    history = st.one_of(st.none(), st.booleans(), st.floats(0.0, 1.0))
    nodes: dict[str, Any] = {}
    for nid, year in zip(ids, years, strict=True):
        node: dict[str, Any] = {"label": draw(TEXT), "year": year}
        h = draw(history)
        if h is not None:
            node["history"] = h
        if draw(st.booleans()):
            node["note"] = draw(TEXT)
        nodes[nid] = node
    edges = []
    for j in range(1, n):  # causes come earlier in the list: a DAG, forwards in time
        for i in sorted(draw(st.lists(st.integers(0, j - 1), unique=True, max_size=min(3, j)))):
            edge: dict[str, Any] = {"cause": ids[i], "effect": ids[j], "claim": draw(TEXT),
                                    "by": draw(st.lists(cite, min_size=1, max_size=2))}
            if draw(st.booleans()):
                edge["disputed_by"] = draw(st.lists(cite, max_size=2))
            edges.append(edge)
    outcome = ids[draw(st.integers(1, n - 1))]
    settable = [x for x in ids if x != outcome]
    pods: dict[str, Any] = {}
    for pid in draw(st.lists(IDS.filter(lambda s: s != "history"), max_size=3, unique=True)):
        targets = draw(st.lists(st.sampled_from(settable), min_size=1, max_size=2, unique=True))
        pods[pid] = {"label": draw(TEXT), "by": draw(st.lists(cite, min_size=1, max_size=2)),
                     "do": {t: draw(st.one_of(st.booleans(), st.floats(0.0, 1.0)))
                            for t in targets}}
        if draw(st.booleans()):
            pods[pid]["why"] = draw(TEXT)
    data: dict[str, Any] = {"id": draw(IDS), "title": draw(TEXT), "outcome": outcome,
                            "source": draw(TEXT), "posts": posts, "nodes": nodes,
                            "edges": edges, "pods": pods}
    if draw(st.booleans()):
        data["description"] = draw(TEXT)
    if draw(st.booleans()):
        node_id = draw(st.sampled_from(ids))
        trials = draw(st.integers(1, 50))
        count = draw(st.sampled_from(["successes", "at_most"]))
        data["data"] = [{"node": node_id, count: draw(st.integers(0, trials)),
                         "trials": trials, "note": draw(TEXT),
                         "given": {e["cause"]: draw(st.booleans()) for e in edges
                                   if e["effect"] == node_id}}]
    return data


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # no control characters are generated
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"


def to_toml(data: dict[str, Any]) -> str:
    """The scenario as TOML text, the way a person would write it."""
    lines = [f"{k} = {toml_value(v)}" for k, v in data.items()
             if k not in ("nodes", "edges", "pods", "data")]
    lines += [f"{k} = {toml_value(data[k])}" for k in ("edges", "pods") if not data[k]]
    for nid, node in data["nodes"].items():
        lines += ["", f"[nodes.{nid}]", *(f"{k} = {toml_value(v)}" for k, v in node.items())]
    for table, rows in (("edges", data["edges"]), ("data", data.get("data", []))):
        for row in rows:
            lines += ["", f"[[{table}]]", *(f"{k} = {toml_value(v)}" for k, v in row.items())]
    for pid, pod in data["pods"].items():
        lines += ["", f"[pods.{pid}]", *(f"{k} = {toml_value(v)}" for k, v in pod.items())]
    return "\n".join(lines) + "\n"


def to_dict(s: Scenario) -> dict[str, Any]:
    """A parsed scenario written back as the dict of a file."""
    out: dict[str, Any] = {
        "id": s.id, "title": s.title, "outcome": s.outcome, "source": s.source,
        "nodes": {n.id: {"label": n.label, "year": n.year,
                         **({"history": n.history} if n.history is not None else {}),
                         **({"note": n.note} if n.note else {})} for n in s.nodes},
        "edges": [{"cause": e.cause, "effect": e.effect, "claim": e.claim, "by": list(e.by),
                   "disputed_by": list(e.disputed_by)} for e in s.edges],
        "pods": {p.id: {"label": p.label, "do": dict(p.do), "by": list(p.by),
                        **({"why": p.why} if p.why else {})} for p in s.pods},
        "data": [{"node": r.node, "given": dict(r.given),
                  ("at_most" if r.at_most else "successes"): r.successes,
                  "trials": r.trials, "note": r.note} for r in s.data],
    }
    if s.posts is not None:
        out["posts"] = s.posts
    if s.description:
        out["description"] = s.description
    return out


# --------------------------------------------------------------------------- valid scenarios


@fast(60)
@given(scenarios())
def test_valid_scenarios_load_and_round_trip(tmp_path_factory, data):
    s = parse_scenario(data)
    assert set(s.order) == set(data["nodes"]) and s.outcome == data["outcome"]
    position = {x: i for i, x in enumerate(s.order)}
    assert all(position[e.cause] < position[e.effect] for e in s.edges)
    years = [n.year for n in s.nodes]
    assert years == sorted(years)  # time order is a topological order here
    for n in s.nodes:
        h = data["nodes"][n.id].get("history")
        assert n.history == (None if h is None else float(h))
    assert [p.id for p in s.pods] == list(data["pods"])
    assert parse_scenario(to_dict(s)) == s
    f = tmp_path_factory.mktemp("s") / "s.toml"
    f.write_text(to_toml(data), encoding="utf-8")
    assert load_scenario(f) == parse_scenario(data, file=str(f))


# --------------------------------------------------------------------------- broken scenarios

TOP = ["id", "title", "outcome", "source", "nodes", "edges", "pods"]


@st.composite
def broken_scenarios(draw: Any) -> tuple[dict[str, Any], str]:
    """A scenario with one mistake, and the key a problem must be reported at."""
    data = copy.deepcopy(draw(scenarios()))
    nodes, edges, pods = data["nodes"], data["edges"], data["pods"]
    node = draw(st.sampled_from(sorted(nodes)))
    kinds = ["drop top", "drop node key", "unknown top", "unknown node key", "wrong type",
             "dangling outcome", "dangling pod", "cycle", "self loop", "bad history",
             "bad year", "bad citation", "empty text", "not snake"]
    if edges:
        kinds += ["drop edge key", "dangling edge", "backwards"]
    if pods:
        kinds += ["drop pod key", "pod sets the outcome"]
    kind = draw(st.sampled_from(kinds))
    i = draw(st.integers(0, max(0, len(edges) - 1)))
    pod = sorted(pods)[0] if pods else ""
    if kind == "drop top":
        key = draw(st.sampled_from(TOP))
        del data[key]
        return data, key
    if kind == "drop node key":
        key = draw(st.sampled_from(["label", "year"]))
        del nodes[node][key]
        return data, f"nodes.{node}.{key}"
    if kind == "drop edge key":
        key = draw(st.sampled_from(["cause", "effect", "claim", "by"]))
        del edges[i][key]
        return data, f"edges[{i}].{key}"
    if kind == "drop pod key":
        key = draw(st.sampled_from(["label", "do", "by"]))
        del pods[pod][key]
        return data, f"pods.{pod}.{key}"
    if kind == "unknown top":
        data["colour"] = draw(TEXT)
        return data, "colour"
    if kind == "unknown node key":
        nodes[node]["weight"] = 1
        return data, f"nodes.{node}.weight"
    if kind == "wrong type":
        where, value = draw(st.sampled_from([
            ("title", 3), ("id", 1.5), ("source", ["x"]), ("outcome", True), ("posts", "10"),
            ("nodes", []), ("edges", {}), ("pods", []), ("description", {}), ("data", 7),
            (f"nodes.{node}", "x"), (f"nodes.{node}.year", "1900"),
            (f"nodes.{node}.year", dt.date(1900, 1, 1)), (f"nodes.{node}.label", [1]),
            (f"nodes.{node}.history", "yes"), (f"nodes.{node}.note", 0)]))
        *path, last = where.split(".")
        target = data
        for k in path:
            target = target[k]
        target[last] = value
        return data, where
    if kind == "dangling edge":
        end = draw(st.sampled_from(["cause", "effect"]))
        edges[i][end] = MISSING
        return data, f"edges[{i}].{end}"
    if kind == "dangling outcome":
        data["outcome"] = MISSING
        return data, "outcome"
    if kind == "dangling pod":
        pods["zz_pod"] = {"label": "x", "do": {MISSING: True}, "by": ["#1 A"]}
        return data, f"pods.zz_pod.do.{MISSING}"
    if kind == "pod sets the outcome":
        pods[pod]["do"][data["outcome"]] = True
        return data, f"pods.{pod}.do.{data['outcome']}"
    if kind == "cycle":
        a, b = draw(st.lists(st.sampled_from(sorted(nodes)), min_size=2, max_size=2,
                             unique=True))
        for n in nodes.values():
            n["year"] = 1900  # so that the cycle is the only problem in time
        edges += [{"cause": a, "effect": b, "claim": "x", "by": ["#1 A"]},
                  {"cause": b, "effect": a, "claim": "y", "by": ["#1 A"]}]
        return data, "edges"
    if kind == "self loop":
        edges.append({"cause": node, "effect": node, "claim": "x", "by": ["#1 A"]})
        return data, f"edges[{len(edges) - 1}]"
    if kind == "backwards":
        nodes[edges[i]["cause"]]["year"], nodes[edges[i]["effect"]]["year"] = 2, 1
        return data, f"edges[{i}]"
    if kind == "bad history":
        nodes[node]["history"] = draw(st.sampled_from([1.5, -0.1, math.nan, math.inf, 2,
                                                       10**400]))
        return data, f"nodes.{node}.history"
    if kind == "bad year":
        nodes[node]["year"] = draw(st.sampled_from([0, 3001, -5, 10**400]))
        return data, f"nodes.{node}.year"
    if kind == "bad citation":
        cite = draw(st.sampled_from(["#0 A", f"#{data['posts'] + 1} A", "7 A", "#x", "",
                                     "#" + "9" * 5000 + " A"]))
        if edges:
            edges[i]["by"].append(cite)
            return data, f"edges[{i}].by[{len(edges[i]['by']) - 1}]"
        target = sorted(set(nodes) - {data["outcome"]})[0]
        pods["zz_pod"] = {"label": "x", "do": {target: True}, "by": [cite]}
        return data, "pods.zz_pod.by[0]"
    if kind == "empty text":
        nodes[node]["label"] = draw(st.sampled_from(["", "   ", "\u3000"]))
        return data, f"nodes.{node}.label"
    assert kind == "not snake"
    nodes["Bad Id"] = {"label": "x", "year": 1}
    return data, "nodes.Bad Id"


@fast(150)
@given(broken_scenarios())
def test_broken_scenarios_raise_a_scenario_error_at_the_key(case):
    data, where = case
    try:
        parse_scenario(data, file="s.toml")
    except ScenarioError as err:
        keys = [p.key for p in err.problems]
        assert where in keys, (where, str(err))
        assert str(err) == "\n".join(str(p) for p in err.problems)
        assert all(p.file == "s.toml" and p.message and p.fix for p in err.problems)
    else:
        raise AssertionError(f"no problem reported at {where}")


# arbitrary TOML values: what a reader can be handed
SCALARS = st.one_of(st.booleans(), st.integers(-(10**400), 10**400), st.floats(),
                    st.text(max_size=8), st.dates(), st.datetimes(), st.times())
NESTED = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)


def deep(depth: int) -> Any:
    """A table nested ``depth`` levels deep (what a dotted TOML header can make)."""
    value: Any = 1
    for _ in range(depth):
        value = {"z": value}
    return value


VALUES = st.one_of(NESTED, NESTED, NESTED, st.integers(1500, 3000).map(deep))


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into a nested dict/list value (to six levels: a file's depth)."""
    out = [prefix]
    if len(prefix) >= 6:
        return out
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def replaced(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    data = copy.copy(data)
    data[path[0]] = replaced(data[path[0]], path[1:], value)
    return data


@fast(150)
@given(st.data())
def test_arbitrary_values_anywhere_in_a_scenario_never_crash(draw):
    data = draw.draw(scenarios())
    path = draw.draw(st.sampled_from(paths(data)[1:]))
    data = replaced(data, path, draw.draw(VALUES))
    try:
        parse_scenario(data)
    except PlausiblyError as err:
        assert err.problems and str(err)


PRIOR = {"id": "squad", "name": "Squad", "scenario": "firing_squad", "summary": "s",
         "interval": 0.9,
         "default": {"base": [0.1, 0.5, 0.9], "given": 0.7},
         "nodes": {"captain": {"why": "w", "base": [0.01, 0.05, 0.2],
                               "given": {"court_order": [0.9, 0.97, 0.995]}},
                   "death": {"why": "w", "given": {"rifleman_a": 0.99}}}}
PROBABILITIES = st.floats(0.0, 1.0, exclude_min=True, exclude_max=True)
JUDGEMENTS = st.one_of(PROBABILITIES, st.lists(PROBABILITIES, min_size=3, max_size=3,
                                               unique=True).map(sorted))


@fast(200)
@given(st.data())
def test_prior_sets_raise_only_elicitation_errors_and_fit_to_finite_priors(draw):
    data = copy.deepcopy(PRIOR)
    for _ in range(draw.draw(st.integers(1, 3))):
        path = draw.draw(st.sampled_from(paths(data)[1:]))
        value = draw.draw(st.one_of(VALUES, JUDGEMENTS, PROBABILITIES))
        data = replaced(data, path, value)
    try:
        priors = parse_prior_set(data, SQUAD)
    except ElicitationError as err:
        assert err.problems and str(err)
        return
    fitted = fit_prior_set(priors, SQUAD)
    for p in [*fitted.base.values(), *fitted.given.values()]:
        assert math.isfinite(p.mu) and math.isfinite(p.sigma) and p.sigma >= 0


@fast(200)
@given(st.floats(0.0, 1.0), JUDGEMENTS)
def test_any_interval_is_refused_or_fits(interval, judgement):
    data = copy.deepcopy(PRIOR)
    data["interval"] = interval
    data["nodes"]["captain"]["base"] = judgement
    try:
        priors = parse_prior_set(data, SQUAD)
    except ElicitationError as err:
        assert [p.key for p in err.problems] in (["interval"], ["nodes.captain.base"],
                                                 ["interval", "nodes.captain.base"])
        return
    fitted = fit_prior_set(priors, SQUAD)
    for p in [*fitted.base.values(), *fitted.given.values()]:
        assert math.isfinite(p.mu) and math.isfinite(p.sigma) and p.sigma >= 0


# --------------------------------------------------------------------------- queries


@st.composite
def networks_with_parameters(draw: Any) -> tuple[Scenario, np.ndarray, np.ndarray]:
    s = parse_scenario(draw(scenarios()))
    net = Network.from_scenario(s)
    draws = draw(st.integers(1, 3))
    coef = st.floats(-8.0, 8.0)
    a = np.array(draw(st.lists(coef, min_size=draws * net.size, max_size=draws * net.size)))
    k = net.size * net.max_parents
    b = np.array(draw(st.lists(coef, min_size=draws * k, max_size=draws * k)))
    return s, a.reshape(draws, net.size), b.reshape(draws, net.size, net.max_parents)


def in_unit_interval(x: np.ndarray) -> bool:
    return bool(np.all((x >= 0.0) & (x <= 1.0)))


@fast(60)
@given(networks_with_parameters())
def test_every_answer_is_a_probability(case):
    s, a, b = case
    net = Network.from_scenario(s)
    for do in [{}, *(p.do for p in s.pods)]:
        assert in_unit_interval(interventional(net, a, b, do))
        assert in_unit_interval(counterfactual(net, a, b, do))
        assert in_unit_interval(differs(net, a, b, do))
        for target in s.order:
            assert in_unit_interval(interventional(net, a, b, do, target=target))
            assert in_unit_interval(counterfactual(net, a, b, do, target=target))
    for answer in answer_pods(net, a, b, {p.id: p.do for p in s.pods}).values():
        assert in_unit_interval(answer.interventional) and in_unit_interval(answer.counterfactual)
        assert np.all((answer.rewrite >= 0) & (answer.rewrite <= net.size - 1))


@fast(60)
@given(st.data())
def test_a_pod_that_repeats_hard_history_changes_nothing(draw):
    data = copy.deepcopy(draw.draw(scenarios()))
    settable = sorted(set(data["nodes"]) - {data["outcome"]})
    chosen = draw.draw(st.lists(st.sampled_from(settable), min_size=1, unique=True))
    do = {}
    for x in chosen:
        value = draw.draw(st.booleans())
        data["nodes"][x]["history"] = value
        do[x] = float(value)
    s = parse_scenario(data)
    net = Network.from_scenario(s)
    coef = st.floats(-8.0, 8.0)
    a = np.array(draw.draw(st.lists(coef, min_size=net.size, max_size=net.size)))
    b = np.array(draw.draw(st.lists(coef, min_size=net.size * net.max_parents,
                                    max_size=net.size * net.max_parents)))
    b = b.reshape(net.size, net.max_parents)
    np.testing.assert_allclose(counterfactual(net, a, b, do), counterfactual(net, a, b),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(differs(net, a, b, do), 0.0, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- pooling


@fast(200)
@given(st.lists(st.tuples(st.floats(-5000.0, 0.0), st.floats(0.0, 2.0),
                          st.floats(0.0, 10.0)), min_size=1, max_size=6)
       .filter(lambda rows: sum(w for *_, w in rows) > 0))
def test_pooled_posterior_weights_sum_to_one(rows):
    evidence = [Evidence(f"s{k}", log_z, se, 100) for k, (log_z, se, _) in enumerate(rows)]
    post, se = posterior_weights(evidence, [w for *_, w in rows])
    assert math.isclose(post.sum(), 1.0, abs_tol=1e-12)
    assert np.all(post >= 0) and np.all(np.isfinite(se)) and np.all(se >= 0)
    assert all(p == 0 for p, (*_, w) in zip(post, rows, strict=True) if w == 0)
