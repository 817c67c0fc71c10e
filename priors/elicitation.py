"""Prior-set files: expert judgements in plain probabilities, read into frozen objects.

An expert never sees the logit parameters. For an event X with causes
C1..Ck they judge ``base`` = P(X) in a reference context and ``given.Cj`` =
P(X) with Cj changed, each as ``[low, median, high]`` (a central interval of
mass ``interval``) or as a lone number (a fixed value).

The reference context is set by ``anchor`` (at the top, or per node):

* ``"absent"`` (version 1): ``base`` has every cause at its first state;
  ``given.C`` has C alone present (``given."C=state"`` for a cause with
  states, one key per state after the first);
* ``"history"``: ``base`` has every cause as it actually was; ``given.C`` has
  C otherwise (a yes/no cause flipped; ``given."C=state"`` for every state of
  a cause with states but the one that happened), the rest as they were.

An event with states judges ``base = { state = ..., ... }`` (P(X >= state),
one per state after the first) and ``given.KEY = { state = ... }`` (one state:
one judgement fixes the cause's weight). An interaction is judged as
``given."A & B"``: under ``"absent"`` its causes at their states; under
``"history"`` otherwise than in history (each at its first state when the
interaction was active, else each at its state). Gates are never judged.
``[pods.ID] do.EVENT = ...`` judges a soft POD's strength on a yes/no event.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from plausibly.models.errors import ElicitationError, PlausiblyError
from plausibly.models.files import bundled_files, bundled_path, read_toml
from plausibly.models.scenario import Node, Scenario
from plausibly.models.validate import Checker, show, suggest

__all__ = [
    "ANCHORS",
    "POOL_IDS",
    "Judgement",
    "NodeJudgement",
    "PodJudgement",
    "PriorSet",
    "bundled_prior_sets",
    "load_prior_set",
    "parse_prior_set",
    "resolve_prior_path",
]


#: the ids ``compare`` gives its pools of prior sets (results, diagnostics, the report):
#: no prior set may take one, so that a pool and a set never share a key
POOL_IDS = ("linear_pool", "log_pool")

#: the reference contexts a judgement may be made in (see the module docstring)
ANCHORS = ("absent", "history")


@dataclass(frozen=True)
class Judgement:
    """A judged probability: ``[low, median, high]``, or a fixed value (low = high = None)."""

    median: float
    low: float | None = None
    high: float | None = None

    @property
    def fixed(self) -> bool:
        """Whether this is a lone number rather than an interval."""
        return self.low is None

    def as_toml(self) -> str:
        """The value as it is written in a file."""
        if self.fixed:
            return repr(self.median)
        return f"[{self.low!r}, {self.median!r}, {self.high!r}]"


@dataclass(frozen=True)
class NodeJudgement:
    """What a prior set says about one event.

    ``base`` is P(X = yes) for a yes/no event; ``base_states`` P(X >= state)
    per judged state of an event with states. ``given`` maps a key (``"C"``,
    ``"C=state"``, or an interaction's key ``"A & B"`` as the scenario spells
    it) to its judgement; for an event with states ``given_states`` names the
    state each one judges (P(X >= that state)). ``anchor`` overrides the
    file's.
    """

    node: str
    base: Judgement | None
    given: Mapping[str, Judgement]
    why: str
    base_states: Mapping[str, Judgement] = field(default_factory=dict)
    given_states: Mapping[str, str] = field(default_factory=dict)
    anchor: str | None = None


@dataclass(frozen=True)
class PodJudgement:
    """A prior set's strengths of one soft POD: event -> P(event = yes) under it."""

    pod: str
    do: Mapping[str, Judgement]
    why: str


@dataclass(frozen=True)
class PriorSet:
    """A validated prior set for one scenario."""

    id: str
    name: str
    scenario: str
    summary: str
    based_on: tuple[str, ...]
    interval: float
    nodes: Mapping[str, NodeJudgement]
    default_base: Judgement | None = None
    default_given: Judgement | None = None
    path: str | None = None
    anchor: str = "absent"
    pods: Mapping[str, PodJudgement] = field(default_factory=dict)

    def anchor_of(self, node: str) -> str:
        """The anchor ``node``'s judgements are made in (its own, else the file's)."""
        nj = self.nodes.get(node)
        return nj.anchor if nj is not None and nj.anchor is not None else self.anchor


#: The central masses a judged interval may have.
INTERVAL_LOW, INTERVAL_HIGH = 0.5, 0.99


def bundled_prior_sets() -> dict[str, Path]:
    """Bundled prior set ids and their files."""
    return bundled_files("plausibly.priors")


def resolve_prior_path(name: str | Path) -> Path:
    """A path as given, or the file of a bundled prior set id."""
    try:
        return bundled_path(name, bundled_prior_sets(), "prior set")
    except PlausiblyError as err:
        raise ElicitationError(problems=err.problems) from None


def load_prior_set(name: str | Path, scenario: Scenario) -> PriorSet:
    """Read a prior-set file (or a bundled one by id) and check it against its scenario.

    Raises
    ------
    ElicitationError
        With every problem in the file, each naming the key and the fix.
    """
    path = resolve_prior_path(name)
    data, problems = read_toml(path, "prior set")
    if data is None:
        raise ElicitationError(problems=problems)
    return parse_prior_set(data, scenario, file=str(path))


def _judgement(c: Checker, value: object, where: str) -> Judgement | None:
    if isinstance(value, bool) or not isinstance(value, int | float | list):
        c.add(where, f"must be [low, median, high] or a number, got {show(value)}",
              "write e.g. [0.1, 0.3, 0.6] (probabilities) or 0.3 for a fixed value")
        return None
    if not isinstance(value, list):
        p = c.probability(value, where, open_interval=True, allow_bool=False)
        return None if p is None else Judgement(p)
    if len(value) != 3:
        c.add(where, f"must have three numbers [low, median, high], got {len(value)}: "
              f"{show(value)}", "write e.g. [0.1, 0.3, 0.6]")
        return None
    before = len(c.problems)
    ps = [c.probability(v, f"{where}[{k}]", open_interval=True, allow_bool=False)
          for k, v in enumerate(value)]
    if len(c.problems) > before:
        return None
    low, mid, high = (float(p) for p in ps if p is not None)
    if not low < mid < high:
        c.add(where, f"must be strictly increasing (low < median < high), got {show(value)}",
              "order the three numbers: the lowest plausible, the best guess, the highest")
        return None
    return Judgement(mid, low, high)


def _anchor(c: Checker, t: Mapping[str, Any], where: str) -> str | None:
    if "anchor" not in t:
        return None
    value = t["anchor"]
    if value not in ANCHORS:
        c.add(f"{where}.anchor" if where else "anchor",
              f'must be "absent" or "history", got {show(value)}'
              f"{suggest(value, ANCHORS) if isinstance(value, str) else ''}",
              'write anchor = "history" to judge with the causes as they were, or '
              '"absent" (the default) to judge with them absent')
        return None
    return str(value)


def _states_text(n: Node) -> str:
    return ", ".join(n.states)


def _state(c: Checker, n: Node, state: str, where: str, first_ok: bool = False) -> int | None:
    """The index of a state of ``n`` named in a key (not its first unless ``first_ok``)."""
    if state not in n.states:
        c.add(where, f"unknown state '{state}' of '{n.id}'{suggest(state, n.states)}",
              f"use one of: {_states_text(n)}")
        return None
    k = n.states.index(state)
    if k == 0 and not first_ok:
        c.add(where, f"'{state}' is the first state of '{n.id}': P({n.id} >= {state}) is 1",
              f"name a higher state: {', '.join(n.states[1:])}")
        return None
    return k


def _base(c: Checker, n: Node, value: object, where: str
          ) -> tuple[Judgement | None, dict[str, Judgement]]:
    if n.binary:  # a table is refused as in version 1
        return _judgement(c, value, where), {}
    if not isinstance(value, dict):
        c.add(where, f"'{n.id}' has states ({_states_text(n)}): base judges "
              f"P({n.id} >= state) for each state after the first, got {show(value)}",
              f"write base = {{ {n.states[1]} = [low, median, high], ... }}")
        return None, {}
    out: dict[str, Judgement] = {}
    for state, v in value.items():
        if _state(c, n, state, f"{where}.{state}") is None:
            continue
        j = _judgement(c, v, f"{where}.{state}")
        if j is not None:
            out[state] = j
    judged = [s for s in n.states if s in out]
    for lower, higher in itertools.pairwise(judged):
        if not out[higher].median < out[lower].median:
            c.add(where, f"P({n.id} >= {higher}) = {out[higher].median:g} must be below "
                  f"P({n.id} >= {lower}) = {out[lower].median:g}",
                  "a higher state is rarer: lower the median of the higher state")
    return None, dict(sorted(out.items(), key=lambda kv: n.states.index(kv[0])))


def _given_value(c: Checker, n: Node, value: object, where: str
                 ) -> tuple[Judgement | None, str | None]:
    """A given's judgement and, for an event with states, the state it judges."""
    if n.binary:  # a table is refused as in version 1
        return _judgement(c, value, where), None
    if not isinstance(value, dict) or len(value) != 1:
        got = f"{len(value)} states" if isinstance(value, dict) else show(value)
        c.add(where, f"'{n.id}' has states ({_states_text(n)}): a given judges "
              f"P({n.id} >= state) for one state, got {got}",
              f"write {{ {n.states[-1]} = [low, median, high] }}: one judgement fixes the "
              "cause's weight, which shifts every threshold alike")
        return None, None
    [(state, v)] = value.items()
    if _state(c, n, state, f"{where}.{state}") is None:
        return None, None
    return _judgement(c, v, f"{where}.{state}"), state


def _given_key(c: Checker, scenario: Scenario, node: str, key: str, anchor: str,
               where: str) -> str | None:
    """Check a ``given`` key against the scenario; the key as the fit names it."""
    influences = scenario.influences[node]
    gates = [g for g, _ in scenario.gates[node]]
    inters = scenario.interactions_of(node)
    if "&" in key:
        parts = {p.strip() for p in key.split("&")}
        for inter in inters:
            if set(inter.causes) == parts:
                return inter.key
        keys = ", ".join(f'"{i.key}"' for i in inters)
        c.add(where, f"'{key}' matches no interaction of '{node}'"
              f"{suggest(key, [i.key for i in inters])}",
              f"judge one of its interactions: {keys}" if inters else
              f"'{node}' has no [[interactions]]: declare one in the scenario first")
        return None
    cause, _, state = (p.strip() for p in key.partition("="))
    if cause in gates:
        c.add(where, f"'{cause}' is a gate of '{node}' (kind = \"requires\"): gates are not "
              "judged", f"remove it: every judgement of '{node}' is made inside its gates "
              "(with them open)")
        return None
    if cause not in influences:
        causes = scenario.parents[node]
        c.add(where, f"'{cause}' is not a cause of '{node}'{suggest(cause, causes)}",
              f"judge one of its causes: {', '.join(influences) or 'it has none'}")
        return None
    n = scenario.node(cause)
    hard = n.hard if anchor == "history" else None
    if n.binary:
        if state:
            judged = (f"had it been otherwise ({n.states[1 - (n.hard or 0)]})"
                      if anchor == "history" else f"with it present ({n.states[1]})")
            c.add(where, f"'{cause}' is a yes/no cause: it has one key", f"write "
                  f"given.{cause}: under anchor = \"{anchor}\" it judges '{node}' {judged}")
            return None
        return cause
    allowed = [s for k, s in enumerate(n.states)
               if (k != hard if anchor == "history" else k > 0)]
    if not state:
        c.add(where, f"'{cause}' has states ({_states_text(n)}): a key names one",
              "write " + ", ".join(f'given."{cause}={s}"' for s in allowed))
        return None
    k = _state(c, n, state, where, first_ok=True)
    if k is None:
        return None
    if anchor == "absent" and k == 0:
        c.add(where, f"'{state}' is the first state of '{cause}': base judges '{node}' with "
              "it (anchor = \"absent\")", f"judge one of the other states: {', '.join(allowed)}")
        return None
    if anchor == "history" and k == hard:
        c.add(where, f"'{state}' is what happened to '{cause}': base judges '{node}' with it "
              "as it was (anchor = \"history\")",
              f"judge one of the other states: {', '.join(allowed)}")
        return None
    return f"{cause}={state}"


def _history_problem(scenario: Scenario, node: str) -> tuple[str, str] | None:
    """The first influencing cause of ``node`` whose history is not known for certain."""
    for cause in scenario.influences[node]:
        n = scenario.node(cause)
        if n.hard is None:
            what = "unknown" if n.history is None else f"disputed ({n.history_text})"
            return cause, what
    return None


def _node(c: Checker, scenario: Scenario, node: str, raw: object, file_anchor: str
          ) -> NodeJudgement | None:
    key = f"nodes.{node}"
    t = c.table(raw, key, ["why"], ["base", "given", "anchor"])
    why = c.string(t, key, "why")
    own = _anchor(c, t, key)
    anchor = own or file_anchor
    n = scenario.node(node)
    history_ok = True
    if anchor == "history":
        problem = _history_problem(scenario, node)
        if problem is not None:
            history_ok = False
            cause, what = problem
            c.add(key, f'anchor = "history" needs what happened to every cause of '
                  f"'{node}', but the history of '{cause}' is {what}",
                  f'write anchor = "absent" under [{key}], or record what happened to '
                  f"'{cause}' in the scenario")
    base, base_states = _base(c, n, t["base"], f"{key}.base") if "base" in t else (None, {})
    given: dict[str, Judgement] = {}
    given_states: dict[str, str] = {}
    raw_given = t.get("given", {})
    if not isinstance(raw_given, dict):
        c.add(f"{key}.given", f"must be a table of cause = judgement, got {show(raw_given)}",
              f"write given.<cause> = [low, median, high] under [{key}]")
        raw_given = {}
    for name, value in raw_given.items():
        where = f"{key}.given.{name}" if "=" not in name and "&" not in name else (
            f'{key}.given."{name}"')
        canonical = _given_key(c, scenario, node, name,
                               anchor if history_ok else "absent", where)
        if canonical is None:
            continue
        if canonical in given:
            c.add(where, f"judges '{canonical}' again", "keep one of the two")
            continue
        j, state = _given_value(c, n, value, where)
        if j is not None:
            given[canonical] = j
            if state is not None:
                given_states[canonical] = state
    # (a node or a given that is not a table has been reported as such already)
    if isinstance(raw, dict) and "base" not in t and not t.get("given"):
        c.add(key, "judges nothing", "add base = [...] and/or given.<cause> = [...]")
    if why is None:
        return None
    return NodeJudgement(node, base, MappingProxyType(given), why,
                         MappingProxyType(base_states), MappingProxyType(given_states), own)


def _pod(c: Checker, scenario: Scenario, pod_id: str, raw: object) -> PodJudgement | None:
    key = f"pods.{pod_id}"
    ids = [p.id for p in scenario.pods]
    if pod_id not in ids:
        c.add(key, f"'{pod_id}' is not a POD of scenario '{scenario.id}'{suggest(pod_id, ids)}",
              f"name one of the scenario's [pods.*]: {', '.join(ids) or 'it has none'}")
        return None
    pod = scenario.pod(pod_id)
    t = c.table(raw, key, ["do", "why"])
    why = c.string(t, key, "why")
    raw_do = t.get("do", {})
    if not isinstance(raw_do, dict):
        c.add(f"{key}.do", f"must be a table of event = judgement, got {show(raw_do)}",
              f"write do.<event> = [low, median, high] under [{key}]")
        raw_do = {}
    do: dict[str, Judgement] = {}
    for event, value in raw_do.items():
        where = f"{key}.do.{event}"
        if event not in pod.do:
            c.add(where, f"POD '{pod_id}' does not set '{event}'{suggest(event, pod.do)}",
                  f"judge what it sets: {', '.join(pod.do)}")
            continue
        n = scenario.node(event)
        setting = pod.do[event]
        if not n.binary:
            c.add(where, f"'{event}' has states ({_states_text(n)}): a judged strength is "
                  f"P({event} = yes) under the POD, for a yes/no event",
                  "remove it: the scenario's weights over the states apply")
            continue
        if not (isinstance(setting, float) and 0.0 < setting < 1.0):
            c.add(where, f"POD '{pod_id}' sets '{event}' for certain: only a soft POD's "
                  "strength is judged", "remove it, or make the POD soft in the scenario "
                  "(a probability)")
            continue
        j = _judgement(c, value, where)
        if j is not None:
            do[event] = j
    if why is None or not do:
        return None
    return PodJudgement(pod_id, MappingProxyType(do), why)


def parse_prior_set(data: Mapping[str, Any], scenario: Scenario,
                    file: str = "<dict>") -> PriorSet:
    """Validate a prior set given as a mapping (the parsed TOML) against its scenario."""
    c = Checker(file)
    top = c.table(dict(data), "", ["id", "name", "scenario", "summary"],
                  ["based_on", "interval", "anchor", "default", "nodes", "pods"])
    pid = c.string(top, "", "id", snake=True)
    if pid in POOL_IDS:
        c.add("id", f"'{pid}' is reserved: it names the pool of prior sets in 'plausibly "
              "compare'", "give this prior set another id")
    name = c.string(top, "", "name")
    summary = c.string(top, "", "summary")
    sid = c.string(top, "", "scenario", snake=True)
    if sid is not None and sid != scenario.id:
        # stop here: every node and citation would be checked against the wrong
        # scenario, and each would echo this one problem (22 times for a bundled set)
        c.add("scenario", f"this prior set is for scenario '{sid}', not '{scenario.id}'",
              f"use it with scenario '{sid}', or change the key if the nodes match")
        raise ElicitationError(problems=c.problems)
    based_on = c.citations(top, "", "based_on", scenario.posts, nonempty=False)
    anchor = _anchor(c, top, "") or "absent"
    interval = 0.9
    if "interval" in top:
        got = c.probability(top["interval"], "interval", open_interval=True, allow_bool=False)
        if got is not None and not INTERVAL_LOW <= got <= INTERVAL_HIGH:
            # outside this range an expert cannot judge the interval's ends, and near
            # 0 or 1 the fit (which divides by Phi^-1((1 + interval) / 2)) breaks down
            c.add("interval", f"must be from {INTERVAL_LOW} to {INTERVAL_HIGH}, got {got!r}",
                  "use a central mass an expert can judge, such as 0.5, 0.8 or 0.9")
            got = None
        interval = got if got is not None else interval
    default_base = default_given = None
    if "default" in top:
        d = c.table(top["default"], "default", [], ["base", "given"])
        if "base" in d:
            default_base = _judgement(c, d["base"], "default.base")
        if "given" in d:
            default_given = _judgement(c, d["given"], "default.given")
    nodes: dict[str, NodeJudgement] = {}
    raw_nodes = top.get("nodes", {})
    if not isinstance(raw_nodes, dict):
        c.table(raw_nodes, "nodes", [])
        raw_nodes = {}
    known = set(scenario.order)
    for node, raw in raw_nodes.items():
        if node not in known:
            c.add(f"nodes.{node}", f"'{node}' is not an event of scenario '{scenario.id}'"
                  f"{suggest(node, known)}", "name one of the scenario's [nodes.*]")
            continue
        nj = _node(c, scenario, node, raw, anchor)
        if nj is not None:
            nodes[node] = nj
    pods: dict[str, PodJudgement] = {}
    raw_pods = top.get("pods", {})
    if not isinstance(raw_pods, dict):
        c.table(raw_pods, "pods", [])
        raw_pods = {}
    for pod_id, raw in raw_pods.items():
        pj = _pod(c, scenario, pod_id, raw)
        if pj is not None:
            pods[pod_id] = pj
    if c.problems:
        raise ElicitationError(problems=c.problems)
    assert pid and name and summary
    return PriorSet(id=pid, name=name, scenario=scenario.id, summary=summary,
                    based_on=based_on, interval=interval, nodes=MappingProxyType(nodes),
                    default_base=default_base, default_given=default_given,
                    path=None if file == "<dict>" else file, anchor=anchor,
                    pods=MappingProxyType(pods))
