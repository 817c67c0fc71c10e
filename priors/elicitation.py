"""Prior-set files: expert judgements in plain probabilities, read into frozen objects.

An expert never sees the logit parameters. For an event X with causes
C1..Ck they judge ``base`` = P(X) when none of its causes is present, and
``given.Cj`` = P(X) when Cj alone is present, each as ``[low, median, high]``
(a central interval of mass ``interval``) or as a lone number (a fixed value).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from plausibly.models.errors import ElicitationError, PlausiblyError
from plausibly.models.files import bundled_files, bundled_path, read_toml
from plausibly.models.scenario import Scenario
from plausibly.models.validate import Checker, show, suggest

__all__ = [
    "POOL_IDS",
    "Judgement",
    "NodeJudgement",
    "PriorSet",
    "bundled_prior_sets",
    "load_prior_set",
    "parse_prior_set",
    "resolve_prior_path",
]


#: the ids ``compare`` gives its pools of prior sets (results, diagnostics, the report):
#: no prior set may take one, so that a pool and a set never share a key
POOL_IDS = ("linear_pool", "log_pool")


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
    """What a prior set says about one event."""

    node: str
    base: Judgement | None
    given: Mapping[str, Judgement]
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


def parse_prior_set(data: Mapping[str, Any], scenario: Scenario,
                    file: str = "<dict>") -> PriorSet:
    """Validate a prior set given as a mapping (the parsed TOML) against its scenario."""
    c = Checker(file)
    top = c.table(dict(data), "", ["id", "name", "scenario", "summary"],
                  ["based_on", "interval", "default", "nodes"])
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
        key = f"nodes.{node}"
        if node not in known:
            c.add(key, f"'{node}' is not an event of scenario '{scenario.id}'"
                  f"{suggest(node, known)}", "name one of the scenario's [nodes.*]")
            continue
        t = c.table(raw, key, ["why"], ["base", "given"])
        why = c.string(t, key, "why")
        base = _judgement(c, t["base"], f"{key}.base") if "base" in t else None
        given: dict[str, Judgement] = {}
        raw_given = t.get("given", {})
        if not isinstance(raw_given, dict):
            c.add(f"{key}.given", f"must be a table of cause = judgement, got {show(raw_given)}",
                  f"write given.<cause> = [low, median, high] under [{key}]")
            raw_given = {}
        causes = scenario.parents[node]
        for cause, value in raw_given.items():
            where = f"{key}.given.{cause}"
            if cause not in causes:
                c.add(where, f"'{cause}' is not a cause of '{node}'{suggest(cause, causes)}",
                      f"judge one of its causes: {', '.join(causes) or 'it has none'}")
                continue
            j = _judgement(c, value, where)
            if j is not None:
                given[cause] = j
        # (a node or a given that is not a table has been reported as such already)
        if isinstance(raw, dict) and "base" not in t and not t.get("given"):
            c.add(key, "judges nothing", "add base = [...] and/or given.<cause> = [...]")
        if why is not None:
            nodes[node] = NodeJudgement(node, base, MappingProxyType(given), why)
    if c.problems:
        raise ElicitationError(problems=c.problems)
    assert pid and name and summary
    return PriorSet(id=pid, name=name, scenario=scenario.id, summary=summary,
                    based_on=based_on, interval=interval, nodes=MappingProxyType(nodes),
                    default_base=default_base, default_given=default_given,
                    path=None if file == "<dict>" else file)
