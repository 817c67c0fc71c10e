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
from plausibly.models.graph import descendants
from plausibly.models.validate import suggest

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
    """A causal claim: an influence, or a necessary condition (a gate).

    With ``kind="influences"`` ``cause`` moves the odds of ``effect``; with
    ``kind="requires"`` ``effect`` needs ``cause`` at least at state ``at_least``.
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

    One more term, active when every cause is at least its state.
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

    Version 1 files (yes/no events, influences, one ``outcome``) read as
    they always have; version 2 adds events with states, gates
    (``kind = "requires"``), ``[[interactions]]``, ``outcomes = [...]`` and
    POD scopes. The rules are in :mod:`scenario_reader` and
    :mod:`scenario_rules`.

    Parameters
    ----------
    data : Mapping
        Keys and values exactly as in a scenario TOML file.
    file : str
        Where the mapping came from, for messages.

    Raises
    ------
    ScenarioError
        With every problem in the file, each naming the key and the fix.
    """
    from plausibly.models.scenario_reader import read_scenario  # it builds these types

    # mypy checks this file as models.scenario and the reader's import of it as
    # plausibly.models.scenario: the same class under two names
    return read_scenario(data, file)  # type: ignore[return-value]
